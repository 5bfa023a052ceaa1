// Feeds bytes as a passthrough call (#121/#122: path_params_string, query_params_json,
// headers_json, body_json, each as a caller sends it) through PassthroughService::Call with a
// fake external client. A call is refused with an ApiError, or the request it makes stays on
// the service: the URL is the base URL plus a path without a dot step, an empty step, a query
// or fragment of the caller's own making, the headers can be sent (token names, no CR, LF or
// NUL in values, none of the framing headers) and carry the service's key exactly once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/passthrough/passthrough_service.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace rainmaker;
using domain::passthrough::ExternalAnswer;
using domain::passthrough::ExternalRequest;

constexpr std::string_view kBase = "https://api.test/v1";

void Fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
    std::abort();
}

class Recorder final : public domain::passthrough::ExternalHttp {
public:
    ExternalAnswer Perform(const ExternalRequest& request) override {
        Check(request);
        return ExternalAnswer{200, "application/json", "{}"};
    }

private:
    static void Check(const ExternalRequest& r) {
        if (!r.url.starts_with(kBase)) {
            Fail("left the base URL", r.url);
        }
        const std::string rest = r.url.substr(kBase.size());
        const std::string path = rest.substr(0, rest.find('?'));
        if (!path.empty() && path.front() != '/') {
            Fail("path does not start with /", r.url);
        }
        for (const std::string_view bad : {"//", "#", " ", "\\", "@"}) {
            if (path.find(bad) != std::string::npos) {
                Fail("path holds what would leave the service", r.url);
            }
        }
        const std::string steps = path + "/";
        if (steps.find("/./") != std::string::npos || steps.find("/../") != std::string::npos) {
            Fail("path steps out", r.url);
        }
        if (r.url.find_first_of(std::string_view("\r\n\0 #", 5)) != std::string::npos) {
            Fail("URL holds a raw control, space or fragment", r.url);
        }
        int keys = 0;
        for (const auto& [name, value] : r.headers) {
            if (name.empty() ||
                name.find_first_of(std::string_view(":\r\n\0 ", 5)) != std::string::npos ||
                value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
                Fail("header cannot be sent", name);
            }
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
                return static_cast<char>(std::tolower(c));
            });
            if (lower == "host" || lower == "content-length" || lower == "transfer-encoding") {
                Fail("framing header from the caller", name);
            }
            if (lower == "x-api-key") {
                ++keys;
                if (value != "operator-secret") {
                    Fail("the service's key was replaced", value);
                }
            }
        }
        if (keys != 1) {
            Fail("the service's key is not sent once", std::to_string(keys));
        }
    }
};

domain::passthrough::PassthroughConfig Config() {
    domain::passthrough::PassthroughConfig c;
    c.max_in_flight = 1;
    domain::passthrough::ExternalService s;
    s.service_id = "svc";
    s.service_name = "Service";
    s.base_url = std::string(kBase) + "/";
    s.headers = {{"X-Api-Key", "operator-secret"}};
    c.services.push_back(s);
    return c;
}

// The input split at 0xFF bytes into the call's parts.
std::vector<std::string> Parts(std::string_view text) {
    std::vector<std::string> parts(1);
    for (const char c : text) {
        if (static_cast<unsigned char>(c) == 0xFF) {
            parts.emplace_back();
        } else {
            parts.back().push_back(c);
        }
    }
    return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool silenced = (fuzz::SilenceLogs(), true);
    (void)silenced;
    static Recorder http;
    static domain::passthrough::PassthroughService service(Config(), http);
    const auto parts = Parts(fuzz::AsText(data, size));
    domain::passthrough::CallInput in;
    in.service_id = "svc";
    const auto part = [&](std::size_t i) -> std::optional<std::string> {
        return i < parts.size() ? std::optional(parts[i]) : std::nullopt;
    };
    in.path_params_string = part(0);
    in.query_params_json = part(1);
    in.headers_json = part(2);
    in.body_json = part(3);
    const bool post = !parts[0].empty() && (static_cast<unsigned char>(parts[0][0]) & 1) != 0;
    try {
        service.Call(domain::auth::AuthContext{"fuzz", "fuzz@x", "s"}, post ? "POST" : "GET", in);
    } catch (const core::ApiError&) {
        // refused
    }
    return 0;
}
