// URL layout and checks of the presigned downloads and uploads.
#include "domain/ota/presigned_urls.hpp"

#include "core/error.hpp"

namespace rainmaker::domain::ota {

using core::ApiError;
using core::ErrorCode;

PresignedUrls::PresignedUrls(
    const crypto::UrlSigner& signer, const core::Clock& clock, std::string base
)
    : signer_(signer), clock_(clock), base_(std::move(base)) {}

void PresignedUrls::SetBase(std::string base) {
    const std::lock_guard lock(mutex_);
    base_ = std::move(base);
}

std::string PresignedUrls::Base() const {
    const std::lock_guard lock(mutex_);
    return base_;
}

std::string PresignedUrls::SafeFileName(std::string_view name) {
    std::string out;
    for (const char c : name.substr(0, 100)) {
        const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        out.push_back(safe ? c : '_');
    }
    // "." and ".." would be path steps.
    if (out.empty() || out.find_first_not_of('.') == std::string::npos) {
        return "image.bin";
    }
    return out;
}

std::string PresignedUrls::Signed(
    std::string_view method,
    const std::string& path,
    std::string_view content_md5,
    std::chrono::seconds valid_for
) const {
    const std::int64_t expires = clock_.NowSeconds() + valid_for.count();
    return Base() + path + "?expires=" + std::to_string(expires) +
           "&signature=" + signer_.Sign(method, path, expires, content_md5);
}

std::string PresignedUrls::DownloadUrl(
    const std::string& blob_key, const std::string& file_name, std::chrono::seconds valid_for
) const {
    if (direct_ != nullptr) {
        if (auto url = direct_->DirectDownloadUrl(blob_key, SafeFileName(file_name), valid_for);
            !url.empty()) {
            return url;
        }
    }
    const std::string path =
        std::string(kDownloadPrefix) + blob_key + "/" + SafeFileName(file_name);
    return Signed("GET", path, "", valid_for);
}

std::string PresignedUrls::UploadUrl(
    std::string_view upload_id, std::string_view content_md5, std::chrono::seconds valid_for
) const {
    if (direct_ != nullptr) {
        if (auto url = direct_->DirectUploadUrl(upload_id, content_md5, valid_for); !url.empty()) {
            return url;
        }
    }
    const std::string path = std::string(kUploadPrefix) + std::string(upload_id);
    return Signed("PUT", path, content_md5, valid_for);
}

void PresignedUrls::Check(
    std::string_view method,
    std::string_view path,
    const std::string* expires,
    const std::string* signature,
    std::string_view content_md5
) const {
    if (expires == nullptr || signature == nullptr) {
        throw ApiError(
            ErrorCode::kPresignedUrlInvalid,
            "Access denied: this URL must carry the expires and signature the server gave it"
        );
    }
    switch (signer_.Check(method, path, *expires, *signature, content_md5, clock_.NowSeconds())) {
        case crypto::UrlCheck::kValid:
            return;
        case crypto::UrlCheck::kExpired:
            throw ApiError(ErrorCode::kPresignedUrlExpired);
        case crypto::UrlCheck::kInvalid:
            break;
    }
    throw ApiError(ErrorCode::kPresignedUrlInvalid);
}

}  // namespace rainmaker::domain::ota
