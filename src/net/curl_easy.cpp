// libcurl set-up and handle ownership in one place, so every sender gets the same safe defaults.
#include "net/curl_easy.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>

namespace rainmaker::net {

void EnsureCurlGlobalInit() {
    // curl_global_init is not guaranteed thread-safe on every build, so it runs once, here.
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK) {
        throw std::runtime_error(
            std::string("curl_global_init failed: ") + curl_easy_strerror(result)
        );
    }
}

CurlEasy MakeCurlEasy() {
    EnsureCurlGlobalInit();
    CurlEasy handle(curl_easy_init());
    if (!handle) {
        throw std::runtime_error("curl_easy_init failed");
    }
    // Timeouts would otherwise use SIGALRM, which is unsafe in a multi-threaded server.
    ThrowIfCurlFailed(curl_easy_setopt(handle.get(), CURLOPT_NOSIGNAL, 1L), "CURLOPT_NOSIGNAL");
    return handle;
}

namespace {

struct AnswerSink {
    std::string* body;
    std::size_t max_bytes;
    bool refuse_larger;
    bool too_large = false;
};

std::size_t KeepAnswer(char* data, std::size_t size, std::size_t count, void* user_data) {
    auto* sink = static_cast<AnswerSink*>(user_data);
    const std::size_t n = size * count;
    const std::size_t room = sink->max_bytes - std::min(sink->body->size(), sink->max_bytes);
    if (n > room && sink->refuse_larger) {
        sink->too_large = true;
        return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    sink->body->append(data, std::min(n, room));
    return n;  // the rest is read and dropped, so curl does not report a write error
}

}  // namespace

HttpAnswer PerformHttp(const HttpRequest& request, const std::string& what) {
    CurlEasy curl = MakeCurlEasy();
    CURL* h = curl.get();
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    HttpAnswer answer;
    AnswerSink sink{&answer.body, request.max_answer_bytes, request.refuse_larger};
    CurlSlist headers;
    for (const auto& header : request.headers) {
        AppendToSlist(headers, header);
    }
    const long timeout_seconds = static_cast<long>(request.timeout.count());
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data()), "CURLOPT_ERRORBUFFER"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_URL, request.url.c_str()), "CURLOPT_URL");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR"
    );
    if (headers) {
        ThrowIfCurlFailed(
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()), "CURLOPT_HTTPHEADER"
        );
    }
    if (request.post_body) {
        ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_POST, 1L), "CURLOPT_POST");
        ThrowIfCurlFailed(
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.post_body->c_str()),
            "CURLOPT_POSTFIELDS"
        );
        ThrowIfCurlFailed(
            curl_easy_setopt(
                h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.post_body->size())
            ),
            "CURLOPT_POSTFIELDSIZE_LARGE"
        );
    }
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &KeepAnswer), "CURLOPT_WRITEFUNCTION"
    );
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink), "CURLOPT_WRITEDATA");
    ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_seconds), "CURLOPT_TIMEOUT");
    ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_seconds), "CURLOPT_CONNECTTIMEOUT"
    );
    const CURLcode result = curl_easy_perform(h);
    if (sink.too_large) {
        throw std::runtime_error(
            what + ": answer larger than " + std::to_string(request.max_answer_bytes) + " bytes"
        );
    }
    if (result != CURLE_OK) {
        throw std::runtime_error(what + ": " + CurlErrorText(result, error_buffer.data()));
    }
    ThrowIfCurlFailed(
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status), "CURLINFO_RESPONSE_CODE"
    );
    return answer;
}

void AppendToSlist(CurlSlist& list, const std::string& item) {
    curl_slist* appended = curl_slist_append(list.get(), item.c_str());
    if (appended == nullptr) {
        throw std::runtime_error("curl_slist_append failed");
    }
    // On success the returned pointer heads the (possibly new) list; ownership moves to it.
    static_cast<void>(list.release());
    list.reset(appended);
}

void ThrowIfCurlFailed(CURLcode code, const std::string& what) {
    if (code != CURLE_OK) {
        throw std::runtime_error(what + ": " + curl_easy_strerror(code));
    }
}

std::string CurlErrorText(CURLcode code, const char* error_buffer) {
    std::string text = curl_easy_strerror(code);
    if (error_buffer != nullptr && error_buffer[0] != '\0') {
        text += " (";
        text += error_buffer;
        text += ")";
    }
    return text;
}

}  // namespace rainmaker::net
