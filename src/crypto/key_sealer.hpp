// Seals private keys with AES-256-GCM under a 32-byte key kept in its own file (mode 0600,
// beside the token-signing key), so that the database and its backups hold no usable private
// key: the root keys of Matter fabrics, and secure boot signing keys, each under their own
// sealing key. Thread-safe (const methods only).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace rainmaker::crypto {

class KeySealer {
public:
    // Loads the key file or, with `may_create`, creates it (32 random bytes, hex, mode 0600).
    // Throws std::runtime_error when it cannot be read or written, holds no key, or is missing
    // and may not be created. `noun` ("fabric sealing key") names it in logs and errors.
    static std::unique_ptr<KeySealer> LoadOrCreate(
        const std::filesystem::path& file, std::string_view noun, bool may_create = true
    );
    // A sealer over a given 32-byte key (tests).
    static std::unique_ptr<KeySealer> FromKeyForTest(std::string_view key32);

    ~KeySealer();
    KeySealer(const KeySealer&) = delete;
    KeySealer& operator=(const KeySealer&) = delete;

    // "v1:" + base64(nonce ‖ ciphertext ‖ tag); `context` (e.g. the group id) is bound as
    // associated data, so a sealed key moved to another row does not open.
    std::string Seal(std::string_view plain, std::string_view context) const;
    // The plain text; throws std::runtime_error when `sealed` was not sealed by this key for
    // this context or was altered.
    std::string Open(std::string_view sealed, std::string_view context) const;

private:
    explicit KeySealer(std::string key);
    std::string key_;
};

}  // namespace rainmaker::crypto
