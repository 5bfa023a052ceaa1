// One POST per delivery on a kept-alive handle.
#include "outbound/http_poster.hpp"

#include <array>

namespace rainmaker::outbound {

namespace {

constexpr std::size_t kMaxAnswer = 1 << 20;  // read and dropped past its start; longer: cut
constexpr std::size_t kKeptAnswer = 4096;    // the start kept for the sender

struct Answer {
    std::size_t seen = 0;
    std::string start;
};

std::size_t Keep(char* data, std::size_t size, std::size_t count, void* user) {
    auto* answer = static_cast<Answer*>(user);
    const std::size_t n = size * count;
    answer->seen += n;
    if (answer->start.size() < kKeptAnswer) {
        answer->start.append(data, std::min(n, kKeptAnswer - answer->start.size()));
    }
    return answer->seen > kMaxAnswer ? 0 : n;
}

bool PriorKnowledgeReuseBroken() {
    static const bool broken = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
    return broken;
}

}  // namespace

CurlPoster::CurlPoster() : curl_(net::MakeCurlEasy()) {}

CurlPoster::Result CurlPoster::Post(const domain::events::PostRequest& request) {
    CURL* h = curl_.get();
    curl_easy_reset(h);  // keeps the connection cache
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    Answer answer;
    guard_ = AddressGuard{request.allow_private, false};
    net::CurlSlist list;
    for (const auto& [name, value] : request.headers) {
        net::AppendToSlist(list, name + ": " + value);
    }
    net::AppendToSlist(list, "Expect:");
    const auto set = [h](CURLoption option, auto value, const char* name) {
        net::ThrowIfCurlFailed(curl_easy_setopt(h, option, value), name);
    };
    const long seconds = static_cast<long>(request.timeout.count());
    set(CURLOPT_NOSIGNAL, 1L, "CURLOPT_NOSIGNAL");
    set(CURLOPT_ERRORBUFFER, error_buffer.data(), "CURLOPT_ERRORBUFFER");
    set(CURLOPT_URL, request.url.c_str(), "CURLOPT_URL");
    set(CURLOPT_PROTOCOLS_STR, "http,https", "CURLOPT_PROTOCOLS_STR");
    set(CURLOPT_FOLLOWLOCATION, 0L, "CURLOPT_FOLLOWLOCATION");
    InstallAddressGuard(h, guard_);
    if (request.http2) {
        const bool tls = request.url.rfind("https://", 0) == 0;
        set(CURLOPT_HTTP_VERSION,
            tls ? long{CURL_HTTP_VERSION_2TLS} : long{CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE},
            "CURLOPT_HTTP_VERSION");
        if (!tls && PriorKnowledgeReuseBroken()) {
            // libcurl before 8.0.0 fails every request after the first on a reused HTTP/2
            // prior-knowledge connection (curl#10634): one connection per post there (h2c is
            // only for local fakes; APNs itself is https).
            set(CURLOPT_FRESH_CONNECT, 1L, "CURLOPT_FRESH_CONNECT");
            set(CURLOPT_FORBID_REUSE, 1L, "CURLOPT_FORBID_REUSE");
        }
    }
    set(CURLOPT_WRITEFUNCTION, &Keep, "CURLOPT_WRITEFUNCTION");
    set(CURLOPT_WRITEDATA, &answer, "CURLOPT_WRITEDATA");
    set(CURLOPT_TIMEOUT, seconds, "CURLOPT_TIMEOUT");
    set(CURLOPT_CONNECTTIMEOUT, seconds, "CURLOPT_CONNECTTIMEOUT");
    set(CURLOPT_HTTPHEADER, list.get(), "CURLOPT_HTTPHEADER");
    set(CURLOPT_POST, 1L, "CURLOPT_POST");
    set(CURLOPT_POSTFIELDS, request.body.c_str(), "CURLOPT_POSTFIELDS");
    set(CURLOPT_POSTFIELDSIZE_LARGE,
        static_cast<curl_off_t>(request.body.size()),
        "CURLOPT_POSTFIELDSIZE_LARGE");
    const CURLcode code = curl_easy_perform(h);
    Result result;
    // An answer longer than we read was still an answer (its status counts).
    const bool cut = code == CURLE_WRITE_ERROR && answer.seen > kMaxAnswer;
    if (code != CURLE_OK && !cut) {
        result.error = guard_.refused ? "the receiver's address is internal and not allowed"
                                      : net::CurlErrorText(code, error_buffer.data());
        return result;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    result.body = std::move(answer.start);
    return result;
}

}  // namespace rainmaker::outbound
