// OAuth sign-in end to end against a fake OpenID Connect provider (tests/support/fake_oidc.mjs,
// which checks the server's side of the code exchange: its client secret, redirect_uri and PKCE
// verifier, and signs ES256 or RS256 id_tokens with the keys it publishes). The test plays the
// browser: GET /authorize sends it to the provider with our state, nonce and S256 challenge; it
// "logs in" there (login_hint) and carries the provider's code back to /cognitocallback (GET,
// or POST as form_post); the server sends it on to the app's redirect URI with a code of ours,
// which POST /token exchanges (form body, or the query as the SDK sends it) for tokens that work
// on the API. A new e-mail makes an account, the same e-mail again signs into it; a wrong
// state, a replayed code, an unverified e-mail, an unknown client and an unregistered redirect
// URI are refused as OAuth2 errors, and so are id_tokens with another nonce, issuer or audience,
// expired, badly signed or signed with a key or algorithm the server must not accept.
#include <cctype>
#include <map>
#include <openssl/sha.h>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/fake_oidc.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

constexpr const char* kProvider = "Fake";
constexpr const char* kAppClient = "app-client";
constexpr const char* kAppRedirect = "rainmaker://com.example.app/success";
constexpr const char* kAppState = "app-state";
// The server's callback as the provider knows it: its public URL, never fetched in these tests
// (the test carries the provider's answer to the server's loopback port itself).
constexpr const char* kCallbackUrl = "https://rainmaker.example.com/cognitocallback";
constexpr const char* kFormType = "application/x-www-form-urlencoded";

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string Encode(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// application/x-www-form-urlencoded decoding: %XX, and '+' as a space.
std::string Decode(const std::string& text) {
    const auto hex = [&text](std::size_t at) {
        return at < text.size() && std::isxdigit(static_cast<unsigned char>(text[at])) != 0;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%' && hex(i + 1) && hex(i + 2)) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// A URL split into what precedes the query and the query's parameters (decoded).
struct Url {
    std::string base;
    std::map<std::string, std::string> query;
    int repeated = 0;  // parameters given more than once

    bool Has(const std::string& key) const { return query.count(key) != 0; }

    std::string Get(const std::string& key) const {
        const auto it = query.find(key);
        return it == query.end() ? std::string() : it->second;
    }
};

Url ParseUrl(const std::string& url) {
    Url out;
    const auto q = url.find('?');
    out.base = url.substr(0, q);
    if (q == std::string::npos) {
        return out;
    }
    std::stringstream in(url.substr(q + 1));
    std::string pair;
    while (std::getline(in, pair, '&')) {
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        const auto key = Decode(pair.substr(0, eq));
        const auto value = eq == std::string::npos ? std::string() : Decode(pair.substr(eq + 1));
        if (!out.query.emplace(key, value).second) {
            ++out.repeated;
        }
    }
    return out;
}

// /authorize's query as the phone apps send it.
std::string AuthorizeQuery(
    const std::string& client_id = kAppClient,
    const std::string& redirect_uri = kAppRedirect,
    const std::string& provider = kProvider
) {
    return "identity_provider=" + Encode(provider) + "&client_id=" + Encode(client_id) +
           "&redirect_uri=" + Encode(redirect_uri) +
           "&response_type=code&state=" + Encode(kAppState);
}

std::string ServerConfig(const FakeOidc& idp) {
    return std::string("[oauth]\ncallback_url = \"") + kCallbackUrl + "\"\ntimeout_seconds = 5\n" +
           idp.ProviderToml(kProvider) + "[[oauth.clients]]\nclient_id = \"" + kAppClient +
           "\"\nredirect_uris = [\"" + kAppRedirect + "\"]\n";
}

// An OAuth2 error answer: `status`, JSON {"error": `error`, "error_description": "..."}, no
// redirect.
::testing::AssertionResult IsOAuthError(const HttpResult& r, int status, const std::string& error) {
    if (r.status != status || r.Str("error") != error || r.Str("error_description").empty() ||
        r.headers.count("location") != 0) {
        auto location = r.headers.count("location") != 0 ? r.headers.at("location") : "(none)";
        return ::testing::AssertionFailure()
               << "expected " << status << " {\"error\":\"" << error << "\"} without Location, got "
               << r.status << " " << r.body << ", Location " << location;
    }
    return ::testing::AssertionSuccess();
}

// Redirects carrying codes and states must not be cached (a 301 is cacheable by default).
bool NoStore(const HttpResult& r) {
    const auto cache = r.headers.find("cache-control");
    return cache != r.headers.end() && cache->second.find("no-store") != std::string::npos;
}

class OAuthTest : public ::testing::Test {
protected:
    OAuthTest()
        : config_(ServerConfig(idp_)),
          server_(config_.Options()),
          client_(server_.port()),
          idp_client_(idp_.port()) {}

    // GET /authorize?`query`: the server sends the browser to the provider's authorization
    // endpoint with an authorization-code request of its own; `at_provider` is that URL.
    void BeginSignIn(const std::string& query, std::string* at_provider) {
        const auto r = client_.Get("/authorize?" + query);
        ASSERT_EQ(r.status, 302) << r.body;
        ASSERT_EQ(r.headers.count("location"), 1U);
        EXPECT_TRUE(NoStore(r));
        *at_provider = r.headers.at("location");
        const auto url = ParseUrl(*at_provider);
        ASSERT_EQ(url.base, idp_.Issuer() + "/authorize") << *at_provider;
        EXPECT_EQ(url.repeated, 0) << *at_provider;
        EXPECT_EQ(url.Get("response_type"), "code");
        EXPECT_EQ(url.Get("client_id"), FakeOidc::kClientId);
        EXPECT_EQ(url.Get("redirect_uri"), kCallbackUrl);
        EXPECT_NE((" " + url.Get("scope") + " ").find(" openid "), std::string::npos);
        EXPECT_GE(url.Get("state").size(), 32U) << "a state of the server's own";
        EXPECT_NE(url.Get("state"), kAppState);
        EXPECT_GE(url.Get("nonce").size(), 32U);
        EXPECT_EQ(url.Get("code_challenge").size(), 43U);
        EXPECT_EQ(url.Get("code_challenge_method"), "S256");
    }

    // The user signs in at the provider as `email` (`knobs`: "&email_verified=false", ...); the
    // provider sends the browser to the callback URL, whose query is `from_provider`.
    void LogInAtProvider(
        const std::string& at_provider,
        const std::string& email,
        const std::string& knobs,
        Url* from_provider
    ) {
        const std::string origin = idp_.Issuer();
        ASSERT_EQ(at_provider.rfind(origin, 0), 0U) << at_provider;
        const auto r = idp_client_.Get(
            at_provider.substr(origin.size()) + "&login_hint=" + Encode(email) + knobs
        );
        ASSERT_EQ(r.status, 302) << "the provider refused the server's request: " << r.body;
        ASSERT_EQ(r.headers.count("location"), 1U);
        *from_provider = ParseUrl(r.headers.at("location"));
        ASSERT_EQ(from_provider->base, kCallbackUrl);
        EXPECT_EQ(from_provider->Get("state"), ParseUrl(at_provider).Get("state"));
    }

    // The browser brings the provider's answer to /cognitocallback (GET with the query, or POST
    // with it as a form, as response_mode=form_post does); the server sends it on to the app:
    // `to_app` is that URL.
    void Callback(const Url& from_provider, bool form_post, Url* to_app) {
        std::string params;
        for (const auto& [key, value] : from_provider.query) {
            params += (params.empty() ? "" : "&") + Encode(key) + "=" + Encode(value);
        }
        const auto r =
            form_post
                ? client_.Request("POST", "/cognitocallback", params, {{"Content-Type", kFormType}})
                : client_.Get("/cognitocallback?" + params);
        ASSERT_EQ(r.status, 301) << r.body;
        ASSERT_EQ(r.headers.count("location"), 1U);
        EXPECT_TRUE(NoStore(r));
        *to_app = ParseUrl(r.headers.at("location"));
        ASSERT_EQ(to_app->base, kAppRedirect) << r.headers.at("location");
        EXPECT_EQ(to_app->repeated, 0);
    }

    // The three browser steps, from the app's /authorize to the app's redirect URI.
    void SignIn(
        const std::string& email,
        const std::string& knobs,
        Url* to_app,
        const std::string& query = AuthorizeQuery(),
        bool form_post = false
    ) {
        std::string at_provider;
        ASSERT_NO_FATAL_FAILURE(BeginSignIn(query, &at_provider));
        Url from_provider;
        ASSERT_NO_FATAL_FAILURE(LogInAtProvider(at_provider, email, knobs, &from_provider));
        ASSERT_NO_FATAL_FAILURE(Callback(from_provider, form_post, to_app));
    }

    // SignIn that succeeds: our code for the app.
    void SignInCode(const std::string& email, const std::string& knobs, std::string* code) {
        Url to_app;
        ASSERT_NO_FATAL_FAILURE(SignIn(email, knobs, &to_app));
        ASSERT_FALSE(to_app.Has("error")) << to_app.Get("error_description");
        EXPECT_EQ(to_app.Get("state"), kAppState);
        *code = to_app.Get("code");
        ASSERT_FALSE(code->empty());
    }

    HttpResult Token(const std::string& form) {
        return client_.Request("POST", "/token", form, {{"Content-Type", kFormType}});
    }

    HttpResult ExchangeCode(const std::string& code) {
        return Token(
            "grant_type=authorization_code&code=" + Encode(code) +
            "&redirect_uri=" + Encode(kAppRedirect) + "&client_id=" + kAppClient
        );
    }

    // GET /v1/user with the token answer's access token: the profile.
    HttpResult Profile(const HttpResult& tokens) {
        return client_.Get("/v1/user", tokens.Str("access_token"));
    }

    std::string ListUsers() {
        std::string out;
        EXPECT_EQ(server_.RunCommand({"admin", "list-users"}, &out), 0) << out;
        return out;
    }

    // The provider refused none of the server's requests.
    void ExpectProviderRefusedNothing() {
        const auto log = idp_.Log();
        ASSERT_TRUE(log.ok);
        for (const auto& r : log.rejected) {
            ADD_FAILURE() << "the provider refused: " << r;
        }
    }

    FakeOidc idp_;
    TomlConfig config_;
    ServerProcess server_;
    HttpClient client_;
    HttpClient idp_client_;
};

// A token answer as OAuth2 gives it (RFC 6749 §5.1).
::testing::AssertionResult IsTokenAnswer(const HttpResult& r) {
    const auto* expires =
        r.json.is_object() ? r.json.as_object().if_contains("expires_in") : nullptr;
    if (r.status != 200 || r.Str("access_token").empty() || r.Str("id_token").empty() ||
        r.Str("refresh_token").empty() || r.Str("token_type") != "Bearer" || expires == nullptr ||
        !expires->is_int64() || expires->as_int64() <= 0) {
        return ::testing::AssertionFailure() << r.status << " " << r.body;
    }
    if (!NoStore(r)) {
        return ::testing::AssertionFailure() << "tokens without Cache-Control: no-store";
    }
    return ::testing::AssertionSuccess();
}

// A new e-mail: an account is made and signed in; the tokens work and refresh; the same
// e-mail again (another case, an RS256 id_token) signs into the same account.
TEST_F(OAuthTest, NewEmailGetsAnAccountAndSignsInAgainToIt) {
    std::string code;
    ASSERT_NO_FATAL_FAILURE(SignInCode("Alice.Smith@Example.COM", "&name=Alice%20Smith", &code));
    auto log = idp_.Log();
    EXPECT_EQ(log.token_requests, 1);
    EXPECT_EQ(log.tokens_issued, 1);
    EXPECT_GE(log.jwks_requests, 1);
    ExpectProviderRefusedNothing();

    const auto tokens = ExchangeCode(code);
    ASSERT_TRUE(IsTokenAnswer(tokens));
    const auto me = Profile(tokens);
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.Str("user_name"), "alice.smith@example.com");
    EXPECT_EQ(me.Str("name"), "Alice Smith");
    const std::string user_id = me.Str("user_id");
    ASSERT_FALSE(user_id.empty());
    const auto users = ListUsers();
    EXPECT_NE(users.find(user_id + "\talice.smith@example.com\tuser\tconfirmed"), std::string::npos)
        << users;

    const auto refreshed = Token(
        "grant_type=refresh_token&refresh_token=" + Encode(tokens.Str("refresh_token")) +
        "&client_id=" + kAppClient
    );
    ASSERT_TRUE(IsTokenAnswer(refreshed));
    EXPECT_EQ(refreshed.Str("refresh_token"), tokens.Str("refresh_token"));
    const auto me_refreshed = Profile(refreshed);
    ASSERT_EQ(me_refreshed.status, 200) << me_refreshed.body;
    EXPECT_EQ(me_refreshed.Str("user_id"), user_id);

    std::string again;
    ASSERT_NO_FATAL_FAILURE(SignInCode("alice.smith@example.com", "&alg=RS256", &again));
    EXPECT_NE(again, code);
    // This time the client authenticates with HTTP Basic (a public client: no secret).
    const auto second = client_.Request(
        "POST",
        "/token",
        "grant_type=authorization_code&code=" + Encode(again) +
            "&redirect_uri=" + Encode(kAppRedirect),
        {{"Content-Type", kFormType}, {"Authorization", "Basic YXBwLWNsaWVudDo="}}  // app-client:
    );
    ASSERT_TRUE(IsTokenAnswer(second));
    EXPECT_NE(second.Str("access_token"), tokens.Str("access_token"));
    const auto me_again = Profile(second);
    ASSERT_EQ(me_again.status, 200) << me_again.body;
    EXPECT_EQ(me_again.Str("user_id"), user_id);
    EXPECT_EQ(me_again.Str("user_name"), "alice.smith@example.com");
    const auto after = ListUsers();
    EXPECT_EQ(after.find("alice.smith@example.com"), after.rfind("alice.smith@example.com"))
        << "one account for the address: " << after;

    log = idp_.Log();
    EXPECT_EQ(log.token_requests, 2);
    EXPECT_EQ(log.tokens_issued, 2);
    ExpectProviderRefusedNothing();
}

// A state the server did not issue is refused with a JSON error and no redirect, before the
// provider is asked; the real state still works once, and only once.
TEST_F(OAuthTest, WrongStateAtTheCallbackIsRefused) {
    std::string at_provider;
    ASSERT_NO_FATAL_FAILURE(BeginSignIn(AuthorizeQuery(), &at_provider));
    Url from_provider;
    ASSERT_NO_FATAL_FAILURE(LogInAtProvider(at_provider, "bob@example.com", "", &from_provider));
    const std::string code = from_provider.Get("code");
    const std::string state = from_provider.Get("state");
    ASSERT_FALSE(code.empty());

    const auto wrong =
        client_.Get("/cognitocallback?code=" + Encode(code) + "&state=" + Encode(state + "x"));
    EXPECT_TRUE(IsOAuthError(wrong, 400, "invalid_request"));
    const auto none = client_.Get("/cognitocallback?code=" + Encode(code));
    EXPECT_TRUE(IsOAuthError(none, 400, "invalid_request"));
    EXPECT_EQ(idp_.Log().token_requests, 0) << "the provider was asked with a wrong state";

    Url to_app;
    ASSERT_NO_FATAL_FAILURE(Callback(from_provider, false, &to_app));
    EXPECT_FALSE(to_app.Get("code").empty()) << to_app.Get("error_description");
    EXPECT_EQ(to_app.Get("state"), kAppState);

    const auto replay =
        client_.Get("/cognitocallback?code=" + Encode(code) + "&state=" + Encode(state));
    EXPECT_TRUE(IsOAuthError(replay, 400, "invalid_request"));
    EXPECT_EQ(idp_.Log().token_requests, 1);
    ExpectProviderRefusedNothing();
}

// Our code is good for one exchange.
TEST_F(OAuthTest, ReplayedCodeAtTokenIsInvalidGrant) {
    std::string code;
    ASSERT_NO_FATAL_FAILURE(SignInCode("carol@example.com", "", &code));
    const auto first = ExchangeCode(code);
    ASSERT_TRUE(IsTokenAnswer(first));
    const auto second = ExchangeCode(code);
    EXPECT_TRUE(IsOAuthError(second, 400, "invalid_grant"));
    EXPECT_TRUE(second.Str("access_token").empty()) << second.body;
    const auto me = Profile(first);
    EXPECT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.Str("user_name"), "carol@example.com");
}

// An e-mail the provider has not verified, and a user who refuses at the provider: the app is
// sent back with error=access_denied and its state, and no account is made.
TEST_F(OAuthTest, UnverifiedEmailIsAccessDeniedWithoutAnAccount) {
    Url to_app;
    ASSERT_NO_FATAL_FAILURE(SignIn("dave@example.com", "&email_verified=false", &to_app));
    EXPECT_EQ(to_app.Get("error"), "access_denied");
    EXPECT_NE(to_app.Get("error_description").find("verified"), std::string::npos)
        << to_app.Get("error_description");
    EXPECT_EQ(to_app.Get("state"), kAppState);
    EXPECT_FALSE(to_app.Has("code"));
    auto log = idp_.Log();
    EXPECT_EQ(log.tokens_issued, 1) << "the server exchanged the code and refused the id_token";
    ExpectProviderRefusedNothing();
    EXPECT_EQ(ListUsers().find("dave@example.com"), std::string::npos) << ListUsers();
    const auto login = TryLogin(client_, "dave@example.com", kPassword);
    EXPECT_NE(login.status, 200) << login.body;

    Url refused;
    ASSERT_NO_FATAL_FAILURE(SignIn("dave@example.com", "&deny=1", &refused));
    EXPECT_EQ(refused.Get("error"), "access_denied");
    EXPECT_EQ(refused.Get("state"), kAppState);
    EXPECT_FALSE(refused.Has("code"));
    log = idp_.Log();
    EXPECT_EQ(log.token_requests, 1) << "the provider's refusal has no code to exchange";
    EXPECT_EQ(ListUsers().find("dave@example.com"), std::string::npos);
}

// id_tokens the server must not believe (each from the provider's real token endpoint, for a
// code of the real sign-in): the app gets access_denied and no account is made. An audience
// list naming the server among others is fine.
TEST_F(OAuthTest, ForgedOrMisdirectedIdTokensAreRefused) {
    for (const std::string forge :
         {"nonce", "iss", "aud", "exp", "sig", "kid", "weak_rsa", "none", "hs256", "der"}) {
        SCOPED_TRACE("forge=" + forge);
        const std::string email = "forged-" + forge + "@example.com";
        Url to_app;
        ASSERT_NO_FATAL_FAILURE(SignIn(email, "&forge=" + forge, &to_app));
        EXPECT_EQ(to_app.Get("error"), "access_denied") << to_app.Get("error_description");
        EXPECT_EQ(to_app.Get("state"), kAppState);
        EXPECT_FALSE(to_app.Has("code"));
        if (to_app.Has("code")) {
            const auto tokens = ExchangeCode(to_app.Get("code"));
            ADD_FAILURE() << "signed in with a forged id_token: " << Profile(tokens).body;
        }
    }
    const auto log = idp_.Log();
    EXPECT_EQ(log.tokens_issued, 10);
    ExpectProviderRefusedNothing();
    const auto users = ListUsers();
    EXPECT_EQ(users.find("forged-"), std::string::npos) << users;

    std::string code;
    ASSERT_NO_FATAL_FAILURE(SignInCode("listed@example.com", "&forge=aud_list", &code));
    const auto tokens = ExchangeCode(code);
    ASSERT_TRUE(IsTokenAnswer(tokens));
    EXPECT_EQ(Profile(tokens).Str("user_name"), "listed@example.com");
}

// The address of an existing account signs into it: a confirmed account keeps its password;
// an unconfirmed sign-up (anyone can start one for any address) is taken over by the address's
// verified owner, and the password it was started with stops working.
TEST_F(OAuthTest, ExistingAccountsOfTheAddress) {
    const auto password_user = SignUpAndLogin(client_, server_, "henry@example.com");
    const auto henry = client_.Get("/v1/user", password_user.accesstoken);
    ASSERT_EQ(henry.status, 200) << henry.body;
    std::string code;
    ASSERT_NO_FATAL_FAILURE(SignInCode("Henry@example.com", "", &code));
    const auto tokens = ExchangeCode(code);
    ASSERT_TRUE(IsTokenAnswer(tokens));
    EXPECT_EQ(Profile(tokens).Str("user_id"), henry.Str("user_id"));
    EXPECT_EQ(TryLogin(client_, "henry@example.com", kPassword).status, 200);

    SignUp(client_, "ivy@example.com", kOtherPassword);  // not confirmed
    ASSERT_NO_FATAL_FAILURE(SignInCode("ivy@example.com", "", &code));
    const auto ivy = ExchangeCode(code);
    ASSERT_TRUE(IsTokenAnswer(ivy));
    const auto profile = Profile(ivy);
    ASSERT_EQ(profile.status, 200) << profile.body;
    EXPECT_EQ(profile.Str("user_name"), "ivy@example.com");
    const auto squatter = TryLogin(client_, "ivy@example.com", kOtherPassword);
    EXPECT_NE(squatter.status, 200) << squatter.body;
    const auto users = ListUsers();
    EXPECT_NE(
        users.find(profile.Str("user_id") + "\tivy@example.com\tuser\tconfirmed"), std::string::npos
    ) << users;
}

// PKCE between the app and the server (RFC 7636, S256): the code goes only with the verifier.
TEST_F(OAuthTest, AppPkceIsChecked) {
    const std::string verifier = "app-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
    const std::string challenge =
        EncodeBase64Url(std::string(reinterpret_cast<const char*>(digest), sizeof digest));
    const std::string query =
        AuthorizeQuery() + "&code_challenge=" + challenge + "&code_challenge_method=S256";
    const std::string exchange =
        "grant_type=authorization_code&redirect_uri=" + Encode(kAppRedirect) +
        "&client_id=" + kAppClient + "&code=";

    Url to_app;
    ASSERT_NO_FATAL_FAILURE(SignIn("jack@example.com", "", &to_app, query));
    const auto without = Token(exchange + Encode(to_app.Get("code")));
    EXPECT_TRUE(IsOAuthError(without, 400, "invalid_grant"));
    ASSERT_NO_FATAL_FAILURE(SignIn("jack@example.com", "", &to_app, query));
    const auto wrong =
        Token(exchange + Encode(to_app.Get("code")) + "&code_verifier=" + verifier + "x");
    EXPECT_TRUE(IsOAuthError(wrong, 400, "invalid_grant"));
    ASSERT_NO_FATAL_FAILURE(SignIn("jack@example.com", "", &to_app, query));
    const auto right = Token(exchange + Encode(to_app.Get("code")) + "&code_verifier=" + verifier);
    ASSERT_TRUE(IsTokenAnswer(right));
    EXPECT_EQ(Profile(right).Str("user_name"), "jack@example.com");

    // A plain challenge, or one too short, goes back to the app before the provider is asked.
    for (const std::string& bad :
         {"&code_challenge=" + verifier + "&code_challenge_method=plain",
          std::string("&code_challenge=short&code_challenge_method=S256")}) {
        const auto r = client_.Get("/authorize?" + AuthorizeQuery() + bad);
        ASSERT_EQ(r.status, 302) << r.body;
        ASSERT_EQ(r.headers.count("location"), 1U);
        const auto back = ParseUrl(r.headers.at("location"));
        EXPECT_EQ(back.base, kAppRedirect) << bad;
        EXPECT_EQ(back.Get("error"), "invalid_request") << bad;
        EXPECT_EQ(back.Get("state"), kAppState) << bad;
    }
}

// The app's state comes back exactly as it was sent, whatever it holds.
TEST_F(OAuthTest, AppStateComesBackAsSent) {
    const std::string state = "a b&c=d/e?f+g%h\"";
    const std::string query =
        "identity_provider=Fake&client_id=app-client&redirect_uri=" + Encode(kAppRedirect) +
        "&response_type=code&state=";
    Url to_app;
    ASSERT_NO_FATAL_FAILURE(SignIn("kate@example.com", "", &to_app, query + Encode(state)));
    EXPECT_EQ(to_app.Get("state"), state);
    EXPECT_FALSE(to_app.Get("code").empty());
}

// Before the app's client and redirect URI are known good, nothing redirects.
TEST_F(OAuthTest, UnknownClientOrRedirectUriIsRefusedWithoutRedirect) {
    const auto unknown = client_.Get("/authorize?" + AuthorizeQuery("other-app"));
    EXPECT_TRUE(IsOAuthError(unknown, 401, "invalid_client"));
    for (const std::string uri :
         {"rainmaker://evil.example/success",
          "rainmaker://com.example.app/success/x",
          "rainmaker://com.example.app/success?x=1",
          "https://com.example.app/success"}) {
        const auto r = client_.Get("/authorize?" + AuthorizeQuery(kAppClient, uri));
        EXPECT_TRUE(IsOAuthError(r, 400, "invalid_request")) << uri;
    }
    // With both good, a later error (an unknown provider) goes back to the app.
    const auto provider =
        client_.Get("/authorize?" + AuthorizeQuery(kAppClient, kAppRedirect, "Nope"));
    ASSERT_EQ(provider.status, 302) << provider.body;
    ASSERT_EQ(provider.headers.count("location"), 1U);
    const auto back = ParseUrl(provider.headers.at("location"));
    EXPECT_EQ(back.base, kAppRedirect);
    EXPECT_EQ(back.Get("error"), "invalid_request");
    EXPECT_EQ(back.Get("state"), kAppState);
    EXPECT_EQ(idp_.Log().authorize_requests, 0);
}

// response_mode=form_post: the provider's answer arrives as a POSTed form.
TEST_F(OAuthTest, FormPostCallbackSignsIn) {
    Url to_app;
    ASSERT_NO_FATAL_FAILURE(SignIn("erin@example.com", "", &to_app, AuthorizeQuery(), true));
    ASSERT_FALSE(to_app.Has("error")) << to_app.Get("error_description");
    EXPECT_EQ(to_app.Get("state"), kAppState);
    const auto tokens = ExchangeCode(to_app.Get("code"));
    ASSERT_TRUE(IsTokenAnswer(tokens));
    const auto me = Profile(tokens);
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.Str("user_name"), "erin@example.com");
    ExpectProviderRefusedNothing();
}

// The SDK (2.1.1, LoginWithOauth.js): /authorize without a state, then POST /token with its
// parameters in the query string (URLSearchParams) and no body.
TEST_F(OAuthTest, SdkStyleTokenRequestWithQueryParameters) {
    const std::string query = "identity_provider=" + std::string(kProvider) +
                              "&redirect_uri=" + Encode(kAppRedirect) + "&client_id=" + kAppClient +
                              "&response_type=code";
    Url to_app;
    ASSERT_NO_FATAL_FAILURE(SignIn("frank@example.com", "", &to_app, query));
    ASSERT_FALSE(to_app.Has("error")) << to_app.Get("error_description");
    EXPECT_FALSE(to_app.Has("state")) << "no state was given";
    const std::string code = to_app.Get("code");
    ASSERT_FALSE(code.empty());

    const auto tokens = client_.Request(
        "POST",
        "/token?grant_type=authorization_code&redirect_uri=" + Encode(kAppRedirect) +
            "&client_id=" + kAppClient + "&code=" + Encode(code),
        "",
        {{"Content-Type", kFormType}}
    );
    ASSERT_TRUE(IsTokenAnswer(tokens));
    const auto me = Profile(tokens);
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.Str("user_name"), "frank@example.com");
    ExpectProviderRefusedNothing();
}

// RFC 6749 Appendix B: /authorize's parameters are application/x-www-form-urlencoded, where '+'
// is a space (URLSearchParams, which the SDK builds its URLs with, writes spaces so): "state=a+b"
// comes back to the app as "a b".
TEST_F(OAuthTest, FormEncodedPlusInTheQueryIsASpace) {
    const std::string query =
        "identity_provider=Fake&client_id=app-client&redirect_uri=" + Encode(kAppRedirect) +
        "&response_type=code&state=a+b";
    Url to_app;
    ASSERT_NO_FATAL_FAILURE(SignIn("lena@example.com", "", &to_app, query));
    EXPECT_EQ(to_app.Get("state"), "a b");
}

}  // namespace
}  // namespace rainmaker::testing
