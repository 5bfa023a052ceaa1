// Host ("CLI") claiming over HTTP (device-protocol §5.3) and the node directory it fills, so a
// simulated node gets its node id and certificate from the server the way a real one does.
#include "claim.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <openssl/evp.h>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <boost/json.hpp>
#include <curl/curl.h>

#include "cli_support.hpp"
#include "keys.hpp"
#include "simulated_node.hpp"

namespace rainmaker::sim {

using tools::ReadTrimmed;

namespace {

constexpr long kHttpTimeoutSeconds = 30;

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct HttpAnswer {
    long status = 0;
    std::string body;
};

std::size_t AppendBody(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

void Check(CURLcode code, const char* what) {
    if (code != CURLE_OK) {
        throw std::runtime_error(std::string(what) + ": " + curl_easy_strerror(code));
    }
}

HttpAnswer PostJson(const std::string& url, const std::string& token, const std::string& body) {
    static const CURLcode curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
    Check(curl_init_result, "curl_global_init");
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) {
        throw std::runtime_error("curl_easy_init failed");
    }
    curl_slist* raw = nullptr;
    for (const std::string& header :
         {std::string("Content-Type: application/json"), "Authorization: " + token}) {
        curl_slist* next = curl_slist_append(raw, header.c_str());
        if (next == nullptr) {
            curl_slist_free_all(raw);
            throw std::runtime_error("curl_slist_append failed");
        }
        raw = next;
    }
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw);
    HttpAnswer answer;
    std::array<char, CURL_ERROR_SIZE> error{};
    CURL* h = curl.get();
    Check(curl_easy_setopt(h, CURLOPT_URL, url.c_str()), "CURLOPT_URL");
    Check(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L), "CURLOPT_NOSIGNAL");
    Check(curl_easy_setopt(h, CURLOPT_TIMEOUT, kHttpTimeoutSeconds), "CURLOPT_TIMEOUT");
    Check(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()), "CURLOPT_HTTPHEADER");
    Check(curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str()), "CURLOPT_POSTFIELDS");
    Check(
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())),
        "CURLOPT_POSTFIELDSIZE_LARGE"
    );
    Check(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &AppendBody), "CURLOPT_WRITEFUNCTION");
    Check(curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body), "CURLOPT_WRITEDATA");
    Check(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data()), "CURLOPT_ERRORBUFFER");
    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        throw std::runtime_error(
            "POST " + url + ": " + curl_easy_strerror(rc) +
            (error[0] != '\0' ? std::string(" (") + error.data() + ")" : "")
        );
    }
    Check(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status), "CURLINFO_RESPONSE_CODE");
    if (answer.status < 200 || answer.status > 299) {
        throw ClaimHttpError(answer.status, std::move(answer.body));
    }
    return answer;
}

boost::json::object ParseObject(const std::string& body, const char* what) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        throw std::runtime_error(std::string(what) + ": answer is not a JSON object: " + body);
    }
    return std::move(v.get_object());
}

std::string RequiredString(const boost::json::object& o, const char* key, const char* what) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string() || v->get_string().empty()) {
        throw std::runtime_error(std::string(what) + ": answer has no \"" + key + "\"");
    }
    return std::string(v->get_string());
}

// The id becomes a file's content, an MQTT client id and a topic level: '/', '+', '#' or
// spaces would break all three.
void CheckNodeId(const std::string& id) {
    if (id.size() > 64) {
        throw std::runtime_error("claim/initiate: node_id longer than 64 chars");
    }
    for (const char c : id) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_') {
            throw std::runtime_error(
                "claim/initiate: node_id has a character other than [A-Za-z0-9_-]: " + id
            );
        }
    }
}

void WriteFile(const std::filesystem::path& path, const std::string& content, mode_t mode) {
    // open() with the mode, then fchmod(): the key is never readable by others, even briefly,
    // and an existing file with wider rights is tightened.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        throw std::runtime_error(
            "cannot write " + path.string() + ": " + std::generic_category().message(errno)
        );
    }
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t done = 0;
    while (ok && done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    const int saved = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        throw std::runtime_error(
            "cannot write " + path.string() + ": " + std::generic_category().message(saved)
        );
    }
}

std::string RandomMac() {
    std::random_device rd;
    std::string mac;
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    for (int i = 0; i < 6; ++i) {
        auto b = static_cast<unsigned>(rd() & 0xFFU);
        if (i == 0) {
            b = (b & 0xFCU) | 0x02U;  // locally administered, unicast
        }
        mac += kDigits[b >> 4];
        mac += kDigits[b & 0x0FU];
    }
    return mac;
}

std::string MacFromNodeId(const std::string& node_id) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(node_id.data(), node_id.size(), digest.data(), &size, EVP_sha256(), nullptr) !=
        1) {
        throw std::runtime_error("SHA-256 failed");
    }
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string mac;
    for (int i = 0; i < 6; ++i) {
        mac += kDigits[digest[i] >> 4];
        mac += kDigits[digest[i] & 0x0F];
    }
    return mac;
}

}  // namespace

std::string NormaliseMac(const std::string& mac) {
    std::string out;
    for (const char c : mac) {
        if (c == ':' || c == '-') {
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            throw std::invalid_argument("MAC must be 12 hex digits: " + mac);
        }
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (out.size() != 12) {
        throw std::invalid_argument("MAC must be 12 hex digits: " + mac);
    }
    return out;
}

bool IsNodeDir(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "node_id", ec) &&
           std::filesystem::is_regular_file(dir / "node.key", ec) &&
           std::filesystem::is_regular_file(dir / "node.crt", ec);
}

NodeFiles ReadNodeDir(const std::filesystem::path& dir) {
    if (!IsNodeDir(dir)) {
        throw std::runtime_error(dir.string() + " lacks node_id, node.key or node.crt");
    }
    NodeFiles files;
    files.node_id = ReadTrimmed(dir / "node_id");
    if (files.node_id.empty()) {
        throw std::runtime_error(dir.string() + "/node_id is empty");
    }
    std::error_code ec;
    files.mac = std::filesystem::is_regular_file(dir / "mac", ec)
                    ? NormaliseMac(ReadTrimmed(dir / "mac"))
                    : MacFromNodeId(files.node_id);
    files.key_file = dir / "node.key";
    files.cert_file = dir / "node.crt";
    return files;
}

std::string ClaimNode(const ClaimOptions& options) {
    std::string api = options.api;
    while (!api.empty() && api.back() == '/') {
        api.pop_back();
    }
    const std::string mac = options.mac.empty() ? RandomMac() : NormaliseMac(options.mac);

    boost::json::object initiate;
    initiate["mac_addr"] = mac;
    initiate["platform"] = options.platform;
    const HttpAnswer initiated =
        PostJson(api + "/claim/initiate", options.token, ToCompactJson(initiate));
    std::string node_id =
        RequiredString(ParseObject(initiated.body, "claim/initiate"), "node_id", "claim/initiate");
    CheckNodeId(node_id);

    EvpPkeyPtr key = GenerateP256Key();
    boost::json::object verify;
    verify["csr"] = MakeCsrPem(key.get(), node_id);
    const HttpAnswer verified =
        PostJson(api + "/claim/verify", options.token, ToCompactJson(verify));
    const boost::json::object answer = ParseObject(verified.body, "claim/verify");
    const std::string certificate = RequiredString(answer, "certificate", "claim/verify");

    std::filesystem::create_directories(options.out_dir);
    WriteFile(options.out_dir / "node.key", PrivateKeyToPem(key.get()), 0600);
    WriteFile(options.out_dir / "node.crt", certificate, 0644);
    WriteFile(options.out_dir / "mac", mac, 0644);
    if (const auto* host = answer.if_contains("mqtt_host"); host != nullptr && host->is_string()) {
        WriteFile(options.out_dir / "mqtt_host", std::string(host->get_string()), 0644);
    }
    // node_id last: IsNodeDir() only sees a complete directory.
    WriteFile(options.out_dir / "node_id", node_id, 0644);
    return node_id;
}

}  // namespace rainmaker::sim
