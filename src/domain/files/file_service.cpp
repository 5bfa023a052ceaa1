#include "domain/files/file_service.hpp"

#include <utility>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/utf8.hpp"
#include "domain/nodes/admin_scope.hpp"
#include "domain/ota/input_rules.hpp"
#include "domain/paging.hpp"

namespace rainmaker::domain::files {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::string_view kNodeEntity = "node";
constexpr std::string_view kImageEntity = "ota_image";

using ota::Given;

// The characters of `text`; nullopt when it is not UTF-8.
std::optional<std::size_t> Characters(std::string_view text) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++n) {
        if (!core::NextCodePoint(text, i)) {
            return std::nullopt;
        }
    }
    return n;
}

// Whether an admin restricted by RBAC roles to some nodes is kept from a file about
// `entity_type`: they neither make nor see files about nodes (the other entities are not nodes).
bool HiddenFromScoped(const auth::AuthContext& caller, std::string_view entity_type) {
    return caller.node_scope && entity_type == kNodeEntity;
}

std::string ValueOf(const std::optional<std::string>& v) {
    return v.value_or(std::string());
}

}  // namespace

FileService::FileService(
    storage::Database& db,
    ota::OtaImageService& uploads,
    const core::Clock& clock,
    FileConfig config
)
    : db_(db),
      uploads_(uploads),
      clock_(clock),
      config_(config),
      admin_rules_{
          .scope = "admin",
          .upload_kind = ota::kAdminFileUpload,
          .max_bytes = config.admin_max_bytes,
          .too_large = ErrorCode::kFileAdminTooLarge,
          .entity_id_always = true,
          .per_owner = false},
      user_rules_{
          .scope = "user",
          .upload_kind = ota::kUserFileUpload,
          .max_bytes = config.user_max_bytes,
          .too_large = ErrorCode::kFileUserTooLarge,
          .entity_id_always = false,
          .per_owner = true} {}

const FileService::ScopeRules& FileService::Rules(Scope scope) const {
    return scope == Scope::kAdmin ? admin_rules_ : user_rules_;
}

void FileService::CheckEntity(
    const auth::AuthContext& caller,
    Scope scope,
    const std::string& entity_type,
    const std::string& entity_id
) {
    if (entity_type == kNodeEntity) {
        if (scope == Scope::kAdmin) {
            nodes::RequireEveryNode(caller, "A file about a node");
            if (!nodes::FindForAdmin(db_, caller, entity_id)) {
                throw ApiError(ErrorCode::kNodesNotFound);
            }
        } else if (!db_.Nodes().FindMapping(caller.user_id, entity_id)) {
            throw ApiError(ErrorCode::kNodeNotOwned);
        }
    } else if (entity_type == kImageEntity) {
        bool found = false;
        if (scope == Scope::kAdmin) {
            found = db_.OtaImages().Find(entity_id).has_value();
        } else {
            for (const auto& image : db_.OtaUploads().UserImages(caller.user_id)) {
                found = found || image.image_id == entity_id;
            }
        }
        if (!found) {
            throw ApiError(ErrorCode::kOtaImageNotFound);
        }
    }
}

void FileService::RequireRoomFor(
    const ScopeRules& rules, const std::string& owner, std::int64_t pending_already
) {
    if (!rules.per_owner) {
        return;
    }
    storage::FileFilter mine;
    mine.scope = rules.scope;
    mine.owner = owner;
    // Pending uploads count too, so that what a user keeps on disk stays within the limit.
    const auto pending =
        db_.OtaUploads().CountPending(owner, clock_.NowSeconds()) - pending_already;
    if (db_.Files().Count(mine) + pending >= config_.user_max_files) {
        throw ApiError(ErrorCode::kFileUserCountLimit);
    }
}

UploadTicket FileService::RequestUpload(
    const auth::AuthContext& caller, Scope scope, const UploadRequest& input
) {
    const auto& rules = Rules(scope);
    if (!Given(input.file_name)) {
        throw ApiError(ErrorCode::kFileNameMissing);
    }
    const auto characters = Characters(*input.file_name);
    if (!characters) {
        throw ApiError(ErrorCode::kInvalidQuery, "file_name must be UTF-8 text");
    }
    if (*characters > config_.max_file_name) {
        throw ApiError(ErrorCode::kFileNameLength);
    }
    if (!Given(input.entity_type)) {
        throw ApiError(ErrorCode::kFileEntityTypeMissing);
    }
    const bool needs_id = rules.entity_id_always || *input.entity_type == kNodeEntity ||
                          *input.entity_type == kImageEntity;
    if (needs_id && !Given(input.entity_id)) {
        throw ApiError(ErrorCode::kFileEntityIdMissing);
    }
    ota::CheckLength(input.entity_type, config_.max_entity_field, "entity_type");
    ota::CheckLength(input.entity_id, config_.max_entity_field, "entity_id");
    const std::string entity_id = ValueOf(input.entity_id);
    db_.Snapshot([&] {
        CheckEntity(caller, scope, *input.entity_type, entity_id);
        if (db_.Files().NameTaken(
                rules.scope, caller.user_id, *input.entity_type, entity_id, *input.file_name
            )) {
            throw ApiError(ErrorCode::kFileExists);
        }
        RequireRoomFor(rules, caller.user_id, 0);
    });
    storage::OtaUploadRow row;
    row.kind = rules.upload_kind;
    row.image_name = *input.file_name;
    row.image_type = "file";
    row.max_bytes = rules.max_bytes;
    row.entity_type = *input.entity_type;
    row.entity_id = entity_id;
    const auto ticket = uploads_.OpenPendingUpload(caller, std::move(row), input.md5_checksum);
    return UploadTicket{ticket.ota_image_id, ticket.upload_url};
}

File FileService::Confirm(const auth::AuthContext& caller, Scope scope, const ConfirmInput& input) {
    const auto& rules = Rules(scope);
    if (!Given(input.file_id)) {
        throw ApiError(ErrorCode::kFileIdMissing);
    }
    ota::CheckLength(input.description, config_.max_description, "description");
    ota::CheckLength(input.file_type, config_.max_entity_field, "file_type");
    ota::CheckLength(input.metadata, config_.max_metadata, "metadata");
    const std::string& file_id = *input.file_id;
    // The caller's pending upload of this kind (not expired).
    const auto pending_of_caller = [&](const std::optional<storage::OtaUploadRow>& upload) {
        return upload && upload->kind == rules.upload_kind &&
               (!rules.per_owner || upload->requested_by == caller.user_id) &&
               !HiddenFromScoped(caller, upload->entity_type) &&
               upload->expires_at >= clock_.NowSeconds();
    };
    // Bytes PUT straight into the blob store (S3) are taken in first, outside the transaction.
    if (const auto pending = db_.OtaUploads().Find(file_id); pending_of_caller(pending)) {
        try {
            uploads_.TakeDirectUpload(*pending);
        } catch (const ApiError& e) {
            // Over the scope's limit: the files' own code, as at the confirmation below.
            if (e.code() == ErrorCode::kBodyTooLarge || e.code() == ErrorCode::kOtaUploadTooLarge) {
                throw ApiError(rules.too_large);
            }
            throw;
        }
    }
    storage::FileRow file;
    db_.Transaction([&] {
        const auto upload = db_.OtaUploads().Find(file_id);
        if (!pending_of_caller(upload)) {
            const auto confirmed = db_.Files().Find(file_id);
            if (!upload && confirmed && confirmed->scope == rules.scope &&
                (!rules.per_owner || confirmed->owner == caller.user_id)) {
                throw ApiError(ErrorCode::kFileAlreadyConfirmed);
            }
            throw ApiError(
                ErrorCode::kFileIdInvalid,
                "Invalid File ID: no upload of yours waits under it (it expired, or was never "
                "asked for); ask for a new one"
            );
        }
        if (upload->blob_key.empty()) {
            throw ApiError(ErrorCode::kFileNotUploaded);
        }
        if (static_cast<std::uint64_t>(upload->file_size) > rules.max_bytes) {
            throw ApiError(rules.too_large);
        }
        RequireRoomFor(rules, caller.user_id, 1);
        file.file_id = file_id;
        file.scope = rules.scope;
        file.owner = upload->requested_by;
        file.file_name = upload->image_name;
        file.entity_type = upload->entity_type;
        file.entity_id = upload->entity_id;
        file.file_type = ValueOf(input.file_type);
        file.description = ValueOf(input.description);
        file.metadata = ValueOf(input.metadata);
        file.is_public = input.is_public;
        file.blob_key = upload->blob_key;
        file.file_size = upload->file_size;
        file.file_md5 = upload->file_md5;
        file.created_at = clock_.NowSeconds();
        // The name may have been taken since the request: the insert refuses it then.
        if (!db_.Files().Insert(file)) {
            throw ApiError(ErrorCode::kFileExists);
        }
        // The bytes pass from the upload row to the file row in this one transaction: the
        // blob always has a row naming it.
        db_.OtaUploads().Delete(file_id);
    });
    return Describe(std::move(file));
}

FilePage FileService::List(const auth::AuthContext& caller, Scope scope, const FileQuery& query) {
    const auto& rules = Rules(scope);
    const int page_size = PageSize(query.num_records);
    FilePage page;
    if (Given(query.file_id)) {
        auto row = db_.Files().Find(*query.file_id);
        const bool visible = row && row->scope == rules.scope &&
                             (!rules.per_owner || row->owner == caller.user_id || row->is_public) &&
                             !HiddenFromScoped(caller, row->entity_type);
        if (!visible) {
            throw ApiError(ErrorCode::kFileIdUnknown);
        }
        page.files.push_back(Describe(std::move(*row)));
        page.total = 1;
        return page;
    }
    storage::FileFilter filter;
    filter.scope = rules.scope;
    filter.owner = rules.per_owner ? caller.user_id : std::string();
    filter.file_name = ValueOf(query.file_name);
    filter.entity_type = ValueOf(query.entity_type);
    filter.entity_id = ValueOf(query.entity_id);
    filter.file_type = ValueOf(query.file_type);
    filter.start_id = query.start_id;
    // An admin restricted to some nodes sees the files about other entities only: the page
    // leaves node files out (it may hold fewer than num_records; next_id still leads on), the
    // total does not count them.
    const bool scoped = HiddenFromScoped(caller, kNodeEntity);
    if (scoped && filter.entity_type == kNodeEntity) {
        return page;
    }
    std::vector<storage::FileRow> rows;
    db_.Snapshot([&] {
        rows = db_.Files().List(filter, page_size + 1);
        page.total = db_.Files().Count(filter);
        if (scoped && filter.entity_type.empty()) {
            auto nodes_only = filter;
            nodes_only.entity_type = std::string(kNodeEntity);
            page.total -= db_.Files().Count(nodes_only);
        }
    });
    if (rows.size() > static_cast<std::size_t>(page_size)) {
        page.next_id = rows.back().file_id;
        rows.pop_back();
    }
    for (auto& row : rows) {
        if (!HiddenFromScoped(caller, row.entity_type)) {
            page.files.push_back(Describe(std::move(row)));
        }
    }
    return page;
}

void FileService::DeleteUserFile(const auth::AuthContext& caller, std::string_view file_id) {
    if (file_id.empty()) {
        throw ApiError(ErrorCode::kFileIdMissing);
    }
    std::string blob_key;
    db_.Transaction([&] {
        const auto row = db_.Files().Find(file_id);
        if (!row || row->scope != user_rules_.scope || row->owner != caller.user_id) {
            throw ApiError(ErrorCode::kFileNotUploaded, "File not found");
        }
        db_.Files().Delete(file_id);
        blob_key = row->blob_key;
    });
    uploads_.ReleaseBlob(blob_key);  // after the commit: a failed one keeps the row's bytes
}

int FileService::ExpireOrphans() {
    constexpr std::size_t kBatch = 100;
    int total = 0;
    for (;;) {
        std::vector<storage::FileRow> gone;
        db_.Transaction([&] {
            gone = db_.Files().Orphaned(static_cast<int>(kBatch));
            for (const auto& file : gone) {
                db_.Files().Delete(file.file_id);
            }
        });
        for (const auto& file : gone) {
            uploads_.ReleaseBlob(file.blob_key);  // after the commit
        }
        total += static_cast<int>(gone.size());
        if (gone.size() < kBatch) {
            return total;
        }
    }
}

File FileService::Describe(storage::FileRow row) const {
    File file;
    file.file_url = uploads_.DownloadUrl(row.blob_key, row.file_name);
    file.row = std::move(row);
    return file;
}

}  // namespace rainmaker::domain::files
