// Parsing JSON that comes from outside (request bodies, node messages) into values the server
// can store and write back as JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace rainmaker::core {

// The deepest nesting the server accepts in request bodies, and so the deepest it may have
// stored and must read back (domain/stored_json.hpp).
inline constexpr std::size_t kMaxJsonDepth = 64;

// `text` as JSON; nullopt when it is not JSON, nests deeper than `max_depth`, or holds a number
// beyond the double range. Boost.JSON 1.81 reads such a number (1e400) as infinity and writes
// it back as `Infinity`, which no JSON parser (its own included) reads: stored, it would turn
// the whole document unreadable.
std::optional<boost::json::value> ParseUntrustedJson(std::string_view text, std::size_t max_depth);

// An integral JSON number that fits an int64, else nullopt (doubles, strings, larger numbers).
std::optional<std::int64_t> IntegerOf(const boost::json::value& value);

// `value` as compact JSON, the way the server writes every document: like
// boost::json::serialize, but doubles as the shortest decimal that reads back exactly, plain
// ("21.5", "7.0", "0.0001") from 1e-6 to 1e21 as JavaScript writes them, not "2.15E1" (the
// CLI prints what it gets); beyond that range with an exponent ("1e-300"). A non-finite double
// is written as null; bytes of strings that are not UTF-8 as U+FFFD.
std::string Serialize(const boost::json::value& value);
std::string Serialize(const boost::json::object& object);  // without copying it into a value
std::string Serialize(const boost::json::array& array);
std::string Serialize(boost::json::string_view text);  // a JSON string literal

}  // namespace rainmaker::core
