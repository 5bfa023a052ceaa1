// The error table generated from error_codes.def.
#include "core/error.hpp"

namespace rainmaker::core {

namespace {
constexpr ErrorInfo kTable[] = {
#define RM_ERROR(name, code, status, text) {#name, code, status, text},
#include "core/error_codes.def"
#undef RM_ERROR
};
}  // namespace

const ErrorInfo& Info(ErrorCode code) {
    return kTable[static_cast<int>(code)];
}

const ErrorInfo* AllErrors(std::size_t* count) {
    *count = std::size(kTable);
    return kTable;
}

ApiError::ApiError(ErrorCode code, std::string description, std::string internal)
    : std::runtime_error(std::string(Info(code).name)),
      code_(code),
      description_(
          description.empty() ? std::string(Info(code).description) : std::move(description)
      ),
      internal_(std::move(internal)) {}

}  // namespace rainmaker::core
