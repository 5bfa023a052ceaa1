// libcurl easy handles, one per exchange; headers collected lower-cased.
#include "support/https_client.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <regex>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <curl/curl.h>

namespace rainmaker::testing {

namespace {

std::size_t AppendBody(char* data, std::size_t size, std::size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

std::size_t AppendHeader(char* data, std::size_t size, std::size_t count, void* out) {
    auto& headers = *static_cast<std::map<std::string, std::string>*>(out);
    std::string line(data, size * count);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        std::string value = line.substr(colon + 1);
        const auto first = value.find_first_not_of(" \t");
        const auto last = value.find_last_not_of(" \t\r\n");
        value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
        headers[name] = value;
    } else if (line.rfind("HTTP/", 0) == 0) {
        headers.clear();  // a new response (after 100 Continue)
    }
    return size * count;
}

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

std::string TlsExchange(
    std::uint16_t port, const std::string& ca_file, const std::string& bytes, int timeout_ms
) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return "socket failed";
    }
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return "connect failed";
    }
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
        SSL_CTX_new(TLS_client_method()), SSL_CTX_free
    );
    SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    SSL_set_fd(ssl.get(), fd);
    // SNI (SSL_set_tlsext_host_name is a macro with an old-style cast).
    char name[] = "localhost";
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name);
    SSL_set1_host(ssl.get(), "localhost");
    std::string out;
    if (SSL_connect(ssl.get()) != 1) {
        ERR_clear_error();
        ::close(fd);
        return "handshake failed";
    }
    SSL_write(ssl.get(), bytes.data(), static_cast<int>(bytes.size()));
    char chunk[4096];
    for (;;) {
        const int n = SSL_read(ssl.get(), chunk, sizeof chunk);
        if (n <= 0) {
            break;
        }
        out.append(chunk, static_cast<std::size_t>(n));
    }
    ERR_clear_error();
    ::close(fd);
    return out;
}

std::pair<std::string, std::uint16_t> HostAndPort(const std::string& url) {
    static const std::regex kUrl(R"(^https://([^/:]+):(\d+)/)");
    std::smatch match;
    if (!std::regex_search(url, match, kUrl)) {
        return {"", 0};
    }
    return {match[1].str(), static_cast<std::uint16_t>(std::stoi(match[2].str()))};
}

HttpsClient::HttpsClient(std::uint16_t port, HttpsOptions options)
    : port_(port), options_(std::move(options)) {}

HttpsOutcome HttpsClient::Request(
    const std::string& method,
    const std::string& target,
    const std::string& body,
    const std::map<std::string, std::string>& headers
) const {
    return Fetch(
        method, "https://" + options_.host + ":" + std::to_string(port_) + target, body, headers
    );
}

HttpsOutcome HttpsClient::Fetch(
    const std::string& method,
    const std::string& url,
    const std::string& body,
    const std::map<std::string, std::string>& headers
) const {
    HttpsOutcome out;
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    char error[CURL_ERROR_SIZE] = {};
    const auto [host, port] = HostAndPort(url);
    std::unique_ptr<curl_slist, SlistDeleter> resolve;
    if (!host.empty()) {
        resolve.reset(
            curl_slist_append(nullptr, (host + ":" + std::to_string(port) + ":127.0.0.1").c_str())
        );
    }
    std::unique_ptr<curl_slist, SlistDeleter> header_list;
    curl_slist* list = nullptr;
    // A body without Expect: 100-continue unless the test asks for it.
    list = curl_slist_append(
        list, options_.expect_continue_ms > 0 ? "Expect: 100-continue" : "Expect:"
    );
    for (const auto& [name, value] : headers) {
        list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    header_list.reset(list);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    if (options_.expect_continue_ms > 0) {
        curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, options_.expect_continue_ms);
    }
    if (options_.ssl_version != 0) {
        curl_easy_setopt(c, CURLOPT_SSLVERSION, options_.ssl_version);
    }
    if (!options_.ciphers.empty()) {
        curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, options_.ciphers.c_str());
    }
    if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.result.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, AppendHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.result.headers);
    const CURLcode code = curl_easy_perform(c);
    out.curl_code = static_cast<int>(code);
    if (code != CURLE_OK) {
        out.curl_error = error[0] != '\0' ? error : curl_easy_strerror(code);
        return out;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out.result.status = static_cast<int>(status);
    boost::system::error_code ec;
    out.result.json = boost::json::parse(out.result.body, ec);
    if (ec) {
        out.result.json = nullptr;
    }
    return out;
}

}  // namespace rainmaker::testing
