// Base64 in both alphabets: base64url for JWT segments, standard base64 for clients and files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rainmaker::crypto {

// `bytes` in the URL-safe alphabet (RFC 4648 §5), without '=' padding (as JWS wants).
std::string Base64UrlEncode(std::string_view bytes);

// Decodes base64url with or without '=' padding; nullopt on any character outside the alphabet,
// an impossible length, misplaced padding or non-zero unused bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// `bytes` in the standard alphabet (RFC 4648 §4), padded with '='.
std::string Base64Encode(std::string_view bytes);

// Decodes padded standard base64; nullopt on anything else (missing padding, '-' or '_',
// whitespace, non-zero unused bits).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace rainmaker::crypto
