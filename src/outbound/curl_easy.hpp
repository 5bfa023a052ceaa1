// libcurl set-up and handle ownership in one place, so every sender gets the same safe defaults.
#pragma once

#include <memory>
#include <string>

#include <curl/curl.h>

namespace rainmaker::outbound {

// Calls curl_global_init exactly once per process; throws std::runtime_error if it fails.
void EnsureCurlGlobalInit();

struct CurlEasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// A fresh easy handle with signals off (we run on many threads); throws std::runtime_error.
CurlEasy MakeCurlEasy();

// Appends a copy of `item` to `list`; throws std::runtime_error when out of memory.
void AppendToSlist(CurlSlist& list, const std::string& item);

// Throws std::runtime_error("<what>: <curl's text>") unless `code` is CURLE_OK.
void ThrowIfCurlFailed(CURLcode code, const std::string& what);

// The most specific text curl has for `code`: its error buffer when filled, else the generic one.
std::string CurlErrorText(CURLcode code, const char* error_buffer);

}  // namespace rainmaker::outbound
