// The single error type of the server: every failure a client can see is an ApiError carrying
// a RainMaker error code; the router turns it into the failure envelope.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace rainmaker::core {

enum class ErrorCode : int {
#define RM_ERROR(name, code, status, text) name,
#include "core/error_codes.def"
#undef RM_ERROR
};

struct ErrorInfo {
    std::string_view name;
    int code;
    int http_status;
    std::string_view description;
};

// The table row of `code`.
const ErrorInfo& Info(ErrorCode code);

// Every row, in declaration order (for tests and docs).
const ErrorInfo* AllErrors(std::size_t* count);

class ApiError : public std::runtime_error {
public:
    // `description` replaces the table text for the client; `internal` goes to the log only.
    explicit ApiError(ErrorCode code, std::string description = {}, std::string internal = {});

    ErrorCode code() const { return code_; }

    int wire_code() const { return Info(code_).code; }

    int http_status() const { return Info(code_).http_status; }

    const std::string& description() const { return description_; }

    const std::string& internal() const { return internal_; }

private:
    ErrorCode code_;
    std::string description_;
    std::string internal_;
};

}  // namespace rainmaker::core
