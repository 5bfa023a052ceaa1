// Thin handlers over the file service.
#include "http/api/file_routes.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "domain/stored_json.hpp"
#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using domain::files::FileService;
using domain::files::Scope;

namespace {

boost::json::object Describe(const domain::files::File& file) {
    const auto& row = file.row;
    return boost::json::object{
        {"file_id", row.file_id},
        {"user_id", row.owner},
        {"file_name", row.file_name},
        {"description", row.description},
        {"metadata", domain::ParseOr(row.metadata, nullptr)},  // null when none
        {"entity_type", row.entity_type},
        {"entity_id", row.entity_id},
        {"file_type", row.file_type},
        {"public", row.is_public},
        {"timestamp", row.created_at},
        {"file_size", row.file_size},
        {"file_md5", row.file_md5},
        {"file_url", file.file_url}};
}

// Catalog #46 GET /{version}/admin/file/upload_request ?file_name &entity_id &entity_type
// &md5_checksum, #48 GET /{version}/user/file/upload_request ?file_name &entity_type
// &entity_id → {file_id, file_url, status}.
ApiResponse RequestUpload(const ApiRequest& r, FileService& files, Scope scope) {
    domain::files::UploadRequest in;
    in.file_name = Given(r, "file_name");
    in.entity_type = Given(r, "entity_type");
    in.entity_id = Given(r, "entity_id");
    in.md5_checksum = Given(r, "md5_checksum");
    const auto ticket = files.RequestUpload(r.Caller(), scope, in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"}, {"file_id", ticket.file_id}, {"file_url", ticket.file_url}});
}

// Catalog #47 POST /{version}/admin/file/upload_confirm, #49 POST
// /{version}/user/file/upload_confirm {file_id, description?, metadata?, file_type?, public?} →
// {file_url, file_id, status}. The reference's sample spells metadata "metatdata": both are
// read.
ApiResponse Confirm(const ApiRequest& r, FileService& files, Scope scope) {
    const auto body = r.JsonObject();
    domain::files::ConfirmInput in;
    in.file_id = OptionalString(body, "file_id");
    in.description = OptionalString(body, "description");
    in.file_type = OptionalString(body, "file_type");
    auto metadata = OptionalMember(body, "metadata");
    if (!metadata || metadata->is_null()) {
        metadata = OptionalMember(body, "metatdata");
    }
    if (metadata && !metadata->is_null()) {
        if (!metadata->is_object()) {
            throw core::ApiError(core::ErrorCode::kInvalidBody, "metadata must be an object");
        }
        in.metadata = core::Serialize(*metadata);
    }
    in.is_public = OptionalBool(body, "public").value_or(false);
    const auto file = files.Confirm(r.Caller(), scope, in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"}, {"file_id", file.row.file_id}, {"file_url", file.file_url}});
}

// Catalog #50 GET /{version}/admin/file, #51 GET /{version}/user/file ?file_id &file_name
// &entity_id &entity_type &file_type &num_records &start_id → {file_details, total, next_id}.
ApiResponse List(const ApiRequest& r, FileService& files, Scope scope) {
    domain::files::FileQuery q;
    q.file_id = Given(r, "file_id");
    q.file_name = Given(r, "file_name");
    q.entity_id = Given(r, "entity_id");
    q.entity_type = Given(r, "entity_type");
    q.file_type = Given(r, "file_type");
    q.start_id = Given(r, "start_id").value_or("");
    q.num_records = r.query.Int("num_records", q.num_records);
    const auto page = files.List(r.Caller(), scope, q);
    boost::json::array list;
    for (const auto& file : page.files) {
        list.push_back(Describe(file));
    }
    boost::json::object out{{"file_details", std::move(list)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(std::move(out));
}

}  // namespace

void AddFileRoutes(Router& router, FileService& files) {
    auto& f = files;
    const auto admin = Access::kAdmin;
    const auto user = Access::kUser;
    router.Add("GET", "/v1/admin/file/upload_request", admin, [&f](const ApiRequest& r) {
        return RequestUpload(r, f, Scope::kAdmin);
    });
    router.Add("POST", "/v1/admin/file/upload_confirm", admin, [&f](const ApiRequest& r) {
        return Confirm(r, f, Scope::kAdmin);
    });
    router.Add("GET", "/v1/admin/file", admin, [&f](const ApiRequest& r) {
        return List(r, f, Scope::kAdmin);
    });
    router.Add("GET", "/v1/user/file/upload_request", user, [&f](const ApiRequest& r) {
        return RequestUpload(r, f, Scope::kUser);
    });
    router.Add("POST", "/v1/user/file/upload_confirm", user, [&f](const ApiRequest& r) {
        return Confirm(r, f, Scope::kUser);
    });
    router.Add("GET", "/v1/user/file", user, [&f](const ApiRequest& r) {
        return List(r, f, Scope::kUser);
    });
    // The SDK's DELETE /user/file?file_id (outside the reference text).
    router.Add("DELETE", "/v1/user/file", user, [&f](const ApiRequest& r) {
        f.DeleteUserFile(r.Caller(), Given(r, "file_id").value_or(""));
        return ApiResponse::Success("File deleted successfully");
    });
}

}  // namespace rainmaker::http::api
