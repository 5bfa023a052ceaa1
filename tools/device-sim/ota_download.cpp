#include "ota_download.hpp"

#include <array>
#include <memory>
#include <openssl/evp.h>

#include <curl/curl.h>

namespace rainmaker::sim {

namespace {

constexpr std::size_t kDescAt = 24 + 8;  // image header, first segment header
constexpr std::size_t kHeadBytes = kDescAt + 48 + 32;
constexpr std::uint32_t kAppDescMagic = 0xABCD5432;
constexpr long kTimeoutSeconds = 120;

struct Receiver {
    EVP_MD_CTX* md5 = nullptr;
    std::uint64_t size = 0;
    std::uint64_t max_bytes = 0;
    std::string head;
    bool too_large = false;
};

struct Watch {
    const std::atomic<bool>* cancel = nullptr;
    const std::function<void(int)>* progress = nullptr;
    int reported = 0;  // the last multiple of 25 reported
};

int Progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* watch = static_cast<Watch*>(user);
    if (watch->cancel->load()) {
        return 1;  // aborts the transfer
    }
    if (total > 0 && *watch->progress) {
        const int percent = static_cast<int>(now * 100 / total);
        while (watch->reported + 25 <= percent && watch->reported + 25 < 100) {
            watch->reported += 25;
            (*watch->progress)(watch->reported);
        }
    }
    return 0;
}

std::size_t Receive(char* data, std::size_t size, std::size_t count, void* user) {
    auto* r = static_cast<Receiver*>(user);
    const std::size_t n = size * count;
    if (r->size + n > r->max_bytes) {
        r->too_large = true;
        return 0;  // stops the transfer
    }
    r->size += n;
    if (r->head.size() < kHeadBytes) {
        r->head.append(data, std::min(n, kHeadBytes - r->head.size()));
    }
    EVP_DigestUpdate(r->md5, data, n);
    return n;
}

}  // namespace

std::string AppProjectName(const std::string& head) {
    if (head.size() < kHeadBytes) {
        return "";
    }
    std::uint32_t magic = 0;
    for (int i = 3; i >= 0; --i) {
        magic =
            (magic << 8U) | static_cast<unsigned char>(head[kDescAt + static_cast<std::size_t>(i)]);
    }
    if (magic != kAppDescMagic) {
        return "";
    }
    const std::string field = head.substr(kDescAt + 48, 32);
    return field.substr(0, field.find('\0'));
}

DownloadResult DownloadFirmware(
    const std::string& url,
    const std::string& ca_file,
    bool insecure,
    std::uint64_t max_bytes,
    const std::atomic<bool>& cancel,
    const std::function<void(int percent)>& progress
) {
    static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
    DownloadResult result;
    if (init != CURLE_OK) {
        result.error = "curl_global_init failed";
        return result;
    }
    const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(
        curl_easy_init(), &curl_easy_cleanup
    );
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md5(
        EVP_MD_CTX_new(), &EVP_MD_CTX_free
    );
    if (!curl || !md5 || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) {
        result.error = "cannot start the download";
        return result;
    }
    Receiver receiver;
    receiver.md5 = md5.get();
    receiver.max_bytes = max_bytes;
    std::array<char, CURL_ERROR_SIZE> error{};
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, kTimeoutSeconds);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");  // esp_https_ota refuses plain http
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Receive);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &receiver);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Progress);
    Watch watch{&cancel, &progress, 0};
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &watch);
    const CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (receiver.too_large) {
        result.error = "Image larger than the OTA partition";
        return result;
    }
    if (rc != CURLE_OK) {
        result.error = std::string(curl_easy_strerror(rc)) +
                       (error[0] != '\0' ? std::string(": ") + error.data() : std::string());
        return result;
    }
    if (status != 200) {
        result.error = "HTTP status " + std::to_string(status);
        return result;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(md5.get(), digest.data(), &length);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < length; ++i) {
        result.md5.push_back(kHex[digest[i] >> 4U]);
        result.md5.push_back(kHex[digest[i] & 0x0FU]);
    }
    result.ok = true;
    result.size = receiver.size;
    result.project_name = AppProjectName(receiver.head);
    return result;
}

}  // namespace rainmaker::sim
