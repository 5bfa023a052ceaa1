// Reading back JSON the server stored itself (configs, params, metadata, custom data, id
// lists): stored text that is empty, malformed or of another kind gives the fallback instead
// of an error, so one damaged row cannot fail a whole list.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "core/error.hpp"
#include "core/json.hpp"

namespace rainmaker::domain {

// The stored value, or `fallback` when `text` is empty or not JSON. Reads as deep as request
// bodies may nest (Boost's default of 32 would lose what a deeper body stored).
inline boost::json::value ParseOr(const std::string& text, boost::json::value fallback) {
    if (text.empty()) {
        return fallback;
    }
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = core::kMaxJsonDepth;
    auto value = boost::json::parse(text, ec, {}, options);
    return ec ? fallback : value;
}

// The stored object, or an empty one.
inline boost::json::object ParseObject(const std::string& text) {
    auto value = ParseOr(text, boost::json::object{});
    return value.is_object() ? std::move(value.as_object()) : boost::json::object{};
}

// The stored array, or an empty one.
inline boost::json::array ParseArray(const std::string& text) {
    auto value = ParseOr(text, boost::json::array{});
    return value.is_array() ? std::move(value.as_array()) : boost::json::array{};
}

// Upper bound on one JSON document a client makes the server store and merge into (node and
// group metadata, group custom data, the public profile, tag lists, sharing metadata): without
// one, repeated merges grow a row without end. User custom data has its own, larger bound.
inline constexpr std::size_t kMaxStoredDocumentBytes = 64 * 1024;

// `value` serialized for the store; throws kInputTooLarge (naming `what`) when it is larger
// than kMaxStoredDocumentBytes, so the request changes nothing.
inline std::string SerializeBounded(const boost::json::value& value, std::string_view what) {
    std::string text = core::Serialize(value);
    if (text.size() > kMaxStoredDocumentBytes) {
        throw core::ApiError(
            core::ErrorCode::kInputTooLarge,
            "Error, input size is too large: " + std::string(what) + " would be " +
                std::to_string(text.size()) + " bytes, the limit is " +
                std::to_string(kMaxStoredDocumentBytes)
        );
    }
    return text;
}

}  // namespace rainmaker::domain
