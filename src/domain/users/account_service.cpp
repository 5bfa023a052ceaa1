// The account operations over the store, the token service and the message sender.
#include "domain/users/account_service.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "crypto/digest.hpp"
#include "domain/stored_json.hpp"
#include "domain/users/json_merge.hpp"
#include "domain/users/validation.hpp"

namespace rainmaker::domain::users {

using core::ApiError;
using core::ErrorCode;
using storage::UserRow;

namespace {
constexpr std::string_view kSignup = "signup";
constexpr std::string_view kLogin = "login";
constexpr std::string_view kMfa = "mfa";
constexpr std::string_view kReset = "reset";
constexpr std::string_view kDelete = "delete";
constexpr std::string_view kPhone = "phone";

bool IsPhoneUser(const UserRow& user) {
    return !user.user_name.empty() && user.user_name[0] == '+';
}

std::string MakeUserId() {
    // A random UUID (version 4 layout).
    std::string hex = core::RandomHex(16);
    hex[12] = '4';
    hex[16] = "89ab"[core::RandomBelow(4)];
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace

AccountService::AccountService(
    storage::Database& db,
    auth::TokenService& tokens,
    MessageSender& sender,
    const core::Clock& clock,
    AccountConfig config
)
    : db_(db),
      tokens_(tokens),
      sender_(sender),
      clock_(clock),
      config_(config),
      guard_(clock, config.login),
      messages_(clock, config.messages) {}

// ---- helpers

UserRow AccountService::RequireUser(const auth::AuthContext& caller) {
    auto user = db_.Users().FindById(caller.user_id);
    if (!user) {
        throw ApiError(ErrorCode::kUnauthorized, "Unauthorized: the user no longer exists");
    }
    return *user;
}

std::optional<UserRow> AccountService::FindUser(std::string_view canonical_name) {
    return db_.Users().FindByName(canonical_name);
}

std::string AccountService::Canonical(std::string_view raw_name, UserNames names) {
    UserNameKind kind{};
    return CanonicalUserName(raw_name, names == UserNames::kEmailOnly, &kind);
}

UserRow AccountService::RequireNamedUser(std::string_view raw_name, UserNames names) {
    auto user = FindUser(Canonical(raw_name, names));
    if (!user) {
        throw ApiError(ErrorCode::kUserNotFound);
    }
    return *user;
}

std::string AccountService::HashCode(
    const UserRow& user, std::string_view purpose, std::string_view code
) const {
    // Bound to the user and purpose, so a stored hash is useless for any other check.
    return crypto::Sha256Hex(user.user_id + ":" + std::string(purpose) + ":" + std::string(code));
}

OutgoingCode AccountService::CodeMessage(
    const UserRow& user, std::string_view purpose, std::string_view to, std::string_view client
) {
    // Sign-up codes and a new phone number go to recipients nobody has proven yet; resets go
    // to an unconfirmed account's address too. The rest go to a confirmed name or phone.
    const bool verified =
        purpose != kSignup && purpose != kPhone && (purpose != kReset || user.confirmed);
    return OutgoingCode{to, purpose, client, verified};
}

void AccountService::CheckMessageQuota(const OutgoingCode& message, ErrorCode refusal) {
    try {
        messages_.Check(message);
    } catch (const ApiError& e) {
        throw ApiError(refusal, refusal == ErrorCode::kTooManyRequests ? e.description() : "");
    }
}

void AccountService::IssueCode(
    const UserRow& user,
    std::string_view purpose,
    std::string_view to,
    std::string_view what,
    std::string_view client,
    std::string_view session,
    ErrorCode refusal
) {
    try {
        messages_.CheckAndCount(CodeMessage(user, purpose, to, client));
    } catch (const ApiError& e) {
        throw ApiError(refusal, refusal == ErrorCode::kTooManyRequests ? e.description() : "");
    }
    const std::string code = core::RandomDigits(6);
    storage::CodeRow row;
    row.user_id = user.user_id;
    row.purpose = std::string(purpose);
    row.code_hash = HashCode(user, purpose, code);
    row.session = std::string(session);
    row.expires_at = clock_.NowSeconds() + config_.code_ttl.count();
    db_.Codes().Put(row);

    OutgoingMessage message;
    message.to = std::string(to);
    message.sms = !to.empty() && to[0] == '+';
    message.subject = "Your RainMaker verification code";
    message.text = "Your RainMaker verification code " + std::string(what) + " is " + code +
                   ". It expires in " + std::to_string(config_.code_ttl.count() / 60) + " minutes.";
    try {
        sender_.Send(message);
    } catch (const std::exception& e) {
        db_.Codes().Delete(user.user_id, purpose);
        throw ApiError(ErrorCode::kSendCodeFailed, {}, e.what());
    }
}

AccountService::CodeCheck AccountService::CheckCode(
    const UserRow& user,
    std::string_view purpose,
    std::string_view code,
    std::string_view session,
    std::string_view client
) {
    guard_.Check(user.user_name, client);
    const auto row = db_.Codes().Find(user.user_id, purpose);
    if (!row) {
        return CodeCheck::kNone;
    }
    if (row->expires_at <= clock_.NowSeconds()) {
        db_.Codes().Delete(user.user_id, purpose);
        return CodeCheck::kExpired;
    }
    if (!crypto::ConstantTimeEquals(row->code_hash, HashCode(user, purpose, code)) ||
        (!row->session.empty() && !crypto::ConstantTimeEquals(row->session, session))) {
        guard_.Failure(user.user_name, client);
        if (db_.Codes().AddAttempt(user.user_id, purpose) >= config_.max_code_attempts) {
            db_.Codes().Delete(user.user_id, purpose);
            return CodeCheck::kTooManyTries;
        }
        return CodeCheck::kWrong;
    }
    db_.Codes().Delete(user.user_id, purpose);  // single use
    return CodeCheck::kOk;
}

void AccountService::FailCode(CodeCheck result) {
    switch (result) {
        case CodeCheck::kWrong:
            throw ApiError(ErrorCode::kWrongCode);
        case CodeCheck::kTooManyTries:
            throw ApiError(
                ErrorCode::kCodeExpired,
                "Too many wrong verification codes: the code is no longer valid, "
                "please start a new request"
            );
        case CodeCheck::kExpired:
        case CodeCheck::kNone:
        case CodeCheck::kOk:
            break;
    }
    throw ApiError(ErrorCode::kCodeExpired);
}

// ---- #1 sign-up

void AccountService::SignUp(
    std::string_view raw_name, std::string_view password, UserNames names, std::string_view client
) {
    const std::string user_name = Canonical(raw_name, names);
    CheckPasswordPolicy(password);
    if (user_name.front() == '+') {  // canonical phone user names start with '+'
        if (const auto other = db_.Users().FindByPhone(user_name);
            other && other->user_name != user_name) {
            throw ApiError(ErrorCode::kPhoneTaken);
        }
    }
    auto existing = FindUser(user_name);
    if (existing && existing->confirmed) {
        throw ApiError(ErrorCode::kUserExists);
    }
    const std::string hash = crypto::HashPassword(password, config_.password_cost);
    UserRow user;
    if (existing) {
        // Signing up again before confirming. While the code sent is valid, only with the same
        // password (a new code is sent: the first may never have arrived): whoever knows the
        // address must not replace the password of an account its owner is about to confirm.
        // Once it expired, the new password replaces the old one.
        const auto pending = db_.Codes().Find(existing->user_id, kSignup);
        const bool code_valid = pending && pending->expires_at > clock_.NowSeconds();
        if (code_valid && !crypto::VerifyPassword(existing->password_hash, password)) {
            throw ApiError(ErrorCode::kUserExists);
        }
        // Refused before anything changes when no code could be sent.
        CheckMessageQuota(
            CodeMessage(*existing, kSignup, existing->user_name, client),
            ErrorCode::kMaxLimitExceeded
        );
        user = *existing;
        if (!code_valid) {
            user.password_hash = hash;
            // Only while still unconfirmed: a confirmation that won the race keeps its
            // password. The sign-up starts again (the purge of unconfirmed accounts counts
            // from now).
            if (!db_.Users().SetUnconfirmedPassword(user.user_id, hash, clock_.NowSeconds())) {
                throw ApiError(ErrorCode::kUserExists);
            }
        }
    } else {
        CheckMessageQuota(
            OutgoingCode{user_name, kSignup, client, false}, ErrorCode::kMaxLimitExceeded
        );
        user.user_id = MakeUserId();
        user.user_name = user_name;
        user.password_hash = hash;
        user.created_at = clock_.NowSeconds();
        if (!db_.Users().Insert(user)) {
            throw ApiError(ErrorCode::kUserExists);
        }
    }
    IssueCode(
        user,
        kSignup,
        user.user_name,
        "to confirm your account",
        client,
        {},
        ErrorCode::kMaxLimitExceeded
    );
}

void AccountService::ConfirmSignUp(
    std::string_view raw_name, std::string_view code, UserNames names, std::string_view client
) {
    const auto user = RequireNamedUser(raw_name, names);
    if (user.confirmed) {
        throw ApiError(ErrorCode::kAlreadyVerified);
    }
    const auto result = CheckCode(user, kSignup, code, {}, client);
    if (result != CodeCheck::kOk) {
        FailCode(result);
    }
    db_.Users().Confirm(user.user_id);
}

// ---- #5 login

LoginResult AccountService::LoginWithPassword(
    std::string_view raw_name, std::string_view password, UserNames names, std::string_view client
) {
    const std::string user_name = Canonical(raw_name, names);
    guard_.Check(user_name, client);
    const auto user = FindUser(user_name);
    // The same answer for an unknown user and a wrong password, in the same time (a hash is
    // checked either way): no account enumeration.
    if (!user) {
        // Made at the first such login, not at start: a hash holds the cost's memory for a
        // moment (64 MiB at the interactive cost).
        std::call_once(dummy_once_, [this] {
            dummy_hash_ = crypto::HashPassword(core::RandomAlnum(32), config_.password_cost);
        });
        crypto::VerifyPassword(dummy_hash_, password);
    }
    if (!user || !crypto::VerifyPassword(user->password_hash, password)) {
        guard_.Failure(user_name, client);
        throw ApiError(ErrorCode::kBadCredentials);
    }
    guard_.Success(user_name, client);
    if (!user->confirmed) {
        throw ApiError(ErrorCode::kNotVerified);
    }
    if (NeedsMfa(*user)) {
        return StartMfa(*user, client);
    }
    return LoginResult{tokens_.StartSession(*user), {}};
}

LoginResult AccountService::StartCodeLogin(std::string_view raw_name, std::string_view client) {
    const std::string user_name = Canonical(raw_name, UserNames::kEmailOrPhone);
    guard_.Check(user_name, client);
    const auto user = FindUser(user_name);
    if (!user) {
        guard_.Failure(user_name, client);
        throw ApiError(ErrorCode::kBadCredentials);
    }
    if (!user->confirmed) {
        throw ApiError(ErrorCode::kNotVerified);
    }
    LoginResult result;
    result.session = core::RandomAlnum(48);
    IssueCode(*user, kLogin, user->user_name, "to log in", client, result.session);
    return result;
}

LoginResult AccountService::CompleteCodeLogin(
    std::string_view raw_name,
    std::string_view code,
    std::string_view session,
    std::string_view client
) {
    const std::string user_name = Canonical(raw_name, UserNames::kEmailOrPhone);
    if (session.empty()) {
        throw ApiError(ErrorCode::kSessionMissing);
    }
    const auto user = FindUser(user_name);
    if (!user) {
        guard_.Failure(user_name, client);
        throw ApiError(ErrorCode::kBadCredentials);
    }
    // The session names the flow: a passwordless login or the MFA step of a password login.
    const auto login_code = db_.Codes().Find(user->user_id, kLogin);
    const std::string_view purpose =
        login_code && crypto::ConstantTimeEquals(login_code->session, session) ? kLogin : kMfa;
    const auto result = CheckCode(*user, purpose, code, session, client);
    if (result != CodeCheck::kOk) {
        FailCode(result);
    }
    guard_.Success(user_name, client);
    if (!user->confirmed) {
        throw ApiError(ErrorCode::kNotVerified);
    }
    // An e-mailed one-time code is one factor: a superadmin with MFA still needs the SMS code.
    if (purpose == kLogin && NeedsMfa(*user)) {
        return StartMfa(*user, client);
    }
    return LoginResult{tokens_.StartSession(*user), {}};
}

auth::Tokens AccountService::Refresh(std::string_view refresh_token) {
    return tokens_.Refresh(refresh_token);
}

// ---- #6 logout

void AccountService::Logout(
    const auth::AuthContext& caller, bool all, std::string_view refresh_token
) {
    if (!refresh_token.empty()) {
        tokens_.RevokeByRefreshToken(caller.user_id, refresh_token);
    }
    if (all) {
        tokens_.RevokeAll(caller.user_id);
    } else {
        tokens_.Revoke(caller.session_id);
    }
}

void AccountService::LogoutByRefreshToken(std::string_view refresh_token, bool all) {
    const std::string user_id = tokens_.UserOfRefreshToken(refresh_token);
    if (user_id.empty()) {
        throw ApiError(
            ErrorCode::kUnauthorized, "Unauthorized: give a valid access token or refresh token"
        );
    }
    if (all) {
        tokens_.RevokeAll(user_id);
    } else {
        tokens_.RevokeByRefreshToken(user_id, refresh_token);
    }
}

// ---- #7 change password

void AccountService::ChangePassword(
    const auth::AuthContext& caller,
    std::string_view current,
    std::string_view next,
    std::string_view client
) {
    if (current.empty()) {
        throw ApiError(ErrorCode::kPasswordMissing);
    }
    if (next.empty()) {
        throw ApiError(ErrorCode::kNewPasswordMissing);
    }
    auto user = RequireUser(caller);
    guard_.Check(user.user_name, client);
    if (!crypto::VerifyPassword(user.password_hash, current)) {
        guard_.Failure(user.user_name, client);
        throw ApiError(ErrorCode::kWrongPassword);
    }
    CheckPasswordPolicy(next);
    // Only over the password just checked: a reset (or another change) that committed
    // meanwhile wins, and this change is refused as made with a wrong password.
    if (!db_.Users().ReplacePassword(
            user.user_id, user.password_hash, crypto::HashPassword(next, config_.password_cost)
        )) {
        throw ApiError(ErrorCode::kWrongPassword);
    }
    tokens_.RevokeAll(user.user_id);
}

// ---- #8 forgot password

void AccountService::StartPasswordReset(
    std::string_view raw_name, UserNames names, std::string_view client
) {
    const auto user = RequireNamedUser(raw_name, names);
    IssueCode(user, kReset, user.user_name, "to reset your password", client);
}

void AccountService::CompletePasswordReset(
    std::string_view raw_name,
    std::string_view code,
    std::string_view new_password,
    UserNames names,
    std::string_view client
) {
    const std::string user_name = Canonical(raw_name, names);
    if (code.empty()) {
        throw ApiError(ErrorCode::kCodeMissing);
    }
    if (new_password.empty()) {
        throw ApiError(ErrorCode::kPasswordMissing);
    }
    CheckPasswordPolicy(new_password);
    auto user = FindUser(user_name);
    if (!user) {
        throw ApiError(ErrorCode::kUserNotFound);
    }
    const auto result = CheckCode(*user, kReset, code, {}, client);
    if (result != CodeCheck::kOk) {
        FailCode(result);
    }
    const std::string hash = crypto::HashPassword(new_password, config_.password_cost);
    db_.Transaction([&] {
        db_.Users().SetPassword(user->user_id, hash);
        // Receiving the code proves the address: an unconfirmed account becomes confirmed.
        db_.Users().Confirm(user->user_id);
    });
    // Whoever knew the old password (or held a session) is out: a stolen session must not
    // survive the victim's reset.
    tokens_.RevokeAll(user->user_id);
}

// ---- #3, #2 profile

UserRow AccountService::GetUser(const auth::AuthContext& caller) {
    return RequireUser(caller);
}

bool AccountService::NeedsMfa(const UserRow& user) {
    return user.super_admin && user.mfa && user.phone_verified && !user.phone_number.empty();
}

LoginResult AccountService::StartMfa(const UserRow& user, std::string_view client) {
    LoginResult result;
    result.session = core::RandomAlnum(48);
    IssueCode(user, kMfa, user.phone_number, "to complete your login", client, result.session);
    return result;
}

UserRow AccountService::Updated(const UserRow& user, const UserUpdate& update) {
    auto next = user;
    if (update.name) {
        CheckName(*update.name);
        next.name = *update.name;
    }
    if (update.phone_number && update.verification_code) {
        throw ApiError(
            ErrorCode::kInvalidBody,
            "Invalid request body: the verification_code confirms the current phone "
            "number, send a new phone_number in a separate request"
        );
    }
    if (update.phone_number) {
        if (IsPhoneUser(user)) {
            throw ApiError(ErrorCode::kPhoneUserName);
        }
        if (!IsPhoneNumber(*update.phone_number)) {
            throw ApiError(ErrorCode::kBadPhoneNumber);
        }
        if (const auto other = db_.Users().FindByPhone(*update.phone_number);
            other && other->user_id != user.user_id) {
            throw ApiError(ErrorCode::kPhoneTaken);
        }
        // One number per user: a new one replaces the old and must be verified again.
        next.phone_number = *update.phone_number;
        next.phone_verified = false;
        next.mfa = false;
    }
    if (update.verification_code) {
        if (next.phone_number.empty()) {
            throw ApiError(ErrorCode::kPhoneNotAdded);
        }
        if (next.phone_verified) {
            throw ApiError(ErrorCode::kPhoneAlreadyVerified);
        }
        if (const auto other = db_.Users().FindByPhone(next.phone_number);
            other && other->user_id != user.user_id) {
            throw ApiError(ErrorCode::kPhoneTaken);
        }
    }
    if (update.mfa) {
        if (IsPhoneUser(user)) {
            throw ApiError(ErrorCode::kPhoneUserName);
        }
        if (!user.super_admin) {
            throw ApiError(ErrorCode::kNotPermitted, "MFA can be set by superadmins only");
        }
        if (*update.mfa && next.phone_number.empty()) {
            throw ApiError(ErrorCode::kPhoneNotAdded);
        }
        if (*update.mfa && !next.phone_verified && !update.verification_code) {
            throw ApiError(ErrorCode::kPhoneNotVerified);
        }
        next.mfa = *update.mfa;
    }
    if (update.tag_operation || update.tags) {
        const std::string operation = update.tag_operation.value_or("");
        if (operation != "add" && operation != "remove") {
            throw ApiError(ErrorCode::kBadTagOperation);
        }
        boost::json::array current = ParseArray(user.tags);
        for (const auto& tag : update.tags.value_or(std::vector<std::string>{})) {
            if (!IsValidTag(tag)) {
                throw ApiError(ErrorCode::kBadUserTag);
            }
            const auto it = std::find(current.begin(), current.end(), boost::json::value(tag));
            if (operation == "add" && it == current.end()) {
                current.emplace_back(tag);
            } else if (operation == "remove" && it != current.end()) {
                current.erase(it);
            }
        }
        next.tags = SerializeBounded(current, "the tags");
    }
    return next;
}

void AccountService::UpdateUser(
    const auth::AuthContext& caller, const UserUpdate& update, std::string_view client
) {
    if (update.Empty()) {
        throw ApiError(ErrorCode::kUpdateFieldMissing);
    }
    // Every field is checked before the code, because a wrong code counts as an attempt: a
    // refused update consumes none.
    const auto user = RequireUser(caller);
    Updated(user, update);
    if (update.phone_number) {
        CheckMessageQuota(
            CodeMessage(user, kPhone, *update.phone_number, client), ErrorCode::kTooManyRequests
        );
    }
    if (update.verification_code) {
        const auto result = CheckCode(user, kPhone, *update.verification_code, {}, client);
        if (result != CodeCheck::kOk) {
            FailCode(result);
        }
    }
    // The update applies to the row as it is now (tags are added to the current list), in one
    // transaction, and writes only the profile columns.
    UserRow next;
    db_.Transaction([&] {
        const auto current = RequireUser(caller);
        next = Updated(current, update);
        if (update.verification_code) {
            // The code was sent to the number read above: it verifies no other.
            if (current.phone_number != user.phone_number) {
                throw ApiError(ErrorCode::kCodeExpired);
            }
            next.phone_verified = true;
        }
        db_.Users().SetProfile(next);
    });
    if (update.phone_number) {
        IssueCode(next, kPhone, next.phone_number, "to verify your phone number", client);
    }
}

// ---- #4 deletion

void AccountService::RequestDeletion(const auth::AuthContext& caller, std::string_view client) {
    const auto user = RequireUser(caller);
    if (user.super_admin) {
        throw ApiError(ErrorCode::kSuperAdminDelete);
    }
    IssueCode(user, kDelete, user.user_name, "to delete your account", client);
}

void AccountService::ConfirmDeletion(
    const auth::AuthContext& caller, std::string_view code, std::string_view client
) {
    const auto user = RequireUser(caller);
    if (user.super_admin) {
        throw ApiError(ErrorCode::kSuperAdminDelete);
    }
    const auto result = CheckCode(user, kDelete, code, {}, client);
    switch (result) {
        case CodeCheck::kOk:
            break;
        case CodeCheck::kWrong:
            throw ApiError(ErrorCode::kDeleteWrongCode);
        case CodeCheck::kTooManyTries:
            throw ApiError(ErrorCode::kDeleteTooManyTries);
        case CodeCheck::kNone:
        case CodeCheck::kExpired:
            throw ApiError(ErrorCode::kNoDeleteRequest);
    }
    tokens_.RevokeAll(user.user_id);
    // Sessions, codes, mappings, groups, shares and requests cascade; the hook first takes
    // away what the user's shared groups gave others.
    db_.Transaction([&] {
        if (deletion_hook_) {
            deletion_hook_(user.user_id);
        }
        db_.Users().Delete(user.user_id);
    });
    core::log::Info("account " + user.user_id + " deleted");
}

// ---- custom data, public profile

boost::json::object AccountService::GetCustomData(const auth::AuthContext& caller) {
    const auto user = RequireUser(caller);
    return VisibleCustomData(ParseObject(user.custom_data), CustomDataActor::kUser);
}

boost::json::object AccountService::PutCustomData(
    const auth::AuthContext& caller, const boost::json::value& body
) {
    boost::json::object updated;
    db_.Transaction([&] {
        const auto user = RequireUser(caller);
        updated =
            ApplyCustomDataUpdate(ParseObject(user.custom_data), body, CustomDataActor::kUser);
        db_.Users().SetCustomData(user.user_id, core::Serialize(updated));
    });
    return VisibleCustomData(updated, CustomDataActor::kUser);
}

UserRow AccountService::RequireTargetOfAdmin(
    const auth::AuthContext& caller, const UserSelector& target
) {
    if (!caller.IsAdmin()) {
        throw ApiError(
            ErrorCode::kNotPermitted,
            "You are not authorized to perform this operation, Please contact administrator"
        );
    }
    return FindConfirmedUser(target);
}

UserRow AccountService::FindConfirmedUser(const UserSelector& target) {
    const bool by_id = target.user_id && !target.user_id->empty();
    const bool by_name = target.user_name && !target.user_name->empty();
    if (by_id == by_name) {
        throw ApiError(ErrorCode::kCustomDataOneUser);
    }
    std::optional<UserRow> user;
    if (by_id) {
        user = db_.Users().FindById(*target.user_id);
    } else {
        // An ill-formed name names no user.
        UserNameKind kind{};
        std::string canonical;
        try {
            canonical = CanonicalUserName(*target.user_name, false, &kind);
        } catch (const ApiError&) {
            throw ApiError(ErrorCode::kUserLookupFailed);
        }
        user = FindUser(canonical);
    }
    // An account never confirmed is nobody yet (it expires unless confirmed).
    if (!user || !user->confirmed) {
        throw ApiError(ErrorCode::kUserLookupFailed);
    }
    return *user;
}

boost::json::object AccountService::GetCustomDataAsAdmin(
    const auth::AuthContext& caller, const UserSelector& target
) {
    const auto user = RequireTargetOfAdmin(caller, target);
    return VisibleCustomData(ParseObject(user.custom_data), CustomDataActor::kAdmin);
}

boost::json::object AccountService::PutCustomDataAsAdmin(
    const auth::AuthContext& caller, const UserSelector& target, const boost::json::value& body
) {
    boost::json::object updated;
    // Read, merge and write in one transaction, as PutCustomData: a concurrent write by the
    // user (or another admin) is never lost.
    db_.Transaction([&] {
        const auto user = RequireTargetOfAdmin(caller, target);
        updated =
            ApplyCustomDataUpdate(ParseObject(user.custom_data), body, CustomDataActor::kAdmin);
        db_.Users().SetCustomData(user.user_id, core::Serialize(updated));
    });
    return VisibleCustomData(updated, CustomDataActor::kAdmin);
}

boost::json::object AccountService::GetPublicProfile(
    const auth::AuthContext& caller, const std::string* user_name
) {
    std::optional<UserRow> user;
    if (user_name == nullptr) {
        user = RequireUser(caller);
    } else {
        // An ill-formed name names no user: #132 answers 200 or 404 only, never 400.
        UserNameKind kind{};
        std::string canonical;
        try {
            canonical = CanonicalUserName(*user_name, false, &kind);
        } catch (const ApiError&) {
            throw ApiError(ErrorCode::kUserNotFound);
        }
        user = FindUser(canonical);
        if (!user || !user->confirmed) {
            throw ApiError(ErrorCode::kUserNotFound);
        }
    }
    return boost::json::object{
        {"user_name", user->user_name}, {"profile", ParseObject(user->public_profile)}};
}

void AccountService::PutPublicProfile(
    const auth::AuthContext& caller, const boost::json::value& profile
) {
    db_.Transaction([&] {
        const auto user = RequireUser(caller);
        db_.Users().SetPublicProfile(
            user.user_id,
            SerializeBounded(
                MergePublicProfile(ParseObject(user.public_profile), profile), "the public profile"
            )
        );
    });
}

// ---- #116/#117 OAuth sign-in

std::string AccountService::FederatedAccount(std::string_view email, std::string_view name) {
    UserNameKind kind = UserNameKind::kEmail;
    const std::string user_name = CanonicalUserName(email, true, &kind);
    // The provider verified this exact address: one that only normalization (Unicode
    // compatibility forms) makes equal to a user name is not that user's.
    if (user_name != core::AsciiLower(email)) {
        throw ApiError(ErrorCode::kBadUserName, "the address is not in its canonical form");
    }
    storage::UserRow user;
    db_.Transaction([&] {
        if (auto existing = db_.Users().FindByName(user_name)) {
            user = std::move(*existing);
            // Admins sign in with their password (and its second factor), never through a
            // provider that may let users choose their e-mail claim.
            if (user.admin || user.super_admin || user.mfa) {
                throw ApiError(
                    ErrorCode::kNotPermitted,
                    "administrators and accounts with MFA sign in with their password"
                );
            }
            if (!user.confirmed) {
                db_.Users().SetUnconfirmedPassword(user.user_id, "", clock_.NowSeconds());
                db_.Users().Confirm(user.user_id);
                user.password_hash.clear();
                user.confirmed = true;
            }
            return;
        }
        user.user_id = MakeUserId();
        user.user_name = user_name;
        user.confirmed = true;
        user.name = name.size() <= 256 ? std::string(name) : std::string();
        user.created_at = clock_.NowSeconds();
        if (!db_.Users().Insert(user)) {
            throw ApiError(ErrorCode::kUserExists);
        }
    });
    return user.user_id;
}

auth::Tokens AccountService::SignInAccount(std::string_view user_id) {
    const auto user = db_.Users().FindById(user_id);
    if (!user) {
        throw ApiError(ErrorCode::kUserNotFound);
    }
    core::log::Info("user " + user->user_id + " signed in through an identity provider");
    return tokens_.StartSession(*user);
}

// ---- names stored before normalization

int AccountService::NormalizeStoredNames() {
    int renamed = 0;
    for (const auto& [user_id, name] : db_.Users().NonAsciiNames()) {
        std::string canonical;
        try {
            UserNameKind kind{};
            canonical = CanonicalUserName(name, false, &kind);
        } catch (const ApiError&) {
            core::log::Warn("user " + user_id + ": stored name is not valid any more; kept");
            continue;
        }
        if (canonical == name) {
            continue;
        }
        if (db_.Users().Rename(user_id, canonical)) {
            ++renamed;
        } else {
            core::log::Warn(
                "user " + user_id + ": canonical name taken by another account; name kept"
            );
        }
    }
    return renamed;
}

// ---- admin bootstrap

UserRow AccountService::CreateConfirmedUser(
    std::string_view raw_name, std::string_view password, bool super_admin, bool admin
) {
    const std::string user_name = Canonical(raw_name, UserNames::kEmailOrPhone);
    CheckPasswordPolicy(password);
    UserRow user;
    user.user_id = MakeUserId();
    user.user_name = user_name;
    user.password_hash = crypto::HashPassword(password, config_.password_cost);
    user.confirmed = true;
    user.super_admin = super_admin;
    user.admin = admin;
    user.created_at = clock_.NowSeconds();
    if (!db_.Users().Insert(user)) {
        throw ApiError(ErrorCode::kUserExists);
    }
    return user;
}

std::vector<UserRow> AccountService::ListUsers() {
    std::vector<UserRow> all;
    std::string after;
    for (;;) {
        auto page = db_.Users().List(after, 1000);
        if (page.empty()) {
            return all;
        }
        after = page.back().user_name;
        for (auto& u : page) {
            all.push_back(std::move(u));
        }
    }
}

UserRow AccountService::SetRole(std::string_view raw_name, std::string_view role) {
    if (role != "user" && role != "admin" && role != "superadmin") {
        throw ApiError(ErrorCode::kInvalidQuery, "role must be user, admin or superadmin");
    }
    UserRow user;
    db_.Transaction([&] {
        const auto found = db_.Users().FindByName(Canonical(raw_name, UserNames::kEmailOrPhone));
        if (!found) {
            throw ApiError(ErrorCode::kUserLookupFailed);
        }
        user = *found;
        user.admin = role == "admin";
        user.super_admin = role == "superadmin";
        db_.Users().SetRoles(user.user_id, user.admin, user.super_admin);
    });
    tokens_.RevokeAll(user.user_id);
    return user;
}

UserRow AccountService::ResetPassword(std::string_view raw_name, std::string_view password) {
    CheckPasswordPolicy(password);
    const std::string hash = crypto::HashPassword(password, config_.password_cost);
    UserRow user;
    db_.Transaction([&] {
        const auto found = db_.Users().FindByName(Canonical(raw_name, UserNames::kEmailOrPhone));
        if (!found) {
            throw ApiError(ErrorCode::kUserLookupFailed);
        }
        user = *found;
        db_.Users().SetPassword(user.user_id, hash);
    });
    tokens_.RevokeAll(user.user_id);
    return user;
}

}  // namespace rainmaker::domain::users
