// Cryptographically secure randomness for ids, codes and secrets (libsodium underneath).
#pragma once

#include <cstdint>
#include <string>

namespace rainmaker::core {

// Initialises libsodium once (safe from concurrent first calls); throws when it cannot.
void EnsureSodium();

// `bytes` random bytes as lower-case hex (2 * bytes characters).
std::string RandomHex(std::size_t bytes);

// A uniformly random integer in [0, upper).
std::uint32_t RandomBelow(std::uint32_t upper);

// A string of `length` characters from [A-Za-z0-9].
std::string RandomAlnum(std::size_t length);

// A random decimal code of `digits` digits (leading zeros kept).
std::string RandomDigits(std::size_t digits);

}  // namespace rainmaker::core
