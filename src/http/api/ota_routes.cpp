// Thin handlers over the OTA image service.
#include "http/api/ota_routes.hpp"

#include "core/error.hpp"
#include "http/api/body.hpp"
#include "http/api/query.hpp"

namespace rainmaker::http::api {

using domain::ota::OtaImageService;

namespace {

boost::json::object Describe(const domain::ota::OtaImage& image) {
    return boost::json::object{
        {"ota_image_id", image.ota_image_id},
        {"image_name", image.image_name},
        {"type", image.type},
        {"model", image.model},
        {"fw_version", image.fw_version},
        {"image_url", image.image_url},
        {"upload_timestamp", image.upload_timestamp},
        {"file_size", image.file_size},
        {"file_md5", image.file_md5},
        {"archived", image.archived},
        // Beyond the reference: what the image's app description says.
        {"project_name", image.project_name},
        {"idf_version", image.idf_version},
        {"secure_version", image.secure_version},
        {"file_sha256", image.file_sha256}};
}

// What #29, #34 and #45 answer for the image they made.
ApiResponse Uploaded(const domain::ota::OtaImage& image) {
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"ota_image_id", image.ota_image_id},
        {"image_url", image.image_url},
        {"fw_version", image.fw_version},
        {"model", image.model},
        {"type", image.type}});
}

// Catalog #29 POST /{version}/admin/otaimage: {image_name, base64_fwimage, fw_version?,
// model?, type?} → {ota_image_id, image_url, status}.
ApiResponse Upload(const ApiRequest& r, OtaImageService& images) {
    const auto body = r.JsonObject();
    domain::ota::UploadInput in;
    in.image_name = OptionalString(body, "image_name");
    in.base64_fwimage = OptionalString(body, "base64_fwimage");
    in.fw_version = OptionalString(body, "fw_version");
    in.model = OptionalString(body, "model");
    in.type = OptionalString(body, "type");
    return Uploaded(images.Upload(r.Caller(), in));
}

// Catalog #33 GET /{version}/admin/otaimage/upload_request ?image_name &image_type
// &md5_checksum → {ota_image_id, upload_url, status}.
ApiResponse RequestUpload(const ApiRequest& r, OtaImageService& images) {
    domain::ota::UploadRequestInput in;
    in.image_name = Given(r, "image_name");
    in.image_type = Given(r, "image_type");
    in.md5_checksum = Given(r, "md5_checksum");
    const auto ticket = images.RequestUpload(r.Caller(), in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"ota_image_id", ticket.ota_image_id},
        {"upload_url", ticket.upload_url}});
}

// Catalog #34 POST /{version}/admin/otaimage/upload_confirm {ota_image_id, fw_version?, model?,
// type?, image_type?} → {ota_image_id, image_url, status}.
ApiResponse ConfirmUpload(const ApiRequest& r, OtaImageService& images) {
    const auto body = r.JsonObject();
    domain::ota::ConfirmInput in;
    in.ota_image_id = OptionalString(body, "ota_image_id");
    in.fw_version = OptionalString(body, "fw_version");
    in.model = OptionalString(body, "model");
    in.type = OptionalString(body, "type");
    in.image_type = OptionalString(body, "image_type");
    return Uploaded(images.ConfirmUpload(r.Caller(), in));
}

// Catalog #40 POST /{version}/user/otaimage {image_name, base64_fwimage, type?} → {image_url,
// status}: the caller's own image, for their own nodes.
ApiResponse UploadUserImage(const ApiRequest& r, OtaImageService& images) {
    const auto body = r.JsonObject();
    domain::ota::UploadInput in;
    in.image_name = OptionalString(body, "image_name");
    in.base64_fwimage = OptionalString(body, "base64_fwimage");
    in.type = OptionalString(body, "type");
    const auto image = images.UploadUserImage(r.Caller(), in);
    return ApiResponse::Json(boost::json::object{
        {"status", "success"},
        {"image_url", image.image_url},
        {"fw_version", image.fw_version},
        {"model", image.model},
        {"type", image.type}});
}

// Catalog #44 GET /{version}/admin/otaimage/package/upload ?file_name → {url, status}.
ApiResponse RequestPackageUpload(const ApiRequest& r, OtaImageService& images) {
    const auto url = images.RequestPackageUpload(r.Caller(), Given(r, "file_name"));
    return ApiResponse::Json(boost::json::object{{"status", "success"}, {"url", url}});
}

// Catalog #45 POST /{version}/admin/otaimage/package {image_name, type?, file_path} →
// {ota_image_id, image_url, status}.
ApiResponse RegisterPackage(const ApiRequest& r, OtaImageService& images) {
    const auto body = r.JsonObject();
    domain::ota::PackageInput in;
    in.image_name = OptionalString(body, "image_name");
    in.type = OptionalString(body, "type");
    in.file_path = OptionalString(body, "file_path");
    return Uploaded(images.RegisterPackage(r.Caller(), in));
}

// Catalog #30 GET /{version}/admin/otaimage ?ota_image_id &image_name &type &model
// &num_records &start_id &contains &archived &all → {ota_images, total, next_id}.
ApiResponse List(const ApiRequest& r, OtaImageService& images) {
    domain::ota::ImageQuery q;
    q.ota_image_id = Given(r, "ota_image_id");
    q.image_name = Given(r, "image_name");
    q.type = Given(r, "type");
    q.model = Given(r, "model");
    q.contains = r.query.Bool("contains", false);
    q.archived = r.query.Bool("archived", false);
    q.all = r.query.Bool("all", false);
    q.start_id = Given(r, "start_id").value_or("");
    q.num_records = r.query.Int("num_records", q.num_records);
    const auto page = images.List(q);
    boost::json::array list;
    for (const auto& image : page.images) {
        list.push_back(Describe(image));
    }
    boost::json::object out{{"ota_images", std::move(list)}, {"total", page.total}};
    if (!page.next_id.empty()) {
        out["next_id"] = page.next_id;
    }
    return ApiResponse::Json(std::move(out));
}

// Catalog #31 DELETE /{version}/admin/otaimage ?ota_image_id &force_delete.
ApiResponse Delete(const ApiRequest& r, OtaImageService& images) {
    images.Delete(Given(r, "ota_image_id").value_or(""), r.query.Bool("force_delete", false));
    return ApiResponse::Success("OTA image deleted successfully");
}

// Catalog #32 PUT /{version}/admin/otaimage ?ota_image_id &archive.
ApiResponse Archive(const ApiRequest& r, OtaImageService& images) {
    const auto archive = r.query.Text("archive");
    images.SetArchived(Given(r, "ota_image_id").value_or(""), archive);
    return ApiResponse::Success(
        archive && (*archive == "true" || *archive == "True") ? "OTA image archived successfully"
                                                              : "OTA image unarchived successfully"
    );
}

}  // namespace

void AddOtaImageRoutes(Router& router, OtaImageService& images) {
    auto& i = images;
    const auto admin = Access::kAdmin;
    router.Add("POST", "/v1/admin/otaimage", admin, [&i](const ApiRequest& r) {
        return Upload(r, i);
    });
    // An inline image is larger than other bodies: this route reads up to its own limit.
    router.SetBodyLimit("POST", "/v1/admin/otaimage", images.MaxUploadBodyBytes());
    router.Add("GET", "/v1/admin/otaimage", admin, [&i](const ApiRequest& r) {
        return List(r, i);
    });
    router.Add("DELETE", "/v1/admin/otaimage", admin, [&i](const ApiRequest& r) {
        return Delete(r, i);
    });
    router.Add("PUT", "/v1/admin/otaimage", admin, [&i](const ApiRequest& r) {
        return Archive(r, i);
    });
    router.Add("GET", "/v1/admin/otaimage/upload_request", admin, [&i](const ApiRequest& r) {
        return RequestUpload(r, i);
    });
    // Parsing up to 200 MB, inflating a package: on the heavy pool, beside password hashing,
    // so that ordinary requests never queue behind it.
    router.Add(
        "POST",
        "/v1/admin/otaimage/upload_confirm",
        admin,
        [&i](const ApiRequest& r) { return ConfirmUpload(r, i); },
        Execution::kHeavy
    );
    router.Add("GET", "/v1/admin/otaimage/package/upload", admin, [&i](const ApiRequest& r) {
        return RequestPackageUpload(r, i);
    });
    router.Add(
        "POST",
        "/v1/admin/otaimage/package",
        admin,
        [&i](const ApiRequest& r) { return RegisterPackage(r, i); },
        Execution::kHeavy
    );
    router.Add("POST", "/v1/user/otaimage", Access::kUser, [&i](const ApiRequest& r) {
        return UploadUserImage(r, i);
    });
    router.SetBodyLimit("POST", "/v1/user/otaimage", images.MaxUploadBodyBytes());
}

}  // namespace rainmaker::http::api
