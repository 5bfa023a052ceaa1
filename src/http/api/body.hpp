// Typed reads of JSON request bodies: a wrong type is kInvalidBody, never a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/error.hpp"
#include "core/resource_role.hpp"

namespace rainmaker::http::api {

// The string member `key`, or nullopt when absent or null; kInvalidBody when another type.
std::optional<std::string> OptionalString(const boost::json::object& body, std::string_view key);
// A copy of member `key` of any type, or nullopt when absent.
std::optional<boost::json::value> OptionalMember(
    const boost::json::object& body, std::string_view key
);
// The string member `key`; `missing` is thrown when absent, null or empty.
std::string RequiredString(
    const boost::json::object& body, std::string_view key, core::ErrorCode missing
);
// The boolean member `key` (true/false, or the strings "true"/"false"); nullopt when absent.
std::optional<bool> OptionalBool(const boost::json::object& body, std::string_view key);
// The array of strings `key`; nullopt when absent.
std::optional<std::vector<std::string>> OptionalStrings(
    const boost::json::object& body, std::string_view key
);

// A resource role named by `text` when given: the role, or a NamedRole without one when the
// text names none (the service refuses it with its own code); nullopt when not given.
std::optional<core::NamedRole> NamedRoleOf(const std::optional<std::string>& text);
// The string member `key` read so; nullopt when absent or null, kInvalidBody when another type.
std::optional<core::NamedRole> OptionalRole(const boost::json::object& body, std::string_view key);

}  // namespace rainmaker::http::api
