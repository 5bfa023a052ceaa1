// The FCM and APNs senders against a scripted poster: FCM's token exchange (an RS256 JWT that
// verifies with the service account's key, with its claims), the cached access token and its
// renewal after a 401, the message, invalid tokens gone; APNs's ES256 provider token (kid, iss),
// headers, HTTP/2, the sandbox base, a device token that cannot leave the URL path, and 410 /
// BadDeviceToken gone. Also crypto::SignJws for both key types.
#include <deque>
#include <fstream>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/jws.hpp"
#include "crypto/pki.hpp"
#include "outbound/apns_sender.hpp"
#include "outbound/fcm_sender.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::outbound {
namespace {

using domain::events::Poster;
using domain::events::PostRequest;
using domain::events::SendResult;

class ScriptedPoster final : public Poster {
public:
    Result Post(const PostRequest& request) override {
        sent.push_back(request);
        if (answers.empty()) {
            return Result{200, "", "{}"};
        }
        auto a = answers.front();
        answers.pop_front();
        return a;
    }

    std::string Header(std::size_t i, std::string_view name) const {
        for (const auto& [k, v] : sent.at(i).headers) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }

    std::deque<Result> answers;
    std::vector<PostRequest> sent;
};

// Whether `token` is a JWS signed by `key_pem`'s key; its header and claims into the outputs.
bool Verifies(
    const std::string& token,
    const std::string& key_pem,
    boost::json::object& header,
    boost::json::object& claims
) {
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
        return false;
    }
    header = boost::json::parse(*crypto::Base64UrlDecode(token.substr(0, first))).as_object();
    claims =
        boost::json::parse(*crypto::Base64UrlDecode(token.substr(first + 1, second - first - 1)))
            .as_object();
    auto signature = *crypto::Base64UrlDecode(token.substr(second + 1));
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (header.at("alg") == "ES256") {  // raw r‖s to DER
        ECDSA_SIG* sig = ECDSA_SIG_new();
        const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
        ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
        unsigned char* der = nullptr;
        const int size = i2d_ECDSA_SIG(sig, &der);
        signature.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
        OPENSSL_free(der);
        ECDSA_SIG_free(sig);
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const std::string input = token.substr(0, second);
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(
                        ctx,
                        reinterpret_cast<const unsigned char*>(signature.data()),
                        signature.size(),
                        reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()
                    ) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

std::string Notification() {
    return R"({"title":"Front door","body":"Door open","node_id":"n1",)"
           R"("event_type":"rmaker.event.alert","event_id":7,"data":{"esp.alert.str":"Door open"}})";
}

storage::PushEndpointRow Endpoint(std::string platform, std::string token) {
    storage::PushEndpointRow e;
    e.endpoint_arn = "arn:rainmaker:push:endpoint/x";
    e.platform = std::move(platform);
    e.device_token = std::move(token);
    return e;
}

TEST(SignJws, SignsWithRsaAndP256KeysAndRefusesOthers) {
    boost::json::object header;
    boost::json::object claims;
    const auto rsa = crypto::MakeKeyAndCsr("a", crypto::KeyType::kRsa2048).key_pem;
    auto token = crypto::SignJws(rsa, {{"typ", "JWT"}}, {{"iss", "me"}});
    ASSERT_TRUE(Verifies(token, rsa, header, claims));
    EXPECT_EQ(header.at("alg"), "RS256");
    EXPECT_EQ(claims.at("iss"), "me");
    const auto ec = crypto::MakeKeyAndCsr("b").key_pem;
    token = crypto::SignJws(ec, {{"kid", "K"}}, {{"iss", "team"}});
    ASSERT_TRUE(Verifies(token, ec, header, claims));
    EXPECT_EQ(header.at("alg"), "ES256");
    EXPECT_EQ(header.at("kid"), "K");
    // Another key does not verify it.
    EXPECT_FALSE(Verifies(token, crypto::MakeKeyAndCsr("c").key_pem, header, claims));
    EXPECT_THROW(crypto::SignJws("not a key", {}, {}), std::invalid_argument);
}

class FcmSenderTest : public ::testing::Test {
protected:
    FcmSenderTest() {
        const auto file = dir_.path() / "sa.json";
        std::ofstream(file) << boost::json::serialize(boost::json::object{
            {"type", "service_account"},
            {"project_id", "proj-1"},
            {"client_email", "pusher@proj-1.iam.example"},
            {"private_key", key_},
            {"token_uri", "https://oauth.example/token"}});
        config_.service_account_file = file;
        config_.base_url = "https://fcm.example";
    }

    testing::TempDir dir_;
    std::string key_ = crypto::MakeKeyAndCsr("sa", crypto::KeyType::kRsa2048).key_pem;
    FcmConfig config_;
    ScriptedPoster poster_;
};

TEST_F(FcmSenderTest, ExchangesASignedJwtOnceAndSendsTheMessage) {
    FcmSender sender(config_);
    poster_.answers = {
        {200, "", R"({"access_token":"at-1","expires_in":3600,"token_type":"Bearer"})"},
        {200, "", R"({"name":"projects/proj-1/messages/1"})"},
        {200, "", "{}"}};
    EXPECT_EQ(
        sender.Send(poster_, Endpoint("GCM", "tok-1"), Notification()).outcome,
        SendResult::Outcome::kSent
    );
    EXPECT_EQ(
        sender.Send(poster_, Endpoint("GCM", "tok-2"), Notification()).outcome,
        SendResult::Outcome::kSent
    );
    ASSERT_EQ(poster_.sent.size(), 3u);  // one token exchange for both
    const auto& exchange = poster_.sent[0];
    EXPECT_EQ(exchange.url, "https://oauth.example/token");
    const std::string prefix =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    ASSERT_EQ(exchange.body.rfind(prefix, 0), 0u) << exchange.body;
    boost::json::object header;
    boost::json::object claims;
    ASSERT_TRUE(Verifies(exchange.body.substr(prefix.size()), key_, header, claims));
    EXPECT_EQ(header.at("alg"), "RS256");
    EXPECT_EQ(claims.at("iss"), "pusher@proj-1.iam.example");
    EXPECT_EQ(claims.at("aud"), "https://oauth.example/token");
    EXPECT_EQ(claims.at("scope"), "https://www.googleapis.com/auth/firebase.messaging");
    EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 3600);

    EXPECT_EQ(poster_.sent[1].url, "https://fcm.example/v1/projects/proj-1/messages:send");
    EXPECT_EQ(poster_.Header(1, "Authorization"), "Bearer at-1");
    const auto message = boost::json::parse(poster_.sent[1].body).at("message");
    EXPECT_EQ(message.at("token"), "tok-1");
    EXPECT_EQ(message.at("notification").at("title"), "Front door");
    EXPECT_EQ(message.at("notification").at("body"), "Door open");
    EXPECT_EQ(message.at("data").at("node_id"), "n1");
    EXPECT_EQ(message.at("data").at("event_id"), "7");  // FCM data values are strings
    EXPECT_EQ(boost::json::parse(poster_.sent[2].body).at("message").at("token"), "tok-2");
}

TEST_F(FcmSenderTest, UnknownTokensAreGoneAndARefusedAccessTokenIsFetchedAgain) {
    FcmSender sender(config_);
    poster_.answers = {
        {200, "", R"({"access_token":"at-1","expires_in":3600})"},
        {404, "", R"({"error":{"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}})"},
        {404, "", "<html>Not Found</html>"},
        {401, "", "{}"},
        {200, "", R"({"access_token":"at-2","expires_in":3600})"},
        {200, "", "{}"},
        {503, "", "{}"}};
    auto r = sender.Send(poster_, Endpoint("GCM", "gone"), Notification());
    EXPECT_EQ(r.outcome, SendResult::Outcome::kGone);
    // A 404 that is not FCM's word on the token (a wrong base URL, a proxy) removes nothing.
    r = sender.Send(poster_, Endpoint("GCM", "tok"), Notification());
    EXPECT_EQ(r.outcome, SendResult::Outcome::kFailed);
    r = sender.Send(poster_, Endpoint("GCM", "tok"), Notification());
    EXPECT_EQ(r.outcome, SendResult::Outcome::kFailed);
    EXPECT_EQ(r.error, "FCM HTTP 401");
    EXPECT_EQ(
        sender.Send(poster_, Endpoint("GCM", "tok"), Notification()).outcome,
        SendResult::Outcome::kSent
    );
    EXPECT_EQ(poster_.Header(5, "Authorization"), "Bearer at-2");
    EXPECT_EQ(
        sender.Send(poster_, Endpoint("GCM", "tok"), Notification()).outcome,
        SendResult::Outcome::kFailed
    );
    // No token: nothing sent, the send failed (and is retried).
    poster_.answers = {{500, "", "{}"}};
    FcmSender fresh(config_);
    r = fresh.Send(poster_, Endpoint("GCM", "tok"), Notification());
    EXPECT_EQ(r.outcome, SendResult::Outcome::kFailed);
    EXPECT_EQ(r.error, "FCM token: HTTP 500");
}

TEST_F(FcmSenderTest, AServiceAccountWithoutItsMembersIsRefusedAtStart) {
    std::ofstream(config_.service_account_file) << R"({"type":"service_account","project_id":"p"})";
    EXPECT_THROW(FcmSender{config_}, std::runtime_error);
    std::ofstream(config_.service_account_file)
        << R"({"type":"service_account","project_id":"p","client_email":"e","private_key":"x",)"
           R"("token_uri":"https://t"})";
    EXPECT_ANY_THROW(FcmSender{config_});  // a key that does not sign
}

class ApnsSenderTest : public ::testing::Test {
protected:
    ApnsSenderTest() {
        std::ofstream(dir_.path() / "key.p8") << key_;
        config_.key_file = dir_.path() / "key.p8";
        config_.key_id = "KEY123";
        config_.team_id = "TEAM99";
        config_.topic = "com.example.app";
        config_.base_url = "https://apns.example";
        config_.sandbox_url = "https://sandbox.apns.example";
    }

    testing::TempDir dir_;
    std::string key_ = crypto::MakeKeyAndCsr("apns").key_pem;
    ApnsConfig config_;
    ScriptedPoster poster_;
};

TEST_F(ApnsSenderTest, SendsOverHttp2WithAProviderTokenToTheRightBase) {
    ApnsSender sender(config_);
    EXPECT_EQ(
        sender.Send(poster_, Endpoint("APNS", "abc123"), Notification()).outcome,
        SendResult::Outcome::kSent
    );
    EXPECT_EQ(
        sender.Send(poster_, Endpoint("APNS_SANDBOX", "../x?y"), Notification()).outcome,
        SendResult::Outcome::kSent
    );
    ASSERT_EQ(poster_.sent.size(), 2u);
    EXPECT_EQ(poster_.sent[0].url, "https://apns.example/3/device/abc123");
    EXPECT_TRUE(poster_.sent[0].http2);
    // A token cannot leave the path.
    EXPECT_EQ(poster_.sent[1].url, "https://sandbox.apns.example/3/device/%2E%2E%2Fx%3Fy");
    EXPECT_EQ(poster_.Header(0, "apns-topic"), "com.example.app");
    EXPECT_EQ(poster_.Header(0, "apns-push-type"), "alert");
    const auto auth = poster_.Header(0, "authorization");
    ASSERT_EQ(auth.rfind("bearer ", 0), 0u);
    boost::json::object header;
    boost::json::object claims;
    ASSERT_TRUE(Verifies(auth.substr(7), key_, header, claims));
    EXPECT_EQ(header.at("alg"), "ES256");
    EXPECT_EQ(header.at("kid"), "KEY123");
    EXPECT_EQ(claims.at("iss"), "TEAM99");
    EXPECT_EQ(poster_.Header(1, "authorization"), auth);  // reused
    const auto body = boost::json::parse(poster_.sent[0].body);
    EXPECT_EQ(body.at("aps").at("alert").at("title"), "Front door");
    EXPECT_EQ(body.at("aps").at("alert").at("body"), "Door open");
}

TEST_F(ApnsSenderTest, InvalidTokensAreGoneOtherFailuresRetried) {
    ApnsSender sender(config_);
    poster_.answers = {
        {410, "", R"({"reason":"Unregistered"})"},
        {400, "", R"({"reason":"BadDeviceToken"})"},
        {200, "", ""},
        {400, "", R"({"reason":"BadDeviceToken"})"},
        {400, "", R"({"reason":"DeviceTokenNotForTopic"})"},
        {400, "", R"({"reason":"PayloadTooLarge"})"},
        {0, "timed out", ""}};
    const auto outcome = [&](const char* token) {
        return sender.Send(poster_, Endpoint("APNS", token), Notification()).outcome;
    };
    EXPECT_EQ(outcome("a"), SendResult::Outcome::kGone);
    // A bad token before APNs ever accepted a push may be swapped URLs: not believed yet.
    EXPECT_EQ(outcome("b"), SendResult::Outcome::kFailed);
    EXPECT_EQ(outcome("ok"), SendResult::Outcome::kSent);
    EXPECT_EQ(outcome("b"), SendResult::Outcome::kGone);
    // A wrong topic is the configuration's mistake, not the token's.
    EXPECT_EQ(outcome("t"), SendResult::Outcome::kFailed);
    EXPECT_EQ(outcome("c"), SendResult::Outcome::kFailed);
    const auto r = sender.Send(poster_, Endpoint("APNS", "d"), Notification());
    EXPECT_EQ(r.outcome, SendResult::Outcome::kFailed);
    EXPECT_EQ(r.error, "timed out");
    config_.team_id.clear();
    EXPECT_THROW(ApnsSender{config_}, std::runtime_error);
}

}  // namespace
}  // namespace rainmaker::outbound
