// The checks of a passthrough call: service, path, query, headers; then one external call.
#include "domain/passthrough/passthrough_service.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "crypto/aws_sigv4.hpp"

namespace rainmaker::domain::passthrough {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxPath = 1024;
constexpr std::size_t kMaxHeaders = 32;
constexpr std::size_t kMaxHeaderValue = 8192;
constexpr std::size_t kMaxQueryParams = 64;
constexpr std::size_t kMaxQuery = 8192;  // bytes of the encoded query
constexpr std::size_t kMaxHeaderName = 256;
// A fixed header value this long or longer seen in an answer is the service echoing it.
constexpr std::size_t kEchoCheckedLength = 8;

bool IsTokenChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Headers a caller may not send: what the server sets itself (framing, the target, the
// connection, the encodings it reads), and what gateways and frameworks read as another path,
// method or client (X-Original-URL, X-HTTP-Method-Override, Forwarded, ...).
bool IsReservedHeader(const std::string& lower) {
    static const std::set<std::string, std::less<>> kReserved{
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "expect",
        "te",
        "trailer",
        "upgrade",
        "accept-encoding",
        "forwarded",
        "x-original-url",
        "x-rewrite-url",
        "x-http-method",
        "x-http-method-override",
        "x-method-override",
        "x-real-ip",
        "x-client-ip",
        "true-client-ip"};
    return kReserved.contains(lower) || lower.starts_with("proxy-") ||
           lower.starts_with("x-forwarded-");
}

// A header value a caller may send: no control character but HTAB.
bool IsSendableValue(std::string_view value) {
    return std::none_of(value.begin(), value.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7F;
    });
}

// "http(s)://host[:port]" and the path of a base URL; throws std::runtime_error.
void CheckBaseUrl(const std::string& url, const std::string& id) {
    const auto fail = [&](const std::string& why) {
        throw std::runtime_error("passthrough.services " + id + ": base_url " + why);
    };
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) {
        fail("must start with http:// or https://");
    }
    const auto scheme = core::AsciiLower(url.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https") {
        fail("must start with http:// or https://");
    }
    const auto rest = url.substr(scheme_end + 3);
    const auto host = rest.substr(0, rest.find('/'));
    if (host.empty() || host.find_first_of("@?# \\") != std::string::npos) {
        fail("must name a host (no user, query or fragment)");
    }
    if (url.find_first_of("?# \\") != std::string::npos) {
        fail("must have no query or fragment");
    }
}

// The path appended to a base URL: "/a/b" of unreserved characters and %XX (not of a dot or a
// slash), no empty, "." or ".." step. Throws kInvalidQuery / kInvalidBody (`code`).
std::string CheckedPath(const std::string& path, ErrorCode code) {
    if (path.empty()) {
        return path;
    }
    const auto bad = [&](const std::string& why) {
        return ApiError(code, "path_params_string " + why);
    };
    if (path.size() > kMaxPath) {
        throw ApiError(ErrorCode::kInputTooLarge, "path_params_string is too long");
    }
    if (path.front() != '/') {
        throw bad("must start with /");
    }
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        const bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' ||
                           c == '.' || c == '_' || c == '~' || c == '/';
        if (plain) {
            continue;
        }
        if (c == '%' && i + 2 < path.size() &&
            std::isxdigit(static_cast<unsigned char>(path[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(path[i + 2]))) {
            // Not a dot, slash, backslash or NUL; not "%" (decoded twice it could be any of
            // them) nor an overlong UTF-8 lead byte (C0, C1: old decoders read "%c0%ae" as ".").
            const auto encoded = core::AsciiLower(path.substr(i + 1, 2));
            if (encoded == "2e" || encoded == "2f" || encoded == "5c" || encoded == "00" ||
                encoded == "25" || encoded == "c0" || encoded == "c1") {
                throw bad("may not encode a dot, a slash, a backslash, NUL, % or C0/C1");
            }
            i += 2;
            continue;
        }
        throw bad("may hold only letters, digits, - . _ ~ / and %XX");
    }
    for (std::size_t start = 1; start <= path.size();) {
        const auto end = std::min(path.find('/', start), path.size());
        const auto step = path.substr(start, end - start);
        if ((step.empty() && end < path.size()) || step == "." || step == "..") {
            throw bad("may not hold an empty, . or .. step");
        }
        start = end + 1;
    }
    return path;
}

// A JSON object given as a string (the reference's *_json members), or nullopt when it is not.
std::optional<boost::json::object> ObjectOfJson(const std::string& text) {
    const auto value = core::ParseUntrustedJson(text, 8);
    if (!value || !value->is_object()) {
        return std::nullopt;
    }
    return value->as_object();
}

// The query: the caller's parameters (a JSON object of strings, numbers and booleans), then the
// service's own, which win over a caller's of the same name (keys of services that take them in
// the query).
std::string QueryOf(const std::optional<std::string>& json, const ExternalService& service) {
    std::vector<std::pair<std::string, std::string>> params;
    if (json && !json->empty()) {
        const auto object = ObjectOfJson(*json);
        if (!object || object->size() > kMaxQueryParams) {
            throw ApiError(ErrorCode::kPassthroughQueryInvalid);
        }
        for (const auto& [key, value] : *object) {
            std::string text;
            if (value.is_string()) {
                text = value.as_string();
            } else if (value.is_number() || value.is_bool()) {
                text = core::Serialize(value);
            } else {
                throw ApiError(ErrorCode::kPassthroughQueryInvalid);
            }
            std::string name(key);  // a structured binding cannot be captured (C++20, clang)
            const bool fixed =
                std::any_of(service.query.begin(), service.query.end(), [&](const auto& q) {
                    return q.first == name;
                });
            if (!fixed) {
                params.emplace_back(std::move(name), std::move(text));
            }
        }
    }
    params.insert(params.end(), service.query.begin(), service.query.end());
    std::string query;
    for (const auto& [key, text] : params) {
        query += (query.empty() ? "?" : "&") + crypto::AwsUriEncode(key, false) + "=" +
                 crypto::AwsUriEncode(text, false);
        if (query.size() > kMaxQuery) {
            throw ApiError(ErrorCode::kInputTooLarge, "query_params_json makes too long a query");
        }
    }
    return query;
}

std::vector<std::pair<std::string, std::string>> HeadersOf(
    const std::optional<std::string>& json, const ExternalService& service
) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (json && !json->empty()) {
        const auto object = ObjectOfJson(*json);
        if (!object || object->size() > kMaxHeaders) {
            throw ApiError(ErrorCode::kPassthroughHeadersInvalid);
        }
        for (const auto& [key, value] : *object) {
            const std::string name(key);
            if (!value.is_string() || name.empty() || name.size() > kMaxHeaderName ||
                !std::all_of(name.begin(), name.end(), IsTokenChar) ||
                IsReservedHeader(core::AsciiLower(name))) {
                throw ApiError(ErrorCode::kPassthroughHeadersInvalid);
            }
            const std::string text(value.as_string());
            if (text.size() > kMaxHeaderValue || !IsSendableValue(text)) {
                throw ApiError(ErrorCode::kPassthroughHeadersInvalid);
            }
            // The service's own headers (its credentials) win over a caller's of the same name.
            const bool fixed =
                std::any_of(service.headers.begin(), service.headers.end(), [&](const auto& h) {
                    return core::AsciiLower(h.first) == core::AsciiLower(name);
                });
            if (!fixed) {
                headers.emplace_back(name, text);
            }
        }
    }
    headers.insert(headers.end(), service.headers.begin(), service.headers.end());
    return headers;
}

bool HasHeader(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name
) {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
        return core::AsciiLower(h.first) == name;
    });
}

}  // namespace

void CheckPassthroughConfig(const PassthroughConfig& config) {
    if (config.max_in_flight < 1) {
        throw std::runtime_error("passthrough.max_in_flight must be at least 1");
    }
    std::set<std::string, std::less<>> ids;
    for (const auto& s : config.services) {
        if (s.service_id.empty() || s.service_name.empty()) {
            throw std::runtime_error("passthrough.services: every service needs id and name");
        }
        if (!ids.insert(s.service_id).second) {
            throw std::runtime_error("passthrough.services: service id " + s.service_id + " twice");
        }
        CheckBaseUrl(s.base_url, s.service_id);
        if (s.timeout.count() < 1 || s.timeout.count() > 60 || s.max_response_bytes < 1) {
            throw std::runtime_error(
                "passthrough.services " + s.service_id +
                ": timeout_seconds must be 1 to 60, max_response_bytes at least 1"
            );
        }
        for (const auto& [name, value] : s.headers) {
            if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar) ||
                !IsSendableValue(value)) {
                throw std::runtime_error(
                    "passthrough.services " + s.service_id + ": header " + name + " cannot be sent"
                );
            }
        }
    }
}

PassthroughService::PassthroughService(PassthroughConfig config, ExternalHttp& http)
    : config_(std::move(config)), http_(http) {
    CheckPassthroughConfig(config_);
    std::sort(config_.services.begin(), config_.services.end(), [](const auto& a, const auto& b) {
        return a.service_id < b.service_id;
    });
}

const ExternalService* PassthroughService::Find(std::string_view service_id) const {
    for (const auto& s : config_.services) {
        if (s.service_id == service_id) {
            return &s;
        }
    }
    return nullptr;
}

ServicePage PassthroughService::List(
    const std::optional<std::string>& service_id,
    const std::optional<std::string>& service_name,
    const std::optional<std::string>& start_id,
    const std::optional<std::string>& num_records
) const {
    int size = kMaxPageSize;
    if (num_records) {
        try {
            std::size_t used = 0;
            size = std::stoi(*num_records, &used);
            if (used != num_records->size()) {
                size = 0;
            }
        } catch (const std::exception&) {
            size = 0;
        }
        if (size < 1 || size > kMaxPageSize) {
            throw ApiError(ErrorCode::kInvalidQuery, "num_records must be 1 to 30");
        }
    }
    ServicePage page;
    if (service_id) {
        const auto* s = Find(*service_id);
        if (s == nullptr) {
            throw ApiError(ErrorCode::kPassthroughServiceUnknown);
        }
        page.services.push_back({s->service_id, s->service_name});
        return page;
    }
    for (const auto& s : config_.services) {
        if ((start_id && s.service_id < *start_id) ||
            (service_name && !s.service_name.starts_with(*service_name))) {
            continue;
        }
        if (static_cast<int>(page.services.size()) == size) {
            page.next_id = s.service_id;
            break;
        }
        page.services.push_back({s.service_id, s.service_name});
    }
    return page;
}

ExternalAnswer PassthroughService::Call(
    const auth::AuthContext& caller, std::string_view method, const CallInput& input
) {
    const bool post = method == "POST";
    if (!input.service_id || input.service_id->empty()) {
        throw ApiError(ErrorCode::kInvalidQuery, "service_id is required");
    }
    const auto* service = Find(*input.service_id);
    if (service == nullptr) {
        throw ApiError(ErrorCode::kPassthroughServiceUnknown);
    }
    ExternalRequest request;
    request.method = post ? "POST" : "GET";
    std::string base = service->base_url;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    request.url = base +
                  CheckedPath(
                      input.path_params_string.value_or(""),
                      post ? ErrorCode::kInvalidBody : ErrorCode::kInvalidQuery
                  ) +
                  QueryOf(input.query_params_json, *service);
    request.headers = HeadersOf(input.headers_json, *service);
    if (post) {
        request.body = input.body_json.value_or("");
    }
    if (!(post ? service->allow_post : service->allow_get)) {
        throw ApiError(
            post ? ErrorCode::kInvalidBody : ErrorCode::kInvalidQuery,
            "This service does not take " + std::string(method) + " calls"
        );
    }
    {
        const std::lock_guard lock(in_flight_mutex_);
        if (in_flight_ >= config_.max_in_flight || callers_in_flight_.contains(caller.user_id)) {
            throw ApiError(
                ErrorCode::kTooManyRequests, "Too many external calls are in progress; retry later"
            );
        }
        ++in_flight_;
        callers_in_flight_.insert(caller.user_id);
    }

    struct Release {
        PassthroughService& self;
        const std::string& user;

        ~Release() {
            const std::lock_guard lock(self.in_flight_mutex_);
            --self.in_flight_;
            self.callers_in_flight_.erase(user);
        }
    } release{*this, caller.user_id};

    if (post && !HasHeader(request.headers, "content-type")) {
        request.headers.emplace_back("Content-Type", "application/json");  // body_json is JSON
    }
    request.allow_private = service->allow_private;
    request.timeout = service->timeout;
    request.max_response_bytes = service->max_response_bytes;
    try {
        auto answer = http_.Perform(request);
        // Everything under the base URL is reachable with the service's headers: an endpoint
        // that echoes them (a debug route, an error page) must not hand them to the caller.
        for (const auto* fixed : {&service->headers, &service->query}) {
            for (const auto& [name, value] : *fixed) {
                if (value.size() >= kEchoCheckedLength &&
                    answer.body.find(value) != std::string::npos) {
                    throw ExternalCallFailed("the answer echoes the service's own " + name);
                }
            }
        }
        return answer;
    } catch (const std::exception& e) {
        // Not the URL: its query may hold what the caller would not have logged.
        core::log::Warn(
            "passthrough " + service->service_id + " for " + caller.user_id + ": " + e.what()
        );
        throw ApiError(
            post ? ErrorCode::kPassthroughPostFailed : ErrorCode::kPassthroughResultFailed
        );
    }
}

}  // namespace rainmaker::domain::passthrough
