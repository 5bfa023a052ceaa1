// Pending verification codes (sign-up, login, password reset, deletion, phone), stored hashed;
// at most one per user and purpose.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rainmaker::storage {

struct CodeRow {
    std::string user_id;
    std::string purpose;  // "signup", "login", "reset", "delete", "phone", "mfa"
    std::string code_hash;
    std::string session;  // the login session a login/MFA code belongs to
    std::int64_t expires_at = 0;
    int attempts = 0;  // wrong entries so far
};

class CodeStore {
public:
    virtual ~CodeStore() = default;
    // Replaces any code of the same user and purpose.
    virtual void Put(const CodeRow& code) = 0;
    virtual std::optional<CodeRow> Find(std::string_view user_id, std::string_view purpose) = 0;
    // Adds one wrong attempt; returns the new count.
    virtual int AddAttempt(std::string_view user_id, std::string_view purpose) = 0;
    virtual void Delete(std::string_view user_id, std::string_view purpose) = 0;
    // Deletes the codes that expired before `before`; returns how many.
    virtual int DeleteExpired(std::int64_t before) = 0;
};

}  // namespace rainmaker::storage
