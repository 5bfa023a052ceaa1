// fork/exec of node with fake_s3.mjs, its "listening <port>" line, a libcurl exchange.
#include "s3/fake_s3.hpp"

#include <chrono>
#include <csignal>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <curl/curl.h>

namespace rainmaker::testing {

namespace fs = std::filesystem;

FakeS3::FakeS3(std::string bucket) : bucket_(std::move(bucket)) {
    fs::create_directories(dir_.path() / "s3");
    const std::string hint = " (run tests/sdk/install.sh for its npm packages)";
    try {
        node_ = std::make_unique<NodeFake>(
            "tests/s3/fake_s3.mjs",
            std::vector<std::string>{
                (dir_.path() / "s3").string(), bucket_, kAccessKeyId, kSecretAccessKey}
        );
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(e.what() + hint);
    }
    const auto& line = node_->first_line();
    if (line.rfind("listening ", 0) == 0) {
        port_ = static_cast<std::uint16_t>(std::stoi(line.substr(10)));
    }
    if (port_ == 0) {
        throw std::runtime_error("fake_s3.mjs did not start: " + line + hint);
    }
}

FakeS3::~FakeS3() = default;

storage::s3::S3Config FakeS3::Config() const {
    storage::s3::S3Config config;
    config.endpoint = endpoint();
    config.bucket = bucket_;
    config.access_key_id = kAccessKeyId;
    config.secret_access_key = kSecretAccessKey;
    config.timeout = std::chrono::seconds(30);
    return config;
}

fs::path FakeS3::FileOf(const std::string& object) const {
    return dir_.path() / "s3" / bucket_ / (object + "._S3rver_object");
}

std::size_t FakeS3::CountObjects(const std::string& prefix) const {
    const auto dir = dir_.path() / "s3" / bucket_ / prefix;
    std::size_t n = 0;
    if (fs::exists(dir)) {
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            const auto name = e.path().filename().string();
            n += name.size() > 15 && name.ends_with("._S3rver_object") ? 1 : 0;
        }
    }
    return n;
}

namespace {

std::size_t Keep(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

std::size_t KeepHeader(char* data, std::size_t size, std::size_t count, void* user) {
    std::string line(data, size * count);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        value.erase(value.find_last_not_of("\r\n ") + 1);
        (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
    }
    return size * count;
}

}  // namespace

HttpResult FetchUrl(
    const std::string& method,
    const std::string& url,
    const std::string& body,
    const std::map<std::string, std::string>& headers
) {
    HttpResult result;
    CURL* h = curl_easy_init();
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
        list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &KeepHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &result.headers);
    if (method == "PUT") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method != "GET") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (curl_easy_perform(h) == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        result.status = static_cast<int>(status);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return result;
}

}  // namespace rainmaker::testing
