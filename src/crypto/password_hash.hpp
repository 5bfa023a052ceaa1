// Argon2id password hashing, so that a leaked database does not give away user passwords.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rainmaker::crypto {

// How much work one hash costs. kInteractive is the default for a server; kMin exists so that
// tests and development runs stay fast, and must never be used in production.
enum class PasswordCost { kMin, kInteractive, kModerate };

// "min", "interactive" or "moderate" (the config file's spelling); nullopt for anything else.
std::optional<PasswordCost> ParsePasswordCost(std::string_view name);

// A self-describing "$argon2id$..." string (salt and parameters included) for storage.
// Throws std::runtime_error if libsodium cannot allocate the memory the cost asks for.
std::string HashPassword(std::string_view password, PasswordCost cost);

// True when `password` matches `hash`; false for a wrong password or a malformed hash. Never
// throws.
bool VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace rainmaker::crypto
