// OAuth sign-in (domain/users) over SQLite with a scripted OpenID Connect provider: the whole
// flow (authorize → provider → callback → token), the client and redirect checks, the state
// taken once, a replayed code, PKCE, the id_token checks (signature, issuer, audience, expiry,
// nonce, verified e-mail), account linking, the refresh grant and HTTP Basic clients.
#include "domain/users/oauth_service.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "crypto/jwt.hpp"
#include "crypto/pki.hpp"
#include "domain/auth/token_service.hpp"
#include "outbound/mailbox_sender.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::users {
namespace {

constexpr const char* kRedirect = "rainmaker://com.example.app/success";
constexpr const char* kIssuer = "https://idp.example";

// The query parameter `key` of `url` (percent-decoding the few characters used here).
std::string QueryOf(const std::string& url, const std::string& key) {
    const auto at = url.find((url.find('?') == std::string::npos ? "" : "") + key + "=");
    if (at == std::string::npos || (url[at - 1] != '?' && url[at - 1] != '&')) {
        return {};
    }
    const auto start = at + key.size() + 1;
    std::string raw = url.substr(start, url.find('&', start) - start);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() + 0) {
            out += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += raw[i];
        }
    }
    return out;
}

std::string Coordinate(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key, name, &bn);
    std::string bytes(32, '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), 32);
    BN_free(bn);
    return crypto::Base64UrlEncode(bytes);
}

// The provider: answers its token endpoint with an id_token it signs, and its JWKS.
class FakeProvider final : public passthrough::ExternalHttp {
public:
    FakeProvider() {
        BIO* bio = BIO_new_mem_buf(key_.data(), static_cast<int>(key_.size()));
        EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        jwks_ = boost::json::serialize(boost::json::object{
            {"keys",
             boost::json::array{boost::json::object{
                 {"kty", "EC"},
                 {"crv", "P-256"},
                 {"kid", "k1"},
                 {"x", Coordinate(k, OSSL_PKEY_PARAM_EC_PUB_X)},
                 {"y", Coordinate(k, OSSL_PKEY_PARAM_EC_PUB_Y)}}}}});
        EVP_PKEY_free(k);
    }

    passthrough::ExternalAnswer Perform(const passthrough::ExternalRequest& r) override {
        requests.push_back(r);
        if (r.url == "https://idp.example/jwks") {
            return {200, "application/json", jwks_};
        }
        if (r.url == "https://idp.example/token") {
            const auto body = r.body.value_or("");
            if (body.find("code=provider-code") == std::string::npos ||
                body.find("code_verifier=") == std::string::npos) {
                return {400, "application/json", R"({"error":"invalid_grant"})"};
            }
            auto c = claims;
            if (!c.contains("nonce")) {
                c["nonce"] = nonce;
            }
            return {
                200,
                "application/json",
                boost::json::serialize(boost::json::object{
                    {"id_token", crypto::SignJws(signing_key, {{"kid", "k1"}, {"typ", "JWT"}}, c)},
                    {"access_token", "provider-access"}})};
        }
        return {404, "", ""};
    }

    std::string key_ = crypto::MakeKeyAndCsr("idp").key_pem;
    std::string signing_key = key_;
    std::string jwks_;
    std::string nonce;  // set by the test from the authorize URL
    boost::json::object claims{
        {"iss", kIssuer},
        {"aud", "server-at-idp"},
        {"sub", "idp-user-1"},
        {"email", "Alice@Example.com"},
        {"email_verified", true},
        {"name", "Alice"},
        {"exp", 1'800'000'000 + 3600}};
    std::vector<passthrough::ExternalRequest> requests;
};

class OAuthServiceTest : public ::testing::Test {
protected:
    OAuthServiceTest() {
        OAuthConfig config;
        config.callback_url = "https://rm.example/cognitocallback";
        OAuthProvider p;
        p.name = "Idp";
        p.issuer = kIssuer;
        p.authorization_endpoint = "https://idp.example/authorize";
        p.token_endpoint = "https://idp.example/token";
        p.jwks_uri = "https://idp.example/jwks";
        p.client_id = "server-at-idp";
        p.client_secret = "idp-secret";
        config.providers.push_back(p);
        config.clients.push_back(OAuthClient{"app", "", {kRedirect}});
        config.clients.push_back(OAuthClient{"backend", "backend-secret", {"https://b.example/cb"}}
        );
        CheckOAuthConfig(config);
        oauth_ = std::make_unique<OAuthService>(
            db_, accounts_, provider_, clock_, config, std::chrono::seconds(3600)
        );
    }

    AuthorizeInput Authorize(std::string client = "app", std::string redirect = kRedirect) {
        AuthorizeInput in;
        in.identity_provider = "Idp";
        in.client_id = std::move(client);
        in.redirect_uri = std::move(redirect);
        in.response_type = "code";
        in.state = "app-state";
        return in;
    }

    // Authorize, then the provider's callback: where the app is sent (with a code or an error).
    std::string SignIn(const AuthorizeInput& in) {
        const auto to_provider = oauth_->Authorize(in);
        provider_.nonce = QueryOf(to_provider, "nonce");
        CallbackInput cb;
        cb.code = "provider-code";
        cb.state = QueryOf(to_provider, "state");
        try {
            return oauth_->Callback(cb);
        } catch (const OAuthFailure& f) {
            return f.redirect;  // an error sent back to the app
        }
    }

    TokenInput CodeGrant(const std::string& code) {
        TokenInput t;
        t.grant_type = "authorization_code";
        t.code = code;
        t.redirect_uri = kRedirect;
        t.client_id = "app";
        return t;
    }

    // The error of an OAuthFailure `f` throws; "" when none.
    template <typename F>
    OAuthFailure FailureOf(F&& f) {
        try {
            f();
        } catch (const OAuthFailure& failure) {
            return failure;
        }
        return OAuthFailure("", "");
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
    std::unique_ptr<crypto::JwtSigner> signer_ =
        crypto::JwtSigner::LoadOrCreate(dir_.path() / "k.pem");
    auth::TokenService tokens_{*signer_, db_, clock_, auth::TokenConfig{}};
    outbound::MailboxSender mailbox_{dir_.path() / "mailbox"};
    AccountService accounts_{db_, tokens_, mailbox_, clock_, AccountConfig{}};
    FakeProvider provider_;
    std::unique_ptr<OAuthService> oauth_;
};

TEST_F(OAuthServiceTest, TheFullFlowSignsInTheVerifiedAddressOnce) {
    const auto to_provider = oauth_->Authorize(Authorize());
    EXPECT_EQ(to_provider.rfind("https://idp.example/authorize?", 0), 0u) << to_provider;
    EXPECT_EQ(QueryOf(to_provider, "client_id"), "server-at-idp");
    EXPECT_EQ(QueryOf(to_provider, "redirect_uri"), "https://rm.example/cognitocallback");
    EXPECT_EQ(QueryOf(to_provider, "code_challenge_method"), "S256");
    EXPECT_EQ(QueryOf(to_provider, "response_type"), "code");
    EXPECT_FALSE(QueryOf(to_provider, "state").empty());
    EXPECT_NE(QueryOf(to_provider, "state"), "app-state");  // ours, not the app's

    provider_.nonce = QueryOf(to_provider, "nonce");
    CallbackInput cb;
    cb.code = "provider-code";
    cb.state = QueryOf(to_provider, "state");
    const auto back = oauth_->Callback(cb);
    EXPECT_EQ(back.rfind(std::string(kRedirect) + "?code=", 0), 0u) << back;
    EXPECT_EQ(QueryOf(back, "state"), "app-state");
    // Our PKCE verifier went to the provider and matches the challenge we sent.
    const auto& exchange = provider_.requests.front();
    const auto body = exchange.body.value_or("");
    const auto verifier = QueryOf("?" + body, "code_verifier");
    EXPECT_EQ(
        crypto::Base64UrlEncode(crypto::Sha256(verifier)), QueryOf(to_provider, "code_challenge")
    );
    EXPECT_NE(body.find("client_secret=idp-secret"), std::string::npos);
    // The same state again: taken already.
    EXPECT_EQ(FailureOf([&] { oauth_->Callback(cb); }).error, "invalid_request");

    const auto answer = oauth_->Token(CodeGrant(QueryOf(back, "code")), "");
    const auto claims = signer_->Verify(answer.access_token);
    ASSERT_TRUE(claims);
    const auto user = db_.Users().FindByName("alice@example.com");
    ASSERT_TRUE(user);
    EXPECT_TRUE(user->confirmed);
    EXPECT_TRUE(user->password_hash.empty());
    EXPECT_EQ(user->name, "Alice");
    EXPECT_EQ(answer.expires_in, 3600);
    EXPECT_FALSE(answer.refresh_token.empty());
    // The code is single-use.
    EXPECT_EQ(
        FailureOf([&] { oauth_->Token(CodeGrant(QueryOf(back, "code")), ""); }).error,
        "invalid_grant"
    );

    // The refresh grant answers new tokens for the same session.
    TokenInput refresh;
    refresh.grant_type = "refresh_token";
    refresh.refresh_token = answer.refresh_token;
    refresh.client_id = "app";
    const auto renewed = oauth_->Token(refresh, "");
    EXPECT_TRUE(signer_->Verify(renewed.access_token));
    refresh.refresh_token = "nope";
    EXPECT_EQ(FailureOf([&] { oauth_->Token(refresh, ""); }).error, "invalid_grant");
    refresh.grant_type = "password";
    EXPECT_EQ(FailureOf([&] { oauth_->Token(refresh, ""); }).error, "unsupported_grant_type");
}

TEST_F(OAuthServiceTest, ClientsAndRedirectsAreCheckedBeforeAnythingIsSent) {
    auto f = FailureOf([&] { oauth_->Authorize(Authorize("nobody")); });
    EXPECT_EQ(f.error, "invalid_client");
    EXPECT_EQ(f.status, 401);
    f = FailureOf([&] { oauth_->Authorize(Authorize("app", "https://evil.example/cb")); });
    EXPECT_EQ(f.error, "invalid_request");
    EXPECT_TRUE(f.redirect.empty()) << "never redirect to an unregistered URI";
    // Once the redirect URI is the client's, errors go back to the app.
    auto in = Authorize();
    in.identity_provider = "Other";
    f = FailureOf([&] { oauth_->Authorize(in); });
    EXPECT_EQ(f.redirect.rfind(std::string(kRedirect) + "?error=invalid_request", 0), 0u)
        << f.redirect;
    EXPECT_EQ(QueryOf(f.redirect, "state"), "app-state");
    in = Authorize();
    in.response_type = "token";
    EXPECT_EQ(FailureOf([&] { oauth_->Authorize(in); }).error, "unsupported_response_type");
    in = Authorize();
    in.code_challenge = std::string(43, 'a');
    in.code_challenge_method = "plain";
    EXPECT_EQ(FailureOf([&] { oauth_->Authorize(in); }).error, "invalid_request");
    EXPECT_TRUE(provider_.requests.empty());
    // A wrong state is refused without a redirect (nobody to send back).
    CallbackInput cb;
    cb.code = "provider-code";
    cb.state = "forged";
    f = FailureOf([&] { oauth_->Callback(cb); });
    EXPECT_EQ(f.error, "invalid_request");
    EXPECT_TRUE(f.redirect.empty());
}

TEST_F(OAuthServiceTest, IdTokensNotForThisSignInAreRefused) {
    const auto refused = [&](auto change) {
        FakeProvider fresh;
        provider_.claims = fresh.claims;
        provider_.signing_key = provider_.key_;
        change();
        const auto back = SignIn(Authorize());
        return QueryOf(back, "error");
    };
    EXPECT_EQ(refused([] {}), "");
    EXPECT_EQ(refused([&] { provider_.claims["email_verified"] = false; }), "access_denied");
    EXPECT_EQ(refused([&] { provider_.claims.erase("email_verified"); }), "access_denied");
    EXPECT_EQ(refused([&] { provider_.claims["iss"] = "https://other.example"; }), "access_denied");
    EXPECT_EQ(refused([&] { provider_.claims["aud"] = "another-client"; }), "access_denied");
    EXPECT_EQ(refused([&] { provider_.claims["exp"] = 1'800'000'000 - 3600; }), "access_denied");
    EXPECT_EQ(refused([&] { provider_.claims["nonce"] = "replayed-nonce"; }), "access_denied");
    EXPECT_EQ(
        refused([&] { provider_.signing_key = crypto::MakeKeyAndCsr("x").key_pem; }),
        "access_denied"
    );
    // An audience list holding ours is fine.
    EXPECT_EQ(
        refused([&] {
            provider_.claims["aud"] = boost::json::array{"x", "server-at-idp"};
        }),
        ""
    );
    EXPECT_FALSE(db_.Users().FindByName("alice@example.com") == std::nullopt);
}

TEST_F(OAuthServiceTest, AnUnconfirmedSignUpIsTakenOverWithoutItsPassword) {
    storage::UserRow squatter;
    squatter.user_id = "u-squat";
    squatter.user_name = "alice@example.com";
    squatter.password_hash = "$argon2id$set-by-someone-else";
    squatter.created_at = 1;
    ASSERT_TRUE(db_.Users().Insert(squatter));
    const auto back = SignIn(Authorize());
    ASSERT_EQ(QueryOf(back, "error"), "");
    oauth_->Token(CodeGrant(QueryOf(back, "code")), "");
    const auto user = db_.Users().FindById("u-squat");
    ASSERT_TRUE(user);
    EXPECT_TRUE(user->confirmed);
    EXPECT_TRUE(user->password_hash.empty());
}

TEST_F(OAuthServiceTest, ConfidentialClientsPkceAndRedirectsMustMatch) {
    auto in = Authorize("backend", "https://b.example/cb");
    in.code_challenge =
        crypto::Base64UrlEncode(crypto::Sha256("the-app-verifier-of-43-characters-at-least!!"));
    in.code_challenge_method = "S256";
    const auto back = SignIn(in);
    const auto code = QueryOf(back, "code");
    ASSERT_FALSE(code.empty()) << back;
    TokenInput t = CodeGrant(code);
    t.client_id = "backend";
    t.redirect_uri = "https://b.example/cb";
    EXPECT_EQ(FailureOf([&] { oauth_->Token(t, ""); }).error, "invalid_client");  // no secret
    t.client_secret = "wrong";
    EXPECT_EQ(FailureOf([&] { oauth_->Token(t, ""); }).status, 401);
    t.client_secret.reset();
    t.client_id.reset();
    const auto basic = "Basic " + crypto::Base64Encode("backend:backend-secret");
    // The right client but no verifier: refused, and the code is spent.
    EXPECT_EQ(FailureOf([&] { oauth_->Token(t, basic); }).error, "invalid_grant");
    // A new code, with the verifier.
    const auto again = QueryOf(SignIn(in), "code");
    t.code = again;
    t.code_verifier = "the-app-verifier-of-43-characters-at-least!!";
    t.redirect_uri = "https://b.example/other";
    EXPECT_EQ(FailureOf([&] { oauth_->Token(t, basic); }).error, "invalid_grant");
    const auto third = QueryOf(SignIn(in), "code");
    t.code = third;
    t.redirect_uri = "https://b.example/cb";
    EXPECT_FALSE(oauth_->Token(t, basic).access_token.empty());
    // Codes expire.
    const auto late = QueryOf(SignIn(in), "code");
    clock_.Advance(std::chrono::seconds(301));
    t.code = late;
    EXPECT_EQ(FailureOf([&] { oauth_->Token(t, basic); }).error, "invalid_grant");
}

}  // namespace
}  // namespace rainmaker::domain::users
