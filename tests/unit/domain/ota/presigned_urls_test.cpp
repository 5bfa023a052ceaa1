// The presigned URL layout and checks: a download or upload URL works for its method and path
// until it expires, and not for another object, method or Content-MD5; file names are made
// safe for a URL path.
#include "domain/ota/presigned_urls.hpp"

#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/fake_clock.hpp"

namespace rainmaker::domain::ota {
namespace {

using namespace std::chrono_literals;

struct Parts {
    std::string path;
    std::string expires;
    std::string signature;
};

Parts Split(const std::string& url, const std::string& base) {
    EXPECT_EQ(url.rfind(base, 0), 0U) << url;
    static const std::regex kQuery(R"(^([^?]+)\?expires=(\d+)&signature=([0-9a-f]{64})$)");
    std::smatch m;
    const std::string rest = url.substr(base.size());
    EXPECT_TRUE(std::regex_match(rest, m, kQuery)) << url;
    return {m[1].str(), m[2].str(), m[3].str()};
}

int Code(const std::function<void()>& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        return e.http_status() * 1000000 + e.wire_code();
    }
    return 0;
}

constexpr int kInvalid = 403 * 1000000 + 100004;

class PresignedUrlsTest : public ::testing::Test {
protected:
    testing::FakeClock clock_;
    crypto::UrlSigner signer_{std::string(32, 's')};
    PresignedUrls urls_{signer_, clock_, "https://ota.example.com:8443"};
};

TEST_F(PresignedUrlsTest, ADownloadUrlWorksForItsBlobUntilItExpires) {
    const std::string key(64, 'a');
    const auto url = urls_.DownloadUrl(key, "light 2.0/../x.bin", 3600s);
    const auto p = Split(url, "https://ota.example.com:8443");
    EXPECT_EQ(p.path, "/blobs/" + key + "/light_2.0_.._x.bin");
    EXPECT_EQ(p.expires, std::to_string(clock_.NowSeconds() + 3600));
    EXPECT_EQ(Code([&] { urls_.Check("GET", p.path, &p.expires, &p.signature, ""); }), 0);
    // Another blob, another name, another method: refused.
    const std::string other = "/blobs/" + std::string(64, 'b') + "/light_2.0_.._x.bin";
    EXPECT_EQ(Code([&] { urls_.Check("GET", other, &p.expires, &p.signature, ""); }), kInvalid);
    EXPECT_EQ(Code([&] { urls_.Check("PUT", p.path, &p.expires, &p.signature, ""); }), kInvalid);
    EXPECT_EQ(Code([&] { urls_.Check("GET", p.path, nullptr, &p.signature, ""); }), kInvalid);
    EXPECT_EQ(Code([&] { urls_.Check("GET", p.path, &p.expires, nullptr, ""); }), kInvalid);
    clock_.Advance(3601s);
    try {
        urls_.Check("GET", p.path, &p.expires, &p.signature, "");
        ADD_FAILURE() << "an expired URL was accepted";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kPresignedUrlExpired);
        EXPECT_EQ(e.http_status(), 403);
    }
}

TEST_F(PresignedUrlsTest, AnUploadUrlBindsTheContentMd5ItWasMadeWith) {
    const std::string md5 = "1B2M2Y8AsgTpgAmY7PhCfg==";
    const auto with = Split(urls_.UploadUrl("Up1", md5, 60s), urls_.Base());
    EXPECT_EQ(with.path, "/uploads/Up1");
    EXPECT_EQ(Code([&] { urls_.Check("PUT", with.path, &with.expires, &with.signature, md5); }), 0);
    EXPECT_EQ(
        Code([&] { urls_.Check("PUT", with.path, &with.expires, &with.signature, ""); }), kInvalid
    );
    EXPECT_EQ(
        Code([&] { urls_.Check("PUT", "/uploads/Up2", &with.expires, &with.signature, md5); }),
        kInvalid
    );
    // The base changes once a free port is known; URLs made before stay valid (same path).
    urls_.SetBase("https://ota.example.com:9443");
    EXPECT_EQ(
        urls_.UploadUrl("Up1", "", 60s).rfind("https://ota.example.com:9443/uploads/Up1?", 0), 0U
    );
}

TEST(PresignedUrlsNames, FileNamesAreMadeSafeForAPath) {
    EXPECT_EQ(PresignedUrls::SafeFileName("fw-1.0_b.bin"), "fw-1.0_b.bin");
    EXPECT_EQ(PresignedUrls::SafeFileName("a b/c?d#e%f"), "a_b_c_d_e_f");
    EXPECT_EQ(PresignedUrls::SafeFileName(""), "image.bin");
    EXPECT_EQ(PresignedUrls::SafeFileName(".."), "image.bin");
    EXPECT_EQ(PresignedUrls::SafeFileName(std::string(300, 'x')).size(), 100U);
    EXPECT_EQ(PresignedUrls::SafeFileName("\xC3\xA9t\xC3\xA9"), "__t__");
}

}  // namespace
}  // namespace rainmaker::domain::ota
