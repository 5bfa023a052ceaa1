// Accounts in the store: one row per user, looked up by id, user name or verified phone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rainmaker::storage {

struct UserRow {
    std::string user_id;
    std::string user_name;  // lower-case e-mail address, or +<country code><number>
    std::string password_hash;
    bool confirmed = false;
    std::string name;
    std::string phone_number;  // a second factor / contact number (not the user name)
    bool phone_verified = false;
    bool mfa = false;
    bool super_admin = false;
    bool admin = false;
    std::string picture_url;
    std::string custom_data = "{}";     // JSON object text
    std::string public_profile = "{}";  // JSON object text
    std::string tags = "[]";            // JSON array text of "key:value"
    std::int64_t created_at = 0;        // unix seconds
};

class UserStore {
public:
    virtual ~UserStore() = default;
    virtual std::optional<UserRow> FindById(std::string_view user_id) = 0;
    virtual std::optional<UserRow> FindByName(std::string_view user_name) = 0;
    // The user whose verified phone number or phone user name is `phone`.
    virtual std::optional<UserRow> FindByPhone(std::string_view phone) = 0;
    // Inserts; false when the user name is taken.
    virtual bool Insert(const UserRow& user) = 0;
    // Replaces every column of the row with this id; false when there is no such row.
    virtual bool Update(const UserRow& user) = 0;
    // Deletes the user and everything that cascades from it (sessions, codes).
    virtual void Delete(std::string_view user_id) = 0;
};

}  // namespace rainmaker::storage
