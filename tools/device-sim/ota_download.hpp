// The firmware download of an OTA, as esp_https_ota does it: an HTTPS GET of the otaurl's url,
// the server's certificate checked against the CA (and its host name, unless insecure), the
// bytes counted and hashed (MD5) as they arrive, and the project name read from the image's app
// description. Blocking: the fleet runs it on a thread of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace rainmaker::sim {

struct DownloadResult {
    bool ok = false;
    std::string error;         // why it failed (curl's words, or the HTTP status)
    std::uint64_t size = 0;    // bytes received
    std::string md5;           // 32 lower-case hex
    std::string project_name;  // from esp_app_desc_t, "" when the image has none
};

// Downloads `url` (at most `max_bytes`), checking the server against `ca_file`; gives up when
// `cancel` becomes true, or after 30 s without a byte. `progress` is called with 25, 50 and 75
// as the download passes those percentages of its announced length (not when none is
// announced), on the downloading thread.
DownloadResult DownloadFirmware(
    const std::string& url,
    const std::string& ca_file,
    bool insecure,
    std::uint64_t max_bytes,
    const std::atomic<bool>& cancel,
    const std::function<void(int percent)>& progress = {}
);

// The project name of an ESP app image's app description (esp_app_desc_t after the 24-byte
// image header and the first 8-byte segment header: magic 0xABCD5432, project_name at +48),
// from the image's first bytes; "" when they hold none.
std::string AppProjectName(const std::string& head);

}  // namespace rainmaker::sim
