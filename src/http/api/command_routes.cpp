// Thin handlers over the command-response service: the body or query in, the requests out.
#include "http/api/command_routes.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/utf8.hpp"
#include "crypto/base64.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using domain::commands::CommandService;
using domain::commands::DataKind;

namespace {

// Whether `bytes` is well-formed UTF-8, so that it can be answered as a JSON string.
bool IsUtf8(std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size();) {
        if (!core::NextCodePoint(bytes, i)) {
            return false;
        }
    }
    return true;
}

// The data of a request as it was given: the object, the string or the base64 text.
boost::json::value RequestData(const storage::CommandRow& row) {
    if (row.data_kind == static_cast<int>(DataKind::kJson)) {
        if (auto parsed = core::ParseUntrustedJson(row.data, core::kMaxJsonDepth)) {
            return std::move(*parsed);
        }
    }
    return boost::json::string(row.data);
}

// One request as #101/#103 answer it.
boost::json::object Record(const storage::CommandRow& row) {
    boost::json::object o{
        {"request_id", row.request_id},
        {"node_id", row.node_id},
        {"cmd", row.cmd},
        {"status", row.status},
        {"request_timestamp", row.created_at},
        {"expiration_timestamp", row.expires_at},
        {"request_data", RequestData(row)},
        {"is_base64", row.data_kind == static_cast<int>(DataKind::kBase64)},
        {"user_name", row.user_name}};
    if (row.expires_at == 0) {
        o["indefinite_timeout"] = true;
    }
    if (!row.status_description.empty()) {
        o["status_description"] = row.status_description;
    }
    if (row.device_status) {
        o["device_status"] = *row.device_status;
        o["response_timestamp"] = row.responded_at;
        const std::string& bytes = *row.response_data;
        // JSON when the node answered JSON (the standard commands do), else its text, else
        // (binary) base64.
        if (auto parsed = core::ParseUntrustedJson(bytes, core::kMaxJsonDepth);
            parsed && !bytes.empty()) {
            o["response_data"] = std::move(*parsed);
        } else if (IsUtf8(bytes)) {
            o["response_data"] = bytes;
        } else {
            o["response_data"] = crypto::Base64Encode(bytes);
            o["response_is_base64"] = true;
        }
    }
    return o;
}

// Catalog #101 GET /{version}/user/nodes/cmd and #103 GET /{version}/admin/nodes/cmd.
ApiResponse GetRequests(const ApiRequest& r, CommandService& commands, bool admin) {
    domain::commands::CommandQuery q;
    q.request_id = r.query.Text("request_id");
    q.node_id = r.query.Text("node_id");
    q.status = r.query.Text("status");
    q.start_time = r.query.Text("start_time");
    q.end_time = r.query.Text("end_time");
    q.cmd_id = r.query.Text("cmd_id");
    q.start_id = r.query.Text("start_id");
    q.num_records = r.query.Int("num_records", q.num_records);
    q.desc_order = r.query.Bool("desc_order", false);
    const auto page = commands.List(r.Caller(), q, admin);
    boost::json::array requests;
    for (const auto& row : page.requests) {
        requests.push_back(Record(row));
    }
    boost::json::object answer{{"requests", std::move(requests)}, {"total", page.total}};
    if (page.next_id) {
        answer["next_id"] = *page.next_id;
    }
    return ApiResponse::Json(answer);
}

// Catalog #102 POST /{version}/user/nodes/cmd and #104 POST /{version}/admin/nodes/cmd: 200
// when every node took the request, 207 with the nodes grouped by outcome when some did not.
ApiResponse PostRequest(const ApiRequest& r, CommandService& commands, bool admin) {
    const auto body = r.JsonObject();
    domain::commands::Submission s;
    s.node_ids = OptionalStrings(body, "node_ids").value_or(std::vector<std::string>{});
    s.cmd = OptionalMember(body, "cmd");
    s.data = OptionalMember(body, "data");
    s.is_base64 = OptionalBool(body, "is_base64").value_or(false);
    s.timeout = OptionalMember(body, "timeout");
    s.override_pending = OptionalBool(body, "override").value_or(false);
    const auto result = commands.Submit(r.Caller(), s, admin);
    if (result.refused.empty()) {
        return ApiResponse::Json(boost::json::object{
            {"request_id", result.request_id}, {"status", "success"}});
    }
    boost::json::array accepted;
    for (const auto& node : result.accepted) {
        accepted.emplace_back(node);
    }
    boost::json::array responses{boost::json::object{
        {"node_ids", std::move(accepted)},
        {"response", boost::json::object{{"status", "success"}}}}};
    // Refused nodes grouped by error code and description, in the order they first came.
    for (std::size_t i = 0; i < result.refused.size(); ++i) {
        const auto& error = result.refused[i].second;
        bool seen = false;
        for (std::size_t j = 0; j < i && !seen; ++j) {
            const auto& earlier = result.refused[j].second;
            seen = earlier.code() == error.code() && earlier.description() == error.description();
        }
        if (seen) {
            continue;
        }
        boost::json::array nodes;
        for (const auto& [node, other] : result.refused) {
            if (other.code() == error.code() && other.description() == error.description()) {
                nodes.emplace_back(node);
            }
        }
        responses.push_back(boost::json::object{
            {"node_ids", std::move(nodes)},
            {"response",
             boost::json::object{
                 {"status", "failure"},
                 {"error_code", error.wire_code()},
                 {"description", error.description()}}}});
    }
    return ApiResponse::Json(
        boost::json::object{{"request_id", result.request_id}, {"responses", std::move(responses)}},
        207
    );
}

}  // namespace

void AddCommandRoutes(Router& router, CommandService& commands) {
    auto& c = commands;
    router.Add("GET", "/v1/user/nodes/cmd", Access::kUser, [&c](const ApiRequest& r) {
        return GetRequests(r, c, false);
    });
    router.Add("POST", "/v1/user/nodes/cmd", Access::kUser, [&c](const ApiRequest& r) {
        return PostRequest(r, c, false);
    });
    router.Add("GET", "/v1/admin/nodes/cmd", Access::kAdmin, [&c](const ApiRequest& r) {
        return GetRequests(r, c, true);
    });
    router.Add("POST", "/v1/admin/nodes/cmd", Access::kAdmin, [&c](const ApiRequest& r) {
        return PostRequest(r, c, true);
    });
}

}  // namespace rainmaker::http::api
