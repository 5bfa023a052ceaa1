// Compact JWS tokens signed with a key of someone else's service (push senders: an FCM service
// account's RSA key, an APNs ES256 key): RS256 for RSA keys, ES256 for P-256 keys. The server's
// own tokens are jwt.hpp's. Also the reading of a compact JWS that the verifiers share (jwt.cpp
// for the server's tokens, jwks.cpp for providers' id_tokens).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace rainmaker::crypto {

// `header.claims.signature` with `alg` set in `header` from the key: "RS256" (RSA, PKCS#1 v1.5
// with SHA-256) or "ES256" (P-256, the raw r‖s of RFC 7515). Throws std::invalid_argument when
// `private_key_pem` holds no unencrypted RSA or P-256 key, std::runtime_error when OpenSSL fails.
std::string SignJws(
    std::string_view private_key_pem, boost::json::object header, const boost::json::object& claims
);

// An untrusted compact JWS `header.payload.signature`, read but not verified.
struct JwsParts {
    boost::json::object header;
    std::string_view signing_input;  // `header.payload`, views into the token
    std::string_view payload;        // the payload segment, still base64url
    std::string signature;           // decoded
};

// The parts of `token`; nullopt unless it has at most `max_bytes`, exactly three segments, no
// '=' (not part of JWS: it would give one token several spellings), a header that is a JSON
// object without "crit", and a base64url signature.
std::optional<JwsParts> ReadJws(std::string_view token, std::size_t max_bytes);

// The JSON object a base64url segment holds (depth-limited), or nullopt.
std::optional<boost::json::object> DecodeJwsObject(std::string_view segment);

}  // namespace rainmaker::crypto
