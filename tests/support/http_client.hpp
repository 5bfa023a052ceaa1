// A blocking HTTP/1.1 client for end-to-end tests: one keep-alive connection, JSON helpers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/json.hpp>

namespace rainmaker::testing {

struct HttpResult {
    int status = 0;
    std::string body;
    boost::json::value json;                     // null when the body is not JSON
    std::map<std::string, std::string> headers;  // lower-case names

    // The string member `key` of a JSON object body, or "".
    std::string Str(const std::string& key) const;
    // The error_code of a failure body, or 0.
    std::int64_t ErrorCode() const;
    // True for a failure envelope {"status":"failure","error_code":N,"description":"..."}.
    bool IsFailureEnvelope() const;
};

class HttpClient {
public:
    explicit HttpClient(std::uint16_t port);
    ~HttpClient();

    HttpResult Request(
        const std::string& method,
        const std::string& target,
        const std::string& body = {},
        const std::map<std::string, std::string>& headers = {}
    );

    HttpResult Get(const std::string& target, const std::string& token = {});
    HttpResult Post(
        const std::string& target, const boost::json::value& body, const std::string& token = {}
    );
    HttpResult Put(
        const std::string& target, const boost::json::value& body, const std::string& token = {}
    );
    HttpResult Delete(const std::string& target, const std::string& token = {});

    // Writes raw bytes on a fresh connection and returns everything read until the peer
    // closes or `timeout_ms` passes.
    std::string Raw(const std::string& bytes, int timeout_ms = 5000);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rainmaker::testing
