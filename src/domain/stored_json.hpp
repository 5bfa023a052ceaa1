// Reading back JSON the server stored itself (configs, params, metadata, custom data, id
// lists): stored text that is empty, malformed or of another kind gives the fallback instead
// of an error, so one damaged row cannot fail a whole list.
#pragma once

#include <string>
#include <utility>

#include <boost/json.hpp>

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

}  // namespace rainmaker::domain
