// Compact JWS tokens signed with a key of someone else's service (push senders: an FCM service
// account's RSA key, an APNs ES256 key): RS256 for RSA keys, ES256 for P-256 keys. The server's
// own tokens are jwt.hpp's.
#pragma once

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

}  // namespace rainmaker::crypto
