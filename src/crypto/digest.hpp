// SHA-256, MD5 (file checksums), HMAC-SHA-256 and a timing-safe comparison for tokens, codes and
// webhook signatures.
#pragma once

#include <memory>
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

// HMAC-SHA-256 of `data` under `key`, as 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// HMAC-SHA-256 of `data` under `key`, as 64 lower-case hex characters.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// A digest computed piece by piece (bytes streamed to or from disk).
class Hasher {
public:
    enum class Algorithm { kSha256, kMd5 };

    explicit Hasher(Algorithm algorithm);
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void Update(std::string_view data);
    // The digest of everything given so far, as raw bytes; the hasher then starts again.
    std::string Final();

private:
    struct State;
    std::unique_ptr<State> state_;
    Algorithm algorithm_;
};

// Lower-case hex of raw bytes.
std::string HexOf(std::string_view bytes);

// True when `a` and `b` are equal; the time taken depends only on the lengths, never on where
// they differ (use it for every secret comparison).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace rainmaker::crypto
