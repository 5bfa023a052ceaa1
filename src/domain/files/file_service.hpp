// Files (#46-#51): an admin's files about an entity (a QA report or a bootloader for an OTA
// image, a certificate, ...) and a user's own files (at most user_max_files of user_max_bytes).
// The flow is the presigned one of OTA uploads (domain/ota): an upload request gives a file_id
// and a PUT URL on our HTTPS listener; the PUT streams the bytes into the BlobStore (at most the
// scope's max_bytes); the confirmation turns the pending upload into a file row with its
// description, metadata, file_type and public flag, and answers a download URL. Admin files are
// the deployment's (every admin sees them, as OTA images); user files are their owner's, and
// one marked public can be fetched by its file_id by any signed-in user. The two scopes differ
// only in the table of ScopeRules (file_service.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/ota/ota_image_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::files {

enum class Scope { kAdmin, kUser };

struct FileConfig {
    std::uint64_t admin_max_bytes = std::uint64_t{100} * 1024 * 1024;  // #46: 100 MB
    std::uint64_t user_max_bytes = std::uint64_t{10} * 1024 * 1024;    // #48: 10 MB
    int user_max_files = 10;                                           // #48: 10 files
    std::size_t max_file_name = 100;                                   // #46: 1..100 characters
    std::size_t max_entity_field = 128;  // entity_type, entity_id, file_type; longer → 100036
    std::size_t max_description = 1024;
    std::size_t max_metadata = 4096;  // the metadata object's JSON text
};

// #46/#48's query; each as given (nullopt when absent).
struct UploadRequest {
    std::optional<std::string> file_name;
    std::optional<std::string> entity_type;
    std::optional<std::string> entity_id;
    std::optional<std::string> md5_checksum;  // base64 of the file's MD5
};

struct UploadTicket {
    std::string file_id;
    std::string file_url;  // the PUT URL, valid for the OTA upload_url_ttl
};

// #47/#49's body.
struct ConfirmInput {
    std::optional<std::string> file_id;
    std::optional<std::string> description;
    std::optional<std::string> file_type;
    std::optional<std::string> metadata;  // the metadata object's JSON text
    bool is_public = false;
};

struct File {
    storage::FileRow row;
    std::string file_url;  // a presigned GET URL of its bytes ("" without URLs)
};

// #50/#51's query; filters absent or empty match everything.
struct FileQuery {
    std::optional<std::string> file_id;  // given: that file alone
    std::optional<std::string> file_name;
    std::optional<std::string> entity_type;
    std::optional<std::string> entity_id;
    std::optional<std::string> file_type;
    std::string start_id;
    int num_records = 25;
};

struct FilePage {
    std::vector<File> files;
    std::int64_t total = 0;  // every file matching the filters, on every page
    std::string next_id;     // the first id of the next page; empty on the last page
};

class FileService {
public:
    FileService(
        storage::Database& db,
        ota::OtaImageService& uploads,
        const core::Clock& clock,
        FileConfig config = {}
    );

    // #46/#48. Throws kFileNameMissing, kFileNameLength (over max_file_name),
    // kFileEntityTypeMissing, kFileEntityIdMissing (admin: always required; user: for the
    // entity types node and ota_image), kInputTooLarge (an entity field too long),
    // kOtaImageNotFound (entity ota_image: no such image; for a user, none of their own #40
    // images), kNotPermitted (admin, entity node: an admin whose RBAC roles reach only some
    // nodes, who neither makes nor sees files about nodes), kNodesNotFound (admin, entity node:
    // no such node),
    // kNodeNotOwned (user, entity node: not theirs), kFileExists (the name is taken for that
    // entity), kFileUserCountLimit (a user holding user_max_files), and as
    // OtaImageService::OpenPendingUpload (bad md5_checksum, too many pending, no URLs). A
    // user's pending uploads count toward user_max_files.
    UploadTicket RequestUpload(
        const auth::AuthContext& caller, Scope scope, const UploadRequest& input
    );

    // #47/#49. Throws kFileIdMissing, kFileAlreadyConfirmed (the caller's file, confirmed
    // before), kFileIdInvalid (no pending upload of this scope and caller under the id, or it
    // expired), kFileNotUploaded (nothing PUT yet), kFileAdminTooLarge / kFileUserTooLarge,
    // kFileUserCountLimit, kFileExists, kInputTooLarge (description, file_type or metadata over
    // their limits). Nothing changes when it throws.
    File Confirm(const auth::AuthContext& caller, Scope scope, const ConfirmInput& input);

    // #50/#51: the scope's files (a user's own), by file_id. With file_id: that file, which
    // for a user may be another user's public file; kFileIdUnknown when there is none the
    // caller may see. Throws kInvalidQuery (num_records < 1).
    FilePage List(const auth::AuthContext& caller, Scope scope, const FileQuery& query);

    // Deletes the files of users who are gone, and their bytes when no other row names them;
    // returns how many went.
    int ExpireOrphans();

    // DELETE /user/file?file_id (the SDK's): the caller's own file and, when no other row
    // names them, its bytes. Throws kFileIdMissing, kFileNotUploaded (no such file of theirs).
    void DeleteUserFile(const auth::AuthContext& caller, std::string_view file_id);

private:
    // What differs between admin and user files.
    struct ScopeRules {
        const char* scope;             // storage::FileRow::scope
        std::string_view upload_kind;  // storage::OtaUploadRow::kind of its pending uploads
        std::uint64_t max_bytes;
        core::ErrorCode too_large;
        bool entity_id_always;  // required whatever the entity type (else for node/ota_image)
        bool per_owner;         // a user's own: names, counts, listings and confirmations
    };

    const ScopeRules& Rules(Scope scope) const;
    void CheckEntity(
        const auth::AuthContext& caller,
        Scope scope,
        const std::string& entity_type,
        const std::string& entity_id
    );
    // Throws kFileUserCountLimit when `owner`'s files and pending uploads of a per-owner scope,
    // less `pending_already` of those uploads (the one being confirmed), reach user_max_files.
    void RequireRoomFor(
        const ScopeRules& rules, const std::string& owner, std::int64_t pending_already
    );
    File Describe(storage::FileRow row) const;

    storage::Database& db_;
    ota::OtaImageService& uploads_;
    const core::Clock& clock_;
    FileConfig config_;
    ScopeRules admin_rules_;
    ScopeRules user_rules_;
};

}  // namespace rainmaker::domain::files
