// Accounts: sign-up and confirmation, the four login forms, logout, password change and reset,
// profile, phone number and MFA, deletion, custom data and public profile. Knows nothing of
// HTTP; every failure is an ApiError with its RainMaker code.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/password_hash.hpp"
#include "domain/auth/login_guard.hpp"
#include "domain/auth/token_service.hpp"
#include "domain/users/message_quota.hpp"
#include "domain/users/message_sender.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::users {

struct AccountConfig {
    std::chrono::seconds code_ttl{15 * 60};
    int max_code_attempts = 5;  // wrong entries before a code is invalidated
    crypto::PasswordCost password_cost = crypto::PasswordCost::kInteractive;
    auth::LoginGuardConfig login;  // failed logins and code entries
    MessageLimits messages;        // verification messages sent
};

// Which operation family is calling: the deprecated ones accept e-mail user names only.
enum class UserNames { kEmailOrPhone, kEmailOnly };

// The body of PUT /user2; absent members are left alone.
struct UserUpdate {
    std::optional<std::string> name;
    std::optional<std::string> phone_number;
    std::optional<std::string> verification_code;  // confirms the current phone number
    std::optional<bool> mfa;
    std::optional<std::string> tag_operation;  // "add" or "remove"
    std::optional<std::vector<std::string>> tags;

    bool Empty() const {
        return !name && !phone_number && !verification_code && !mfa && !tag_operation && !tags;
    }
};

// The user an admin operation is about (#118/#119): exactly one of the two is set.
struct UserSelector {
    std::optional<std::string> user_id;
    std::optional<std::string> user_name;  // as typed: e-mail address or +<country><number>
};

struct LoginResult {
    auth::Tokens tokens;  // set when the login completed
    std::string session;  // set instead when a code was sent (passwordless login or MFA)
};

class AccountService {
public:
    AccountService(
        storage::Database& db,
        auth::TokenService& tokens,
        MessageSender& sender,
        const core::Clock& clock,
        AccountConfig config
    );

    // #1 create: a new (or still unconfirmed) account gets the password and a code.
    // Throws kUserNameMissing, kBadUserName, kBadPhoneNumber, kPasswordPolicy, kUserExists,
    // kPhoneTaken, kSendCodeFailed, kMaxLimitExceeded (message limits).
    void SignUp(
        std::string_view user_name,
        std::string_view password,
        UserNames names,
        std::string_view client
    );
    // #1 confirm. Throws kUserNotFound, kAlreadyVerified, kWrongCode, kCodeExpired...
    void ConfirmSignUp(
        std::string_view user_name, std::string_view code, UserNames names, std::string_view client
    );

    // #5 password login; for a superadmin with MFA on, sends an SMS code and returns a session.
    LoginResult LoginWithPassword(
        std::string_view user_name,
        std::string_view password,
        UserNames names,
        std::string_view client
    );
    // #5 {user_name}: sends a one-time code, returns the session to complete with.
    LoginResult StartCodeLogin(std::string_view user_name, std::string_view client);
    // #5 {user_name, verification_code, session}: completes a code login or the MFA step.
    LoginResult CompleteCodeLogin(
        std::string_view user_name,
        std::string_view code,
        std::string_view session,
        std::string_view client
    );
    // #5 {refreshtoken}
    auth::Tokens Refresh(std::string_view refresh_token);

    // OAuth sign-in (#116/#117): the id of the account of `email`, which an identity provider
    // verified. An account that does not exist is created confirmed, without a password (it
    // signs in through the provider, or sets one with a reset); an unconfirmed one is
    // confirmed with its password cleared (whoever signed up with the address never proved
    // they own it). Throws kBadUserName when `email` is not an e-mail address.
    std::string FederatedAccount(std::string_view email, std::string_view name);
    // A new session of the user `user_id` (OAuth's POST /token); throws kUserNotFound when the
    // account is gone.
    auth::Tokens SignInAccount(std::string_view user_id);

    // #6 (authenticated): the current session, or all of them; `refresh_token` is revoked too.
    void Logout(const auth::AuthContext& caller, bool all, std::string_view refresh_token);
    // #128 (deprecated, unauthenticated): logs out the session of `refresh_token` (or all of
    // its user's sessions). Throws kUnauthorized when the token is unknown.
    void LogoutByRefreshToken(std::string_view refresh_token, bool all);

    // #7: checks the current password, sets the new one, logs out every session.
    void ChangePassword(
        const auth::AuthContext& caller,
        std::string_view current,
        std::string_view next,
        std::string_view client
    );

    // #8 step 1: sends a reset code. Throws kUserNotFound for an unknown user.
    void StartPasswordReset(std::string_view user_name, UserNames names, std::string_view client);
    // #8 step 2: sets the new password and ends every session of the user.
    void CompletePasswordReset(
        std::string_view user_name,
        std::string_view code,
        std::string_view new_password,
        UserNames names,
        std::string_view client
    );

    // #3
    storage::UserRow GetUser(const auth::AuthContext& caller);

    // #2: name, phone number (and its verification code), MFA, tags. Every field is checked
    // before any is applied: a refused update changes nothing.
    void UpdateUser(
        const auth::AuthContext& caller, const UserUpdate& update, std::string_view client
    );

    // #4 step 1: sends a deletion code.
    void RequestDeletion(const auth::AuthContext& caller, std::string_view client);
    // #4 step 2: deletes the account and everything it owns that nobody else shares.
    void ConfirmDeletion(
        const auth::AuthContext& caller, std::string_view code, std::string_view client
    );

    // #70 / #71
    boost::json::object GetCustomData(const auth::AuthContext& caller);
    boost::json::object PutCustomData(
        const auth::AuthContext& caller, const boost::json::value& body
    );

    // #118 / #119: an admin (or superadmin) reads or writes the custom data of `target` under
    // the same merge rules as #70/#71, as CustomDataActor::kAdmin: keys whose read (write)
    // perms leave admins out are hidden (refused, 100004, nothing written). Throws
    // kNotPermitted for a caller without the admin claim, kCustomDataOneUser unless `target`
    // names exactly one of user_id and user_name, kUserLookupFailed when no confirmed user has
    // that id or name.
    boost::json::object GetCustomDataAsAdmin(
        const auth::AuthContext& caller, const UserSelector& target
    );
    boost::json::object PutCustomDataAsAdmin(
        const auth::AuthContext& caller, const UserSelector& target, const boost::json::value& body
    );

    // #132: the caller's profile, or that of `user_name`.
    boost::json::object GetPublicProfile(
        const auth::AuthContext& caller, const std::string* user_name
    );
    // #133
    void PutPublicProfile(const auth::AuthContext& caller, const boost::json::value& profile);

    // Runs inside the deletion's transaction, before the account goes: other areas let go of
    // what the user gave others (the groups they shared).
    void SetDeletionHook(std::function<void(std::string_view user_id)> hook) {
        deletion_hook_ = std::move(hook);
    }

    // At start: stored non-ASCII user names written before names were NFKC-normalized get
    // their canonical form (a name that is refused now, or whose canonical form is taken, is
    // left as it is and logged). Returns how many were renamed.
    int NormalizeStoredNames();

    // `rainmaker-server admin list-users`: every account, ordered by user name.
    std::vector<storage::UserRow> ListUsers();
    // `rainmaker-server admin set-role`: `role` is user, admin or superadmin. The user's
    // sessions end (their tokens carry the old role): they log in again. Throws
    // kUserLookupFailed, kInvalidQuery (role).
    storage::UserRow SetRole(std::string_view raw_name, std::string_view role);
    // `rainmaker-server admin reset-password`: a new password (policy checked) and every
    // session of the user ended. Throws kUserLookupFailed and the password policy errors.
    storage::UserRow ResetPassword(std::string_view raw_name, std::string_view password);

    // `rainmaker-server admin create-user`: a confirmed account, optionally admin or
    // superadmin.
    storage::UserRow CreateConfirmedUser(
        std::string_view user_name, std::string_view password, bool super_admin, bool admin = false
    );

    // The confirmed user `target` selects, by user_id or by user_name. Throws
    // 101026 when there is none (or the name is ill-formed), 125003 when both or neither are
    // given.
    storage::UserRow FindConfirmedUser(const UserSelector& target);

private:
    enum class CodeCheck { kOk, kNone, kExpired, kWrong, kTooManyTries };

    storage::UserRow RequireUser(const auth::AuthContext& caller);
    // The confirmed user `target` selects, for an admin caller (see GetCustomDataAsAdmin).
    storage::UserRow RequireTargetOfAdmin(
        const auth::AuthContext& caller, const UserSelector& target
    );
    // `user` with the profile fields of `update` applied; throws the field's error when one
    // is refused (the verification code itself is checked by the caller).
    storage::UserRow Updated(const storage::UserRow& user, const UserUpdate& update);
    // True when a password or one-time-code login must be followed by an SMS code.
    static bool NeedsMfa(const storage::UserRow& user);
    // Sends the MFA code and returns the session that completes the login.
    LoginResult StartMfa(const storage::UserRow& user, std::string_view client);
    std::optional<storage::UserRow> FindUser(std::string_view canonical_name);
    // The canonical form of a user name (throws the user-name errors of CanonicalUserName).
    static std::string Canonical(std::string_view raw_name, UserNames names);
    // The user named `raw_name`; throws kUserNotFound.
    storage::UserRow RequireNamedUser(std::string_view raw_name, UserNames names);
    // Creates and sends a code to `to` (kept hashed in the store), asked for from `client`.
    // Past a message limit throws `refusal` (kTooManyRequests, or sign-up's own code).
    void IssueCode(
        const storage::UserRow& user,
        std::string_view purpose,
        std::string_view to,
        std::string_view what,
        std::string_view client,
        std::string_view session = {},
        core::ErrorCode refusal = core::ErrorCode::kTooManyRequests
    );
    CodeCheck CheckCode(
        const storage::UserRow& user,
        std::string_view purpose,
        std::string_view code,
        std::string_view session,
        std::string_view client
    );
    std::string HashCode(
        const storage::UserRow& user, std::string_view purpose, std::string_view code
    ) const;
    // The code message of `purpose` to `to` for `user`, asked for from `client`, as the
    // message limits see it.
    static OutgoingCode CodeMessage(
        const storage::UserRow& user,
        std::string_view purpose,
        std::string_view to,
        std::string_view client
    );
    // The message limits for one more such message; throws `refusal`.
    void CheckMessageQuota(const OutgoingCode& message, core::ErrorCode refusal);
    // Throws the generic code errors (wrong, expired, too many) for a failed check.
    [[noreturn]] void FailCode(CodeCheck result);

    storage::Database& db_;
    auth::TokenService& tokens_;
    MessageSender& sender_;
    const core::Clock& clock_;
    AccountConfig config_;
    auth::LoginGuard guard_;
    MessageQuota messages_;
    std::once_flag dummy_once_;
    std::string dummy_hash_;  // checked for unknown users, so they take as long as known ones
    std::function<void(std::string_view)> deletion_hook_;
};

}  // namespace rainmaker::domain::users
