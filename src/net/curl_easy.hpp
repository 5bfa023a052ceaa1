// libcurl set-up and handle ownership in one place, so every sender gets the same safe defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <curl/curl.h>

namespace rainmaker::net {

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

// One HTTP(S) exchange with the senders' defaults: http and https only, the timeout for
// connecting and for the whole exchange.
struct HttpRequest {
    std::string url;
    std::optional<std::string> post_body;  // POSTed when given; a GET otherwise
    std::vector<std::string> headers;
    std::chrono::seconds timeout{10};
    std::size_t max_answer_bytes = 64 * 1024;
    bool refuse_larger = false;  // past max_answer_bytes: fail (true), or keep only the prefix
};

struct HttpAnswer {
    long status = 0;
    std::string body;  // at most max_answer_bytes
};

// Performs `request`. Throws std::runtime_error("<what>: <reason>") when there is no answer
// (or, with refuse_larger, a larger one); any HTTP status is an answer.
HttpAnswer PerformHttp(const HttpRequest& request, const std::string& what);

}  // namespace rainmaker::net
