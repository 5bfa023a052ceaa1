// Thin handlers over the signing service.
#include "http/api/signing_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using domain::signing::SigningService;

namespace {

constexpr int kDefaultPage = 25;

boost::json::array Keys(const std::vector<domain::signing::KeyRef>& keys) {
    boost::json::array out;
    for (const auto& key : keys) {
        out.push_back(boost::json::object{
            {"key_name", key.key_name}, {"public_key_digest", key.public_key_digest}});
    }
    return out;
}

// Catalog #114 POST /{version}/admin/key {key_name, key_spec, description?, tags?} →
// {status, description, digest, key_id}.
ApiResponse CreateKey(const ApiRequest& r, SigningService& signing) {
    const auto body = r.JsonObject();
    domain::signing::KeyInput in;
    in.key_name = OptionalString(body, "key_name");
    in.key_spec = OptionalString(body, "key_spec");
    in.description = OptionalString(body, "description");
    try {
        in.tags = OptionalStrings(body, "tags");
    } catch (const core::ApiError&) {
        throw core::ApiError(core::ErrorCode::kKeyTagsInvalid, "tags must be an array of strings");
    }
    const auto key = signing.CreateKey(r.Caller(), in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"description", "successfully created key"},
        {"digest", key.digest},
        {"key_id", key.key_id}});
}

// Catalog #115 GET /{version}/admin/key ?key_name → [{key_name, key_id, key_spec,
// description, tags, public_key, public_key_sha256_digest, creation_timestamp}] (never the
// private key the reference's sample shows).
ApiResponse GetKeys(const ApiRequest& r, SigningService& signing) {
    boost::json::array out;
    for (const auto& key : signing.Keys(Given(r, "key_name"))) {
        boost::json::array tags;
        for (const auto& tag : key.tags) {
            tags.emplace_back(tag);
        }
        out.push_back(boost::json::object{
            {"key_name", key.key_name},
            {"key_id", key.key_id},
            {"key_spec", key.key_spec},
            {"description", key.description},
            {"tags", std::move(tags)},
            {"public_key", key.public_key},
            {"public_key_sha256_digest", key.public_key_digest},
            {"creation_timestamp", key.creation_timestamp}});
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #110 POST /{version}/admin/secure_sign {ota_image_id (or image_id, as the
// reference's sample), key_names, sign_boot_loader?} → {status, description, request_id}.
ApiResponse RequestSigning(const ApiRequest& r, SigningService& signing) {
    const auto body = r.JsonObject();
    domain::signing::SignInput in;
    in.ota_image_id = OptionalString(body, "ota_image_id");
    if (!in.ota_image_id) {
        in.ota_image_id = OptionalString(body, "image_id");
    }
    in.key_names = OptionalStrings(body, "key_names");
    in.sign_bootloader = OptionalBool(body, "sign_boot_loader").value_or(false);
    const auto request_id = signing.RequestSigning(r.Caller(), in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"description", "Secure Signing is in progress"},
        {"request_id", request_id}});
}

// Catalog #111 GET /{version}/admin/secure_sign ?request_id → {request_id, status,
// signing_status (in_progress, success, failed), description, signed_firmware_url?,
// signed_bootloader_url?}.
ApiResponse Status(const ApiRequest& r, SigningService& signing) {
    const auto state = signing.Status(Given(r, "request_id").value_or(""));
    const auto& row = state.row;
    // Waiting, or being signed (claimed by the secure-sign job): in progress either way.
    const bool running = row.status == "in_progress" || row.status == "signing";
    boost::json::object out{
        {"status", "success"},
        {"request_id", row.request_id},
        {"ota_image_id", row.ota_image_id},
        {"signing_status", running ? std::string("in_progress") : row.status},
        {"description", running ? std::string("Secure Signing is in progress") : row.description}};
    if (!state.signed_firmware_url.empty()) {
        out["signed_firmware_url"] = state.signed_firmware_url;
    }
    if (!state.signed_bootloader_url.empty()) {
        out["signed_bootloader_url"] = state.signed_bootloader_url;
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #112 GET /{version}/admin/secure_sign/signed_images ?key_name &num_records
// &start_id → {keys, images: [{image_id, signed_image_url, signed_image_id, user_id,
// timestamp, file_type}], total, next_id?}.
ApiResponse SignedByKey(const ApiRequest& r, SigningService& signing) {
    const auto page = signing.SignedByKey(
        Given(r, "key_name"),
        Given(r, "start_id").value_or(""),
        r.query.Int("num_records", kDefaultPage)
    );
    boost::json::array images;
    for (const auto& image : page.images) {
        images.push_back(boost::json::object{
            {"image_id", image.row.ota_image_id},
            {"signed_image_url", image.signed_image_url},
            {"signed_image_id", image.row.signed_image_id},
            {"user_id", image.row.signed_by},
            {"timestamp", image.row.created_at},
            {"file_type", image.row.file_type}});
    }
    boost::json::object out{
        {"keys", Keys(page.keys)}, {"images", std::move(images)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #113 GET /{version}/admin/secure_sign/signing_keys ?image_id &num_records &start_id
// → {ota_image_id, signing_details: [{keys, signed_image_url, signed_image_file_id,
// timestamp, user_id, file_type}], total, next_id?}.
ApiResponse SigningsOf(const ApiRequest& r, SigningService& signing) {
    const auto image_id = Given(r, "image_id");
    const auto page = signing.SigningsOf(
        image_id, Given(r, "start_id").value_or(""), r.query.Int("num_records", kDefaultPage)
    );
    boost::json::array details;
    for (const auto& image : page.images) {
        details.push_back(boost::json::object{
            {"keys", Keys(image.keys)},
            {"signed_image_url", image.signed_image_url},
            {"signed_image_file_id", image.row.signed_image_id},
            {"timestamp", image.row.created_at},
            {"user_id", image.row.signed_by},
            {"file_type", image.row.file_type}});
    }
    boost::json::object out{
        {"ota_image_id", *image_id},
        {"signing_details", std::move(details)},
        {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(std::move(out));
}

}  // namespace

void AddSigningRoutes(Router& router, SigningService& signing) {
    auto& s = signing;
    const auto superadmin = Access::kSuperAdmin;
    // Generating an RSA-3072 key takes a fraction of a second: on the heavy pool.
    router.Add(
        "POST",
        "/v1/admin/key",
        superadmin,
        [&s](const ApiRequest& r) { return CreateKey(r, s); },
        Execution::kHeavy
    );
    router.Add("GET", "/v1/admin/key", superadmin, [&s](const ApiRequest& r) {
        return GetKeys(r, s);
    });
    router.Add("POST", "/v1/admin/secure_sign", superadmin, [&s](const ApiRequest& r) {
        return RequestSigning(r, s);
    });
    router.Add("GET", "/v1/admin/secure_sign", superadmin, [&s](const ApiRequest& r) {
        return Status(r, s);
    });
    router.Add("GET", "/v1/admin/secure_sign/signed_images", superadmin, [&s](const ApiRequest& r) {
        return SignedByKey(r, s);
    });
    router.Add("GET", "/v1/admin/secure_sign/signing_keys", superadmin, [&s](const ApiRequest& r) {
        return SigningsOf(r, s);
    });
}

}  // namespace rainmaker::http::api
