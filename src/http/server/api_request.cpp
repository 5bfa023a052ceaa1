// Query parsing with the client quirks, and JSON body parsing whatever the Content-Type.
#include "http/server/api_request.hpp"

#include <charconv>

#include "core/error.hpp"
#include "core/flag.hpp"
#include "core/json.hpp"

namespace rainmaker::http {

using core::ApiError;
using core::ErrorCode;

namespace {

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Percent-decoding; a malformed escape is kept as it is. '+' stays '+' (phone numbers).
std::string PercentDecode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size()) {
            const int hi = HexValue(in[i + 1]);
            const int lo = HexValue(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(in[i]);
    }
    return out;
}

}  // namespace

QueryParams::QueryParams(std::string_view raw) {
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        const std::string_view pair = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        std::string key = PercentDecode(pair.substr(0, eq));
        std::string value =
            eq == std::string_view::npos ? std::string{} : PercentDecode(pair.substr(eq + 1));
        if (key.empty() || value == "undefined") {
            continue;
        }
        values_.emplace(std::move(key), std::move(value));  // the first occurrence wins
    }
}

const std::string* QueryParams::Find(std::string_view key) const {
    const auto it = values_.find(key);
    return it == values_.end() ? nullptr : &it->second;
}

const std::string* QueryParams::FindAny(std::initializer_list<std::string_view> keys) const {
    for (const auto key : keys) {
        if (const auto* value = Find(key)) {
            return value;
        }
    }
    return nullptr;
}

bool QueryParams::Bool(std::string_view key, bool fallback) const {
    const auto* value = Find(key);
    if (value == nullptr) {
        return fallback;
    }
    if (const auto flag = core::ParseFlag(*value)) {
        return *flag;
    }
    throw ApiError(
        ErrorCode::kInvalidQuery,
        "Invalid query param: " + std::string(key) + " must be true or false"
    );
}

int QueryParams::Int(std::string_view key, int fallback) const {
    const auto* value = Find(key);
    if (value == nullptr) {
        return fallback;
    }
    int out = 0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), out);
    if (ec != std::errc{} || end != value->data() + value->size()) {
        throw ApiError(
            ErrorCode::kInvalidQuery,
            "Invalid query param: " + std::string(key) + " must be a number"
        );
    }
    return out;
}

boost::json::value ApiRequest::Json() const {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        return boost::json::object{};
    }
    auto value = core::ParseUntrustedJson(body, core::kMaxJsonDepth);
    if (!value) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: not valid JSON");
    }
    return std::move(*value);
}

boost::json::object ApiRequest::JsonObject() const {
    auto value = Json();
    if (!value.is_object()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: expected a JSON object");
    }
    return std::move(value.as_object());
}

}  // namespace rainmaker::http
