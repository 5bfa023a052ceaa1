// Range headers of presigned downloads: one range of bytes, in its three forms, clipped to
// the object; anything else ignored (the whole object), a range past the end unsatisfiable.
#include "http/api/blob_routes.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "crypto/digest.hpp"
#include "storage/files/file_blob_store.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::http::api {
namespace {

using Range = std::optional<std::pair<std::uint64_t, std::uint64_t>>;

Range R(std::uint64_t a, std::uint64_t b) {
    return std::pair<std::uint64_t, std::uint64_t>{a, b};
}

TEST(ParseRange, ReadsOneRangeInEachForm) {
    EXPECT_EQ(ParseRange("bytes=0-99", 1000), R(0, 99));
    EXPECT_EQ(ParseRange("bytes=500-", 1000), R(500, 999));
    EXPECT_EQ(ParseRange("bytes=-100", 1000), R(900, 999));
    EXPECT_EQ(ParseRange("bytes=-5000", 1000), R(0, 999));
    EXPECT_EQ(ParseRange("bytes=990-5000", 1000), R(990, 999));
}

TEST(ParseRange, IgnoresWhatItCannotServeAndRefusesWhatIsPastTheEnd) {
    for (const char* header :
         {"",
          "bytes=",
          "bytes=a-b",
          "bytes=5",
          "bytes=0-1,5-6",
          "items=0-1",
          "bytes=9-3",
          "bytes= 0-1",
          "bytes=0-1 ",
          "bytes=99999999999999999999-"}) {
        EXPECT_EQ(ParseRange(header, 1000), std::nullopt) << header;
    }
    EXPECT_EQ(ParseRange("bytes=1000-", 1000), R(1000, 0));
    EXPECT_EQ(ParseRange("bytes=-0", 1000), R(1000, 0));
    EXPECT_EQ(ParseRange("bytes=0-", 0), R(0, 0));
}

// Ranged downloads check the whole blob against its key once per stored file, not once per
// request: several ranges of one blob hash it once; a file replaced under its key is hashed
// again (and refused when damaged).
TEST(VerifiedBlobs, HashesAStoredBlobOnceOverManyRangedReads) {
    testing::TempDir dir;
    storage::files::FileBlobStore blobs(dir.path() / "blobs");
    const std::string bytes(300 * 1024, 'x');
    const std::string key = blobs.Put(bytes);
    VerifiedBlobs verified;
    for (int i = 0; i < 5; ++i) {
        auto reader = blobs.Open(key);
        ASSERT_NE(reader, nullptr);
        EXPECT_TRUE(verified.Check(key, *reader));
    }
    EXPECT_EQ(verified.HashesForTest(), 1U);

    // The file damaged in place: a new identity, hashed again, refused (and never remembered).
    std::filesystem::path path;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
        if (entry.is_regular_file() &&
            entry.path().filename().string().find(key) != std::string::npos) {
            path = entry.path();
        }
    }
    ASSERT_FALSE(path.empty());
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_write, std::filesystem::perm_options::add
    );
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << std::string(300 * 1024 - 1, 'y');
    }
    for (int i = 0; i < 2; ++i) {
        auto reader = blobs.Open(key);
        ASSERT_NE(reader, nullptr);
        EXPECT_FALSE(verified.Check(key, *reader));
    }
    EXPECT_EQ(verified.HashesForTest(), 3U);
}

TEST(VerifiedBlobs, RemembersABoundedNumberOfBlobs) {
    testing::TempDir dir;
    storage::files::FileBlobStore blobs(dir.path() / "blobs");
    const std::string a = blobs.Put("a");
    const std::string b = blobs.Put("b");
    VerifiedBlobs verified(1);
    EXPECT_TRUE(verified.Check(a, *blobs.Open(a)));
    EXPECT_TRUE(verified.Check(b, *blobs.Open(b)));  // forgets a
    EXPECT_TRUE(verified.Check(a, *blobs.Open(a)));
    EXPECT_EQ(verified.HashesForTest(), 3U);
    // A reader without an identity is hashed every time.
    storage::MemoryBlobReader memory("b");
    EXPECT_TRUE(verified.Check(b, memory));
    EXPECT_TRUE(verified.Check(b, memory));
    EXPECT_EQ(verified.HashesForTest(), 5U);
}

TEST(VerifiedBlobs, ASameSizeRewriteWithItsTimesRestoredIsHashedAgain) {
    testing::TempDir dir;
    storage::files::FileBlobStore blobs(dir.path() / "blobs");
    const std::string key = blobs.Put(std::string(4096, 'x'));
    VerifiedBlobs verified;
    EXPECT_TRUE(verified.Check(key, *blobs.Open(key)));
    std::filesystem::path path;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
        if (entry.is_regular_file() &&
            entry.path().filename().string().find(key) != std::string::npos) {
            path = entry.path();
        }
    }
    ASSERT_FALSE(path.empty());
    const auto written = std::filesystem::last_write_time(path);
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_write, std::filesystem::perm_options::add
    );
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << std::string(4096, 'y');  // same size
    }
    std::filesystem::last_write_time(path, written);      // mtime set back (touch -r, cp -p)
    EXPECT_FALSE(verified.Check(key, *blobs.Open(key)));  // its change time tells it apart
    EXPECT_EQ(verified.HashesForTest(), 2U);
}

TEST(VerifiedBlobs, ABlobIsHashedAgainOnceItsCheckIsOld) {
    testing::TempDir dir;
    storage::files::FileBlobStore blobs(dir.path() / "blobs");
    const std::string key = blobs.Put("bytes");
    VerifiedBlobs remembered(8, std::chrono::hours(1));
    VerifiedBlobs rechecked(8, std::chrono::seconds(0));
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(remembered.Check(key, *blobs.Open(key)));
        EXPECT_TRUE(rechecked.Check(key, *blobs.Open(key)));
    }
    EXPECT_EQ(remembered.HashesForTest(), 1U);
    EXPECT_EQ(rechecked.HashesForTest(), 3U);  // damage in place is caught within recheck_after
}

}  // namespace
}  // namespace rainmaker::http::api
