// The file blob store: content addressing, idempotent writes, private files, checksums on
// read (a damaged file is refused), keys that are not keys, removal, leftovers of a crash.
#include "storage/files/file_blob_store.hpp"

#include <chrono>
#include <fstream>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "crypto/digest.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::storage::files {
namespace {

namespace fs = std::filesystem;

class FileBlobStoreTest : public ::testing::Test {
protected:
    testing::TempDir dir_;
    fs::path root_ = dir_.path() / "blobs";
};

TEST_F(FileBlobStoreTest, StoresUnderTheSha256AndReadsBack) {
    FileBlobStore store(root_);
    const std::string bytes("firmware\0with a NUL", 19);
    const auto key = store.Put(bytes);
    EXPECT_EQ(key, crypto::Sha256Hex(bytes));
    EXPECT_TRUE(IsBlobKey(key));
    EXPECT_EQ(store.PathOf(key), root_ / "sha256" / key.substr(0, 2) / key);
    EXPECT_EQ(store.Get(key), bytes);
    EXPECT_EQ(store.Size(key), 19U);

    struct stat st {};

    ASSERT_EQ(::stat(store.PathOf(key).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    ASSERT_EQ(::stat(root_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700U);
    // Nothing is left aside.
    EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
}

TEST_F(FileBlobStoreTest, TheSameBytesAreOneBlob) {
    FileBlobStore store(root_);
    const auto a = store.Put("same");
    const auto b = store.Put("same");
    EXPECT_EQ(a, b);
    EXPECT_NE(store.Put("other"), a);
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "sha256")) {
        files += e.is_regular_file() ? 1 : 0;
    }
    EXPECT_EQ(files, 2U);
    EXPECT_EQ(store.Put(""), crypto::Sha256Hex(""));
    EXPECT_EQ(store.Get(crypto::Sha256Hex("")), "");
}

TEST_F(FileBlobStoreTest, RefusesADamagedBlob) {
    FileBlobStore store(root_);
    const auto key = store.Put("original bytes");
    {
        std::ofstream out(store.PathOf(key), std::ios::binary | std::ios::trunc);
        out << "original bytez";
    }
    EXPECT_THROW(store.Get(key), BlobCorrupt);
    { std::ofstream out(store.PathOf(key), std::ios::binary | std::ios::trunc); }
    EXPECT_THROW(store.Get(key), BlobCorrupt);  // truncated to nothing
}

TEST_F(FileBlobStoreTest, UnknownAndMalformedKeysAreAbsent) {
    FileBlobStore store(root_);
    EXPECT_EQ(store.Get(crypto::Sha256Hex("never stored")), std::nullopt);
    EXPECT_EQ(store.Size(crypto::Sha256Hex("never stored")), std::nullopt);
    const auto key = store.Put("x");
    for (const std::string& bad :
         {std::string("../../etc/passwd"),
          std::string(""),
          key.substr(1),
          std::string(64, 'A'),
          key.substr(0, 63) + "/"}) {
        EXPECT_EQ(store.Get(bad), std::nullopt) << bad;
        EXPECT_EQ(store.Size(bad), std::nullopt) << bad;
        EXPECT_FALSE(store.Remove(bad)) << bad;
    }
    EXPECT_EQ(store.Get(key), "x");
}

TEST_F(FileBlobStoreTest, RemovesOnce) {
    FileBlobStore store(root_);
    const auto key = store.Put("gone soon");
    EXPECT_TRUE(store.Remove(key));
    EXPECT_FALSE(store.Remove(key));
    EXPECT_EQ(store.Get(key), std::nullopt);
    EXPECT_FALSE(fs::exists(store.PathOf(key)));
    // Stored again after removal.
    EXPECT_EQ(store.Put("gone soon"), key);
    EXPECT_EQ(store.Get(key), "gone soon");
}

TEST_F(FileBlobStoreTest, ACrashesLeftoversAreRemovedAtStartAndBlobsKept) {
    std::string key;
    {
        FileBlobStore store(root_);
        key = store.Put("kept");
    }
    const auto part = [&](const char* name, std::chrono::minutes age) {
        const auto path = root_ / "tmp" / name;
        std::ofstream(path, std::ios::binary) << "half a blob";
        fs::last_write_time(path, fs::file_time_type::clock::now() - age);
        return path;
    };
    const auto crashed = part("old.part", std::chrono::minutes(90));
    // An upload in flight in a running server (an admin command opens the store beside it),
    // and a file that is not ours, stay.
    const auto in_flight = part("new.part", std::chrono::minutes(1));
    const auto other = part("notes.txt", std::chrono::minutes(90));
    FileBlobStore reopened(root_);
    EXPECT_FALSE(fs::exists(crashed));
    EXPECT_TRUE(fs::exists(in_flight));
    EXPECT_TRUE(fs::exists(other));
    EXPECT_EQ(reopened.Get(key), "kept");
}

TEST_F(FileBlobStoreTest, FailsLoudlyWhenItCannotWrite) {
    FileBlobStore store(root_);
    // tmp/ replaced by a file: even root cannot create a file under it.
    fs::remove_all(root_ / "tmp");
    { std::ofstream(root_ / "tmp") << "not a directory"; }
    EXPECT_THROW(store.Put("cannot land"), std::runtime_error);
    EXPECT_EQ(store.Get(crypto::Sha256Hex("cannot land")), std::nullopt);
    EXPECT_FALSE(fs::exists(store.PathOf(crypto::Sha256Hex("cannot land"))));
}

}  // namespace
}  // namespace rainmaker::storage::files
