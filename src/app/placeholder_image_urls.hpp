// A stand-in ImageUrlSource until the HTTPS slice serves firmware downloads: it names where the
// image will be (https://<mqtt public host>/unserved/<blob key>) but nothing answers there yet,
// so a stock node that gets it fails its download (and reports `failed`).
// Replaced by the HTTPS slice (presigned URLs on our own HTTPS listener).
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "domain/ota/image_url.hpp"

namespace rainmaker::app {

class PlaceholderImageUrls final : public domain::ota::ImageUrlSource {
public:
    explicit PlaceholderImageUrls(std::string host) : host_(std::move(host)) {}

    // domain::ota::ImageUrlSource
    std::string DownloadUrl(
        const std::string& blob_key,
        const std::string& /*file_name*/,
        std::chrono::seconds /*valid_for*/
    ) const override {
        return "https://" + host_ + "/unserved/" + blob_key;
    }

private:
    std::string host_;
};

}  // namespace rainmaker::app
