// What a handler answers: status, JSON text and extra headers; the session turns it into HTTP.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/error.hpp"

namespace rainmaker::http {

// A body produced while it is written (a stored file), instead of ApiResponse::body.
class ResponseStream {
public:
    virtual ~ResponseStream() = default;
    // The Content-Length.
    virtual std::uint64_t Size() const = 0;
    // Copies the next bytes into `out` (at most `max`) and returns how many; 0 only after
    // Size() bytes. Throws to cut the answer short (the connection is closed mid-body, so the
    // client sees fewer bytes than announced).
    virtual std::size_t Read(char* out, std::size_t max) = 0;
};

struct ApiResponse {
    int status = 200;
    std::string body;
    std::shared_ptr<ResponseStream> stream;  // set: the body, written as it is read
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
