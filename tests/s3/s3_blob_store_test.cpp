// The S3 blob store against a real bucket on the tests' S3 server, whose every request must be
// signed (SigV4, checked with AWS's own signer): content addressing, streamed writers and
// ranged readers, a damaged object refused, wrong credentials and buckets told at start,
// presigned downloads and uploads that work only as signed (object, method, Content-MD5, time).
#include "storage/s3/s3_blob_store.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "s3/fake_s3.hpp"

namespace rainmaker::storage::s3 {
namespace {

using testing::FakeS3;
using testing::FetchUrl;
namespace fs = std::filesystem;

std::string Md5Base64(std::string_view bytes) {
    crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
    md5.Update(bytes);
    return crypto::Base64Encode(md5.Final());
}

// Bytes that differ at every offset (so a read from a wrong place shows).
std::string Pattern(std::size_t size) {
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = static_cast<char>((i * 7 + i / 251) & 0xFF);
    }
    return out;
}

// The real time unless set: the S3 server checks a signature's date against its own clock.
class SettableClock final : public core::Clock {
public:
    std::chrono::system_clock::time_point Now() const override { return wall_; }

    std::chrono::steady_clock::time_point Monotonic() const override {
        return std::chrono::steady_clock::now();
    }

    void SetSystemTime(std::chrono::system_clock::time_point wall) { wall_ = wall; }

private:
    std::chrono::system_clock::time_point wall_ = std::chrono::system_clock::now();
};

class S3BlobStoreTest : public ::testing::Test {
protected:
    S3BlobStore Store(S3Config config) { return S3BlobStore(config, spool_.path(), clock_); }

    static FakeS3& S3() {
        static FakeS3 s3;  // one server for the suite
        return s3;
    }

    testing::TempDir spool_;
    SettableClock clock_;
};

TEST_F(S3BlobStoreTest, StoresUnderTheSha256AndReadsBack) {
    auto store = Store(S3().Config());
    store.CheckBucket();
    const std::string bytes("firmware\0with a NUL", 19);
    const auto key = store.Put(bytes);
    EXPECT_EQ(key, crypto::Sha256Hex(bytes));
    EXPECT_TRUE(fs::exists(S3().FileOf("blobs/" + key)));
    EXPECT_EQ(store.Get(key), bytes);
    EXPECT_EQ(store.Size(key), 19U);
    EXPECT_EQ(store.Put(bytes), key);  // the same bytes: one object
    EXPECT_EQ(store.Put(""), crypto::Sha256Hex(""));
    EXPECT_EQ(store.Get(crypto::Sha256Hex("")), "");

    EXPECT_TRUE(store.Remove(key));
    EXPECT_FALSE(store.Remove(key));
    EXPECT_EQ(store.Get(key), std::nullopt);
    EXPECT_EQ(store.Size(key), std::nullopt);
    EXPECT_EQ(store.Open(key), nullptr);
    for (const std::string& bad : {std::string("../x"), std::string(""), key.substr(1)}) {
        EXPECT_EQ(store.Get(bad), std::nullopt) << bad;
        EXPECT_EQ(store.Size(bad), std::nullopt) << bad;
        EXPECT_FALSE(store.Remove(bad)) << bad;
        EXPECT_EQ(store.Open(bad), nullptr) << bad;
    }
}

TEST_F(S3BlobStoreTest, WritersStreamAndReadersReadRanges) {
    auto store = Store(S3().Config());
    const std::string bytes = Pattern(3 * 1024 * 1024 + 17);  // past several read-ahead blocks
    auto writer = store.NewWriter();
    for (std::size_t at = 0; at < bytes.size(); at += 100000) {
        writer->Write(std::string_view(bytes).substr(at, 100000));
    }
    EXPECT_EQ(writer->Size(), bytes.size());
    const auto key = writer->Commit();
    EXPECT_EQ(key, crypto::Sha256Hex(bytes));
    EXPECT_TRUE(fs::is_empty(spool_.path()));  // spool files are unlinked at once

    auto reader = store.Open(key);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(reader->Size(), bytes.size());
    EXPECT_FALSE(reader->Identity().empty());
    for (const std::uint64_t offset : {0UL, 5UL, 1048575UL, 1048576UL, 2500000UL, 100UL}) {
        std::string out(70000, '\0');
        const auto n = reader->ReadAt(offset, out.data(), out.size());
        ASSERT_EQ(n, 70000U) << offset;
        EXPECT_TRUE(out == bytes.substr(offset, 70000)) << offset;
    }
    std::string tail(100, '\0');
    EXPECT_EQ(reader->ReadAt(bytes.size() - 10, tail.data(), tail.size()), 10U);
    EXPECT_EQ(tail.substr(0, 10), bytes.substr(bytes.size() - 10));
    EXPECT_EQ(reader->ReadAt(bytes.size(), tail.data(), tail.size()), 0U);

    // A writer destroyed before Commit leaves nothing.
    const auto before = S3().CountObjects("blobs/");
    {
        auto dropped = store.NewWriter();
        dropped->Write("never committed");
    }
    EXPECT_EQ(S3().CountObjects("blobs/"), before);
    EXPECT_TRUE(fs::is_empty(spool_.path()));
}

TEST_F(S3BlobStoreTest, ADamagedObjectIsRefused) {
    auto store = Store(S3().Config());
    const auto key = store.Put("original bytes of S3");
    {
        std::ofstream out(S3().FileOf("blobs/" + key), std::ios::binary | std::ios::trunc);
        out << "original bytez of S3";
    }
    EXPECT_THROW(store.Get(key), BlobCorrupt);
    store.Remove(key);
}

TEST_F(S3BlobStoreTest, WrongCredentialsAndBucketsAreToldAtStart) {
    auto config = S3().Config();
    config.secret_access_key = "not-the-secret";
    auto wrong = Store(config);
    try {
        wrong.CheckBucket();
        ADD_FAILURE() << "a wrong secret was taken";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("403"), std::string::npos) << e.what();
    }
    EXPECT_THROW(wrong.Put("x"), std::runtime_error);

    config = S3().Config();
    config.bucket = "no-such-bucket";
    auto missing = Store(config);
    try {
        missing.CheckBucket();
        ADD_FAILURE() << "a missing bucket was taken";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no such bucket"), std::string::npos) << e.what();
    }

    config = S3().Config();
    config.endpoint = "ftp://127.0.0.1";
    EXPECT_THROW(Store(config), std::runtime_error);
    config = S3().Config();
    config.endpoint = S3().endpoint() + "/path";
    EXPECT_THROW(Store(config), std::runtime_error);
    for (const std::string prefix : {"a?b/", "a", "../other/", "a//b/", "/a/", "./"}) {
        config = S3().Config();
        config.prefix = prefix;
        EXPECT_THROW(Store(config), std::runtime_error) << prefix;
    }
    config = S3().Config();
    config.access_key_id.clear();
    EXPECT_THROW(Store(config), std::runtime_error);
}

TEST_F(S3BlobStoreTest, APrefixKeepsObjectsApart) {
    auto config = S3().Config();
    config.prefix = "tenant-a/";
    auto store = Store(config);
    const auto key = store.Put("prefixed");
    EXPECT_TRUE(fs::exists(S3().FileOf("tenant-a/blobs/" + key)));
    EXPECT_EQ(Store(S3().Config()).Get(key), std::nullopt);  // not under another prefix
    const auto url = store.DirectDownloadUrl(key, "x.bin", std::chrono::seconds(60));
    EXPECT_EQ(FetchUrl("GET", url).body, "prefixed");
    store.Remove(key);
}

TEST_F(S3BlobStoreTest, URLsNameThePublicEndpointAndTheHostAsClientsSendIt) {
    auto config = S3().Config();
    // Upper case and the default port: signed as a client sends Host (lower case, no :80).
    config.endpoint = "HTTP://LocalHost:" + std::to_string(S3().port());
    auto store = Store(config);
    store.CheckBucket();
    const auto key = store.Put("through localhost");
    auto url = store.DirectDownloadUrl(key, "x.bin", std::chrono::seconds(60));
    EXPECT_EQ(url.rfind("http://localhost:" + std::to_string(S3().port()) + "/", 0), 0U) << url;
    EXPECT_EQ(FetchUrl("GET", url).body, "through localhost");

    config = S3().Config();
    config.public_endpoint = "https://files.example.com:443";
    url = Store(config).DirectDownloadUrl(key, "x.bin", std::chrono::seconds(60));
    EXPECT_EQ(url.rfind("https://files.example.com/firmware/blobs/" + key + "?", 0), 0U) << url;
    store.Remove(key);
}

TEST_F(S3BlobStoreTest, PresignedDownloadsWorkOnlyAsSigned) {
    auto store = Store(S3().Config());
    clock_.SetSystemTime(std::chrono::system_clock::now());
    const std::string bytes = Pattern(200000);
    const auto key = store.Put(bytes);
    const auto url = store.DirectDownloadUrl(key, "light.bin", std::chrono::seconds(3600));
    EXPECT_EQ(url.rfind(S3().endpoint() + "/firmware/blobs/" + key + "?", 0), 0U) << url;
    auto r = FetchUrl("GET", url);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.body == bytes);
    EXPECT_NE(r.headers["content-disposition"].find("light.bin"), std::string::npos);
    r = FetchUrl("GET", url, {}, {{"Range", "bytes=1000-1999"}});
    EXPECT_EQ(r.status, 206);
    EXPECT_TRUE(r.body == bytes.substr(1000, 1000));

    // Another object under the same signature, another method, no signature, a changed expiry.
    const auto other = store.Put("other bytes");
    std::string swapped = url;
    swapped.replace(swapped.find(key), key.size(), other);
    EXPECT_EQ(FetchUrl("GET", swapped).status, 403);
    EXPECT_EQ(FetchUrl("DELETE", url).status, 403);
    EXPECT_EQ(FetchUrl("GET", url.substr(0, url.find('?'))).status, 403);
    std::string longer = url;
    longer.replace(longer.find("X-Amz-Expires=3600"), 18, "X-Amz-Expires=3601");
    EXPECT_EQ(FetchUrl("GET", longer).status, 403);
    EXPECT_TRUE(store.Get(other).has_value());  // the DELETE changed nothing

    // Signed two hours ago for one hour: expired.
    clock_.SetSystemTime(std::chrono::system_clock::now() - std::chrono::hours(2));
    const auto old = store.DirectDownloadUrl(key, "light.bin", std::chrono::seconds(3600));
    r = FetchUrl("GET", old);
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;
    store.Remove(key);
    store.Remove(other);
}

TEST_F(S3BlobStoreTest, PresignedUploadsArriveAsSignedAndCanBeRemoved) {
    auto store = Store(S3().Config());
    clock_.SetSystemTime(std::chrono::system_clock::now());
    const std::string bytes = Pattern(50000);
    const std::string md5 = Md5Base64(bytes);
    const auto url = store.DirectUploadUrl("Up1oad", md5, std::chrono::seconds(600));
    EXPECT_EQ(store.OpenUpload("Up1oad"), nullptr);

    // The Content-MD5 it was signed with must be sent, and match the body.
    EXPECT_EQ(FetchUrl("PUT", url, bytes).status, 403);
    EXPECT_EQ(FetchUrl("PUT", url, bytes, {{"Content-MD5", Md5Base64("x")}}).status, 403);
    auto r = FetchUrl("PUT", url, bytes + "!", {{"Content-MD5", md5}});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(store.OpenUpload("Up1oad"), nullptr);
    // Signed for another upload.
    std::string swapped = url;
    swapped.replace(swapped.find("Up1oad"), 6, "Up2oad");
    EXPECT_EQ(FetchUrl("PUT", swapped, bytes, {{"Content-MD5", md5}}).status, 403);

    r = FetchUrl("PUT", url, bytes, {{"Content-MD5", md5}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto arrived = store.OpenUpload("Up1oad");
    ASSERT_NE(arrived, nullptr);
    ASSERT_EQ(arrived->Size(), bytes.size());
    std::string read(bytes.size(), '\0');
    EXPECT_EQ(arrived->ReadAt(0, read.data(), read.size()), bytes.size());
    EXPECT_TRUE(read == bytes);
    EXPECT_EQ(store.OpenUpload("Up2oad"), nullptr);

    // Without a Content-MD5 asked for, any body goes.
    const auto free_url = store.DirectUploadUrl("Free", "", std::chrono::seconds(600));
    EXPECT_EQ(FetchUrl("PUT", free_url, "anything").status, 200);

    store.RemoveUpload("Up1oad");
    store.RemoveUpload("Free");
    store.RemoveUpload("Free");  // nothing there: no error
    EXPECT_EQ(store.OpenUpload("Up1oad"), nullptr);
    EXPECT_EQ(S3().CountObjects("uploads/"), 0U);
    EXPECT_THROW(store.DirectUploadUrl("../x", "", std::chrono::seconds(1)), std::invalid_argument);
    EXPECT_THROW(store.OpenUpload(""), std::invalid_argument);
}

}  // namespace
}  // namespace rainmaker::storage::s3
