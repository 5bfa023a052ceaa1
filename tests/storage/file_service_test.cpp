// Files (domain/files: #46-#51 and DELETE /user/file) over SQLite and the file blob store: the
// upload request, the PUT through the OTA upload machinery with the scope's size limit, the
// confirmation into a file row under the same id, listings and their filters, public files,
// every refusal with nothing changed, and the bytes released when the last row naming them
// goes (a deleted file, a deleted user).
#include "domain/files/file_service.hpp"

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "domain/ota/presigned_urls.hpp"
#include "storage/files/file_blob_store.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/error_code_of.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::files {
namespace {

using core::ErrorCode;
using testing::CodeOf;

std::string Base64Md5(std::string_view bytes) {
    crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
    md5.Update(bytes);
    return crypto::Base64Encode(md5.Final());
}

class FileServiceTest : public ::testing::Test {
protected:
    FileServiceTest() {
        uploads_.SetUrls(&urls_);
        for (const char* id : {"admin1", "admin2", "user1", "user2"}) {
            storage::UserRow u;
            u.user_id = id;
            u.user_name = std::string(id) + "@x.com";
            u.confirmed = true;
            db_.Users().Insert(u);
        }
    }

    // What the PUT of an upload URL does: StartUpload before the body, ReceiveUpload after.
    void Put(const std::string& id, const std::string& bytes, bool declare = true) {
        auto writer = uploads_.StartUpload(
            id, declare ? std::optional<std::uint64_t>(bytes.size()) : std::nullopt
        );
        for (std::size_t at = 0; at < bytes.size(); at += 10000) {
            writer->Write(std::string_view(bytes).substr(at, 10000));
        }
        crypto::Hasher md5(crypto::Hasher::Algorithm::kMd5);
        md5.Update(bytes);
        uploads_.ReceiveUpload(id, *writer, md5.Final(), "");
    }

    UploadTicket Request(
        const auth::AuthContext& who,
        Scope scope,
        const std::string& name,
        const std::string& entity_type = "cert",
        const std::string& entity_id = "e1"
    ) {
        UploadRequest in;
        in.file_name = name;
        in.entity_type = entity_type;
        in.entity_id = entity_id;
        return service_.RequestUpload(who, scope, in);
    }

    File Confirm(const auth::AuthContext& who, Scope scope, const std::string& id) {
        ConfirmInput in;
        in.file_id = id;
        return service_.Confirm(who, scope, in);
    }

    // Requests, PUTs and confirms a file; its id.
    std::string Upload(
        const auth::AuthContext& who,
        Scope scope,
        const std::string& name,
        const std::string& bytes,
        bool is_public = false
    ) {
        const auto ticket = Request(who, scope, name);
        Put(ticket.file_id, bytes);
        ConfirmInput in;
        in.file_id = ticket.file_id;
        in.is_public = is_public;
        return service_.Confirm(who, scope, in).row.file_id;
    }

    FilePage List(const auth::AuthContext& who, Scope scope, FileQuery q = {}) {
        return service_.List(who, scope, q);
    }

    std::set<std::string> BlobKeys() {
        std::set<std::string> keys;
        const auto root = dir_.path() / "blobs" / "sha256";
        if (!std::filesystem::exists(root)) {
            return keys;
        }
        for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
            if (e.is_regular_file()) {
                keys.insert(e.path().filename().string());
            }
        }
        return keys;
    }

    // Files in the blob store's tmp/ (writers not committed, or left behind).
    std::size_t TmpFiles() {
        const auto tmp = dir_.path() / "blobs" / "tmp";
        std::size_t n = 0;
        if (std::filesystem::exists(tmp)) {
            for (const auto& e : std::filesystem::directory_iterator(tmp)) {
                n += e.is_regular_file() ? 1 : 0;
            }
        }
        return n;
    }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    storage::files::FileBlobStore blobs_{dir_.path() / "blobs"};
    testing::FakeClock clock_;
    crypto::UrlSigner signer_{std::string(32, 'k')};
    ota::PresignedUrls urls_{signer_, clock_, "https://files.test:8443"};
    ota::OtaImageConfig ota_config_ = [] {
        ota::OtaImageConfig c;
        c.max_upload_bytes = 1024 * 1024;
        c.upload_min_free_bytes = 0;
        return c;
    }();
    ota::OtaImageService uploads_{db_, blobs_, clock_, ota_config_};
    FileConfig config_ = [] {
        FileConfig c;
        c.admin_max_bytes = 300 * 1024;
        c.user_max_bytes = 100 * 1024;
        c.user_max_files = 2;
        return c;
    }();
    FileService service_{db_, uploads_, clock_, config_};
    auth::AuthContext admin_{"admin1", "admin1@x.com", "s1"};
    auth::AuthContext admin2_{"admin2", "admin2@x.com", "s2"};
    auth::AuthContext user_{"user1", "user1@x.com", "s3"};
    auth::AuthContext other_{"user2", "user2@x.com", "s4"};
};

TEST_F(FileServiceTest, RequestPutConfirmMakesAFileUnderTheUploadsId) {
    const std::string bytes(150 * 1024, 'q');
    UploadRequest in;
    in.file_name = "qa report.pdf";
    in.entity_type = "cert";
    in.entity_id = "c-1";
    in.md5_checksum = Base64Md5(bytes);
    const auto ticket = service_.RequestUpload(admin_, Scope::kAdmin, in);
    EXPECT_EQ(ticket.file_id.size(), 22U);
    EXPECT_EQ(
        ticket.file_url.rfind("https://files.test:8443/uploads/" + ticket.file_id + "?", 0), 0U
    ) << ticket.file_url;
    // Nothing listed, nothing confirmable before the PUT.
    EXPECT_EQ(List(admin_, Scope::kAdmin).total, 0);
    EXPECT_EQ(
        CodeOf([&] { Confirm(admin_, Scope::kAdmin, ticket.file_id); }), ErrorCode::kFileNotUploaded
    );
    // The PUT must carry the body md5_checksum named.
    EXPECT_EQ(
        CodeOf([&] { Put(ticket.file_id, std::string(150 * 1024, 'x')); }),
        ErrorCode::kUploadDigestMismatch
    );
    Put(ticket.file_id, bytes);
    ConfirmInput confirm;
    confirm.file_id = ticket.file_id;
    confirm.description = "QA";
    confirm.file_type = "qa_report";
    confirm.metadata = R"({"k":"v"})";
    const auto file = service_.Confirm(admin_, Scope::kAdmin, confirm);
    EXPECT_EQ(file.row.file_id, ticket.file_id);
    EXPECT_EQ(file.row.owner, "admin1");
    EXPECT_EQ(file.row.file_name, "qa report.pdf");
    EXPECT_EQ(file.row.entity_type, "cert");
    EXPECT_EQ(file.row.entity_id, "c-1");
    EXPECT_EQ(file.row.file_type, "qa_report");
    EXPECT_EQ(file.row.metadata, R"({"k":"v"})");
    EXPECT_EQ(file.row.file_size, static_cast<std::int64_t>(bytes.size()));
    EXPECT_EQ(file.row.file_md5, crypto::Md5Hex(bytes));
    EXPECT_EQ(
        file.file_url.rfind("https://files.test:8443/blobs/" + crypto::Sha256Hex(bytes) + "/", 0),
        0U
    ) << file.file_url;
    // The pending upload is gone: confirming again says so; every admin sees the file.
    EXPECT_EQ(
        CodeOf([&] { Confirm(admin_, Scope::kAdmin, ticket.file_id); }),
        ErrorCode::kFileAlreadyConfirmed
    );
    const auto page = List(admin2_, Scope::kAdmin);
    ASSERT_EQ(page.total, 1);
    EXPECT_EQ(page.files.at(0).row.description, "QA");
    // An admin file is not a user file.
    EXPECT_EQ(List(admin_, Scope::kUser).total, 0);
    EXPECT_EQ(
        CodeOf([&] {
            FileQuery q;
            q.file_id = ticket.file_id;
            List(user_, Scope::kUser, q);
        }),
        ErrorCode::kFileIdUnknown
    );
}

TEST_F(FileServiceTest, RequestRefusalsLeaveNothingPending) {
    const auto refuse = [&](Scope scope, UploadRequest in) {
        return CodeOf([&] {
            service_.RequestUpload(scope == Scope::kAdmin ? admin_ : user_, scope, in);
        });
    };
    UploadRequest ok;
    ok.file_name = "a.txt";
    ok.entity_type = "cert";
    ok.entity_id = "c";
    auto in = ok;
    in.file_name.reset();
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kFileNameMissing);
    in.file_name = std::string(101, 'n');
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kFileNameLength);
    // Characters, not bytes: 101 two-byte letters are too many; bytes that are not UTF-8 are
    // no name at all.
    std::string letters;
    for (int i = 0; i < 101; ++i) {
        letters += "\xC3\xA9";  // é
    }
    in.file_name = letters;
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kFileNameLength);
    in.file_name = "bad\xFF\xFEname";
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kInvalidQuery);
    in = ok;
    in.entity_type = "";
    EXPECT_EQ(refuse(Scope::kUser, in), ErrorCode::kFileEntityTypeMissing);
    in = ok;
    in.entity_id.reset();
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kFileEntityIdMissing);
    in.entity_type = "node";
    EXPECT_EQ(refuse(Scope::kUser, in), ErrorCode::kFileEntityIdMissing);
    in.entity_id = "no-such-node";
    EXPECT_EQ(refuse(Scope::kUser, in), ErrorCode::kNodeNotOwned);
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kNodesNotFound);
    in.entity_type = "ota_image";
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kOtaImageNotFound);
    EXPECT_EQ(refuse(Scope::kUser, in), ErrorCode::kOtaImageNotFound);
    in = ok;
    in.entity_id = std::string(129, 'e');
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kInputTooLarge);
    in = ok;
    in.md5_checksum = "not-md5";
    EXPECT_EQ(refuse(Scope::kAdmin, in), ErrorCode::kInvalidQuery);
    // A user's file needs no entity_id for another entity type; 100 two-byte letters are a name.
    in = ok;
    in.entity_id.reset();
    in.file_name = letters.substr(2);
    EXPECT_NO_THROW(service_.RequestUpload(user_, Scope::kUser, in));
    // Nothing else was asked for: admin1 has no pending upload (its requests all refused).
    EXPECT_EQ(db_.OtaUploads().CountPending("admin1", clock_.NowSeconds()), 0);
    EXPECT_EQ(db_.OtaUploads().CountPending("user1", clock_.NowSeconds()), 1);
}

TEST_F(FileServiceTest, TheScopesSizeLimitHoldsForDeclaredAndChunkedBodies) {
    const auto ticket = Request(user_, Scope::kUser, "big.bin");
    const std::string too_big(100 * 1024 + 1, 'b');
    // Declared: refused before any byte (413).
    EXPECT_EQ(
        CodeOf([&] { uploads_.StartUpload(ticket.file_id, too_big.size()); }),
        ErrorCode::kBodyTooLarge
    );
    // Chunked: refused at the byte past the limit.
    EXPECT_EQ(CodeOf([&] { Put(ticket.file_id, too_big, false); }), ErrorCode::kBodyTooLarge);
    EXPECT_EQ(
        CodeOf([&] { Confirm(user_, Scope::kUser, ticket.file_id); }), ErrorCode::kFileNotUploaded
    );
    EXPECT_TRUE(BlobKeys().empty());
    EXPECT_EQ(TmpFiles(), 0U);
    // At the limit it goes through; an admin file may be larger.
    Put(ticket.file_id, std::string(100 * 1024, 'b'));
    EXPECT_EQ(Confirm(user_, Scope::kUser, ticket.file_id).row.file_size, 100 * 1024);
    const auto admin_ticket = Request(admin_, Scope::kAdmin, "big.bin");
    Put(admin_ticket.file_id, std::string(300 * 1024, 'a'));
    EXPECT_EQ(
        CodeOf([&] { Put(admin_ticket.file_id, std::string(300 * 1024 + 1, 'a')); }),
        ErrorCode::kBodyTooLarge
    );
}

TEST_F(FileServiceTest, ConfirmationsBelongToTheirScopeAndRequester) {
    const auto mine = Request(user_, Scope::kUser, "mine.txt");
    Put(mine.file_id, "my bytes");
    // Another user, or the admin route, cannot confirm it; an unknown id is invalid.
    EXPECT_EQ(
        CodeOf([&] { Confirm(other_, Scope::kUser, mine.file_id); }), ErrorCode::kFileIdInvalid
    );
    EXPECT_EQ(
        CodeOf([&] { Confirm(admin_, Scope::kAdmin, mine.file_id); }), ErrorCode::kFileIdInvalid
    );
    EXPECT_EQ(CodeOf([&] { Confirm(user_, Scope::kUser, "nope"); }), ErrorCode::kFileIdInvalid);
    EXPECT_EQ(CodeOf([&] { Confirm(user_, Scope::kUser, ""); }), ErrorCode::kFileIdMissing);
    // An OTA image's pending upload is not a file.
    ota::UploadRequestInput image;
    image.image_name = "fw";
    const auto image_id = uploads_.RequestUpload(admin_, image).ota_image_id;
    EXPECT_EQ(CodeOf([&] { Confirm(admin_, Scope::kAdmin, image_id); }), ErrorCode::kFileIdInvalid);
    // Too long a description changes nothing.
    ConfirmInput in;
    in.file_id = mine.file_id;
    in.description = std::string(1025, 'd');
    EXPECT_EQ(
        CodeOf([&] { service_.Confirm(user_, Scope::kUser, in); }), ErrorCode::kInputTooLarge
    );
    EXPECT_EQ(List(user_, Scope::kUser).total, 0);
    // Expired: invalid, and swept with its bytes.
    clock_.Advance(std::chrono::seconds(3601));
    EXPECT_EQ(
        CodeOf([&] { Confirm(user_, Scope::kUser, mine.file_id); }), ErrorCode::kFileIdInvalid
    );
    uploads_.ExpireUploads();
    EXPECT_TRUE(BlobKeys().empty());
}

TEST_F(FileServiceTest, NamesAreUniquePerEntityAndUsersHoldAtMostTheirLimit) {
    Upload(user_, Scope::kUser, "a.txt", "a");
    // The same name for the same entity: taken at the request.
    EXPECT_EQ(CodeOf([&] { Request(user_, Scope::kUser, "a.txt"); }), ErrorCode::kFileExists);
    // Another user, or another entity, may use it.
    EXPECT_NO_THROW(Upload(other_, Scope::kUser, "a.txt", "a"));
    const auto second = Request(user_, Scope::kUser, "a.txt", "cert", "e2");
    Put(second.file_id, "b");
    // One file and one pending upload: the user's two (pending uploads hold bytes too).
    EXPECT_EQ(
        CodeOf([&] { Request(user_, Scope::kUser, "d.txt"); }), ErrorCode::kFileUserCountLimit
    );
    EXPECT_NO_THROW(Confirm(user_, Scope::kUser, second.file_id));
    EXPECT_EQ(
        CodeOf([&] { Request(user_, Scope::kUser, "d.txt"); }), ErrorCode::kFileUserCountLimit
    );
    EXPECT_EQ(List(user_, Scope::kUser).total, 2);
    // Deleting one makes room.
    FileQuery a_txt;
    a_txt.file_name = "a.txt";
    a_txt.entity_id = "e1";
    const auto first = List(user_, Scope::kUser, a_txt);
    ASSERT_EQ(first.total, 1);
    service_.DeleteUserFile(user_, first.files.at(0).row.file_id);
    EXPECT_NO_THROW(Request(user_, Scope::kUser, "d.txt"));
    // Admin names are the deployment's: another admin cannot reuse one; a name taken between
    // a request and its confirmation is refused at the confirmation.
    const auto racing = Request(admin_, Scope::kAdmin, "c.txt");
    const auto racing2 = Request(admin2_, Scope::kAdmin, "c.txt");
    Put(racing.file_id, "c");
    Put(racing2.file_id, "c2");
    Confirm(admin_, Scope::kAdmin, racing.file_id);
    EXPECT_EQ(
        CodeOf([&] { Confirm(admin2_, Scope::kAdmin, racing2.file_id); }), ErrorCode::kFileExists
    );
    EXPECT_EQ(CodeOf([&] { Request(admin2_, Scope::kAdmin, "c.txt"); }), ErrorCode::kFileExists);
    EXPECT_EQ(List(admin_, Scope::kAdmin).total, 1);
}

TEST_F(FileServiceTest, TheScopesLimitsAreCheckedAtTheConfirmationToo) {
    // Bytes PUT under larger limits (a server restarted with smaller ones) are refused at the
    // confirmation with the scope's code, nothing confirmed.
    const auto admin_ticket = Request(admin_, Scope::kAdmin, "a.bin");
    Put(admin_ticket.file_id, std::string(2000, 'a'));
    const auto user_ticket = Request(user_, Scope::kUser, "u.bin");
    Put(user_ticket.file_id, std::string(2000, 'u'));
    FileConfig small = config_;
    small.admin_max_bytes = 1000;
    small.user_max_bytes = 1000;
    FileService strict(db_, uploads_, clock_, small);
    ConfirmInput in;
    in.file_id = admin_ticket.file_id;
    EXPECT_EQ(
        CodeOf([&] { strict.Confirm(admin_, Scope::kAdmin, in); }), ErrorCode::kFileAdminTooLarge
    );
    in.file_id = user_ticket.file_id;
    EXPECT_EQ(
        CodeOf([&] { strict.Confirm(user_, Scope::kUser, in); }), ErrorCode::kFileUserTooLarge
    );
    EXPECT_EQ(List(admin_, Scope::kAdmin).total + List(user_, Scope::kUser).total, 0);
    // An OTA confirmation does not take a file's upload.
    ota::ConfirmInput image;
    image.ota_image_id = admin_ticket.file_id;
    EXPECT_EQ(CodeOf([&] { uploads_.ConfirmUpload(admin_, image); }), ErrorCode::kOtaImageNotFound);
}

TEST_F(FileServiceTest, AUserPutsOneUploadAtATimeAndNeverTakesEverySlot) {
    const auto first = Request(user_, Scope::kUser, "1.bin");
    const auto second = Request(user_, Scope::kUser, "2.bin");
    auto writer = uploads_.StartUpload(first.file_id, 10);
    EXPECT_EQ(
        CodeOf([&] { uploads_.StartUpload(second.file_id, 10); }), ErrorCode::kTooManyRequests
    );
    // Another user's upload goes on beside it; an admin's too.
    const auto others = Request(other_, Scope::kUser, "3.bin");
    auto other_writer = uploads_.StartUpload(others.file_id, 10);
    writer.reset();
    EXPECT_NO_THROW(uploads_.StartUpload(second.file_id, 10));
}

TEST_F(FileServiceTest, AdminsRestrictedToSomeNodesNeitherMakeNorSeeFilesAboutNodes) {
    Upload(admin_, Scope::kAdmin, "cert.pem", "cert");
    auth::AuthContext scoped = admin2_;
    scoped.node_scope = std::make_shared<rbac::NodeScope>();
    UploadRequest about_node;
    about_node.file_name = "n.txt";
    about_node.entity_type = "node";
    about_node.entity_id = "some-node";
    EXPECT_EQ(
        CodeOf([&] { service_.RequestUpload(scoped, Scope::kAdmin, about_node); }),
        ErrorCode::kNotPermitted
    );
    // A node file an unrestricted admin made (its row written as the service would).
    storage::FileRow row;
    row.file_id = "nodefile";
    row.scope = "admin";
    row.owner = "admin1";
    row.file_name = "n.txt";
    row.entity_type = "node";
    row.entity_id = "some-node";
    row.blob_key = crypto::Sha256Hex("cert");
    row.file_size = 4;
    row.file_md5 = crypto::Md5Hex("cert");
    ASSERT_TRUE(db_.Files().Insert(row));
    EXPECT_EQ(List(admin_, Scope::kAdmin).total, 2);
    const auto seen = List(scoped, Scope::kAdmin);
    EXPECT_EQ(seen.total, 1);
    ASSERT_EQ(seen.files.size(), 1U);
    EXPECT_EQ(seen.files.at(0).row.file_name, "cert.pem");
    FileQuery by_id;
    by_id.file_id = "nodefile";
    EXPECT_EQ(CodeOf([&] { List(scoped, Scope::kAdmin, by_id); }), ErrorCode::kFileIdUnknown);
    by_id.file_id.reset();
    by_id.entity_type = "node";
    EXPECT_EQ(List(scoped, Scope::kAdmin, by_id).total, 0);
}

TEST_F(FileServiceTest, ListingsFilterPageAndShowOnlyWhatTheCallerMaySee) {
    const auto privately = Upload(user_, Scope::kUser, "p.txt", "private");
    const auto shared = Upload(other_, Scope::kUser, "s.txt", "public", true);
    // A user lists their own files only; another's public file by its id alone.
    const auto mine = List(user_, Scope::kUser);
    ASSERT_EQ(mine.total, 1);
    EXPECT_EQ(mine.files.at(0).row.file_id, privately);
    FileQuery by_id;
    by_id.file_id = shared;
    EXPECT_EQ(List(user_, Scope::kUser, by_id).files.at(0).row.owner, "user2");
    by_id.file_id = privately;
    EXPECT_EQ(CodeOf([&] { List(other_, Scope::kUser, by_id); }), ErrorCode::kFileIdUnknown);
    // Admin files: filters and pages by file_id.
    std::set<std::string> ids;
    for (const char* name : {"1.txt", "2.txt", "3.txt"}) {
        ids.insert(Upload(admin_, Scope::kAdmin, name, name));
    }
    FileQuery q;
    q.num_records = 2;
    const auto first = List(admin2_, Scope::kAdmin, q);
    EXPECT_EQ(first.total, 3);
    ASSERT_EQ(first.files.size(), 2U);
    ASSERT_FALSE(first.next_id.empty());
    q.start_id = first.next_id;
    const auto second = List(admin2_, Scope::kAdmin, q);
    ASSERT_EQ(second.files.size(), 1U);
    EXPECT_TRUE(second.next_id.empty());
    std::set<std::string> seen{
        first.files[0].row.file_id, first.files[1].row.file_id, second.files[0].row.file_id};
    EXPECT_EQ(seen, ids);
    FileQuery named;
    named.file_name = "2.txt";
    EXPECT_EQ(List(admin_, Scope::kAdmin, named).total, 1);
    named.entity_type = "other";
    EXPECT_EQ(List(admin_, Scope::kAdmin, named).total, 0);
    FileQuery bad;
    bad.num_records = 0;
    EXPECT_EQ(CodeOf([&] { List(admin_, Scope::kAdmin, bad); }), ErrorCode::kInvalidQuery);
}

TEST_F(FileServiceTest, BytesGoWithTheLastRowThatNamesThem) {
    const std::string bytes = "shared bytes";
    const auto user_file = Upload(user_, Scope::kUser, "x.txt", bytes);
    const auto admin_file = Upload(admin_, Scope::kAdmin, "x.txt", bytes);
    ASSERT_EQ(BlobKeys().size(), 1U);
    // Not another user's to delete; unknown and missing ids refused.
    EXPECT_EQ(
        CodeOf([&] { service_.DeleteUserFile(other_, user_file); }), ErrorCode::kFileNotUploaded
    );
    EXPECT_EQ(
        CodeOf([&] { service_.DeleteUserFile(user_, admin_file); }), ErrorCode::kFileNotUploaded
    );
    EXPECT_EQ(CodeOf([&] { service_.DeleteUserFile(user_, ""); }), ErrorCode::kFileIdMissing);
    service_.DeleteUserFile(user_, user_file);
    EXPECT_EQ(List(user_, Scope::kUser).total, 0);
    EXPECT_EQ(BlobKeys().size(), 1U);  // the admin file still names them
    // A deleted user's files go with the sweep, and their bytes when no one else holds them.
    Upload(other_, Scope::kUser, "y.txt", "only theirs");
    ASSERT_EQ(BlobKeys().size(), 2U);
    db_.Users().Delete("user2");
    EXPECT_EQ(service_.ExpireOrphans(), 1);
    EXPECT_EQ(BlobKeys(), std::set<std::string>{crypto::Sha256Hex(bytes)});
    FileQuery all;
    EXPECT_EQ(List(admin_, Scope::kAdmin, all).total, 1);
}

}  // namespace
}  // namespace rainmaker::domain::files
