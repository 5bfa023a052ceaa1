// Parsing JSON that comes from outside (request bodies, node messages) into values the server
// can store and write back as JSON.
#pragma once

#include <cstddef>
#include <optional>
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

}  // namespace rainmaker::core
