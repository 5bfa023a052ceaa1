// libsodium's crypto_pwhash_str with Argon2id: the salt and parameters travel inside the hash.
#include "crypto/password_hash.hpp"

#include <array>
#include <sodium.h>
#include <stdexcept>

#include "core/random.hpp"

namespace rainmaker::crypto {

namespace {

struct Limits {
    unsigned long long ops;
    std::size_t mem;
};

// The argon2id constants are named explicitly because we ask for ALG_ARGON2ID13; they equal
// the generic crypto_pwhash_* ones, whose default algorithm is argon2id.
Limits LimitsFor(PasswordCost cost) {
    switch (cost) {
        case PasswordCost::kMin:
            return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
        case PasswordCost::kInteractive:
            return {
                crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
        case PasswordCost::kModerate:
            return {
                crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
    }
    throw std::invalid_argument("unknown PasswordCost");
}

}  // namespace

std::optional<PasswordCost> ParsePasswordCost(std::string_view name) {
    if (name == "min") {
        return PasswordCost::kMin;
    }
    if (name == "interactive") {
        return PasswordCost::kInteractive;
    }
    if (name == "moderate") {
        return PasswordCost::kModerate;
    }
    return std::nullopt;
}

std::string HashPassword(std::string_view password, PasswordCost cost) {
    core::EnsureSodium();
    const Limits limits = LimitsFor(cost);
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(
            out.data(),
            password.data() != nullptr ? password.data() : "",
            password.size(),
            limits.ops,
            limits.mem,
            crypto_pwhash_ALG_ARGON2ID13
        ) != 0) {
        throw std::runtime_error("password hashing failed (out of memory?)");
    }
    return {out.data()};
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
    try {
        core::EnsureSodium();
        // libsodium reads a NUL-terminated string of at most STRBYTES - 1 characters; an embedded
        // NUL would silently shorten what it checks.
        if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES ||
            hash.find('\0') != std::string_view::npos) {
            return false;
        }
        std::array<char, crypto_pwhash_STRBYTES> stored{};
        hash.copy(stored.data(), hash.size());
        return crypto_pwhash_str_verify(
                   stored.data(), password.data() != nullptr ? password.data() : "", password.size()
               ) == 0;
    } catch (...) {
        return false;
    }
}

}  // namespace rainmaker::crypto
