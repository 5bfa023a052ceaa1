// The server's own ES256 JWTs (access, id and refresh tokens), signed with one key kept on disk.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace rainmaker::crypto {

// Signs and verifies compact JWS tokens with ECDSA P-256 / SHA-256. Every method is const and
// safe to call from several threads at once.
//
// Client rule (spec/client-compat.md): the payload segment never contains '-' or '_', because
// the CLI decodes it with standard base64 and the SDK with atob. Sign() guarantees it by
// writing the claims as pure ASCII JSON in which the four bytes that can produce those digits
// ('>', '?', '~', DEL) and every non-ASCII character are \u-escaped; see jwt.cpp.
class JwtSigner {
public:
    // Longer tokens are neither produced nor verified (ours are a few hundred bytes; the cap
    // bounds the work garbage can cost).
    static constexpr std::size_t kMaxTokenBytes = std::size_t{16} * 1024;

    // Reads the PKCS#8 PEM P-256 private key at `pem_file`; if the file does not exist,
    // generates a key and writes it there with mode 0600 (creating the parent directory).
    // Throws std::runtime_error when the file cannot be read or written, or holds anything but
    // an unencrypted P-256 key.
    static std::unique_ptr<JwtSigner> LoadOrCreate(const std::filesystem::path& pem_file);

    ~JwtSigner();
    JwtSigner(const JwtSigner&) = delete;
    JwtSigner& operator=(const JwtSigner&) = delete;

    // A compact token `header.payload.signature` carrying exactly `claims`, with header
    // {"alg":"ES256","typ":"JWT","kid":KeyId()}. Throws std::invalid_argument if a string in
    // `claims` is not valid UTF-8, a number is not finite or the token would exceed
    // kMaxTokenBytes, std::runtime_error if OpenSSL fails.
    std::string Sign(const boost::json::object& claims) const;

    // The claims of `token` if it is a well-formed ES256 token with our kid and a valid
    // signature; nullopt otherwise. Does not look at exp/nbf (the caller owns time). Never
    // throws.
    std::optional<boost::json::object> Verify(std::string_view token) const;

    // {"keys":[{"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"use":"sig","alg":"ES256"}]}
    std::string Jwks() const;

    // base64url of the first 12 bytes of SHA-256 over the public key's DER
    // (SubjectPublicKeyInfo); stable for as long as the key file is kept.
    const std::string& KeyId() const { return kid_; }

private:
    struct Key;  // owns the OpenSSL EVP_PKEY, so that this header needs no OpenSSL include

    explicit JwtSigner(std::unique_ptr<Key> key);

    std::unique_ptr<Key> key_;
    std::string kid_;
    std::string header_segment_;  // base64url of the header JSON, the same for every token
    std::string jwks_;
};

}  // namespace rainmaker::crypto
