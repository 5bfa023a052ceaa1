// What a handler sees of an HTTP request: method, route path, query, body, caller; no Beast types.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "domain/auth/auth_context.hpp"

namespace rainmaker::http {

// Query parameters with the client quirks of client-compat.md applied: a leading `&` and empty
// pairs are ignored, values are percent-decoded ('+' is kept: phone numbers start with it), and
// the literal value `undefined` means absent.
class QueryParams {
public:
    QueryParams() = default;
    explicit QueryParams(std::string_view raw_query);

    // The value of `key`, or nullptr when absent (or `undefined`).
    const std::string* Find(std::string_view key) const;

    // A copy of the value of `key`, or nullopt when absent (or `undefined`).
    std::optional<std::string> Text(std::string_view key) const {
        const auto* value = Find(key);
        return value != nullptr ? std::optional<std::string>(*value) : std::nullopt;
    }

    // The first key of `keys` that is present (for aliases such as node_id / nodeid).
    const std::string* FindAny(std::initializer_list<std::string_view> keys) const;
    // true/false/True/False/1/0; absent gives `fallback`; anything else throws kInvalidQuery.
    bool Bool(std::string_view key, bool fallback) const;
    // A decimal integer; absent gives `fallback`; anything else throws kInvalidQuery.
    int Int(std::string_view key, int fallback) const;

    const std::map<std::string, std::string, std::less<>>& All() const { return values_; }

private:
    std::map<std::string, std::string, std::less<>> values_;
};

// Where a streamed request body goes as it arrives (Router::SetUploadSink).
class UploadSink {
public:
    virtual ~UploadSink() = default;
    // Takes the next bytes of the body. Throws to stop the upload: the request is answered with
    // the core::ApiError thrown (500 for another exception) and the connection closed.
    virtual void Write(std::string_view bytes) = 0;
};

struct ApiRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path as received, without the query
    std::string route;   // the matched route pattern (for metrics and logs)
    QueryParams query;
    std::string raw_query;  // as received, for form-encoded queries ('+' is a space there)
    std::string body;
    std::string authorization;                    // raw header value
    std::string content_md5;                      // the Content-MD5 header, "" when absent
    std::string range;                            // the Range header, "" when absent
    std::optional<std::uint64_t> content_length;  // declared; only for an UploadOpener
    std::shared_ptr<UploadSink> upload;  // a streamed body (Router::SetUploadSink), else null
    std::string client_address;
    std::string request_id;
    std::optional<domain::auth::AuthContext> auth;  // set by the router for authenticated routes

    // The authenticated caller; only valid on routes registered as authenticated.
    const domain::auth::AuthContext& Caller() const { return *auth; }

    // The body parsed as JSON whatever the Content-Type; throws kInvalidBody when it is not JSON,
    // nests deeper than core::kMaxJsonDepth or holds a number beyond the double range
    // (core/json.hpp). An empty body parses as an empty object.
    boost::json::value Json() const;
    // As Json(), but the body must be a JSON object (kInvalidBody otherwise).
    boost::json::object JsonObject() const;
};

}  // namespace rainmaker::http
