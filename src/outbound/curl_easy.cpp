// libcurl set-up and handle ownership in one place, so every sender gets the same safe defaults.
#include "outbound/curl_easy.hpp"

#include <mutex>
#include <stdexcept>

namespace rainmaker::outbound {

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

}  // namespace rainmaker::outbound
