// One POST per delivery on a kept-alive handle.
#include "outbound/webhook_poster.hpp"

#include <array>

namespace rainmaker::outbound {

namespace {

constexpr std::size_t kMaxAnswer = 1 << 20;  // a receiver's answer is read and dropped, to this

std::size_t Drop(char*, std::size_t size, std::size_t count, void* user) {
    auto* seen = static_cast<std::size_t*>(user);
    *seen += size * count;
    return *seen > kMaxAnswer ? 0 : size * count;  // one that never stops is cut
}

}  // namespace

CurlWebhookPoster::CurlWebhookPoster() : curl_(net::MakeCurlEasy()) {}

CurlWebhookPoster::Result CurlWebhookPoster::Post(
    const std::string& url,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body,
    std::chrono::seconds timeout,
    bool allow_private
) {
    CURL* h = curl_.get();
    curl_easy_reset(h);  // keeps the connection cache
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    std::size_t seen = 0;
    guard_ = AddressGuard{allow_private, false};
    net::CurlSlist list;
    for (const auto& [name, value] : headers) {
        net::AppendToSlist(list, name + ": " + value);
    }
    net::AppendToSlist(list, "Expect:");
    const auto set = [h](CURLoption option, auto value, const char* name) {
        net::ThrowIfCurlFailed(curl_easy_setopt(h, option, value), name);
    };
    const long seconds = static_cast<long>(timeout.count());
    set(CURLOPT_NOSIGNAL, 1L, "CURLOPT_NOSIGNAL");
    set(CURLOPT_ERRORBUFFER, error_buffer.data(), "CURLOPT_ERRORBUFFER");
    set(CURLOPT_URL, url.c_str(), "CURLOPT_URL");
    set(CURLOPT_PROTOCOLS_STR, "http,https", "CURLOPT_PROTOCOLS_STR");
    set(CURLOPT_FOLLOWLOCATION, 0L, "CURLOPT_FOLLOWLOCATION");
    InstallAddressGuard(h, guard_);
    set(CURLOPT_WRITEFUNCTION, &Drop, "CURLOPT_WRITEFUNCTION");
    set(CURLOPT_WRITEDATA, &seen, "CURLOPT_WRITEDATA");
    set(CURLOPT_TIMEOUT, seconds, "CURLOPT_TIMEOUT");
    set(CURLOPT_CONNECTTIMEOUT, seconds, "CURLOPT_CONNECTTIMEOUT");
    set(CURLOPT_HTTPHEADER, list.get(), "CURLOPT_HTTPHEADER");
    set(CURLOPT_POST, 1L, "CURLOPT_POST");
    set(CURLOPT_POSTFIELDS, body.c_str(), "CURLOPT_POSTFIELDS");
    set(CURLOPT_POSTFIELDSIZE_LARGE,
        static_cast<curl_off_t>(body.size()),
        "CURLOPT_POSTFIELDSIZE_LARGE");
    const CURLcode code = curl_easy_perform(h);
    Result result;
    if (code != CURLE_OK) {
        result.error = guard_.refused ? "the receiver's address is internal and not allowed"
                                      : net::CurlErrorText(code, error_buffer.data());
        return result;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    return result;
}

}  // namespace rainmaker::outbound
