// SigV4 presigned URLs against the example AWS documents for S3 ("Authenticating Requests:
// Using Query Parameters"): its credentials, date and expiry give its signature.
#include "crypto/aws_sigv4.hpp"

#include <gtest/gtest.h>

namespace rainmaker::crypto {
namespace {

AwsPresignRequest DocumentedExample() {
    AwsPresignRequest r;
    r.method = "GET";
    r.origin = "https://examplebucket.s3.amazonaws.com";
    r.path = "/test.txt";
    r.region = "us-east-1";
    r.service = "s3";
    r.access_key_id = "AKIAIOSFODNN7EXAMPLE";
    r.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    r.now = 1369353600;  // 2013-05-24T00:00:00Z
    r.expires = 86400;
    return r;
}

TEST(AwsSigV4, TheDocumentedPresignedUrl) {
    EXPECT_EQ(
        AwsPresignUrl(DocumentedExample()),
        "https://examplebucket.s3.amazonaws.com/test.txt"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
}

TEST(AwsSigV4, EverySignedPartChangesTheSignature) {
    const auto signature = [](const AwsPresignRequest& r) {
        const auto url = AwsPresignUrl(r);
        return url.substr(url.find("X-Amz-Signature=") + 16);
    };
    const auto base = signature(DocumentedExample());
    auto r = DocumentedExample();
    r.path = "/test.txu";
    EXPECT_NE(signature(r), base);
    r = DocumentedExample();
    r.method = "PUT";
    EXPECT_NE(signature(r), base);
    r = DocumentedExample();
    r.expires = 86401;
    EXPECT_NE(signature(r), base);
    r = DocumentedExample();
    r.secret_access_key += "x";
    EXPECT_NE(signature(r), base);
    r = DocumentedExample();
    r.headers.emplace_back("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==");
    EXPECT_NE(signature(r), base);
    EXPECT_NE(AwsPresignUrl(r).find("X-Amz-SignedHeaders=content-md5%3Bhost"), std::string::npos);
    r = DocumentedExample();
    r.query.emplace_back("response-content-disposition", "attachment; filename=\"a.bin\"");
    EXPECT_NE(signature(r), base);
    EXPECT_NE(
        AwsPresignUrl(r).find("&X-Amz-SignedHeaders=host&response-content-disposition="
                              "attachment%3B%20filename%3D%22a.bin%22&X-Amz-Signature="),
        std::string::npos
    );
}

TEST(AwsSigV4, EncodesPathsAndRefusesBadInput) {
    EXPECT_EQ(AwsUriEncode("a b/c~d+e", true), "a%20b/c~d%2Be");
    EXPECT_EQ(AwsUriEncode("a/b", false), "a%2Fb");
    auto r = DocumentedExample();
    r.expires = 604801;
    EXPECT_THROW(AwsPresignUrl(r), std::invalid_argument);
    r = DocumentedExample();
    r.expires = 0;
    EXPECT_THROW(AwsPresignUrl(r), std::invalid_argument);
    r = DocumentedExample();
    r.origin = "examplebucket.s3.amazonaws.com";
    EXPECT_THROW(AwsPresignUrl(r), std::invalid_argument);
}

}  // namespace
}  // namespace rainmaker::crypto
