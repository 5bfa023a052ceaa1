// The presigned URLs of the local blob store, which our HTTPS listener serves: downloads
// (GET <base>/blobs/<blob key>/<file name>) and uploads (PUT <base>/uploads/<upload id>), each
// with ?expires=<unix seconds>&signature=<HMAC> over its method, path, expiry and the
// Content-MD5 its body must carry (crypto::UrlSigner). Whoever holds a URL may do exactly that
// until it expires; nodes and upload tools need no other credential. When the blob store lets
// clients transfer bytes directly (S3), its own presigned URLs are handed out instead.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "crypto/url_signer.hpp"
#include "domain/ota/image_url.hpp"
#include "storage/blob_store.hpp"

namespace rainmaker::domain::ota {

class PresignedUrls final : public ImageUrlSource {
public:
    static constexpr std::string_view kDownloadPrefix = "/blobs/";
    static constexpr std::string_view kUploadPrefix = "/uploads/";

    // `base`: "https://<public host>:<port>", the start of every URL.
    PresignedUrls(const crypto::UrlSigner& signer, const core::Clock& clock, std::string base);

    // Hands out `blobs`' direct URLs (BlobStore::DirectDownloadUrl, DirectUploadUrl) where it
    // has them. Called before the URLs are used; `blobs` outlives this.
    void UseDirectUrlsOf(storage::BlobStore* blobs) { direct_ = blobs; }

    // Sets the base again (once a free HTTPS port was bound). Safe beside the other calls.
    void SetBase(std::string base);
    std::string Base() const;

    // ota::ImageUrlSource: a GET URL of the blob, naming SafeFileName(file_name).
    std::string DownloadUrl(
        const std::string& blob_key, const std::string& file_name, std::chrono::seconds valid_for
    ) const override;

    // A PUT URL of the upload `upload_id` (id characters only); `content_md5` (base64) is the
    // Content-MD5 header the PUT must carry ("" : none required).
    std::string UploadUrl(
        std::string_view upload_id, std::string_view content_md5, std::chrono::seconds valid_for
    ) const;

    // Lets a request on a presigned path go ahead, or throws kPresignedUrlInvalid (no, or a
    // wrong, signature for this method, path, expiry and Content-MD5) or kPresignedUrlExpired.
    // `expires` and `signature` are the query's values (nullptr when absent), `content_md5`
    // the request's header ("" when absent).
    void Check(
        std::string_view method,
        std::string_view path,
        const std::string* expires,
        const std::string* signature,
        std::string_view content_md5
    ) const;

    // A file name a URL path holds as it is: [A-Za-z0-9._-] kept, anything else '_', at most
    // 100 characters; "image.bin" for an empty one.
    static std::string SafeFileName(std::string_view name);

private:
    std::string Signed(
        std::string_view method,
        const std::string& path,
        std::string_view content_md5,
        std::chrono::seconds valid_for
    ) const;

    const crypto::UrlSigner& signer_;
    const core::Clock& clock_;
    storage::BlobStore* direct_ = nullptr;
    mutable std::mutex mutex_;
    std::string base_;
};

}  // namespace rainmaker::domain::ota
