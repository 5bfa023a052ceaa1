// Typed reads of the query string the route files share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/server/api_request.hpp"

namespace rainmaker::http::api {

// The query value of `key` when given and not empty, else nullopt.
inline std::optional<std::string> Given(const ApiRequest& r, std::string_view key) {
    const auto* v = r.query.Find(key);
    return v != nullptr && !v->empty() ? std::optional<std::string>(*v) : std::nullopt;
}

}  // namespace rainmaker::http::api
