// Thin handlers: parse the request, call the account service, answer.
#include "http/api/account_routes.hpp"

#include "core/error.hpp"
#include "core/flag.hpp"
#include "http/api/body.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::users::AccountService;
using domain::users::UserNames;

namespace {

boost::json::object TokensJson(const domain::auth::Tokens& tokens) {
    boost::json::object out{
        {"status", "success"},
        {"description", "Login successful"},
        {"idtoken", tokens.idtoken},
        {"accesstoken", tokens.accesstoken}};
    if (!tokens.refreshtoken.empty()) {
        out["refreshtoken"] = tokens.refreshtoken;
    }
    return out;
}

ApiResponse LoginAnswer(const domain::users::LoginResult& result) {
    if (!result.session.empty()) {
        return ApiResponse::Json(boost::json::object{
            {"status", "success"},
            {"description", "Verification code sent"},
            {"session", result.session}});
    }
    return ApiResponse::Json(TokensJson(result.tokens));
}

// Catalog #1 POST /{version}/user2, #123 POST /{version}/user — create or confirm a user.
ApiResponse CreateOrConfirmUser(const ApiRequest& r, AccountService& accounts, UserNames names) {
    const auto body = r.JsonObject();
    const auto user_name = RequiredString(body, "user_name", ErrorCode::kUserNameMissing);
    const auto password = OptionalString(body, "password");
    const auto code = OptionalString(body, "verification_code");
    if (password && !password->empty()) {
        accounts.SignUp(user_name, *password, names, r.client_address);
        return ApiResponse::Success(
            "User created successfully, please confirm it with the verification code sent to " +
                user_name,
            201
        );
    }
    if (code && !code->empty()) {
        accounts.ConfirmSignUp(user_name, *code, names, r.client_address);
        return ApiResponse::Success("User confirmed successfully", 201);
    }
    throw ApiError(ErrorCode::kPasswordOrCodeMissing);
}

// Catalog #2 PUT /{version}/user2 — name, phone number (and its verification), MFA, tags.
ApiResponse UpdateUser(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    domain::users::UserUpdate update;
    update.name = OptionalString(body, "name");
    update.phone_number = OptionalString(body, "phone_number");
    update.verification_code = OptionalString(body, "verification_code");
    update.mfa = OptionalBool(body, "mfa");
    update.tag_operation = OptionalString(body, "operation");
    update.tags = OptionalStrings(body, "tags");
    accounts.UpdateUser(r.Caller(), update, r.client_address);
    return ApiResponse::Success(
        update.phone_number
            ? "User updated, a verification code was sent to " + *update.phone_number
            : std::string("User updated successfully")
    );
}

// Catalog #124 PUT /{version}/user — name only (deprecated).
ApiResponse UpdateUserName(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    domain::users::UserUpdate update;
    update.name = OptionalString(body, "name").value_or("");
    accounts.UpdateUser(r.Caller(), update, r.client_address);
    return ApiResponse::Success("User updated successfully");
}

// Catalog #3 GET /{version}/user2, #125 GET /{version}/user.
ApiResponse GetUser(const ApiRequest& r, AccountService& accounts) {
    const bool with_custom_data = r.query.Bool("custom_data", false);
    const auto user = accounts.GetUser(r.Caller());
    boost::json::object out{{"user_id", user.user_id}, {"user_name", user.user_name}};
    if (user.super_admin) {
        out["super_admin"] = true;
    }
    if (user.admin) {
        out["admin"] = true;
    }
    if (!user.picture_url.empty()) {
        out["picture_url"] = user.picture_url;
    }
    if (!user.name.empty()) {
        out["name"] = user.name;
    }
    out["mfa"] = user.mfa;
    if (!user.phone_number.empty()) {
        out["phone_number"] = user.phone_number;
        out["phone_number_verified"] = user.phone_verified;
    }
    boost::system::error_code ec;
    if (auto tags = boost::json::parse(user.tags, ec);
        !ec && tags.is_array() && !tags.as_array().empty()) {
        out["tags"] = std::move(tags);
    }
    if (with_custom_data) {
        out["custom_data"] = accounts.GetCustomData(r.Caller());
    }
    return ApiResponse::Json(out);
}

// Catalog #4 DELETE /{version}/user2, #126 DELETE /{version}/user — two-step deletion.
ApiResponse DeleteUser(const ApiRequest& r, AccountService& accounts) {
    const auto* code = r.query.Find("verification_code");
    if (code != nullptr && !code->empty()) {
        accounts.ConfirmDeletion(r.Caller(), *code, r.client_address);
        return ApiResponse::Success("User deleted successfully");
    }
    if (r.query.Bool("request", false)) {
        accounts.RequestDeletion(r.Caller(), r.client_address);
        return ApiResponse::Success("A verification code to delete the account has been sent");
    }
    throw ApiError(ErrorCode::kDeleteCodeMissing);
}

// Catalog #5 POST /{version}/login2 — password, one-time code (two steps), MFA, refresh.
ApiResponse Login2(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    if (const auto refresh = OptionalString(body, "refreshtoken"); refresh && !refresh->empty()) {
        return ApiResponse::Json(TokensJson(accounts.Refresh(*refresh)));
    }
    const auto user_name = RequiredString(body, "user_name", ErrorCode::kUserNameMissing);
    if (const auto code = OptionalString(body, "verification_code"); code && !code->empty()) {
        return LoginAnswer(accounts.CompleteCodeLogin(
            user_name, *code, OptionalString(body, "session").value_or(""), r.client_address
        ));
    }
    if (const auto password = OptionalString(body, "password"); password) {
        return LoginAnswer(accounts.LoginWithPassword(
            user_name, *password, UserNames::kEmailOrPhone, r.client_address
        ));
    }
    return LoginAnswer(accounts.StartCodeLogin(user_name, r.client_address));
}

// Catalog #127 POST /{version}/login — e-mail and password, or refresh (deprecated).
ApiResponse Login(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    if (const auto refresh = OptionalString(body, "refreshtoken"); refresh && !refresh->empty()) {
        return ApiResponse::Json(TokensJson(accounts.Refresh(*refresh)));
    }
    const auto user_name = RequiredString(body, "user_name", ErrorCode::kUserNameMissing);
    const auto password = RequiredString(body, "password", ErrorCode::kPasswordMissing);
    return LoginAnswer(
        accounts.LoginWithPassword(user_name, password, UserNames::kEmailOnly, r.client_address)
    );
}

bool LogoutAll(const ApiRequest& r) {
    const auto* value = r.query.Find("logout_all");
    if (value == nullptr) {
        return false;
    }
    const auto flag = core::ParseFlag(*value);
    if (!flag) {
        throw ApiError(ErrorCode::kBadLogoutAll);
    }
    return *flag;
}

// Catalog #6 POST /{version}/logout2. The SDK sends logout_all as a JSON boolean in the body
// instead of the query string: both are accepted.
ApiResponse Logout2(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    bool all = LogoutAll(r);
    if (const auto* value = body.if_contains("logout_all"); value != nullptr && !value->is_null()) {
        if (value->is_bool()) {
            all = all || value->as_bool();
        } else if (const auto flag = value->is_string() ? core::ParseFlag(value->as_string()) : std::nullopt) {
            all = all || *flag;
        } else {
            throw ApiError(ErrorCode::kBadLogoutAll);
        }
    }
    accounts.Logout(r.Caller(), all, OptionalString(body, "refreshtoken").value_or(""));
    return ApiResponse::Success("Logged out successfully");
}

// Catalog #128 POST /{version}/logout — deprecated and unauthenticated: the access token when
// one is given, else the refresh token of the body names the session.
ApiResponse Logout(
    const ApiRequest& r, AccountService& accounts, domain::auth::TokenService& tokens
) {
    const bool all = LogoutAll(r);
    const auto body = r.JsonObject();
    const auto refresh = OptionalString(body, "refreshtoken").value_or("");
    if (!r.authorization.empty()) {
        accounts.Logout(tokens.Authenticate(r.authorization), all, refresh);
    } else {
        accounts.LogoutByRefreshToken(refresh, all);
    }
    return ApiResponse::Success("Logged out successfully");
}

// Catalog #7 PUT /{version}/password2, #129 PUT /{version}/password.
ApiResponse ChangePassword(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    accounts.ChangePassword(
        r.Caller(),
        OptionalString(body, "password").value_or(""),
        OptionalString(body, "newpassword").value_or(""),
        r.client_address
    );
    return ApiResponse::Success("Password changed successfully, all sessions were logged out");
}

// Catalog #8 PUT /{version}/forgotpassword2, #130 PUT /{version}/forgotpassword.
ApiResponse ForgotPassword(const ApiRequest& r, AccountService& accounts, UserNames names) {
    const auto body = r.JsonObject();
    const auto user_name = RequiredString(body, "user_name", ErrorCode::kUserNameMissing);
    const auto code = OptionalString(body, "verification_code");
    const auto password = OptionalString(body, "password");
    if (!code && !password) {
        accounts.StartPasswordReset(user_name, names, r.client_address);
        return ApiResponse::Success("A verification code to reset the password has been sent");
    }
    accounts.CompletePasswordReset(
        user_name, code.value_or(""), password.value_or(""), names, r.client_address
    );
    return ApiResponse::Success("Password reset successfully");
}

// Catalog #70 GET /{version}/user/custom_data.
ApiResponse GetCustomData(const ApiRequest& r, AccountService& accounts) {
    return ApiResponse::Json(accounts.GetCustomData(r.Caller()));
}

// Catalog #71 PUT /{version}/user/custom_data.
ApiResponse PutCustomData(const ApiRequest& r, AccountService& accounts) {
    boost::json::value body;
    try {
        body = r.Json();
    } catch (const ApiError&) {
        throw ApiError(ErrorCode::kCustomDataNotJson);
    }
    return ApiResponse::Json(accounts.PutCustomData(r.Caller(), body));
}

// Catalog #132 GET /{version}/user/public_profile.
ApiResponse GetPublicProfile(const ApiRequest& r, AccountService& accounts) {
    return ApiResponse::Json(accounts.GetPublicProfile(r.Caller(), r.query.Find("user_name")));
}

// Catalog #133 PUT /{version}/user/public_profile.
ApiResponse PutPublicProfile(const ApiRequest& r, AccountService& accounts) {
    const auto body = r.JsonObject();
    const auto* profile = body.if_contains("profile");
    if (profile == nullptr) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: profile is missing");
    }
    accounts.PutPublicProfile(r.Caller(), *profile);
    return ApiResponse::Success("Public profile updated successfully");
}

}  // namespace

void AddAccountRoutes(
    Router& router, AccountService& accounts, domain::auth::TokenService& tokens
) {
    auto& a = accounts;
    const auto pub = Access::kPublic;
    const auto user = Access::kUser;
    // Operations that hash a password run on the heavy pool.
    const auto heavy = Execution::kHeavy;
    router.Add(
        "POST",
        "/v1/user2",
        pub,
        [&a](const ApiRequest& r) { return CreateOrConfirmUser(r, a, UserNames::kEmailOrPhone); },
        heavy
    );
    router.Add(
        "POST",
        "/v1/user",
        pub,
        [&a](const ApiRequest& r) { return CreateOrConfirmUser(r, a, UserNames::kEmailOnly); },
        heavy
    );
    router.Add("PUT", "/v1/user2", user, [&a](const ApiRequest& r) { return UpdateUser(r, a); });
    router.Add("PUT", "/v1/user", user, [&a](const ApiRequest& r) { return UpdateUserName(r, a); });
    router.Add("GET", "/v1/user2", user, [&a](const ApiRequest& r) { return GetUser(r, a); });
    router.Add("GET", "/v1/user", user, [&a](const ApiRequest& r) { return GetUser(r, a); });
    router.Add("DELETE", "/v1/user2", user, [&a](const ApiRequest& r) { return DeleteUser(r, a); });
    router.Add("DELETE", "/v1/user", user, [&a](const ApiRequest& r) { return DeleteUser(r, a); });
    router.Add(
        "POST", "/v1/login2", pub, [&a](const ApiRequest& r) { return Login2(r, a); }, heavy
    );
    router.Add(
        "POST", "/v1/login", pub, [&a](const ApiRequest& r) { return Login(r, a); }, heavy
    );
    router.Add("POST", "/v1/logout2", user, [&a](const ApiRequest& r) { return Logout2(r, a); });
    router.Add("POST", "/v1/logout", pub, [&a, &tokens](const ApiRequest& r) {
        return Logout(r, a, tokens);
    });
    router.Add(
        "PUT",
        "/v1/password2",
        user,
        [&a](const ApiRequest& r) { return ChangePassword(r, a); },
        heavy
    );
    router.Add(
        "PUT",
        "/v1/password",
        user,
        [&a](const ApiRequest& r) { return ChangePassword(r, a); },
        heavy
    );
    router.Add(
        "PUT",
        "/v1/forgotpassword2",
        pub,
        [&a](const ApiRequest& r) { return ForgotPassword(r, a, UserNames::kEmailOrPhone); },
        heavy
    );
    router.Add(
        "PUT",
        "/v1/forgotpassword",
        pub,
        [&a](const ApiRequest& r) { return ForgotPassword(r, a, UserNames::kEmailOnly); },
        heavy
    );
    router.Add("GET", "/v1/user/custom_data", user, [&a](const ApiRequest& r) {
        return GetCustomData(r, a);
    });
    router.Add("PUT", "/v1/user/custom_data", user, [&a](const ApiRequest& r) {
        return PutCustomData(r, a);
    });
    router.Add("GET", "/v1/user/public_profile", user, [&a](const ApiRequest& r) {
        return GetPublicProfile(r, a);
    });
    router.Add("PUT", "/v1/user/public_profile", user, [&a](const ApiRequest& r) {
        return PutPublicProfile(r, a);
    });
}

}  // namespace rainmaker::http::api
