// HTTP account steps that throw on an unexpected answer, JWT payload decoding, TOML files.
#include "support/accounts.hpp"

#include <array>
#include <fstream>
#include <stdexcept>
#include <stdlib.h>

namespace rainmaker::testing {

namespace {

[[noreturn]] void Unexpected(const std::string& what, const HttpResult& r) {
    throw std::runtime_error(what + " answered " + std::to_string(r.status) + ": " + r.body);
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

void SignUp(HttpClient& client, const std::string& user_name, std::string_view password) {
    const auto r = client.Post(
        "/v1/user2", boost::json::object{{"user_name", user_name}, {"password", password}}
    );
    if (r.status != 201) {
        Unexpected("sign-up of " + user_name, r);
    }
}

void Confirm(HttpClient& client, const ServerProcess& server, const std::string& user_name) {
    const std::string code = server.LatestCode(user_name);
    if (code.empty()) {
        throw std::runtime_error("no verification code arrived for " + user_name);
    }
    const auto r = client.Post(
        "/v1/user2", boost::json::object{{"user_name", user_name}, {"verification_code", code}}
    );
    if (r.status != 201) {
        Unexpected("confirmation of " + user_name, r);
    }
}

HttpResult TryLogin(HttpClient& client, const std::string& user_name, std::string_view password) {
    return client.Post(
        "/v1/login2", boost::json::object{{"user_name", user_name}, {"password", password}}
    );
}

Tokens Login(HttpClient& client, const std::string& user_name, std::string_view password) {
    const auto r = TryLogin(client, user_name, password);
    Tokens tokens{r.Str("idtoken"), r.Str("accesstoken"), r.Str("refreshtoken")};
    if (r.status != 200 || tokens.idtoken.empty() || tokens.accesstoken.empty() ||
        tokens.refreshtoken.empty()) {
        Unexpected("login of " + user_name, r);
    }
    return tokens;
}

Tokens SignUpAndLogin(
    HttpClient& client,
    const ServerProcess& server,
    const std::string& user_name,
    std::string_view password
) {
    SignUp(client, user_name, password);
    Confirm(client, server, user_name);
    return Login(client, user_name, password);
}

Tokens CreateAdminAndLogin(
    HttpClient& client,
    const ServerProcess& server,
    const std::string& user_name,
    const std::string& role_flag
) {
    std::string output;
    const int status = server.RunCommand(
        {"admin",
         "create-user",
         "--user-name",
         user_name,
         "--password",
         std::string(kPassword),
         role_flag},
        &output
    );
    if (status != 0) {
        throw std::runtime_error("admin create-user " + user_name + " failed: " + output);
    }
    return Login(client, user_name);
}

boost::json::array JsonStrings(std::initializer_list<std::string> items) {
    boost::json::array a;
    for (const auto& item : items) {
        a.emplace_back(item);
    }
    return a;
}

std::string JwtPayloadSegment(const std::string& token) {
    const auto first = token.find('.');
    const auto second = first == std::string::npos ? first : token.find('.', first + 1);
    if (second == std::string::npos) {
        return {};
    }
    return token.substr(first + 1, second - first - 1);
}

bool DecodeStandardBase64(std::string_view text, std::string& out) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    out.clear();
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        const auto index = kBase64Alphabet.find(c);
        if (index == std::string_view::npos) {
            return false;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(index);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xFF));
        }
    }
    return text.size() % 4 != 1;
}

std::string EncodeBase64Url(std::string_view bytes) {
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : bytes) {
        bits = (bits << 8) | static_cast<unsigned char>(c);
        count += 8;
        while (count >= 6) {
            count -= 6;
            out.push_back(kBase64UrlAlphabet[(bits >> count) & 0x3F]);
        }
    }
    if (count > 0) {
        out.push_back(kBase64UrlAlphabet[(bits << (6 - count)) & 0x3F]);
    }
    return out;
}

boost::json::object DecodeJwtPayload(const std::string& token) {
    std::string json;
    if (!DecodeStandardBase64(JwtPayloadSegment(token), json)) {
        return {};
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) {
        return {};
    }
    return std::move(value.as_object());
}

::testing::AssertionResult IsFailure(const HttpResult& r, int status, std::int64_t error_code) {
    if (r.status == status && r.IsFailureEnvelope() && r.ErrorCode() == error_code) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected HTTP " << status << " with a failure envelope and error_code " << error_code
           << ", got HTTP " << r.status << ": " << r.body;
}

TomlConfig::TomlConfig(std::string_view toml) {
    std::string pattern = (std::filesystem::temp_directory_path() / "rm-e2e-conf-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    path_ = dir_ / "rainmaker.toml";
    std::ofstream out(path_);
    out << toml;
    if (!out.flush()) {
        throw std::runtime_error("cannot write " + path_.string());
    }
}

TomlConfig::~TomlConfig() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

ServerProcess::Options TomlConfig::Options() const {
    ServerProcess::Options options;
    options.args = {"--config", path_.string()};
    return options;
}

}  // namespace rainmaker::testing
