// Accounts in the store: one row per user, looked up by id, user name or verified phone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    // Each setter writes only its own columns, so concurrent writers of other columns of the
    // same row never undo each other; read-modify-write of a column runs in a Transaction.
    // Each returns false when there is no such user.
    virtual bool SetPassword(std::string_view user_id, std::string_view password_hash) = 0;
    // Sets the password only while the stored hash is still `expected_hash` (the one the
    // caller checked the current password against); false otherwise.
    virtual bool ReplacePassword(
        std::string_view user_id, std::string_view expected_hash, std::string_view password_hash
    ) = 0;
    // Sets the password of a user that is still unconfirmed (signing up again) and restarts
    // its sign-up (created_at = `at`); false when the user is confirmed by now or gone.
    virtual bool SetUnconfirmedPassword(
        std::string_view user_id, std::string_view password_hash, std::int64_t at
    ) = 0;
    virtual bool Confirm(std::string_view user_id) = 0;
    // The profile columns: name, phone_number, phone_verified, mfa, tags.
    virtual bool SetProfile(const UserRow& user) = 0;
    virtual bool SetCustomData(std::string_view user_id, std::string_view custom_data) = 0;
    virtual bool SetPublicProfile(std::string_view user_id, std::string_view public_profile) = 0;
    // Ids and names of the users whose name is not plain ASCII.
    virtual std::vector<std::pair<std::string, std::string>> NonAsciiNames() = 0;
    // Renames the user; false when the name is taken (or the user gone).
    virtual bool Rename(std::string_view user_id, std::string_view user_name) = 0;
    // Users ordered by user name, those with a name > `after_name`, at most `limit`.
    virtual std::vector<UserRow> List(std::string_view after_name, int limit) = 0;
    // Sets the user's role flags; false when there is no such user.
    virtual bool SetRoles(std::string_view user_id, bool admin, bool super_admin) = 0;
    // Deletes the user and everything that cascades from it (sessions, codes).
    virtual void Delete(std::string_view user_id) = 0;
    // Deletes the accounts created before `created_before` and never confirmed; returns how
    // many.
    virtual int DeleteUnconfirmed(std::int64_t created_before) = 0;
};

}  // namespace rainmaker::storage
