// Passthrough (#120-#122): signed-in users call external HTTP APIs the operator configured
// (a weather service, a product catalogue), through the server, which adds the service's fixed
// headers (API keys the apps never see) and answers the external response unchanged.
//
// Safe by construction: a call reaches only a configured service's base URL, with a path
// appended that cannot leave it (no "..", no "//", no scheme, host or query of its own);
// redirects are never followed; private, loopback and link-local addresses are refused unless
// the service is configured for them, checked on the address actually connected to (not on a
// name that could resolve elsewhere later); answers are bounded in time and size.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/auth/auth_context.hpp"

namespace rainmaker::domain::passthrough {

struct ExternalService {
    std::string service_id;
    std::string service_name;
    std::string base_url;  // "https://api.example.com/v2": http or https, no query
    std::vector<std::pair<std::string, std::string>> headers;  // sent on every call, win
    std::vector<std::pair<std::string, std::string>> query;    // likewise, in the query
    // May reach private, loopback and shared addresses (never link-local ones: cloud metadata).
    bool allow_private = false;
    bool allow_get = true;   // #121
    bool allow_post = true;  // #122
    std::chrono::seconds timeout{10};
    std::size_t max_response_bytes = 1024 * 1024;
};

struct PassthroughConfig {
    std::vector<ExternalService> services;
    // Calls in flight at once (they run on the HTTP server's outbound pool, never on the workers
    // other routes need); past it 429 100070. One user has at most one call in flight.
    int max_in_flight = 4;
};

// Throws std::runtime_error naming the setting when a service cannot work (missing id or
// name, a duplicate id, a base URL that is not http(s)://host[:port][/path] without a query).
void CheckPassthroughConfig(const PassthroughConfig& config);

// One call to an external service, as the server makes it.
struct ExternalRequest {
    std::string method;  // GET or POST
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> body;  // POST
    bool allow_private = false;
    std::chrono::seconds timeout{10};
    std::size_t max_response_bytes = 0;
};

struct ExternalAnswer {
    int status = 0;
    std::string content_type;  // "" when the service sent none
    std::string body;
};

// The service could not be reached, refused, was too slow or answered too much.
class ExternalCallFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Makes external calls (outbound/ExternalHttpClient with libcurl; fakes in tests).
class ExternalHttp {
public:
    virtual ~ExternalHttp() = default;
    // Performs `request` without following redirects. Throws ExternalCallFailed.
    virtual ExternalAnswer Perform(const ExternalRequest& request) = 0;
};

// What #121/#122 read (nullopt when absent).
struct CallInput {
    std::optional<std::string> service_id;
    std::optional<std::string> query_params_json;  // a JSON object as a string
    std::optional<std::string> headers_json;       // likewise
    std::optional<std::string> path_params_string;
    std::optional<std::string> body_json;  // POST: sent as the body
};

struct ServiceSummary {
    std::string service_id;
    std::string service_name;
};

struct ServicePage {
    std::vector<ServiceSummary> services;
    std::string next_id;  // "" on the last page
};

class PassthroughService {
public:
    static constexpr int kMaxPageSize = 30;  // #120's num_records

    PassthroughService(PassthroughConfig config, ExternalHttp& http);

    // #120: the configured services, by id; `service_id` one of them, `service_name` those whose
    // name starts with it; from `start_id`, `num_records` (1..30, default 30) at a time.
    // Throws kInvalidQuery (num_records not 1..30), kPassthroughServiceUnknown (service_id given,
    // not configured).
    ServicePage List(
        const std::optional<std::string>& service_id,
        const std::optional<std::string>& service_name,
        const std::optional<std::string>& start_id,
        const std::optional<std::string>& num_records
    ) const;

    // #121 (GET) / #122 (POST): the external service's answer. Throws kInvalidQuery (no
    // service_id), kPassthroughServiceUnknown, kPassthroughQueryInvalid (query_params_json not
    // a JSON object of strings, numbers and booleans), kPassthroughHeadersInvalid (headers_json
    // not a JSON object of strings, or a header name or value that cannot be sent, or one the
    // server sets itself), kInvalidBody / kInvalidQuery (a path_params_string that would leave
    // the base URL), kInputTooLarge, kPassthroughResultFailed (GET) / kPassthroughPostFailed
    // (POST) when the service cannot be reached, refuses the address, is too slow or answers
    // more than its limit or echoes the service's own header values, kTooManyRequests
    // (max_in_flight calls in flight, or one of the caller's), kInvalidQuery / kInvalidBody
    // (a method the service does not allow).
    ExternalAnswer Call(
        const auth::AuthContext& caller, std::string_view method, const CallInput& input
    );

private:
    const ExternalService* Find(std::string_view service_id) const;

    PassthroughConfig config_;
    ExternalHttp& http_;
    std::mutex in_flight_mutex_;
    int in_flight_ = 0;
    std::set<std::string, std::less<>> callers_in_flight_;
};

}  // namespace rainmaker::domain::passthrough
