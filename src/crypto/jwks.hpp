// Verification of someone else's compact JWS tokens (an OpenID Connect provider's id_token)
// against the keys the provider publishes as a JSON Web Key Set (RFC 7517): RS256 and ES256.
// The server's own tokens are jwt.hpp's.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/json.hpp>

namespace rainmaker::crypto {

// Longer tokens and JWKS documents are refused before any parsing.
inline constexpr std::size_t kMaxJwksTokenBytes = std::size_t{16} * 1024;
inline constexpr std::size_t kMaxJwksBytes = std::size_t{256} * 1024;

// The claims of `token` (a compact JWS) when its header's alg is RS256 or ES256 (nothing else:
// not "none", not HS256, not RS384...), its kid names a key of `jwks` (a JWKS document's text:
// {"keys":[{"kty":"RSA","kid":..,"n":..,"e":..,"alg"?:..,"use"?:..} |
// {"kty":"EC","crv":"P-256","kid":..,"x":..,"y":..}]}) of the matching type (RSA with an odd
// modulus of 2048 to 8192 bits and an odd exponent of 3 up to 64 bits for RS256, EC P-256 with
// x and y of exactly 32 bytes for ES256; a key whose "use" is given and not "sig", or whose
// "alg" is given and differs, does not count), and the signature verifies (RS256: exactly as
// long as the modulus; ES256: the JWS raw r‖s form, 64 bytes). A token without kid is tried
// against every key of the matching type. nullopt otherwise, and for a header with "crit" (no
// extension is understood) or a kid that is not a string, '=' padding in the token, or claims
// that are not a JSON object. Does not look at exp, iss, aud or nonce (the caller owns those).
// Never throws; tokens over kMaxJwksTokenBytes and documents over kMaxJwksBytes are refused.
std::optional<boost::json::object> VerifyJwsWithJwks(std::string_view token, std::string_view jwks);

}  // namespace rainmaker::crypto
