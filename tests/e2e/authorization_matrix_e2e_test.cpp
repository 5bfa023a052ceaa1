// Authorization matrix: every authenticated route (accounts, claim, nodes, params, mapping,
// groups, node and group sharing, admin routes, roles and policies) sent as each role —
// anonymous, a forged token, another user, an admin, a superadmin, a secondary (of the node,
// and of the groups shared with them), the primary, and three admins restricted by RBAC roles
// (one allowed, one denied, one whose node filter leaves out every node) — and checked against
// docs/access-model.md: allowed, or the documented error with nothing changed (the primary's
// and every user's views read back, and the device receiving no params/remote from a refused
// request). A route the server serves without a row here makes the test fail: new endpoints
// join it.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/esp_image.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"
#include "support/zip_builder.hpp"

namespace rainmaker::testing {
namespace {

// The first line of a file ("" when it cannot be read).
std::string FirstLine(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

using boost::json::object;
using namespace std::chrono_literals;

// ---- the route inventory

struct RouteEntry {
    const char* method;
    const char* path;
    bool is_public;          // no token needed: no row in the matrix
    bool is_signed = false;  // public, but the URL's signature is the credential: checked by
                             // SignedRoutesAnswerOnlyTheirOwnUrls for every role instead
};

// Every route the server serves. The test reads the server's route table (#105, all_paths)
// and fails when it serves a route missing here (or this lists one it no longer serves), and
// fails when an authenticated route here has no row in Rows(). A new route is added here AND gets
// its rows; marking one public (no row) is a decision a reviewer sees in the diff.
constexpr RouteEntry kRoutes[] = {
    // system_routes.cpp
    {"GET", "/apiversions", true},
    {"GET", "/healthz", true},
    {"GET", "/metrics", true},
    {"GET", "/.well-known/jwks.json", true},
    // account_routes.cpp
    {"POST", "/v1/user2", true},
    {"POST", "/v1/user", true},
    {"PUT", "/v1/user2", false},
    {"PUT", "/v1/user", false},
    {"GET", "/v1/user2", false},
    {"GET", "/v1/user", false},
    {"DELETE", "/v1/user2", false},
    {"DELETE", "/v1/user", false},
    {"POST", "/v1/login2", true},
    {"POST", "/v1/login", true},
    {"POST", "/v1/logout2", false},
    // Deprecated and public: the refresh token of the body names the session (a token, when
    // given, is authenticated; a valid one would end the session the matrix runs on).
    {"POST", "/v1/logout", true},
    {"PUT", "/v1/password2", false},
    {"PUT", "/v1/password", false},
    {"PUT", "/v1/forgotpassword2", true},
    {"PUT", "/v1/forgotpassword", true},
    {"GET", "/v1/user/custom_data", false},
    {"PUT", "/v1/user/custom_data", false},
    {"GET", "/v1/user/public_profile", false},
    {"PUT", "/v1/user/public_profile", false},
    // node_routes.cpp
    {"GET", "/v1/user/nodes", false},
    {"PUT", "/v1/user/nodes", false},
    {"DELETE", "/v1/user/nodes", false},
    {"GET", "/v1/user/nodes/config", false},
    {"GET", "/v1/user/nodes/status", false},
    {"GET", "/v1/user/nodes/params", false},
    {"PUT", "/v1/user/nodes/params", false},
    {"PUT", "/v1/user/nodes/mapping", false},
    {"GET", "/v1/user/nodes/mapping", false},
    {"POST", "/v1/user/nodes/mapping/initiate", false},
    {"POST", "/v1/user/nodes/mapping/verify", false},
    {"POST", "/claim/initiate", false},
    {"POST", "/claim/verify", false},
    {"GET", "/mqtt_host", true},
    // group_routes.cpp
    {"POST", "/v1/user/node_group", false},
    {"PUT", "/v1/user/node_group", false},
    {"GET", "/v1/user/node_group", false},
    {"DELETE", "/v1/user/node_group", false},
    {"GET", "/v1/user/node_group/node_acl", false},
    {"POST", "/v1/admin/node_group", false},
    {"PUT", "/v1/admin/node_group", false},
    {"GET", "/v1/admin/node_group", false},
    {"DELETE", "/v1/admin/node_group", false},
    // admin_platform_routes.cpp
    {"GET", "/v1/admin/api_paths_methods", false},
    {"GET", "/v1/admin/custom_data", false},
    {"PUT", "/v1/admin/custom_data", false},
    // rbac_routes.cpp
    {"POST", "/v1/admin/policy", false},
    {"PUT", "/v1/admin/policy", false},
    {"GET", "/v1/admin/policy", false},
    {"DELETE", "/v1/admin/policy", false},
    {"POST", "/v1/admin/role", false},
    {"PUT", "/v1/admin/role", false},
    {"GET", "/v1/admin/role", false},
    {"DELETE", "/v1/admin/role", false},
    {"PUT", "/v1/admin/user_role", false},
    {"GET", "/v1/admin/user_role", false},
    // admin_node_routes.cpp
    {"GET", "/v1/admin/nodes", false},
    {"PUT", "/v1/admin/nodes", false},
    {"GET", "/v1/admin/nodes/tags", false},
    {"GET", "/v1/admin/user/nodes", false},
    {"GET", "/v1/admin/tags", false},
    {"PUT", "/v1/admin/tags", false},
    {"DELETE", "/v1/admin/tags", false},
    {"GET", "/v1/admin/tags/names", false},
    // sharing_routes.cpp
    {"PUT", "/v1/user/nodes/sharing", false},
    {"PUT", "/v1/user/nodes/sharing/requests", false},
    {"DELETE", "/v1/user/nodes/sharing", false},
    {"GET", "/v1/user/nodes/sharing", false},
    {"GET", "/v1/user/nodes/sharing/requests", false},
    {"DELETE", "/v1/user/nodes/sharing/requests", false},
    {"PUT", "/v1/user/node_group/sharing", false},
    {"PUT", "/v1/user/node_group/sharing/requests", false},
    {"DELETE", "/v1/user/node_group/sharing", false},
    {"GET", "/v1/user/node_group/sharing", false},
    {"GET", "/v1/user/node_group/sharing/requests", false},
    {"DELETE", "/v1/user/node_group/sharing/requests", false},
    // timeseries_routes.cpp
    {"GET", "/v1/user/nodes/tsdata", false},
    {"GET", "/v1/admin/nodes/tsdata", false},
    {"GET", "/v1/user/nodes/simple_tsdata", false},
    {"GET", "/v1/admin/nodes/simple_tsdata", false},
    // command_routes.cpp
    {"GET", "/v1/user/nodes/cmd", false},
    {"POST", "/v1/user/nodes/cmd", false},
    {"GET", "/v1/admin/nodes/cmd", false},
    {"POST", "/v1/admin/nodes/cmd", false},
    // automation_routes.cpp
    {"POST", "/v1/user/node_automation", false},
    {"PUT", "/v1/user/node_automation", false},
    {"GET", "/v1/user/node_automation", false},
    {"DELETE", "/v1/user/node_automation", false},
    // push_routes.cpp
    // event_filter_routes.cpp
    {"POST", "/v1/admin/event_filter", false},
    {"PUT", "/v1/admin/event_filter", false},
    {"GET", "/v1/admin/event_filter", false},
    {"DELETE", "/v1/admin/event_filter", false},
    {"POST", "/v1/user/event_filter", false},
    {"PUT", "/v1/user/event_filter", false},
    {"GET", "/v1/user/event_filter", false},
    {"DELETE", "/v1/user/event_filter", false},
    // oauth_routes.cpp: the OAuth flow's own credentials (state, code, client)
    {"GET", "/authorize", true},
    {"GET", "/cognitocallback", true},
    {"POST", "/cognitocallback", true},
    {"POST", "/token", true},
    // webhook_routes.cpp
    {"GET", "/v1/admin/webhook_user_node_integration", false},
    {"POST", "/v1/admin/webhook_user_node_integration", false},
    {"PUT", "/v1/admin/webhook_user_node_integration", false},
    {"DELETE", "/v1/admin/webhook_user_node_integration", false},
    {"GET", "/v1/admin/webhook_user_node_integration/deliveries", false},
    {"POST", "/v1/admin/webhook_user_node_integration/deliveries/replay", false},
    // passthrough_routes.cpp
    {"GET", "/v1/user/passthrough/config", false},
    {"GET", "/v1/user/passthrough", false},
    {"POST", "/v1/user/passthrough", false},
    {"POST", "/v1/user/push_notification/mobile_platform_endpoint", false},
    {"GET", "/v1/user/push_notification/mobile_platform_endpoint", false},
    {"DELETE", "/v1/user/push_notification/mobile_platform_endpoint", false},
    // ota_routes.cpp
    {"POST", "/v1/admin/otaimage", false},
    {"GET", "/v1/admin/otaimage", false},
    {"DELETE", "/v1/admin/otaimage", false},
    {"PUT", "/v1/admin/otaimage", false},
    {"GET", "/v1/admin/otaimage/upload_request", false},
    {"POST", "/v1/admin/otaimage/upload_confirm", false},
    {"GET", "/v1/admin/otaimage/package/upload", false},
    {"POST", "/v1/admin/otaimage/package", false},
    {"POST", "/v1/user/otaimage", false},
    // file_routes.cpp
    {"GET", "/v1/admin/file/upload_request", false},
    {"POST", "/v1/admin/file/upload_confirm", false},
    {"GET", "/v1/admin/file", false},
    {"GET", "/v1/user/file/upload_request", false},
    {"POST", "/v1/user/file/upload_confirm", false},
    {"GET", "/v1/user/file", false},
    {"DELETE", "/v1/user/file", false},
    // signing_routes.cpp
    {"POST", "/v1/admin/key", false},
    {"GET", "/v1/admin/key", false},
    {"POST", "/v1/admin/secure_sign", false},
    {"GET", "/v1/admin/secure_sign", false},
    {"GET", "/v1/admin/secure_sign/signed_images", false},
    {"GET", "/v1/admin/secure_sign/signing_keys", false},
    // blob_routes.cpp: presigned downloads and uploads
    {"GET", "/blobs/{blob_key}/{file_name}", true, true},
    {"PUT", "/uploads/{upload_id}", true, true},
    // ota_job_routes.cpp
    {"POST", "/v1/admin/otajob", false},
    {"GET", "/v1/admin/otajob", false},
    {"PUT", "/v1/admin/otajob", false},
    {"GET", "/v1/admin/otajob/status", false},
    {"GET", "/v1/admin/otajob/status/summary", false},
    {"GET", "/v1/user/nodes/ota_update", false},
    {"POST", "/v1/user/nodes/ota_update", false},
    {"GET", "/v1/user/nodes/ota_status", false},
};

using RouteKey = std::pair<std::string, std::string>;  // method, path

// The (method, path) pairs of the server's own route table, as GET /admin/api_paths_methods
// (#105) lists it from the declarations the router checks ("/{version}/x" is "/v1/x"); only
// the admin routes unless `all_paths`.
std::set<RouteKey> ServedRoutes(HttpClient& client, const std::string& token, bool all_paths) {
    std::set<RouteKey> routes;
    const auto r = client.Get(
        std::string("/v1/admin/api_paths_methods") + (all_paths ? "?all_paths=true" : ""), token
    );
    EXPECT_EQ(r.status, 200) << r.body;
    if (!r.json.is_array()) {
        return routes;
    }
    for (const auto& item : r.json.as_array()) {
        std::string path(item.at("path").as_string());
        if (path.starts_with("/{version}/")) {
            path = "/v1/" + path.substr(std::string_view("/{version}/").size());
        }
        for (const auto& method : item.at("methods").as_array()) {
            routes.emplace(std::string(method.as_string()), path);
        }
    }
    return routes;
}

// ---- roles, expectations, rows

// kAdmin and kSuperAdmin have no relation to the nodes, groups or requests of the world:
// on user routes they are other users; on admin routes they act as themselves.
// The RBAC dimension: three more admins holding roles (set up by the superadmin through the
// RBAC routes): kRbacAllowed may call every admin route on nodes of type Lightbulb (the
// matrix's nodes); kRbacDenied may call only GET /admin/api_paths_methods; kRbacFiltered may
// call every admin route on nodes of a type no node has. On user routes they are admins like
// the others.
enum class Role {
    kAnonymous,
    kGarbage,
    kOther,
    kAdmin,
    kSuperAdmin,
    kSecondary,
    kPrimary,
    kRbacAllowed,
    kRbacDenied,
    kRbacFiltered
};

constexpr Role kRoles[] = {
    Role::kAnonymous,
    Role::kGarbage,
    Role::kOther,
    Role::kAdmin,
    Role::kSuperAdmin,
    Role::kRbacAllowed,
    Role::kRbacDenied,
    Role::kRbacFiltered,
    Role::kSecondary,
    Role::kPrimary};  // last: rows that move things to the caller leave them with the primary

// A caller with no relation to the primary's world.
bool Unrelated(Role role) {
    return role != Role::kAnonymous && role != Role::kGarbage && role != Role::kSecondary &&
           role != Role::kPrimary;
}

const char* RoleName(Role role) {
    switch (role) {
        case Role::kAnonymous:
            return "anonymous";
        case Role::kGarbage:
            return "garbage";
        case Role::kOther:
            return "other";
        case Role::kAdmin:
            return "admin";
        case Role::kSuperAdmin:
            return "superadmin";
        case Role::kSecondary:
            return "secondary";
        case Role::kPrimary:
            return "primary";
        case Role::kRbacAllowed:
            return "rbac-ok";
        case Role::kRbacDenied:
            return "rbac-deny";
        case Role::kRbacFiltered:
            return "rbac-filter";
    }
    return "?";
}

struct Expect {
    bool allowed = false;
    int status = 0;
    std::int64_t code = 0;
};

Expect Ok() {
    return Expect{true, 0, 0};
}

Expect Err(std::int64_t code, int status = 400) {
    return Expect{false, status, code};
}

std::string Describe(const Expect& e) {
    if (e.allowed) {
        return "ok";
    }
    return e.status == 400 ? std::to_string(e.code)
                           : std::to_string(e.status) + ":" + std::to_string(e.code);
}

// What came back: allowed (2xx other than a mixed 207), or a status and error code (a 207
// batch answer gives the code of its first failed item).
Expect Classify(const HttpResult& r) {
    if (r.status >= 200 && r.status < 300 && r.status != 207) {
        return Ok();
    }
    std::int64_t code = r.ErrorCode();
    if (code == 0 && r.json.is_array()) {
        for (const auto& item : r.json.as_array()) {
            const auto* status =
                item.is_object() ? item.as_object().if_contains("status") : nullptr;
            const auto* c = item.is_object() ? item.as_object().if_contains("error_code") : nullptr;
            if (status != nullptr && *status == "failure" && c != nullptr && c->is_int64()) {
                code = c->as_int64();
                break;
            }
        }
    }
    return Err(code, r.status);
}

bool Matches(const Expect& expected, const Expect& got, const HttpResult& r) {
    if (expected.allowed || got.allowed) {
        return expected.allowed == got.allowed;
    }
    // A refusal is a failure envelope (a per-node 207 is an array of them).
    return got.status == expected.status && got.code == expected.code &&
           (r.status == 207 || r.IsFailureEnvelope());
}

// A check of an allowed answer (a list must not show what the caller has no access to, ...):
// "" when it holds, else what is wrong.
using Check = std::function<std::string(Role, const HttpResult&)>;

struct Row {
    // Anonymous and garbage-token callers always get 401 100004.
    // An admin and a superadmin answer as the other user unless Admins() says otherwise.
    Row(std::string m, std::string t, std::string b, Expect o, Expect s, Expect p)
        : method(std::move(m)),
          target(std::move(t)),
          body(std::move(b)),
          other(o),
          admin(o),
          superadmin(o),
          secondary(s),
          primary(p) {}

    Row&& Admins(Expect a, Expect sa) && {
        admin = a;
        superadmin = sa;
        return std::move(*this);
    }

    // What the admin whose role's node filter leaves out every node gets (by default what the
    // superadmin gets: the row reaches no node, or the node is someone else's anyway).
    Row&& Filtered(Expect e) && {
        rbac_filtered = e;
        return std::move(*this);
    }

    // What the two admins whose roles allow the route (rbac-ok, rbac-filter) get, when it is not
    // what the superadmin gets (only unrestricted admins write policies and roles).
    Row&& RbacRestricted(Expect e) && {
        rbac_allowed = e;
        rbac_filtered = e;
        return std::move(*this);
    }

    // What the admin whose role allows only GET /admin/api_paths_methods gets (by default
    // 100004 on admin routes, what the superadmin gets elsewhere).
    Row&& RbacDenied(Expect e) && {
        rbac_denied = e;
        return std::move(*this);
    }

    // What each RBAC admin gets, by default: the allowed one and the filtered one answer as
    // another unrestricted admin (the superadmin); the denied one 100004 on admin routes.
    Expect ForRbac(Role role) const {
        const bool admin_route = target.starts_with("/v1/admin/");
        switch (role) {
            case Role::kRbacAllowed:
                return rbac_allowed.value_or(superadmin);
            case Role::kRbacFiltered:
                return rbac_filtered.value_or(superadmin);
            default:
                return rbac_denied.value_or(admin_route ? Err(100004) : superadmin);
        }
    }

    // Checks each allowed answer too.
    Row&& Checked(Check c) && {
        check = std::move(c);
        return std::move(*this);
    }

    // An allowed request sends `payload` to the node; `settle` waits for its report.
    Row&& Sends(std::string payload, std::function<void()> settle) && {
        node_gets = std::move(payload);
        on_allowed = std::move(settle);
        return std::move(*this);
    }

    // An allowed request sends the node one command request (to-node).
    Row&& SendsCommand() && {
        sends_command = true;
        return std::move(*this);
    }

    std::string method;
    std::string target;  // path and query; {name} is replaced by the set-up's value
    std::string body;    // JSON; empty: none
    Expect other;
    Expect admin;
    Expect superadmin;
    Expect secondary;
    Expect primary;
    Check check;
    std::string node_gets;
    std::function<void()> on_allowed;
    bool sends_command = false;
    std::optional<Expect> rbac_allowed;
    std::optional<Expect> rbac_filtered;
    std::optional<Expect> rbac_denied;
};

// ---- small JSON helpers (they throw on a missing member; the caller reports it)

bool Contains(const boost::json::value& array, const std::string& s) {
    const auto& a = array.as_array();
    return std::find(a.begin(), a.end(), boost::json::value(s)) != a.end();
}

const boost::json::object* FindBy(
    const boost::json::value& array, const char* key, const std::string& value
) {
    for (const auto& item : array.as_array()) {
        if (item.as_object().at(key) == boost::json::value(value)) {
            return &item.as_object();
        }
    }
    return nullptr;
}

// ---- the fixture: one server, five users, two nodes with their simulators

class AuthorizationMatrixTest : public ::testing::Test, protected DeviceLab {
protected:
    AuthorizationMatrixTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, kAlice)),
          bob_(SignUpAndLogin(client_, server_, kBob)),
          eve_(SignUpAndLogin(client_, server_, kEve)),
          carol_(SignUpAndLogin(client_, server_, kCarol)),
          dave_(SignUpAndLogin(client_, server_, kDave)),
          ops_(CreateAdminAndLogin(client_, server_, kOps, "--admin")),
          root_(CreateAdminAndLogin(client_, server_, kRoot, "--superadmin")),
          rbac_ok_(CreateAdminAndLogin(client_, server_, kRbacOk, "--admin")),
          rbac_deny_(CreateAdminAndLogin(client_, server_, kRbacDeny, "--admin")),
          rbac_filter_(CreateAdminAndLogin(client_, server_, kRbacFilter, "--admin")) {}

    static constexpr const char* kAlice = "alice@example.com";  // primary
    static constexpr const char* kBob = "bob@example.com";      // secondary
    static constexpr const char* kEve = "eve@example.com";      // other: no relation at all
    static constexpr const char* kCarol = "carol@example.com";  // has pending requests
    static constexpr const char* kDave = "dave@example.com";    // secondary, removed by a row
    static constexpr const char* kOps = "ops@example.com";      // admin
    static constexpr const char* kRoot = "root@example.com";    // superadmin
    static constexpr const char* kRbacOk = "rbac-ok@example.com";
    static constexpr const char* kRbacDeny = "rbac-deny@example.com";
    static constexpr const char* kRbacFilter = "rbac-filter@example.com";

    // Alice offers `item` (a node, or a group for `kind` "node_group") to `user_name` as
    // secondary, and `accept_as` accepts unless null; returns the request id.
    // A request of `item` to `user_name` (as primary when `primary`: two pending requests of
    // the same item, user and role would be one), accepted by `accept_as` when given.
    std::string Offer(
        const std::string& kind,
        const std::string& item,
        const char* user_name,
        const Tokens* accept_as,
        bool primary = false
    ) {
        const std::string path = "/v1/user/" + kind + "/sharing/requests";
        const auto shared = client_.Put(
            path,
            object{
                {kind == "nodes" ? "nodes" : "groups",
                 boost::json::array{boost::json::value(item)}},
                {"user_name", user_name},
                {"primary", primary}},
            alice_.accesstoken
        );
        EXPECT_EQ(shared.status, 200) << shared.body;
        const std::string id = shared.Str("request_id");
        if (accept_as != nullptr) {
            const auto accepted = client_.Put(
                path, object{{"request_id", id}, {"accept", true}}, accept_as->accesstoken
            );
            EXPECT_EQ(accepted.status, 200) << accepted.body;
        }
        return id;
    }

    std::string Share(
        const std::string& node,
        const char* user_name,
        const Tokens* accept_as,
        bool primary = false
    ) {
        return Offer("nodes", node, user_name, accept_as, primary);
    }

    std::string ShareGroup(
        const std::string& group,
        const char* user_name,
        const Tokens* accept_as,
        bool primary = false
    ) {
        return Offer("node_group", group, user_name, accept_as, primary);
    }

    std::string Group(const char* name, bool with_node) {
        object body{{"group_name", name}};
        if (with_node) {
            body["nodes"] = boost::json::array{boost::json::value(node_.node_id)};
        }
        const auto r = client_.Post("/v1/user/node_group", body, alice_.accesstoken);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.Str("group_id");
    }

    // Failures recorded so far (the set-up stops at its own, not at the route guard's).
    static int Failures() {
        const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
        int failures = 0;
        for (int i = 0; i < result->total_part_count(); ++i) {
            failures += result->GetTestPartResult(i).failed() ? 1 : 0;
        }
        return failures;
    }

    void SetUpWorld() {
        const int failures = Failures();
        node_ = Claim(alice_, "n1");
        victim_node_ = Claim(alice_, "n2");
        ASSERT_EQ(Failures(), failures);
        std::string map_request;
        std::string unused;
        // Firmware without OTA (--ota off): the otaurl pushes of the OTA job rows change
        // nothing on the devices (their config stays as the snapshots saw it).
        sim_ = RunMapped(alice_, node_, &map_request, {"--ota", "off"});
        victim_sim_ = RunMapped(alice_, victim_node_, &unused, {"--ota", "off"});
        ASSERT_EQ(Failures(), failures);
        // The stored params must be in before the first snapshot.
        const auto params = Eventually(
            "/v1/user/nodes/params?node_id=" + node_.node_id,
            alice_,
            [](const HttpResult& p) { return p.status == 200; }
        );
        ASSERT_EQ(params.status, 200) << params.body;
        ASSERT_EQ(params.json.at("Light").at("Brightness"), 50) << params.body;

        Share(node_.node_id, kBob, &bob_);
        Share(node_.node_id, kDave, &dave_);
        Share(victim_node_.node_id, kBob, &bob_);
        const auto tagged = client_.Put(
            "/v1/user/nodes?node_id=" + node_.node_id,
            object{
                {"tags", boost::json::array{"room:kitchen", "floor:1"}},
                {"metadata", object{{"owner", "alice"}}}},
            alice_.accesstoken
        );
        ASSERT_EQ(tagged.status, 200) << tagged.body;
        const auto challenge =
            client_.Post("/v1/user/nodes/mapping/initiate", object{}, alice_.accesstoken);
        ASSERT_EQ(challenge.status, 200) << challenge.body;
        // A CSR for the victim node, made with its own key (only its claimer may have it
        // signed).
        const auto csr = RunProgram(
            {"openssl",
             "req",
             "-new",
             "-key",
             (victim_node_.dir / "node.key").string(),
             "-subj",
             "/CN=" + victim_node_.node_id}
        );
        ASSERT_EQ(csr.exit_code, 0) << csr.output;
        std::string escaped = boost::json::serialize(boost::json::value(csr.output));
        escaped = escaped.substr(1, escaped.size() - 2);

        vars_ = {
            {"node", node_.node_id},
            {"victim_node", victim_node_.node_id},
            {"victim_csr", escaped},
            {"victim_mac", FirstLine(victim_node_.dir / "mac")},
            {"group", Group("Home", true)},
            {"group_add", Group("AddTarget", false)},
            {"group_rm", Group("RemoveVictim", true)},
            {"group_del", Group("DeleteVictim", true)},
            // Shared groups without nodes: the node rows above decide who has the node (what a
            // group gives is tested in group_sharing_e2e_test.cpp).
            {"sgroup", Group("Shared", false)},
            {"sgroup_rm", Group("SharedRemove", false)},
            {"share_req", Share(node_.node_id, kCarol, nullptr)},
            {"withdraw_req", Share(node_.node_id, kCarol, nullptr, true)},
            {"map_req", map_request},
            {"chal_req", challenge.Str("request_id")},
            {"primary_name", kAlice},
            {"secondary_name", kBob},
            {"carol_name", kCarol},
            {"dave_name", kDave},
        };
        // Bob and Dave are secondaries of two shared groups; Carol has two pending requests.
        for (const char* group : {"sgroup", "sgroup_rm"}) {
            ShareGroup(vars_.at(group), kBob, &bob_);
            ShareGroup(vars_.at(group), kDave, &dave_);
        }
        vars_["gshare_req"] = ShareGroup(vars_.at("sgroup"), kCarol, nullptr);
        // The primary's Matter home, shared with Bob (secondary: the operate CAT), a group the
        // rows convert, a P-256 CSR and a pending commissioning request.
        {
            const auto home = client_.Post(
                "/v1/user/node_group",
                object{{"group_name", "MatterHome"}, {"is_matter", true}},
                alice_.accesstoken
            );
            ASSERT_EQ(home.status, 200) << home.body;
            vars_["fabric"] = home.Str("group_id");
            ShareGroup(vars_.at("fabric"), kBob, &bob_);
            vars_["fconv"] = Group("ConvertVictim", false);
            const auto matter_csr = RunProgram(
                {"openssl",
                 "req",
                 "-new",
                 "-newkey",
                 "ec",
                 "-pkeyopt",
                 "ec_paramgen_curve:P-256",
                 "-nodes",
                 "-keyout",
                 "/dev/null",
                 "-subj",
                 "/CN=matter"}
            );
            ASSERT_EQ(matter_csr.exit_code, 0) << matter_csr.output;
            std::string pem = boost::json::serialize(boost::json::value(matter_csr.output));
            vars_["matter_csr"] = pem.substr(1, pem.size() - 2);
            const auto noc = client_.Put(
                "/v1/user/node_group",
                object{
                    {"operation", "add"},
                    {"csr_type", "node"},
                    {"csr_requests",
                     boost::json::array{
                         object{{"csr", matter_csr.output}, {"group_id", vars_.at("fabric")}}}}},
                alice_.accesstoken
            );
            ASSERT_EQ(noc.status, 200) << noc.body;
            vars_["fabric_req"] =
                std::string(noc.json.at("certificates").at(0).at("request_id").as_string());
        }
        // The admin's fleet groups.
        for (const char* group : {"agroup", "agroup_del"}) {
            const auto r = client_.Post(
                "/v1/admin/node_group",
                object{
                    {"group_name", group},
                    {"nodes", boost::json::array{boost::json::value(node_.node_id)}}},
                ops_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            vars_[group] = r.Str("group_id");
        }
        vars_["gwithdraw_req"] = ShareGroup(vars_.at("sgroup"), kCarol, nullptr, true);
        // The admin's OTA images: one the rows read and archive, one a row deletes.
        vars_["ota_b64"] = ToBase64(BuildEspImage({}));
        for (const char* image : {"ota_image", "ota_image_del"}) {
            const auto r = client_.Post(
                "/v1/admin/otaimage",
                object{{"image_name", image}, {"base64_fwimage", vars_.at("ota_b64")}},
                ops_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            vars_[image] = r.Str("ota_image_id");
        }
        // Presigned uploads with their bytes: one the #34 row confirms, a package the #45 row
        // registers, and one the signed-URL checks PUT to. The signed URLs are used on the
        // plain listener (the same router as HTTPS): their path and query.
        const auto path_of = [](const std::string& url) {
            return url.substr(url.find('/', std::string_view("https://").size()));
        };
        const auto put = [&](const std::string& url, const std::string& bytes) {
            const auto r = client_.Request("PUT", path_of(url), bytes);
            ASSERT_EQ(r.status, 200) << url << " " << r.body;
        };
        {
            auto r = client_.Get(
                "/v1/admin/otaimage/upload_request?image_name=matrix-upload", ops_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            vars_["ota_upload"] = r.Str("ota_image_id");
            EspImageSpec spec;
            spec.version = "8.0.0";
            put(r.Str("upload_url"), BuildEspImage(spec));
            r = client_.Get(
                "/v1/admin/otaimage/package/upload?file_name=matrix-pkg.zip", ops_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            spec.version = "8.1.0";
            put(r.Str("url"), BuildZip({{spec.project_name + ".bin", BuildEspImage(spec)}}));
            r = client_.Get(
                "/v1/admin/otaimage/upload_request?image_name=matrix-signed", ops_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            signed_["PUT /uploads/{upload_id}"] = path_of(r.Str("upload_url"));
            r = client_.Get(
                "/v1/admin/otaimage?ota_image_id=" + vars_.at("ota_image"), ops_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            signed_["GET /blobs/{blob_key}/{file_name}"] =
                path_of(std::string(r.json.at("ota_images").at(0).at("image_url").as_string()));
        }
        // Files (#46-#51): an admin's upload with its bytes (the #47 row confirms it) and a
        // confirmed admin file; the primary's upload with its bytes (#49), a private file the
        // rows read and one a row deletes.
        {
            const auto file = [&](const std::string& scope,
                                  const Tokens& who,
                                  const std::string& name,
                                  bool confirm) {
                auto r = client_.Get(
                    "/v1/" + scope + "/file/upload_request?file_name=" + name +
                        "&entity_type=cert&entity_id=matrix",
                    who.accesstoken
                );
                EXPECT_EQ(r.status, 200) << r.body;
                const std::string id = r.Str("file_id");
                put(r.Str("file_url"), "bytes of " + name);
                if (confirm) {
                    r = client_.Post(
                        "/v1/" + scope + "/file/upload_confirm",
                        object{{"file_id", id}},
                        who.accesstoken
                    );
                    EXPECT_EQ(r.status, 200) << r.body;
                }
                vars_[name] = id;
            };
            file("admin", ops_, "admin_file_upload", false);
            file("admin", ops_, "admin_file", true);
            file("user", alice_, "user_file_upload", false);
            file("user", alice_, "user_file", true);
            file("user", alice_, "user_file_del", true);
        }
        // Secure boot signing (#110-#115): the superadmin's key and a signing of {ota_image}
        // with it, waited for until the secure-sign job signed it (the listings rows read it).
        {
            auto r = client_.Post(
                "/v1/admin/key",
                object{{"key_name", "matrix-sign-key"}, {"key_spec", "ECC_NIST_P256"}},
                root_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            r = client_.Post(
                "/v1/admin/secure_sign",
                object{
                    {"ota_image_id", vars_.at("ota_image")},
                    {"key_names", boost::json::array{"matrix-sign-key"}}},
                root_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            vars_["sign_request"] = r.Str("request_id");
            for (int i = 0; i < 200; ++i) {
                r = client_.Get(
                    "/v1/admin/secure_sign?request_id=" + vars_.at("sign_request"),
                    root_.accesstoken
                );
                if (r.Str("signing_status") != "in_progress") {
                    break;
                }
                std::this_thread::sleep_for(50ms);
            }
            ASSERT_EQ(r.Str("signing_status"), "success") << r.body;
        }
        // The admin's OTA jobs for the primary's node (image 2.0.0; the node runs 1.0.0): one
        // the rows read, one a row cancels, and a user-approval job the node's users see,
        // approve and follow.
        {
            EspImageSpec spec;
            spec.version = "2.0.0";
            const auto image = client_.Post(
                "/v1/admin/otaimage",
                object{
                    {"image_name", "ota_job_image"},
                    {"base64_fwimage", ToBase64(BuildEspImage(spec))}},
                ops_.accesstoken
            );
            ASSERT_EQ(image.status, 200) << image.body;
            vars_["ota_job_image"] = image.Str("ota_image_id");
            for (const char* job : {"ota_job", "ota_job_cancel", "ota_approval"}) {
                const auto r = client_.Post(
                    std::string("/v1/admin/otajob") +
                        (std::string_view(job) == "ota_approval" ? "?user_approval=true" : ""),
                    object{
                        {"ota_job_name", job},
                        {"ota_image_id", vars_.at("ota_job_image")},
                        {"nodes", boost::json::array{boost::json::value(node_.node_id)}}},
                    ops_.accesstoken
                );
                ASSERT_EQ(r.status, 200) << r.body;
                vars_[job] = r.Str("ota_job_id");
            }
        }
        // The primary's automations: one the rows read and change, one a row deletes. They
        // watch a param the matrix never changes, so none of them ever runs.
        for (const char* name : {"automation", "automation_del"}) {
            const auto r = client_.Post(
                "/v1/user/node_automation",
                boost::json::parse(Expand(AutomationBody(name))),
                alice_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
            vars_[name] = r.Str("automation_id");
        }
        SetUpRoles();
        // The primary's phone, registered for pushes: another user neither sees nor deletes it.
        {
            const auto r = client_.Post(
                "/v1/user/push_notification/mobile_platform_endpoint",
                object{{"platform", "GCM"}, {"mobile_device_token", "matrix-primary-phone"}},
                alice_.accesstoken
            );
            ASSERT_EQ(r.status, 201) << r.body;
            vars_["push_arn"] = r.Str("platform_endpoint_arn");
        }
        // A token that carries the primary's claims under a forged signature.
        const auto dot = alice_.accesstoken.rfind('.');
        const std::string signature = alice_.accesstoken.substr(dot + 1);
        garbage_ = alice_.accesstoken.substr(0, dot + 1) +
                   std::string(signature.rbegin(), signature.rend());
        ASSERT_NE(garbage_, alice_.accesstoken);
    }

    // The RBAC admins' roles (see Role), and the policy and role the delete rows remove.
    void SetUpRoles() {
        const auto post = [this](const std::string& path, const std::string& body) {
            const auto r = client_.Post(path, boost::json::parse(body), root_.accesstoken);
            ASSERT_EQ(r.status, 200) << path << " " << body << ": " << r.body;
        };
        const auto all_admin = [](const std::string& actions, const std::string& types) {
            return R"({"version":"1.0.0","filters":[{"type":"nodes","rules":{"type":)" + types +
                   R"(}}],"statement":[{"Effect":"Allow","Action":)" + actions +
                   R"(,"Resource":["/v1/admin/*"]}]})";
        };
        post(
            "/v1/admin/policy",
            R"({"policy_name":"matrix_lights","policy_json":)" +
                all_admin(R"(["api:*"])", R"(["Lightbulb"])") + "}"
        );
        post(
            "/v1/admin/policy",
            R"({"policy_name":"matrix_none","policy_json":)" +
                all_admin(R"(["api:*"])", R"(["NoSuchType"])") + "}"
        );
        post(
            "/v1/admin/policy",
            R"({"policy_name":"matrix_listing","policy_json":{"statement":[{"Effect":"Allow",)"
            R"("Action":["api:Get"],"Resource":["/admin/api_paths_methods"]}]}})"
        );
        post(
            "/v1/admin/policy",
            R"({"policy_name":"matrix_policy_del","policy_json":{"statement":[{"Effect":"Allow",)"
            R"("Action":["api:Get"],"Resource":["*"]}]}})"
        );
        for (const auto& [role, policy] :
             {std::pair{"matrix_ok", "matrix_lights"},
              std::pair{"matrix_deny", "matrix_listing"},
              std::pair{"matrix_filter", "matrix_none"},
              std::pair{"matrix_role_del", "matrix_listing"}}) {
            post(
                "/v1/admin/role",
                std::string(R"({"role_name":")") + role + R"(","policies":[")" + policy +
                    R"("],"role_level":5})"
            );
        }
        for (const auto& [user, role] :
             {std::pair{kRbacOk, "matrix_ok"},
              std::pair{kRbacDeny, "matrix_deny"},
              std::pair{kRbacFilter, "matrix_filter"}}) {
            const auto r = client_.Put(
                "/v1/admin/user_role?user_name=" + std::string(user) + "&operation=add",
                object{{"roles", boost::json::array{boost::json::value(role)}}},
                root_.accesstoken
            );
            ASSERT_EQ(r.status, 200) << r.body;
        }
        vars_["other_name"] = kEve;
    }

    // ---- requests

    const Tokens& TokensOf(Role role) const {
        switch (role) {
            case Role::kOther:
                return eve_;
            case Role::kAdmin:
                return ops_;
            case Role::kSuperAdmin:
                return root_;
            case Role::kSecondary:
                return bob_;
            case Role::kRbacAllowed:
                return rbac_ok_;
            case Role::kRbacDenied:
                return rbac_deny_;
            case Role::kRbacFiltered:
                return rbac_filter_;
            default:
                return alice_;
        }
    }

    const char* NameOf(Role role) const {
        switch (role) {
            case Role::kOther:
                return kEve;
            case Role::kAdmin:
                return kOps;
            case Role::kSuperAdmin:
                return kRoot;
            case Role::kSecondary:
                return kBob;
            case Role::kRbacAllowed:
                return kRbacOk;
            case Role::kRbacDenied:
                return kRbacDeny;
            case Role::kRbacFiltered:
                return kRbacFilter;
            default:
                return kAlice;
        }
    }

    std::string Expand(const std::string& text) const {
        std::string out = text;
        for (const auto& [key, value] : vars_) {
            const std::string placeholder = "{" + key + "}";
            for (auto at = out.find(placeholder); at != std::string::npos;
                 at = out.find(placeholder, at + value.size())) {
                out.replace(at, placeholder.size(), value);
            }
        }
        return out;
    }

    HttpResult Send(
        Role role, const std::string& method, const std::string& target, const std::string& body
    ) {
        std::map<std::string, std::string> headers;
        if (role == Role::kGarbage) {
            headers["Authorization"] = garbage_;
        } else if (role != Role::kAnonymous) {
            headers["Authorization"] = TokensOf(role).accesstoken;
        }
        if (!body.empty()) {
            headers["Content-Type"] = "application/json";
        }
        return client_.Request(method, target, body, headers);
    }

    // ---- "nothing changed": what every user sees of the world

    using Snapshot = std::map<std::string, std::string>;

    Snapshot Take() {
        // The views are listed first, then read from kReaders connections at once (the matrix
        // takes a snapshot after every refusal).
        std::vector<std::tuple<std::string, std::string, std::string>> views;  // key, token, target
        const auto get = [&](const std::string& who, const Tokens& t, const std::string& target) {
            views.emplace_back(who + " GET " + target, t.accesstoken, target);
        };
        const std::pair<const char*, const Tokens*> users[] = {
            {"alice", &alice_},
            {"bob", &bob_},
            {"eve", &eve_},
            {"carol", &carol_},
            {"dave", &dave_},
            {"ops", &ops_},
            {"root", &root_}};
        for (const auto& [who, t] : users) {
            // status=false: connectivity timestamps are not the requests' doing.
            get(who, *t, "/v1/user/nodes?node_details=true&status=false");
            get(who, *t, "/v1/user/node_group?node_list=true&sub_groups=true");
            get(who, *t, "/v1/user/nodes/sharing");
            get(who, *t, "/v1/user/nodes/sharing/requests");
            get(who, *t, "/v1/user/node_group/sharing?sub_groups=true&metadata=true");
            get(who, *t, "/v1/user/node_group/sharing/requests");
            get(who, *t, "/v1/user/node_group/sharing/requests?primary_user=true");
            get(who, *t, "/v1/user2?custom_data=true");
            get(who, *t, "/v1/user/public_profile");
            get(who, *t, "/v1/user/nodes/cmd?node_id=" + node_.node_id);
            get(who, *t, "/v1/user/node_automation");
            get(who, *t, "/v1/user/push_notification/mobile_platform_endpoint");
        }
        for (const char* request : {"share_req", "withdraw_req"}) {
            get("alice", alice_, "/v1/user/nodes/sharing/requests?request_id=" + vars_.at(request));
        }
        for (const char* request : {"gshare_req", "gwithdraw_req"}) {
            get("alice",
                alice_,
                "/v1/user/node_group/sharing/requests?request_id=" + vars_.at(request));
        }
        for (const auto& [who, t] : {std::pair{"ops", &ops_}, std::pair{"root", &root_}}) {
            get(who, *t, "/v1/admin/node_group?sub_groups=true&node_list=true");
            get(who, *t, "/v1/admin/nodes/cmd?node_id=" + node_.node_id);
        }
        for (const char* request : {"map_req", "chal_req"}) {
            get("alice", alice_, "/v1/user/nodes/mapping?request_id=" + vars_.at(request));
        }
        get("root", root_, "/v1/admin/policy");
        get("root", root_, "/v1/admin/role");
        for (const char* user : {kEve, kRbacOk, kRbacDeny, kRbacFilter}) {
            get("root", root_, "/v1/admin/user_role?user_name=" + std::string(user));
        }
        constexpr std::size_t kReaders = 4;
        std::vector<std::string> answers(views.size());
        std::vector<std::thread> readers;
        for (std::size_t k = 0; k < kReaders; ++k) {
            readers.emplace_back([&, k] {
                HttpClient client(server_.port());
                for (std::size_t i = k; i < views.size(); i += kReaders) {
                    const auto r = client.Get(std::get<2>(views[i]), std::get<1>(views[i]));
                    answers[i] = std::to_string(r.status) + " " + r.body;
                }
            });
        }
        for (auto& reader : readers) {
            reader.join();
        }
        Snapshot s;
        for (std::size_t i = 0; i < views.size(); ++i) {
            s[std::get<0>(views[i])] = std::move(answers[i]);
        }
        return s;
    }

    // Each view that differs, around its first difference.
    static std::string Diff(const Snapshot& before, const Snapshot& after) {
        const auto around = [](const std::string& text, std::size_t at) {
            const std::size_t from = at > 80 ? at - 80 : 0;
            return (from > 0 ? "..." : "") + text.substr(from, 200) +
                   (from + 200 < text.size() ? "..." : "");
        };
        std::string out;
        for (const auto& [key, value] : after) {
            const auto it = before.find(key);
            const std::string old = it == before.end() ? std::string("(none)") : it->second;
            if (old == value) {
                continue;
            }
            const auto at = static_cast<std::size_t>(
                std::mismatch(old.begin(), old.end(), value.begin(), value.end()).first -
                old.begin()
            );
            out += "\n    " + key + "\n      before: " + around(old, at) +
                   "\n      after:  " + around(value, at);
        }
        return out;
    }

    // Waits until the primary reads Light.Brightness == value (an allowed set is reported back
    // by the device asynchronously).
    void WaitBrightness(int value) {
        const auto params = Eventually(
            "/v1/user/nodes/params?node_id=" + node_.node_id,
            alice_,
            [value](const HttpResult& p) {
                return p.status == 200 && p.json.at("Light").at("Brightness") == value;
            }
        );
        EXPECT_EQ(params.json.at("Light").at("Brightness"), value) << params.body;
    }

    // A node_params automation of {node}'s temperature (never reported during the matrix)
    // that would switch it on.
    static std::string AutomationBody(const std::string& name) {
        return R"({"name":")" + name +
               R"(","node_id":"{node}","event_type":"node_params","events":[{"params":)"
               R"({"Light":{"Temperature":100}},"check":">"}],"actions":[{"node_id":"{node}",)"
               R"("params":{"Light":{"Power":true}}}]})";
    }

    // ---- the matrix

    std::vector<Row> Rows();

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens bob_;
    Tokens eve_;
    Tokens carol_;
    Tokens dave_;
    Tokens ops_;
    Tokens root_;
    // A valid presigned URL (path and query) per signed route: "METHOD pattern" → target.
    std::map<std::string, std::string> signed_;
    Tokens rbac_ok_;
    Tokens rbac_deny_;
    Tokens rbac_filter_;
    std::string garbage_;
    Device node_;
    Device victim_node_;
    std::unique_ptr<SimProcess> sim_;
    std::unique_ptr<SimProcess> victim_sim_;
    std::map<std::string, std::string> vars_;
};

// Placeholders: {node} (the primary's node, shared with the secondary), {victim_node} (another
// node of the primary shared with the secondary, unmapped by the rows), {victim_csr}, {group}
// (the primary's group holding {node}), {group_add}, {group_rm}, {group_del} (groups of the
// primary the rows change), {share_req} (pending, from the primary to Carol), {withdraw_req}
// (likewise, withdrawn by a row), {map_req} (the primary's confirmed mapping request),
// {chal_req} (the primary's open challenge), {primary_name}, {secondary_name}, {carol_name},
// {dave_name} (a second secondary of {node}).
// Rows run top to bottom, each as anonymous, garbage, other, secondary, primary: a row's
// allowed requests must leave the later rows' objects in place (destructive rows use victims).
std::vector<Row> AuthorizationMatrixTest::Rows() {
    const auto own_name = [this](Role role, const HttpResult& r) -> std::string {
        return r.Str("user_name") == NameOf(role) ? "" : "user_name is not the caller's";
    };
    const auto node_listed = [this](Role role, const HttpResult& r) -> std::string {
        const bool listed = Contains(r.json.at("nodes"), node_.node_id);
        if (Unrelated(role)) {
            return listed ? "another user's list shows the node" : "";
        }
        if (!listed) {
            return "the node is not listed";
        }
        const auto& details = r.json.at("node_details");
        const auto* entry = FindBy(details, "node_id", node_.node_id);
        if (entry == nullptr) {
            return "no node_details entry for the node";
        }
        if (entry->at("primary") != (role == Role::kPrimary)) {
            return "primary is " + boost::json::serialize(entry->at("primary"));
        }
        // Tags and metadata belong to each user's mapping: the secondary sees none of the
        // primary's.
        if (role == Role::kSecondary &&
            (!entry->at("tags").as_array().empty() || !entry->at("metadata").as_object().empty())) {
            return "the secondary sees the primary's tags or metadata";
        }
        return "";
    };
    const auto not_listed = [this](Role role, const HttpResult& r) -> std::string {
        const bool listed = Contains(r.json.at("nodes"), node_.node_id);
        if (role == Role::kPrimary) {
            return listed ? "" : "the primary's tag filter misses the node";
        }
        return listed ? "listed by the primary's tags" : "";
    };
    const auto no_request = [this](Role role, const HttpResult& r) -> std::string {
        if (role == Role::kPrimary) {
            return "";
        }
        for (const auto& request : r.json.at("sharing_requests").as_array()) {
            if (request.at("request_id") == boost::json::value(vars_.at("share_req"))) {
                return "shows the primary's request to Carol";
            }
        }
        return "";
    };
    const auto no_access_to = [this](const std::string& var) {
        return [this, var](Role role, const HttpResult&) -> std::string {
            const auto r =
                client_.Get("/v1/user/nodes?node_id=" + vars_.at(var), TokensOf(role).accesstoken);
            return IsFailure(r, 400, 100010) ? "" : "the caller still has " + var + ": " + r.body;
        };
    };
    // A command request the node answered (waited for, so that the views read after it stay
    // the same): success for the caller, through the admin route when `admin`.
    const auto answered = [this](bool admin) {
        return [this, admin](Role role, const HttpResult& r) -> std::string {
            const std::string target = std::string(admin ? "/v1/admin" : "/v1/user") +
                                       "/nodes/cmd?request_id=" + r.Str("request_id");
            HttpResult s;
            for (int i = 0; i < 100; ++i) {
                s = client_.Get(target, TokensOf(role).accesstoken);
                if (s.status == 200 && s.json.at("requests").as_array().size() == 1 &&
                    s.json.at("requests").at(0).at("status") == "success") {
                    return "";
                }
                std::this_thread::sleep_for(50ms);
            }
            return "not answered: " + s.body;
        };
    };
    // Users read only their own command requests: theirs are listed (the POST row made one)
    // while another user's request is on the node (the admin route lists it).
    const auto own_requests = [this](Role role, const HttpResult& r) -> std::string {
        const auto& mine = r.json.at("requests").as_array();
        if (mine.empty()) {
            return "lists none of the caller's requests";
        }
        for (const auto& request : mine) {
            if (request.at("user_name") != NameOf(role)) {
                return "shows a request of " + boost::json::serialize(request.at("user_name"));
            }
        }
        const auto all =
            client_.Get("/v1/admin/nodes/cmd?node_id=" + node_.node_id, ops_.accesstoken);
        for (const auto& request : all.json.at("requests").as_array()) {
            if (request.at("user_name") != NameOf(role)) {
                return "";
            }
        }
        return "no other user's request on the node to hide: " + all.body;
    };
    const auto pending = [this](Role, const HttpResult& r) -> std::string {
        const auto s = client_.Get(
            "/v1/user/nodes/sharing/requests?request_id=" + r.Str("request_id"), alice_.accesstoken
        );
        return s.json.at("sharing_requests").at(0).at("request_status") == "pending"
                   ? ""
                   : "not pending: " + s.body;
    };
    const auto group_pending = [this](Role, const HttpResult& r) -> std::string {
        const auto s = client_.Get(
            "/v1/user/node_group/sharing/requests?request_id=" + r.Str("request_id"),
            alice_.accesstoken
        );
        return s.json.at("sharing_requests").at(0).at("request_status") == "pending"
                   ? ""
                   : "not pending: " + s.body;
    };
    const auto no_group_request = [this](Role role, const HttpResult& r) -> std::string {
        if (role == Role::kPrimary) {
            return "";
        }
        for (const auto& request : r.json.at("sharing_requests").as_array()) {
            if (request.at("request_id") == boost::json::value(vars_.at("gshare_req"))) {
                return "shows the primary's group request to Carol";
            }
        }
        return "";
    };
    // Dave lost the group.
    const auto dave_lost = [this](const std::string& var) {
        return [this, var](Role, const HttpResult&) -> std::string {
            const auto r =
                client_.Get("/v1/user/node_group?group_id=" + vars_.at(var), dave_.accesstoken);
            return IsFailure(r, 400, 108023) ? "" : "Dave still sees " + var + ": " + r.body;
        };
    };
    const auto group_users = [this](Role role, const HttpResult& r) -> std::string {
        const auto* entry = FindBy(r.json.at("group_sharing"), "group_id", vars_.at("sgroup"));
        if (Unrelated(role)) {
            return entry == nullptr ? "" : "another user sees the group's sharing";
        }
        if (entry == nullptr) {
            return "the shared group is missing";
        }
        const auto& users = entry->at("users").as_object();
        if (!Contains(users.at("primary"), kAlice)) {
            return "the primary is not listed";
        }
        if (role == Role::kSecondary) {
            return users.contains("secondary") ? "the secondary sees the secondaries" : "";
        }
        return Contains(users.at("secondary"), kBob) ? "" : "the secondary is not listed";
    };
    const auto params_set = [this](int value) { return [this, value] { WaitBrightness(value); }; };
    const std::string light13 = R"({"Light":{"Brightness":13}})";
    const std::string light14 = R"({"Light":{"Brightness":14}})";
    const std::string share = R"({"nodes":["{node}"],"user_name":"{carol_name}")";

    const std::string mac = R"({"mac_addr":"0A0B0C0D0E0F","platform":"esp32"})";
    const std::string tags = R"({"tags":["matrix:put"],"metadata":{"matrix":1}})";
    const std::string add =
        R"({"node_id":"{node}","secret_key":"matrix-secret","operation":"add"})";
    const std::string verify =
        R"({"request_id":"{chal_req}","node_id":"{node}","challenge_response":"00"})";
    const std::string nodes_mine = R"({"group_name":"Matrix","nodes":["{node}"]})";
    const std::string sub = R"({"group_name":"Sub","parent_group_id":"{group}"})";

    return {
        // ---- accounts: every signed-in caller acts on itself (no node relation applies)
        Row("GET", "/v1/user2", "", Ok(), Ok(), Ok()).Checked(own_name),
        Row("GET", "/v1/user", "", Ok(), Ok(), Ok()).Checked(own_name),
        Row("PUT", "/v1/user2", R"({"name":"Matrix"})", Ok(), Ok(), Ok()),
        Row("PUT", "/v1/user", R"({"name":"Matrix"})", Ok(), Ok(), Ok()),
        // Refused past authentication: nothing is deleted, logged out or changed.
        Row("DELETE", "/v1/user2", "", Err(119007), Err(119007), Err(119007)),
        Row("DELETE", "/v1/user", "", Err(119007), Err(119007), Err(119007)),
        Row("POST", "/v1/logout2?logout_all=maybe", "{}", Err(101036), Err(101036), Err(101036)),
        Row("PUT", "/v1/password2", "{}", Err(101032), Err(101032), Err(101032)),
        Row("PUT", "/v1/password", "{}", Err(101032), Err(101032), Err(101032)),
        Row("GET", "/v1/user/custom_data", "", Ok(), Ok(), Ok()),
        Row("PUT", "/v1/user/custom_data", R"({"matrix":{"value":1}})", Ok(), Ok(), Ok()),
        Row("GET", "/v1/user/public_profile", "", Ok(), Ok(), Ok()).Checked(own_name),
        // A public profile is readable by any signed-in user (#132).
        Row("GET", "/v1/user/public_profile?user_name={primary_name}", "", Ok(), Ok(), Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.Str("user_name") == kAlice ? "" : "not the named user's profile";
            }),
        Row("PUT", "/v1/user/public_profile", R"({"profile":{"matrix":1}})", Ok(), Ok(), Ok()),

        // ---- claim: a new MAC is anyone's to claim; a mapped device's only for its primary
        // users and admins (#14); a CSR is signed for its claimer only
        Row("POST", "/claim/initiate", mac, Ok(), Ok(), Ok()),
        Row("POST",
            "/claim/initiate",
            R"({"mac_addr":"{victim_mac}","platform":"esp32c3"})",
            Err(100010),
            Err(100010),
            Ok())
            .Admins(Ok(), Ok()),
        Row("POST", "/claim/verify", R"({"csr":"{victim_csr}"})", Err(100010), Err(100010), Ok()),

        // ---- nodes
        Row("GET", "/v1/user/nodes?node_details=true", "", Ok(), Ok(), Ok()).Checked(node_listed),
        Row("GET", "/v1/user/nodes?node_id={node}", "", Err(100010), Ok(), Ok())
            .Checked(node_listed),
        Row("GET", "/v1/user/nodes?nodeid={node}", "", Err(100010), Ok(), Ok())
            .Checked(node_listed),
        Row("GET", "/v1/user/nodes?tags=room:kitchen", "", Ok(), Ok(), Ok()).Checked(not_listed),
        Row("GET", "/v1/user/nodes/config?node_id={node}", "", Err(100010), Ok(), Ok()),
        Row("GET", "/v1/user/nodes/status?node_id={node}", "", Err(103020), Ok(), Ok()),
        Row("GET", "/v1/user/nodes/params?node_id={node}", "", Err(100010), Ok(), Ok()),
        Row("PUT", "/v1/user/nodes/params?node_id={node}", light13, Err(100010), Ok(), Ok())
            .Sends(light13, params_set(13)),
        // Batch: the other user's item fails alone (207).
        Row("PUT",
            "/v1/user/nodes/params",
            R"([{"node_id":"{node}","payload":)" + light14 + "}]",
            Err(100010, 207),
            Ok(),
            Ok())
            .Sends(light14, params_set(14)),
        Row("PUT", "/v1/user/nodes?node_id={node}", tags, Err(103020), Err(100004), Ok()),
        Row("PUT",
            "/v1/user/nodes?node_id={node}",
            R"({"grant_admin_access":"READ"})",
            Err(103020),
            Err(107038),
            Ok()),
        Row("DELETE",
            "/v1/user/nodes?node_id={node}",
            R"({"tags":["floor:1"]})",
            Err(103020),
            Err(100004),
            Ok()),

        // ---- mapping
        // Anyone may ask; only the node's own report for that user confirms it.
        Row("PUT", "/v1/user/nodes/mapping", add, Ok(), Ok(), Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                const auto& t = TokensOf(role).accesstoken;
                const auto s =
                    client_.Get("/v1/user/nodes/mapping?request_id=" + r.Str("request_id"), t);
                if (s.Str("request_status") != "requested") {
                    return "the caller's request is " + s.body;
                }
                const auto mine = client_.Get("/v1/user/nodes?node_id=" + node_.node_id, t);
                return !Unrelated(role) || IsFailure(mine, 400, 100010)
                           ? ""
                           : "the other user got the node";
            }),
        // The secondary leaves the victim node, then the primary unmaps it.
        Row("PUT",
            "/v1/user/nodes/mapping",
            R"({"node_id":"{victim_node}","operation":"remove"})",
            Err(103013),
            Ok(),
            Ok())
            .Checked(no_access_to("victim_node")),
        Row("GET", "/v1/user/nodes/mapping?request_id={map_req}", "", Err(103018), Err(103018), Ok()
        )
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.Str("request_status") == "confirmed" ? "" : "status " + r.body;
            }),
        Row("POST", "/v1/user/nodes/mapping/initiate", "{}", Ok(), Ok(), Ok()),
        // The primary passes the ownership check and fails on the signature.
        Row("POST", "/v1/user/nodes/mapping/verify", verify, Err(103018), Err(103018), Err(103031)),

        // ---- sharing
        Row("PUT", "/v1/user/nodes/sharing/requests", share + "}", Err(107027), Err(107027), Ok())
            .Checked(pending),
        Row("PUT", "/v1/user/nodes/sharing", share + "}", Err(107027), Err(107027), Ok())
            .Checked(pending),
        Row("PUT",
            "/v1/user/nodes/sharing/requests",
            share + R"(,"primary":true})",
            Err(107027),
            Err(107027),
            Ok())
            .Checked(pending),
        Row("PUT",
            "/v1/user/nodes/sharing/requests",
            share + R"(,"transfer":true,"new_role":"secondary"})",
            Err(107027),
            Err(107027),
            Ok())
            .Checked(pending),
        // Only Carol may answer the request addressed to her.
        Row("PUT",
            "/v1/user/nodes/sharing/requests",
            R"({"request_id":"{share_req}","accept":true})",
            Err(107023),
            Err(107023),
            Err(107023)),
        Row("PUT",
            "/v1/user/nodes/sharing/requests",
            R"({"request_id":"{share_req}","accept":false})",
            Err(107023),
            Err(107023),
            Err(107023)),
        Row("DELETE",
            "/v1/user/nodes/sharing/requests?request_id={withdraw_req}",
            "",
            Err(107026, 404),
            Err(107026, 404),
            Ok()),
        Row("DELETE",
            "/v1/user/nodes/sharing?nodes={node}&user_name={dave_name}",
            "",
            Err(107027),
            Err(107027),
            Ok())
            .Checked([this](Role, const HttpResult&) -> std::string {
                const auto r =
                    client_.Get("/v1/user/nodes?node_id=" + node_.node_id, dave_.accesstoken);
                return IsFailure(r, 400, 100010) ? "" : "Dave still has the node: " + r.body;
            }),
        Row("GET", "/v1/user/nodes/sharing?node_id={node}", "", Err(100010), Ok(), Ok())
            .Checked([](Role role, const HttpResult& r) -> std::string {
                const auto& entry = r.json.at("node_sharing").at(0).as_object();
                const auto& users = entry.at("users").as_object();
                if (!Contains(users.at("primary"), kAlice)) {
                    return "the primary is not listed";
                }
                if (role == Role::kSecondary) {
                    // A secondary does not see the other secondaries.
                    return users.contains("secondary") ? "the secondary sees the secondaries" : "";
                }
                return Contains(users.at("secondary"), kBob) ? "" : "the secondary is not listed";
            }),
        Row("GET", "/v1/user/nodes/sharing", "", Ok(), Ok(), Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                const auto* entry = FindBy(r.json.at("node_sharing"), "node_id", node_.node_id);
                if (Unrelated(role)) {
                    return entry == nullptr ? "" : "another user sees the node's sharing";
                }
                if (entry == nullptr) {
                    return "the node is missing";
                }
                const bool secondaries = entry->at("users").as_object().contains("secondary");
                return secondaries == (role == Role::kPrimary) ? "" : "secondaries shown wrongly";
            }),
        Row("GET",
            "/v1/user/nodes/sharing/requests?request_id={share_req}",
            "",
            Err(107026, 404),
            Err(107026, 404),
            Ok()),
        Row("GET", "/v1/user/nodes/sharing/requests", "", Ok(), Ok(), Ok()).Checked(no_request),
        Row("GET", "/v1/user/nodes/sharing/requests?primary_user=true", "", Ok(), Ok(), Ok())
            .Checked(no_request),

        // ---- groups: another user's group does not exist for the caller
        Row("GET", "/v1/user/node_group", "", Ok(), Ok(), Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                const bool listed =
                    FindBy(r.json.at("groups"), "group_id", vars_.at("group")) != nullptr;
                return listed == (role == Role::kPrimary) ? "" : "the group is listed wrongly";
            }),
        Row("GET",
            "/v1/user/node_group?group_id={group}&node_list=true",
            "",
            Err(108023),
            Err(108023),
            Ok())
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return Contains(r.json.at("groups").at(0).at("nodes"), node_.node_id)
                           ? ""
                           : "the node is not in the group";
            }),
        Row("GET",
            "/v1/user/node_group?group_id={group}&node_details=true",
            "",
            Err(108023),
            Err(108023),
            Ok()),
        Row("GET",
            "/v1/user/node_group?group_name=Home",
            "",
            Err(108029, 404),
            Err(108029, 404),
            Ok()),
        Row("PUT",
            "/v1/user/node_group?group_id={group}",
            R"({"description":"matrix","custom_data":{"matrix":1}})",
            Err(108023),
            Err(108023),
            Ok()),
        Row("PUT",
            "/v1/user/node_group?group_id={group_add}",
            R"({"operation":"add","nodes":["{node}"]})",
            Err(108023),
            Err(108023),
            Ok()),
        Row("PUT",
            "/v1/user/node_group?group_id={group_rm}",
            R"({"operation":"remove","nodes":["{node}"]})",
            Err(108023),
            Err(108023),
            Ok()),
        Row("DELETE", "/v1/user/node_group?group_id={group_del}", "", Err(108023), Err(108023), Ok()
        ),
        Row("DELETE",
            "/v1/user/node_group?group_id={group}&leave=true",
            "",
            Err(108023),
            Err(108023),
            Err(108142)),
        // ---- Matter fabrics (#9): members read the fabric and get user NOCs (the CAT of
        // their role); only primaries commission, convert, confirm, add controllers and read
        // node ACLs.
        Row("GET",
            "/v1/user/node_group?group_id={fabric}&fabric_details=true",
            "",
            Err(108023),
            Ok(),
            Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                const auto& g = r.json.at("groups").at(0);
                return g.at("is_matter") == true &&
                               g.at("fabric_details").as_object().contains("matter_user_id")
                           ? ""
                           : "no fabric details";
            }),
        Row("GET", "/v1/user/node_group?is_matter=true", "", Ok(), Ok(), Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                const bool listed =
                    FindBy(r.json.at("groups"), "group_id", vars_.at("fabric")) != nullptr;
                return listed == (role == Role::kSecondary || role == Role::kPrimary)
                           ? ""
                           : "the fabric is listed wrongly";
            }),
        Row("PUT",
            "/v1/user/node_group",
            R"({"operation":"add","csr_type":"user","csr_requests":[{"csr":"{matter_csr}",)"
            R"("group_id":"{fabric}"}]})",
            Err(108111),
            Ok(),
            Ok()),
        Row("PUT",
            "/v1/user/node_group",
            R"({"operation":"add","csr_type":"node","csr_requests":[{"csr":"{matter_csr}",)"
            R"("group_id":"{fabric}"}]})",
            Err(108111),
            Err(108056),
            Ok()),
        Row("PUT",
            "/v1/user/node_group",
            R"({"request_id":"{fabric_req}","status":"failure"})",
            Err(108103),
            Err(108103),
            Ok()),
        Row("PUT",
            "/v1/user/node_group?matter_controller=true",
            R"({"node_id":"{node}","group_id":"{fabric}"})",
            Err(108111),
            Err(108056),
            Ok()),
        Row("PUT",
            "/v1/user/node_group?group_id={fconv}",
            R"({"is_matter":true})",
            Err(108023),
            Err(108023),
            Ok()),
        Row("GET",
            "/v1/user/node_group/node_acl?group_id={fabric}",
            "",
            Err(108118),
            Err(108041),
            Ok()),
        Row("GET", "/v1/user/node_group/node_acl", "", Err(108117), Err(108117), Ok()),
        Row("GET",
            "/v1/user/node_group/node_acl?type_entity=NODE_ACL_ADMIN_1",
            "",
            Err(108119),
            Err(108119),
            Err(108119)),
        // A shared group is the secondary's to read and leave, not to change.
        Row("GET", "/v1/user/node_group?group_id={sgroup}", "", Err(108023), Ok(), Ok())
            .Checked([](Role role, const HttpResult& r) -> std::string {
                const bool primary = r.json.at("groups").at(0).at("primary").as_bool();
                return primary == (role == Role::kPrimary) ? "" : "primary shown wrongly";
            }),
        Row("PUT",
            "/v1/user/node_group?group_id={sgroup}",
            R"({"description":"matrix"})",
            Err(108023),
            Err(108056),
            Ok()),
        Row("DELETE",
            "/v1/user/node_group?group_id={sgroup_rm}&remove_sharing=true&user_name={dave_name}",
            "",
            Err(108023),
            Err(108138),
            Ok())
            .Checked(dave_lost("sgroup_rm")),

        // ---- group sharing
        Row("PUT",
            "/v1/user/node_group/sharing",
            R"({"groups":["{sgroup}"],"user_name":"{carol_name}"})",
            Err(108048),
            Err(108041),
            Ok())
            .Checked(group_pending),
        Row("PUT",
            "/v1/user/node_group/sharing/requests",
            R"({"groups":["{sgroup}"],"user_name":"{carol_name}","primary":true})",
            Err(108048),
            Err(108041),
            Ok())
            .Checked(group_pending),
        // Only Carol may answer the requests addressed to her.
        Row("PUT",
            "/v1/user/node_group/sharing/requests",
            R"({"request_id":"{gshare_req}","accept":true})",
            Err(108037),
            Err(108037),
            Err(108037)),
        Row("DELETE",
            "/v1/user/node_group/sharing/requests?request_id={gwithdraw_req}",
            "",
            Err(108040, 404),
            Err(108040, 404),
            Ok()),
        Row("GET",
            "/v1/user/node_group/sharing/requests?request_id={gshare_req}",
            "",
            Err(108040, 404),
            Err(108040, 404),
            Ok()),
        Row("GET", "/v1/user/node_group/sharing/requests", "", Ok(), Ok(), Ok())
            .Checked(no_group_request),
        Row("GET", "/v1/user/node_group/sharing/requests?primary_user=true", "", Ok(), Ok(), Ok())
            .Checked(no_group_request),
        Row("GET", "/v1/user/node_group/sharing?group_id={sgroup}", "", Err(108023), Ok(), Ok())
            .Checked(group_users),
        Row("GET", "/v1/user/node_group/sharing", "", Ok(), Ok(), Ok()).Checked(group_users),
        Row("DELETE",
            "/v1/user/node_group/sharing?groups={sgroup}&user_name={dave_name}",
            "",
            Err(108048),
            Err(108041),
            Ok())
            .Checked(dave_lost("sgroup")),

        // ---- admin groups: admins only, each admin their own groups
        Row("POST",
            "/v1/admin/node_group",
            R"({"group_name":"Fleet","nodes":["{node}"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(108012)),
        Row("GET",
            "/v1/admin/node_group?group_id={agroup}&node_list=true",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(108023))
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return Contains(r.json.at("groups").at(0).at("nodes"), node_.node_id)
                           ? ""
                           : "the node is not in the admin group";
            }),
        Row("GET", "/v1/admin/node_group", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(108027, 404))  // its Fleet was refused: no groups
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                const bool listed =
                    FindBy(r.json.at("groups"), "group_id", vars_.at("agroup")) != nullptr;
                return listed == (role == Role::kAdmin) ? "" : "the admin group is listed wrongly";
            }),
        Row("PUT",
            "/v1/admin/node_group?group_id={agroup}",
            R"({"description":"matrix"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(108023)),
        Row("DELETE",
            "/v1/admin/node_group?group_id={agroup_del}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(108023)),

        // ---- OTA images (#29-#32): the deployment's, any admin's (not a node: RBAC node
        // filters do not apply); the first admin archives and deletes, the others then find
        // the image archived or gone
        Row("POST",
            "/v1/admin/otaimage",
            R"({"image_name":"matrix-image","base64_fwimage":"{ota_b64}"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok()),
        Row("GET",
            "/v1/admin/otaimage?ota_image_id={ota_image}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return FindBy(r.json.at("ota_images"), "ota_image_id", vars_.at("ota_image")) !=
                               nullptr
                           ? ""
                           : "the image is not listed";
            }),
        Row("PUT",
            "/v1/admin/otaimage?ota_image_id={ota_image}&archive=true",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(104023)),
        Row("DELETE",
            "/v1/admin/otaimage?ota_image_id={ota_image_del}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(104015)),
        // Presigned uploads (#33, #34) and packages (#44, #45): admins'. A confirmation is
        // idempotent (the second admin gets the image); a package file is registered once.
        Row("GET",
            "/v1/admin/otaimage/upload_request?image_name=matrix-request",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.Str("upload_url").find("/uploads/" + r.Str("ota_image_id") + "?") !=
                               std::string::npos
                           ? ""
                           : "no upload URL for the id";
            }),
        Row("POST",
            "/v1/admin/otaimage/upload_confirm",
            R"({"ota_image_id":"{ota_upload}"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok()),
        Row("GET",
            "/v1/admin/otaimage/package/upload?file_name=matrix-request.zip",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok()),
        Row("POST",
            "/v1/admin/otaimage/package",
            R"({"image_name":"matrix-package","file_path":"matrix-pkg.zip"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(104015)),
        // #40: any signed-in user uploads an image of their own.
        Row("POST",
            "/v1/user/otaimage",
            R"({"image_name":"matrix-mine","base64_fwimage":"{ota_b64}"})",
            Ok(),
            Ok(),
            Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.Str("image_url").find("/blobs/") != std::string::npos ? ""
                                                                               : "no image_url";
            }),

        // ---- Files (#46-#51): admin files are the deployment's, any admin's (the first to
        // confirm the upload confirms it); a user's files are theirs alone, the other users
        // finding them as if they did not exist.
        Row("GET",
            "/v1/admin/file/upload_request?file_name=matrix-file&entity_type=cert&entity_id=m",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.Str("file_url").find("/uploads/" + r.Str("file_id") + "?") !=
                               std::string::npos
                           ? ""
                           : "no upload URL for the id";
            }),
        Row("POST",
            "/v1/admin/file/upload_confirm",
            R"({"file_id":"{admin_file_upload}"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(134013, 500)),
        Row("GET", "/v1/admin/file?file_id={admin_file}", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return FindBy(r.json.at("file_details"), "file_id", vars_.at("admin_file")) !=
                               nullptr
                           ? ""
                           : "the file is not listed";
            }),
        Row("GET",
            "/v1/user/file/upload_request?file_name=matrix-mine&entity_type=log",
            "",
            Ok(),
            Ok(),
            Ok()),
        Row("POST",
            "/v1/user/file/upload_confirm",
            R"({"file_id":"{user_file_upload}"})",
            Err(134006),
            Err(134006),
            Ok()),
        Row("GET", "/v1/user/file?file_id={user_file}", "", Err(134019), Err(134019), Ok()),
        Row("DELETE", "/v1/user/file?file_id={user_file_del}", "", Err(134003), Err(134003), Ok()),

        // ---- Secure boot signing (#110-#115): superadmins' (SuperAdmin APIs on private
        // deployments); every other caller 100004. The key's name is taken for the second call.
        Row("POST",
            "/v1/admin/key",
            R"({"key_name":"matrix-key","key_spec":"ECC_NIST_P256"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET", "/v1/admin/key", "", Err(100004), Err(100004), Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004))
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.body.find("matrix-sign-key") != std::string::npos &&
                               r.body.find("PRIVATE") == std::string::npos
                           ? ""
                           : "the key is not listed, or its private half is";
            }),
        Row("POST",
            "/v1/admin/secure_sign",
            R"({"ota_image_id":"{ota_image}","key_names":["matrix-sign-key"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/secure_sign?request_id={sign_request}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/secure_sign/signed_images?key_name=matrix-sign-key",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/secure_sign/signing_keys?image_id={ota_image}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004)),

        // ---- OTA jobs (#35-#39): the deployment's, any admin's; an admin restricted by RBAC
        // reaches only the jobs whose every node they reach (rbac-filter: none, as if they did
        // not exist). The first admin makes the job and cancels the one to cancel; the others
        // then find the name taken and the job cancelled.
        Row("POST",
            "/v1/admin/otajob",
            R"({"ota_job_name":"matrix-job","ota_image_id":"{ota_job_image}","nodes":["{node}"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(105005))
            .Filtered(Err(100015, 404)),
        Row("GET",
            "/v1/admin/otajob?ota_job_id={ota_job}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(105012, 404))
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return FindBy(r.json.at("ota_jobs"), "ota_job_id", vars_.at("ota_job")) != nullptr
                           ? ""
                           : "the job is not listed";
            }),
        Row("PUT",
            "/v1/admin/otajob",
            R"({"ota_job_id":"{ota_job_cancel}"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(105015, 404))
            .Filtered(Err(105015, 404)),
        Row("GET",
            "/v1/admin/otajob/status?ota_job_id={ota_job}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(105012, 404))
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return FindBy(r.json.at("node_ota_status"), "node_id", node_.node_id) != nullptr
                           ? ""
                           : "the node is not listed";
            }),
        Row("GET",
            "/v1/admin/otajob/status/summary?ota_job_id={ota_job}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(105012, 404))
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.json.at("total") == 1 ? "" : "the job's node is not counted";
            }),

        // ---- the user's side of OTA (#41-#43): every user of the node (primary or secondary);
        // anyone else, admins included, as for a node that is not theirs (100010)
        Row("GET", "/v1/user/nodes/ota_update?node_id={node}", "", Err(100010), Ok(), Ok())
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return r.Str("ota_job_id") == vars_.at("ota_approval")
                           ? ""
                           : "the approval job is not offered";
            }),
        Row("POST",
            "/v1/user/nodes/ota_update",
            R"({"ota_job_id":"{ota_approval}","node_id":"{node}"})",
            Err(100010),
            Ok(),
            Ok()),
        Row("GET",
            "/v1/user/nodes/ota_status?node_id={node}&ota_job_id={ota_approval}",
            "",
            Err(100010),
            Ok(),
            Ok())
            .Checked([this](Role, const HttpResult& r) -> std::string {
                return r.Str("node_id") == node_.node_id ? "" : "another node's status";
            }),

        // ---- admin platform (#105, #118, #119): admins only; an admin reads and writes any
        // user's custom data (the primary's "matrix" key comes from the #71 row above)
        Row("GET", "/v1/admin/api_paths_methods", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .RbacDenied(Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                for (const auto& item : r.json.as_array()) {
                    if (!item.at("path").as_string().starts_with("/{version}/admin/")) {
                        return "a path other than an admin one is listed";
                    }
                }
                return FindBy(r.json, "path", "/{version}/admin/custom_data") != nullptr
                           ? ""
                           : "admin/custom_data is not listed";
            }),
        Row("GET",
            "/v1/admin/custom_data?user_name={primary_name}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.json.as_object().contains("matrix") ? "" : "the primary's key is missing";
            }),
        Row("PUT",
            "/v1/admin/custom_data?user_name={primary_name}",
            R"({"admin_matrix":{"value":1,"perms":[{"write":["admin"]}]}})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.json.as_object().contains("admin_matrix") &&
                               r.json.as_object().contains("matrix")
                           ? ""
                           : "the answer is not the primary's data after the write";
            }),

        // ---- admin nodes and tags (#23-#26, #106-#109): admins see every node; #26 is for
        // superadmins only. Tags are attached to {node} (no activate: the node stays live).
        Row("GET", "/v1/admin/nodes", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .Checked([](Role role, const HttpResult& r) -> std::string {
                // rbac-filter's roles reach no node: it finds none.
                const auto total = r.json.at("total").as_int64();
                return (role == Role::kRbacFiltered ? total == 0 : total >= 1)
                           ? ""
                           : "the nodes listed are not the ones in reach";
            }),
        Row("GET", "/v1/admin/nodes?node_id={node}", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(100015, 404)),
        Row("PUT",
            "/v1/admin/nodes?node_id={node}",
            R"({"tags":["matrix:admin"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),  // node tags decide RBAC reach: unrestricted only
        Row("GET",
            "/v1/admin/nodes?summary=true&start_time=0",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        // Tag names span every node: admins whose roles reach only some nodes get 100004.
        Row("GET", "/v1/admin/nodes/tags", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/user/nodes?user_name={primary_name}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Err(100004), Ok())
            .RbacRestricted(Err(100004))
            .Checked([](Role, const HttpResult& r) -> std::string {
                return r.json.at("primary").at("total").as_int64() >= 1
                           ? ""
                           : "the primary's nodes are missing";
            }),
        Row("PUT",
            "/v1/admin/tags?resource_type=Node&resource_id={node}",
            R"({"tags":["matrix:tag"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004))
            .Filtered(Err(135001)),
        Row("GET",
            "/v1/admin/tags?resource_type=Node&resource_id={node}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(135001)),
        Row("DELETE",
            "/v1/admin/tags?resource_type=Node&resource_id={node}",
            R"({"tags":["matrix:gone"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004))
            .Filtered(Err(135001)),
        Row("GET", "/v1/admin/tags/names", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),

        // A user groups only the nodes mapped to them (the secondary's is).
        Row("POST", "/v1/user/node_group", nodes_mine, Err(108013), Ok(), Ok()),
        Row("POST", "/v1/user/node_group", sub, Err(108009), Err(108009), Ok()),

        // ---- time series (#66-#69): the node's users read its series; admins any node's
        Row("GET",
            "/v1/user/nodes/tsdata?node_id={node}&param_name=Light.Brightness&type=int",
            "",
            Err(126002),
            Ok(),
            Ok()),
        Row("GET",
            "/v1/admin/nodes/tsdata?node_id={node}&param_name=Light.Brightness&type=int",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(126003)),
        Row("GET",
            "/v1/user/nodes/simple_tsdata?node_id={node}&param_name=Light.Brightness&type=int",
            "",
            Err(136001),
            Ok(),
            Ok()),
        Row("GET",
            "/v1/admin/nodes/simple_tsdata?node_id={node}&param_name=Light.Brightness&"
            "data_type=int",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(136001)),

        // ---- roles and policies (#91-#100): admins, within their own roles; RBAC objects are
        // the deployment's, so the first allowed admin changes them and the others then see
        // the result (129007 exists, 129008/129017 gone); only unrestricted admins write
        // policies and roles (rbac-ok and rbac-filter get 100004); the rbac-* admins hold
        // level-5 roles, so they assign only roles of levels above 5
        Row("POST",
            "/v1/admin/policy",
            R"({"policy_name":"matrix_p","policy_json":{"statement":[{"Effect":"Allow",)"
            R"("Action":["api:Get"],"Resource":["/admin/nodes"]}]}})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(129007))
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/policy?policy_name=matrix_p",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok()),
        Row("PUT",
            "/v1/admin/policy?policy_name=matrix_p",
            R"({"policy_json":{"statement":[{"Effect":"Allow","Action":["api:Get","api:Put"],)"
            R"("Resource":["/admin/nodes"]}]}})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("DELETE",
            "/v1/admin/policy?policy_name=matrix_policy_del",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(129008, 404))
            .RbacRestricted(Err(100004)),
        Row("POST",
            "/v1/admin/role",
            R"({"role_name":"matrix_r","policies":["matrix_p"],"role_level":50})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(129014))
            .RbacRestricted(Err(100004)),
        Row("GET", "/v1/admin/role", "", Err(100004), Err(100004), Err(100004)).Admins(Ok(), Ok()),
        Row("PUT",
            "/v1/admin/role?role_name=matrix_r&operation=add",
            R"({"role_level":60})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("DELETE",
            "/v1/admin/role?role_name=matrix_role_del",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(129017, 404))
            .RbacRestricted(Err(100004)),
        Row("PUT",
            "/v1/admin/user_role?user_name={other_name}&operation=add",
            R"({"roles":["matrix_r"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok()),
        Row("GET",
            "/v1/admin/user_role?user_name={other_name}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Checked([](Role, const HttpResult& r) -> std::string {
                return Contains(r.json.at("roles"), "matrix_r") ? "" : "matrix_r is missing";
            }),

        // ---- command-response (#101-#104): the node's users send commands (with their role)
        // and read their own requests; admins send to and read any node
        Row("POST",
            "/v1/user/nodes/cmd",
            R"({"node_ids":["{node}"],"cmd":4096,"data":{"m":1}})",
            Err(100010),
            Ok(),
            Ok())
            .Checked(answered(false))
            .SendsCommand(),
        Row("GET", "/v1/user/nodes/cmd?node_id={node}", "", Err(126003), Ok(), Ok())
            .Checked(own_requests),
        Row("POST",
            "/v1/admin/nodes/cmd",
            R"({"node_ids":["{node}"],"cmd":4096,"data":{"m":2}})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(100015, 404))
            .Checked(answered(true))
            .SendsCommand(),
        Row("GET", "/v1/admin/nodes/cmd?node_id={node}", "", Err(100004), Err(100004), Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(126003)),
        // ---- automations (#87-#90): a user's own; making one needs access to every node
        // it names (403 127018); another user's automation "does not exist" (127012)
        Row("POST",
            "/v1/user/node_automation",
            AutomationBody("Matrix"),
            Err(127018, 403),
            Ok(),
            Ok()),
        Row("GET", "/v1/user/node_automation", "", Err(127016), Ok(), Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                bool primarys = false;  // the list holds one of the set-up's automations
                for (const auto& a : r.json.at("automation_trigger_actions").as_array()) {
                    const auto& id = a.at("automation_id");
                    primarys = primarys || id == boost::json::value(vars_.at("automation")) ||
                               id == boost::json::value(vars_.at("automation_del"));
                }
                if (primarys != (role == Role::kPrimary)) {
                    return role == Role::kPrimary ? "the primary's automations are not listed"
                                                  : "the list shows another user's automation";
                }
                return "";
            }),
        Row("GET",
            "/v1/user/node_automation?automation_id={automation}",
            "",
            Err(127012),
            Err(127012),
            Ok()),
        Row("PUT",
            "/v1/user/node_automation?automation_id={automation}",
            R"({"metadata":{"by":"matrix"}})",
            Err(127012),
            Err(127012),
            Ok()),
        Row("DELETE",
            "/v1/user/node_automation?automation_id={automation_del}",
            "",
            Err(127012),
            Err(127012),
            Ok()),
        // ---- event filters (#76-#83). Admins filter any node their scope reaches (the
        // filtered RBAC admin reaches none: the node is "no node", its filter "not found");
        // among users only the node's primary filters it (a node's filter decides for all its
        // users), and nobody else sees or removes that filter.
        Row("POST",
            "/v1/admin/event_filter",
            R"({"event_type":"rmaker.event.node_connected","entity_id":"{node}",)"
            R"("entity_type":"Node","enabled":true,"enabled_for_integrations":["webhook"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(113110))
            .Filtered(Err(100006)),
        Row("PUT",
            "/v1/admin/event_filter",
            R"({"event_type":"rmaker.event.node_connected","entity_id":"{node}",)"
            R"("entity_type":"Node","enabled":false,"enabled_for_integrations":["webhook"]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(100006)),
        Row("GET",
            "/v1/admin/event_filter?event_type=rmaker.event.node_connected&entity_id={node}",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .Filtered(Err(113109)),
        Row("DELETE",
            "/v1/admin/event_filter",
            R"({"event_type":"rmaker.event.node_connected","entity_id":"{node}"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(113109)),
        Row("POST",
            "/v1/user/event_filter",
            R"({"event_type":"rmaker.event.node_connected","entity_id":"{node}",)"
            R"("entity_type":"Node","enabled":true,"enabled_for_integrations":["webhook"]})",
            Err(100006),
            Err(100006),
            Ok()),
        Row("PUT",
            "/v1/user/event_filter",
            R"({"event_type":"rmaker.event.node_connected","entity_id":"{node}",)"
            R"("entity_type":"Node","enabled":false,"enabled_for_integrations":["webhook"]})",
            Err(100006),
            Err(100006),
            Ok()),
        Row("GET",
            "/v1/user/event_filter?event_type=rmaker.event.node_connected&entity_id={node}",
            "",
            Err(113109),
            Err(113109),
            Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                if (role != Role::kPrimary) {
                    return "";
                }
                const auto& list = r.json.at("event_entity_mapping_list").as_array();
                return list.size() == 1 && list[0].at("entity_id").as_string() == node_.node_id
                           ? ""
                           : "the primary's node filter is not listed";
            }),
        Row("DELETE",
            "/v1/user/event_filter",
            R"({"event_type":"rmaker.event.node_connected","entity_id":"{node}"})",
            Err(113109),
            Err(113109),
            Ok()),
        // ---- webhook integrations (#72-#75) and their deliveries: they span every node, so
        // only admins whose roles reach every node manage them (an RBAC admin's role has a
        // scope: 100004); users never
        Row("POST",
            "/v1/admin/webhook_user_node_integration",
            R"({"webhook_name":"matrix","url":"http://192.0.2.1/hook",)"
            R"("secret":"matrix-secret-0123456",)"
            R"("events":[{"event_name":"rmaker.event.alert"}]})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(113152))
            .RbacRestricted(Err(100004)),
        Row("PUT",
            "/v1/admin/webhook_user_node_integration?operation=update_enabled",
            R"({"webhook_name":"matrix","enabled":false})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/webhook_user_node_integration?webhook_name=matrix",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("GET",
            "/v1/admin/webhook_user_node_integration/deliveries?webhook_name=matrix",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("POST",
            "/v1/admin/webhook_user_node_integration/deliveries/replay",
            R"({"webhook_name":"matrix"})",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Ok())
            .RbacRestricted(Err(100004)),
        Row("DELETE",
            "/v1/admin/webhook_user_node_integration?webhook_name=matrix",
            "",
            Err(100004),
            Err(100004),
            Err(100004))
            .Admins(Ok(), Err(113153))
            .RbacRestricted(Err(100004)),
        // ---- passthrough (#120-#122): any signed-in user's, to the operator's services (none
        // configured for the matrix)
        Row("GET", "/v1/user/passthrough/config", "", Ok(), Ok(), Ok()),
        Row("GET", "/v1/user/passthrough?service_id=none", "", Err(137006), Err(137006), Err(137006)
        ),
        Row("POST",
            "/v1/user/passthrough?service_id=none",
            "{}",
            Err(137006),
            Err(137006),
            Err(137006)),
        // ---- push endpoints (#84-#86): a user's own phones. Registering is anyone's (the
        // row's token moves from caller to caller: one device, one user); another user's
        // endpoint is not found (114036), and no list shows it
        Row("POST",
            "/v1/user/push_notification/mobile_platform_endpoint",
            R"({"platform":"GCM","mobile_device_token":"matrix-phone"})",
            Ok(),
            Ok(),
            Ok()),
        Row("GET", "/v1/user/push_notification/mobile_platform_endpoint", "", Ok(), Ok(), Ok())
            .Checked([this](Role role, const HttpResult& r) -> std::string {
                const bool listed = FindBy(
                                        r.json.at("platform_endpoints"),
                                        "platform_endpoint_arn",
                                        vars_.at("push_arn")
                                    ) != nullptr;
                if (listed != (role == Role::kPrimary)) {
                    return role == Role::kPrimary ? "the primary's endpoint is not listed"
                                                  : "the list shows another user's endpoint";
                }
                return "";
            }),
        Row("DELETE",
            "/v1/user/push_notification/mobile_platform_endpoint?endpoint={push_arn}",
            "",
            Err(114036),
            Err(114036),
            Ok()),
        Row("DELETE",
            "/v1/user/push_notification/mobile_platform_endpoint?mobile_device_token=matrix-phone",
            "",
            Err(114036),
            Err(114036),
            Ok()),
    };
}

struct Cell {
    Expect expected;
    Expect got;
    bool answer_ok = true;
    std::string flag;  // "check": an allowed answer shows too much; "changed": a refusal did not

    std::string Text() const {
        const std::string text =
            answer_ok ? Describe(expected) : "!" + Describe(expected) + "/" + Describe(got);
        return flag.empty() ? text : text + " !" + flag;
    }
};

TEST_F(AuthorizationMatrixTest, EveryRouteAnswersEachRoleAsDocumented) {
    const int failures = Failures();
    SetUpWorld();
    ASSERT_EQ(Failures(), failures) << "the set-up failed";
    // The inventory is the server's route table (the declarations the router enforces), and
    // its admin routes are exactly the /v1/admin/ ones.
    std::set<RouteKey> inventory;
    std::set<RouteKey> admin_inventory;
    for (const auto& route : kRoutes) {
        inventory.emplace(route.method, route.path);
        if (std::string_view(route.path).starts_with("/v1/admin/")) {
            admin_inventory.emplace(route.method, route.path);
        }
    }
    const auto served = ServedRoutes(client_, root_.accesstoken, true);
    for (const auto& route : served) {
        EXPECT_TRUE(inventory.contains(route))
            << route.first << " " << route.second
            << " is served but not in kRoutes: add it there and give it rows";
    }
    for (const auto& route : inventory) {
        EXPECT_TRUE(served.contains(route))
            << route.first << " " << route.second << " is in kRoutes but not served";
    }
    EXPECT_EQ(ServedRoutes(client_, root_.accesstoken, false), admin_inventory)
        << "the routes declared admin-only are not exactly the /v1/admin/ ones";
    const auto rows = Rows();
    std::set<RouteKey> covered;
    for (const auto& row : rows) {
        const RouteKey key{row.method, row.target.substr(0, row.target.find('?'))};
        covered.insert(key);
        EXPECT_TRUE(inventory.contains(key))
            << "row for " << key.first << " " << key.second << ": no such route in kRoutes";
    }
    for (const auto& route : kRoutes) {
        EXPECT_TRUE(route.is_public || covered.contains({route.method, route.path}))
            << route.method << " " << route.path << " is authenticated but has no row";
    }

    std::vector<std::vector<Cell>> matrix(rows.size());
    std::vector<std::string> node_expected;  // params/remote payloads of allowed requests
    std::vector<std::string> command_roles;  // the role byte of each allowed command request
    auto baseline = Take();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        const std::string target = Expand(row.target);
        const std::string body = Expand(row.body);
        for (const auto* text : {&target, &body}) {
            EXPECT_FALSE(std::regex_search(*text, std::regex(R"(\{[a-z_]+\})")))
                << "row " << i << " has an unknown placeholder: " << *text;
        }
        for (const Role role : kRoles) {
            Cell cell;
            switch (role) {
                case Role::kOther:
                    cell.expected = row.other;
                    break;
                case Role::kAdmin:
                    cell.expected = row.admin;
                    break;
                case Role::kSuperAdmin:
                    cell.expected = row.superadmin;
                    break;
                case Role::kSecondary:
                    cell.expected = row.secondary;
                    break;
                case Role::kPrimary:
                    cell.expected = row.primary;
                    break;
                case Role::kRbacAllowed:
                case Role::kRbacDenied:
                case Role::kRbacFiltered:
                    cell.expected = row.ForRbac(role);
                    break;
                default:
                    cell.expected = Err(100004, 401);
            }
            const auto r = Send(role, row.method, target, body);
            cell.got = Classify(r);
            const std::string where = "row " + std::to_string(i) + " " + row.method + " " +
                                      row.target + " as " + RoleName(role);
            if (!Matches(cell.expected, cell.got, r)) {
                cell.answer_ok = false;
                ADD_FAILURE() << where << ": expected " << Describe(cell.expected) << ", got HTTP "
                              << r.status << " " << r.body;
            }
            if (cell.got.allowed) {
                if (!row.node_gets.empty()) {
                    node_expected.push_back("params/remote " + row.node_gets);
                }
                if (row.sends_command) {
                    // primary 2, secondary 4, the admin route 1 (device-protocol §2.4)
                    command_roles.push_back(
                        role == Role::kPrimary     ? "2"
                        : role == Role::kSecondary ? "4"
                                                   : "1"
                    );
                }
                if (row.check) {
                    std::string problem;
                    try {
                        problem = row.check(role, r);
                    } catch (const std::exception& e) {
                        problem = std::string("check threw ") + e.what() + " on " + r.body;
                    }
                    if (!problem.empty()) {
                        cell.flag = "check";
                        ADD_FAILURE() << where << ": " << problem << "\n  answer: " << r.body;
                    }
                }
                if (row.on_allowed) {
                    row.on_allowed();
                }
                baseline = Take();
            } else {
                auto after = Take();
                const auto diff = Diff(baseline, after);
                if (!diff.empty()) {
                    cell.flag = "changed";
                    ADD_FAILURE() << where << " was refused (" << r.body
                                  << ") but changed:" << diff;
                }
                baseline = std::move(after);
            }
            matrix[i].push_back(cell);
        }
    }

    // The device got exactly the allowed params sets: nothing from a refused one.
    std::vector<std::string> received = sim_->Collect("params/remote", 1500ms);
    EXPECT_EQ(received, node_expected);
    // And exactly the allowed command requests (the rows waited for their answers), each
    // with the caller's role byte: "command <request id> <cmd> <role> <data>".
    std::vector<std::string> roles_received;
    for (const auto& line : sim_->lines()) {
        if (line.rfind("command ", 0) == 0) {
            std::istringstream words(line);
            std::string word;
            std::string role;
            words >> word >> word >> word >> role;
            roles_received.push_back(role);
        }
    }
    EXPECT_EQ(roles_received, command_roles);
    EXPECT_TRUE(victim_sim_->Collect("params/remote", 200ms).empty());
    // The primary and the secondary still hold the node as set up.
    const auto alice_view =
        client_.Get("/v1/user/nodes?node_id=" + node_.node_id, alice_.accesstoken);
    EXPECT_EQ(alice_view.json.at("node_details").at(0).at("primary"), true) << alice_view.body;
    const auto bob_view = client_.Get("/v1/user/nodes?node_id=" + node_.node_id, bob_.accesstoken);
    EXPECT_EQ(bob_view.json.at("node_details").at(0).at("primary"), false) << bob_view.body;

    // Signed routes (presigned downloads and uploads): a token, good or bad, changes nothing;
    // for every role the URL as the server gave it works, and the same URL without its
    // signature, with another, for another object or with its expiry moved is 403 100004.
    for (const auto& route : kRoutes) {
        if (!route.is_signed) {
            continue;
        }
        const std::string key = std::string(route.method) + " " + route.path;
        ASSERT_TRUE(signed_.contains(key)) << key << " has no signed sample URL";
        const std::string url = signed_.at(key);
        const auto question = url.find('?');
        const std::string bare = url.substr(0, question);
        std::string forged = url;
        forged.back() = forged.back() == '0' ? '1' : '0';
        std::string other_object = url;
        other_object.insert(question, "x");
        std::string later = url;
        const auto expiry = later.find("expires=") + 8;
        later[expiry] = later[expiry] == '9' ? '8' : static_cast<char>(later[expiry] + 1);
        const std::string body = std::string(route.method) == "PUT" ? "matrix bytes" : "";
        for (const Role role : kRoles) {
            for (const std::string* target :
                 std::initializer_list<const std::string*>{&bare, &forged, &other_object, &later}) {
                const auto r = Send(role, route.method, *target, body);
                EXPECT_TRUE(r.status == 403 && r.ErrorCode() == 100004 && r.IsFailureEnvelope())
                    << key << " as " << RoleName(role) << " with " << *target << ": HTTP "
                    << r.status << " " << r.body;
            }
            const auto r = Send(role, route.method, url, body);
            EXPECT_EQ(r.status, 200) << key << " as " << RoleName(role) << ": " << r.body;
        }
    }

    if (HasFailure() || std::getenv("RM_PRINT_MATRIX") != nullptr) {
        // One line per row: its number, method, target and the start of its body.
        std::vector<std::string> labels;
        std::size_t width = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            std::string label = std::to_string(i) + " " + rows[i].method + " " + rows[i].target;
            if (!rows[i].body.empty()) {
                label += " " + rows[i].body.substr(0, 40) + (rows[i].body.size() > 40 ? "..." : "");
            }
            width = std::max(width, label.size());
            labels.push_back(std::move(label));
        }
        std::ostringstream out;
        out << "\nauthorization matrix: the expected answer (ok, code at HTTP 400, or "
               "status:code);\n"
               "!expected/got marks a wrong answer, !check or !changed a leak seen after it\n"
            << std::left << std::setw(static_cast<int>(width)) << "row";
        for (const Role role : kRoles) {
            out << " " << std::setw(11) << RoleName(role);
        }
        out << "\n";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            out << std::setw(static_cast<int>(width)) << labels[i];
            for (const auto& cell : matrix[i]) {
                out << " " << std::setw(11) << cell.Text();
            }
            out << "\n";
        }
        std::cout << out.str();
    }
}

}  // namespace
}  // namespace rainmaker::testing
