// The stand-in download URLs of OTA images (replaced by the HTTPS slice).
#include "app/placeholder_image_urls.hpp"

namespace rainmaker::app {

std::string PlaceholderImageUrls::DownloadUrl(
    const std::string& blob_key,
    const std::string& /*file_name*/,
    std::chrono::seconds /*valid_for*/
) const {
    return "https://" + host_ + "/unserved/" + blob_key;
}

}  // namespace rainmaker::app
