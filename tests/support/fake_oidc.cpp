// fork/exec of node with fake_oidc.mjs, its "listening <port>" line, and GET /log.
#include "support/fake_oidc.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "support/http_client.hpp"

namespace rainmaker::testing {

namespace {

int Count(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? static_cast<int>(v->as_int64()) : -1;
}

}  // namespace

FakeOidc::FakeOidc() : node_("tests/support/fake_oidc.mjs", {kClientId, kClientSecret}) {
    unsigned port = 0;
    if (std::sscanf(node_.first_line().c_str(), "listening %u", &port) != 1 || port == 0 ||
        port > 65535) {
        throw std::runtime_error("fake_oidc.mjs did not start: " + node_.first_line());
    }
    port_ = static_cast<std::uint16_t>(port);
}

FakeOidc::~FakeOidc() = default;

std::string FakeOidc::ProviderToml(const std::string& name) const {
    const std::string base = Issuer();
    return "[[oauth.providers]]\nname = \"" + name + "\"\nissuer = \"" + base +
           "\"\nauthorization_endpoint = \"" + base + "/authorize\"\ntoken_endpoint = \"" + base +
           "/token\"\njwks_uri = \"" + base + "/jwks\"\nclient_id = \"" + kClientId +
           "\"\nclient_secret = \"" + kClientSecret + "\"\nallow_private = true\n";
}

OidcLog FakeOidc::Log() const {
    OidcLog log;
    HttpClient client(port_);
    HttpResult r;
    try {
        r = client.Get("/log");
    } catch (const std::exception&) {
        return log;
    }
    if (r.status != 200 || !r.json.is_object()) {
        return log;
    }
    const auto& o = r.json.as_object();
    log.authorize_requests = Count(o, "authorize");
    log.token_requests = Count(o, "token");
    log.tokens_issued = Count(o, "token_ok");
    log.jwks_requests = Count(o, "jwks");
    if (const auto* rejected = o.if_contains("rejected");
        rejected != nullptr && rejected->is_array()) {
        for (const auto& item : rejected->as_array()) {
            log.rejected.push_back(boost::json::serialize(item));
        }
    }
    log.ok = true;
    return log;
}

}  // namespace rainmaker::testing
