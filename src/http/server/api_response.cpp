// The success and failure envelopes every operation answers with.
#include "http/server/api_response.hpp"

#include "core/json.hpp"

namespace rainmaker::http {

ApiResponse ApiResponse::Success(std::string_view description, int status) {
    return Json(boost::json::object{{"status", "success"}, {"description", description}}, status);
}

ApiResponse ApiResponse::Json(const boost::json::value& value, int status) {
    ApiResponse response;
    response.status = status;
    response.body = core::Serialize(value);
    return response;
}

ApiResponse ApiResponse::Failure(const core::ApiError& error) {
    return Json(
        boost::json::object{
            {"status", "failure"},
            {"error_code", error.wire_code()},
            {"description", error.description()}},
        error.http_status()
    );
}

ApiResponse ApiResponse::Text(std::string body, std::string content_type, int status) {
    ApiResponse response;
    response.status = status;
    response.body = std::move(body);
    response.content_type = std::move(content_type);
    return response;
}

}  // namespace rainmaker::http
