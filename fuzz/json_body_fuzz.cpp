// Feeds bytes as a request body through the JSON parsing and typed member reads every handler
// starts with, then through the domain rules that take client JSON (custom data, public profile,
// node metadata, desired and reported params): ApiError is the expected refusal, anything else
// is a bug, and whatever is accepted must be stored and read back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "domain/nodes/params_validation.hpp"
#include "domain/stored_json.hpp"
#include "domain/users/json_merge.hpp"
#include "fuzz_support.hpp"
#include "http/api/body.hpp"
#include "http/server/api_request.hpp"

namespace {

namespace json = boost::json;
namespace users = rainmaker::domain::users;
namespace nodes = rainmaker::domain::nodes;
using rainmaker::core::ErrorCode;
using rainmaker::fuzz::Refusable;

// A lightbulb and a schedule service with every data_type, bounds and valid_strs: what stock
// firmware reports and what the unit tests use.
const json::value& NodeConfig() {
    static const json::value kConfig = json::parse(R"({
      "node_id":"fuzz-node-1","config_version":"2020-03-20",
      "info":{"name":"Light","type":"esp.device.lightbulb","model":"m","fw_version":"1.0"},
      "devices":[{"name":"Light","type":"esp.device.lightbulb","primary":"Power","params":[
        {"name":"Name","type":"esp.param.name","data_type":"string","properties":["read","write"]},
        {"name":"Power","type":"esp.param.power","data_type":"bool","properties":["read","write"]},
        {"name":"Brightness","data_type":"int","properties":["read","write"],
         "bounds":{"min":0,"max":100,"step":1}},
        {"name":"Hue","data_type":"float","properties":["read","write"],
         "bounds":{"min":0,"max":360}},
        {"name":"Mode","data_type":"string","properties":["read","write"],
         "valid_strs":["white","color"]},
        {"name":"Temperature","data_type":"float","properties":["read"]},
        {"name":"Blob","data_type":"object","properties":["read","write"]}]}],
      "services":[{"name":"Schedule","type":"esp.service.schedule","params":[
        {"name":"Schedules","data_type":"array","properties":["read","write"],
         "bounds":{"max":10}}]}]})");
    return kConfig;
}

// What a user may already have stored: a key of each perms shape.
const json::object& StoredCustomData() {
    static const json::object kStored = json::parse(R"({
      "esp.location":{"value":{"lat":1.5,"lon":2}},
      "admin.only":{"value":"x","perms":[{"read":["user","admin"],"write":["admin"]}]},
      "hidden":{"value":[1,2,3],"perms":[{"read":["admin"]},{"write":["admin","user"]}]}})")
                                            .as_object();
    return kStored;
}

const json::object& StoredProfile() {
    static const json::object kStored =
        json::parse(R"({"name":"A","pets":{"cat":"tom","dog":null},"tags":["x"]})").as_object();
    return kStored;
}

const json::object& StoredParams() {
    static const json::object kStored =
        json::parse(R"({"Light":{"Power":true,"Brightness":40,"Name":"Light"},"Time":{}})")
            .as_object();
    return kStored;
}

// The server stores what it accepted as text and parses it again on the next read
// (domain/stored_json.hpp): a value that does not come back equal is data lost.
void CheckReadsBack(const json::value& accepted, const char* what) {
    const std::string text = json::serialize(accepted);
    const json::value back = rainmaker::domain::ParseOr(text, nullptr);
    if (!rainmaker::fuzz::SameJson(back, accepted)) {
        std::fprintf(stderr, "%s does not read back: stored %s\n", what, text.c_str());
        std::abort();
    }
}

void TypedReads(const json::object& body) {
    namespace api = rainmaker::http::api;
    for (const char* key :
         {"user_name",
          "password",
          "verification_code",
          "node_id",
          "secret_key",
          "operation",
          "group_name",
          "request_id",
          "user_id",
          "new_password",
          "type"}) {
        Refusable([&] { api::OptionalString(body, key); });
        Refusable([&] { api::RequiredString(body, key, ErrorCode::kInvalidBody); });
    }
    for (const char* key : {"mfa", "accept", "reset", "is_matter", "node_details"}) {
        Refusable([&] { api::OptionalBool(body, key); });
    }
    for (const char* key : {"tags", "node_ids", "nodes", "groups", "user_names"}) {
        Refusable([&] { api::OptionalStrings(body, key); });
    }
    // Resource role names (new_role, a controller CSR's role): a text read as a role is that
    // role's name exactly, and a given text is never lost (it stays a NamedRole, known or not).
    for (const char* key : {"role", "new_role"}) {
        Refusable([&] {
            const auto named = api::OptionalRole(body, key);
            const auto text = api::OptionalString(body, key);
            if (named.has_value() != text.has_value() ||
                (named && named->role && rainmaker::core::Name(*named->role) != *text)) {
                std::fprintf(stderr, "role %s read wrongly\n", key);
                std::abort();
            }
        });
    }
}

void CustomData(const json::value& body) {
    for (const auto actor : {users::CustomDataActor::kUser, users::CustomDataActor::kAdmin}) {
        Refusable([&] {
            const json::object updated =
                users::ApplyCustomDataUpdate(StoredCustomData(), body, actor);
            CheckReadsBack(updated, "custom data");
            users::VisibleCustomData(updated, actor);
        });
    }
}

void Profile(const json::value& body) {
    // PUT /user/public_profile takes the "profile" member; the whole body is tried as well.
    const json::value* profile =
        body.is_object() ? body.as_object().if_contains("profile") : nullptr;
    for (const json::value* p : {profile, &body}) {
        if (p == nullptr) {
            continue;
        }
        Refusable([&] { CheckReadsBack(users::MergePublicProfile(StoredProfile(), *p), "profile"); }
        );
    }
}

void Metadata(const json::value& body) {
    // Node metadata and group custom_data: stored is either an object or nothing yet.
    for (const json::value& stored : {json::value(StoredProfile()), json::value(nullptr)}) {
        Refusable([&] { CheckReadsBack(users::ShadowMerge(stored, body), "metadata"); });
    }
}

void Params(const json::object& body) {
    Refusable([&] {
        const json::object cast = nodes::ValidateParams(NodeConfig(), body);
        // What goes out on params/remote must be JSON the node can parse back to the same value.
        const std::string text = rainmaker::core::Serialize(cast);
        const auto sent = rainmaker::core::ParseUntrustedJson(text, rainmaker::core::kMaxJsonDepth);
        if (!sent || !rainmaker::fuzz::SameJson(*sent, cast)) {
            std::fprintf(
                stderr, "params/remote payload is not the validated delta: %s\n", text.c_str()
            );
            std::abort();
        }
    });
    // The same bytes as a node's params/local report merged into stored params (stored and
    // read back through the node's own parse limits in mqtt_ingest_fuzz).
    json::object stored = StoredParams();
    nodes::MergeReportedParams(stored, body);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    rainmaker::fuzz::SilenceLogs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rainmaker::http::ApiRequest request;
    request.body = std::string(rainmaker::fuzz::AsText(data, size));
    json::value body;
    if (!Refusable([&] { body = request.Json(); })) {
        return 0;
    }
    CustomData(body);
    Profile(body);
    Metadata(body);
    json::object object;
    if (!Refusable([&] { object = request.JsonObject(); })) {
        return 0;
    }
    TypedReads(object);
    Params(object);
    return 0;
}
