// What a handler answers: status, JSON text and extra headers; the session turns it into HTTP.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/error.hpp"

namespace rainmaker::http {

struct ApiResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;

    // {"status":"success","description":...}
    static ApiResponse Success(std::string_view description, int status = 200);
    // Any JSON value as the body.
    static ApiResponse Json(const boost::json::value& value, int status = 200);
    // {"status":"failure","error_code":N,"description":...} with the table's HTTP status.
    static ApiResponse Failure(const core::ApiError& error);
    static ApiResponse Text(std::string body, std::string content_type, int status = 200);
};

}  // namespace rainmaker::http
