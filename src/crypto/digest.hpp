// SHA-256, MD5 (file checksums), HMAC-SHA-256 and a timing-safe comparison for tokens, codes and
// webhook signatures.
#pragma once

#include <string>
#include <string_view>

namespace rainmaker::crypto {

// The 32-byte SHA-256 digest of `data`, as raw bytes.
std::string Sha256(std::string_view data);

// The SHA-256 digest of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// The MD5 digest of `data` as 32 lower-case hex characters: only for the checksums clients and
// devices compare (firmware images); never for anything secret.
std::string Md5Hex(std::string_view data);

// HMAC-SHA-256 of `data` under `key`, as 64 lower-case hex characters.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// True when `a` and `b` are equal; the time taken depends only on the lengths, never on where
// they differ (use it for every secret comparison).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace rainmaker::crypto
