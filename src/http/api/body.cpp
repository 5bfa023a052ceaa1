// Body member readers shared by every handler.
#include "http/api/body.hpp"

#include "core/flag.hpp"
#include "core/json.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;

namespace {
[[noreturn]] void WrongType(std::string_view key, std::string_view expected) {
    throw ApiError(
        ErrorCode::kInvalidBody,
        "Invalid request body: " + std::string(key) + " must be " + std::string(expected)
    );
}
}  // namespace

std::optional<std::string> OptionalString(const boost::json::object& body, std::string_view key) {
    const auto* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) {
        return std::nullopt;
    }
    if (value->is_string()) {
        return std::string(value->as_string());
    }
    // Codes are sometimes sent as numbers.
    if (value->is_int64() || value->is_uint64()) {
        return core::Serialize(*value);
    }
    WrongType(key, "a string");
}

std::string RequiredString(
    const boost::json::object& body, std::string_view key, ErrorCode missing
) {
    auto value = OptionalString(body, key);
    if (!value || value->empty()) {
        throw ApiError(missing);
    }
    return *value;
}

std::optional<boost::json::value> OptionalMember(
    const boost::json::object& body, std::string_view key
) {
    const auto* value = body.if_contains(key);
    return value != nullptr ? std::optional<boost::json::value>(*value) : std::nullopt;
}

std::optional<bool> OptionalBool(const boost::json::object& body, std::string_view key) {
    const auto* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) {
        return std::nullopt;
    }
    if (value->is_bool()) {
        return value->as_bool();
    }
    if (value->is_string()) {
        if (const auto flag = core::ParseFlag(value->as_string())) {
            return *flag;
        }
    }
    WrongType(key, "true or false");
}

std::optional<std::vector<std::string>> OptionalStrings(
    const boost::json::object& body, std::string_view key
) {
    const auto* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) {
        return std::nullopt;
    }
    if (!value->is_array()) {
        WrongType(key, "an array of strings");
    }
    std::vector<std::string> out;
    for (const auto& item : value->as_array()) {
        if (!item.is_string()) {
            WrongType(key, "an array of strings");
        }
        out.emplace_back(item.as_string());
    }
    return out;
}

std::optional<core::NamedRole> NamedRoleOf(const std::optional<std::string>& text) {
    if (!text) {
        return std::nullopt;
    }
    return core::NamedRole{core::ParseResourceRole(*text)};
}

std::optional<core::NamedRole> OptionalRole(const boost::json::object& body, std::string_view key) {
    return NamedRoleOf(OptionalString(body, key));
}

}  // namespace rainmaker::http::api
