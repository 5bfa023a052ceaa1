// OTA jobs in SQLite (V022): ota_jobs, ota_job_nodes (one row per job and node, counted per
// status through the (job, status) index), ota_job_groups and the push queue. The filters of
// #36 are one fixed statement of (given, value) parameter pairs, prepared once.
#include "storage/sql/sql_ota_job_store.hpp"

#include <initializer_list>

#include "storage/sql/sql_database.hpp"

namespace rainmaker::storage::sql {

namespace {

constexpr std::initializer_list<const char*> kJobColumns = {
    "ota_job_id",        "ota_job_name", "description",     "ota_image_id",   "priority",
    "timeout_seconds",   "expires_at",   "user_approval",   "force_push",     "notify",
    "user_image_access", "metadata",     "nodes",           "all_nodes",      "dynamic",
    "node_type",         "node_model",   "node_fw_version", "status",         "archived",
    "created_by",        "created_at",   "ended_at",        "signed_image_id"};

constexpr std::initializer_list<const char*> kImageColumns = {
    "ota_image_id",
    "image_name",
    "type",
    "model",
    "fw_version",
    "project_name",
    "idf_version",
    "secure_version",
    "blob_key",
    "file_size",
    "file_md5",
    "archived",
    "uploaded_by",
    "upload_timestamp"};

// "p.a, p.b, ..." for the columns.
std::string Columns(std::initializer_list<const char*> columns, std::string_view prefix = "") {
    std::string out;
    for (const char* column : columns) {
        if (!out.empty()) {
            out += ", ";
        }
        out += prefix;
        out += column;
    }
    return out;
}

OtaJobRow ReadJob(const Statement& s, int at = 0) {
    OtaJobRow r;
    r.ota_job_id = s.Text(at + 0);
    r.ota_job_name = s.Text(at + 1);
    r.description = s.Text(at + 2);
    r.ota_image_id = s.Text(at + 3);
    r.priority = static_cast<int>(s.Int(at + 4));
    r.timeout_seconds = s.Int(at + 5);
    r.expires_at = s.Int(at + 6);
    r.user_approval = s.Bool(at + 7);
    r.force_push = s.Bool(at + 8);
    r.notify = s.Bool(at + 9);
    r.user_image_access = s.Bool(at + 10);
    r.metadata = s.Text(at + 11);
    r.nodes = s.Text(at + 12);
    r.all_nodes = s.Bool(at + 13);
    r.dynamic = s.Bool(at + 14);
    r.node_type = s.Text(at + 15);
    r.node_model = s.Text(at + 16);
    r.node_fw_version = s.Text(at + 17);
    r.status = s.Text(at + 18);
    r.archived = s.Bool(at + 19);
    r.created_by = s.Text(at + 20);
    r.created_at = s.Int(at + 21);
    r.ended_at = s.Int(at + 22);
    r.signed_image_id = s.Text(at + 23);
    return r;
}

OtaImageRow ReadImage(const Statement& s, int at) {
    OtaImageRow r;
    r.ota_image_id = s.Text(at + 0);
    r.image_name = s.Text(at + 1);
    r.type = s.Text(at + 2);
    r.model = s.Text(at + 3);
    r.fw_version = s.Text(at + 4);
    r.project_name = s.Text(at + 5);
    r.idf_version = s.Text(at + 6);
    r.secure_version = s.Int(at + 7);
    r.blob_key = s.Text(at + 8);
    r.file_size = s.Int(at + 9);
    r.file_md5 = s.Text(at + 10);
    r.archived = s.Bool(at + 11);
    r.uploaded_by = s.Text(at + 12);
    r.upload_timestamp = s.Int(at + 13);
    return r;
}

constexpr const char* kNodeColumns =
    "ota_job_id, node_id, status, additional_info, updated_at, approved";

OtaJobNodeRow ReadNode(const Statement& s, int at = 0) {
    OtaJobNodeRow r;
    r.ota_job_id = s.Text(at + 0);
    r.node_id = s.Text(at + 1);
    r.status = s.Text(at + 2);
    r.additional_info = s.Text(at + 3);
    r.updated_at = s.Int(at + 4);
    r.approved = s.Bool(at + 5);
    return r;
}

std::string SelectJobs(const std::string& rest) {
    return "SELECT " + Columns(kJobColumns) + " FROM ota_jobs " + rest;
}

// ?1/?2 id, ?3/?4 name substring, ?5/?6 image, ?7/?8 archived.
constexpr const char* kWhere =
    " WHERE (?1 = 0 OR ota_job_id = ?2) AND (?3 = 0 OR instr(ota_job_name, ?4) > 0)"
    " AND (?5 = 0 OR ota_image_id = ?6) AND (?7 = 0 OR archived = ?8)";

std::string_view Or(const std::optional<std::string>& v) {
    return v ? std::string_view(*v) : std::string_view();
}

}  // namespace

bool SqlOtaJobStore::Insert(const OtaJobRow& r) {
    return db_.Unique([&] {
        db_.Execute(
            "INSERT INTO ota_jobs(" + Columns(kJobColumns) +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            r.ota_job_id,
            r.ota_job_name,
            r.description,
            r.ota_image_id,
            r.priority,
            r.timeout_seconds,
            r.expires_at,
            r.user_approval,
            r.force_push,
            r.notify,
            r.user_image_access,
            r.metadata,
            r.nodes,
            r.all_nodes,
            r.dynamic,
            r.node_type,
            r.node_model,
            r.node_fw_version,
            r.status,
            r.archived,
            r.created_by,
            r.created_at,
            r.ended_at,
            r.signed_image_id
        );
    });
}

std::optional<OtaJobRow> SqlOtaJobStore::Find(std::string_view ota_job_id) {
    return db_.FindOne(SelectJobs("WHERE ota_job_id = ?"), ota_job_id, [](const Statement& s) {
        return ReadJob(s);
    });
}

std::optional<OtaJobRow> SqlOtaJobStore::FindByName(std::string_view ota_job_name) {
    return db_.FindOne(SelectJobs("WHERE ota_job_name = ?"), ota_job_name, [](const Statement& s) {
        return ReadJob(s);
    });
}

std::vector<OtaJobRow> SqlOtaJobStore::List(
    const OtaJobFilter& f, std::string_view start_id, int limit
) {
    return db_.FindAll(
        SelectJobs(std::string(kWhere) + " AND ota_job_id >= ?9 ORDER BY ota_job_id LIMIT ?10"),
        [](const Statement& s) { return ReadJob(s); },
        f.ota_job_id.has_value(),
        Or(f.ota_job_id),
        f.name_contains.has_value(),
        Or(f.name_contains),
        f.ota_image_id.has_value(),
        Or(f.ota_image_id),
        f.archived.has_value(),
        f.archived.value_or(false),
        start_id,
        limit
    );
}

std::int64_t SqlOtaJobStore::Count(const OtaJobFilter& f) {
    return db_.Count(
        std::string("SELECT COUNT(*) FROM ota_jobs") + kWhere,
        f.ota_job_id.has_value(),
        Or(f.ota_job_id),
        f.name_contains.has_value(),
        Or(f.name_contains),
        f.ota_image_id.has_value(),
        Or(f.ota_image_id),
        f.archived.has_value(),
        f.archived.value_or(false)
    );
}

std::optional<OtaJobRow> SqlOtaJobStore::LatestForImage(
    std::string_view ota_image_id, bool archived
) {
    return db_.FindFirst(
        SelectJobs(
            "WHERE ota_image_id = ?1 AND archived = ?2 ORDER BY created_at DESC, ota_job_id DESC "
            "LIMIT 1"
        ),
        [](const Statement& s) { return ReadJob(s); },
        ota_image_id,
        archived
    );
}

bool SqlOtaJobStore::MoveStatus(
    std::string_view ota_job_id, std::string_view from, std::string_view to, std::int64_t at
) {
    return db_.Execute(
               "UPDATE ota_jobs SET status = ?3, ended_at = ?4 WHERE ota_job_id = ?1 AND status = "
               "?2",
               ota_job_id,
               from,
               to,
               at
           ) > 0;
}

bool SqlOtaJobStore::Archive(std::string_view ota_job_id) {
    return db_.Execute(
               "UPDATE ota_jobs SET archived = 1 WHERE ota_job_id = ? AND archived = 0", ota_job_id
           ) > 0;
}

std::vector<std::string> SqlOtaJobStore::DueJobs(std::int64_t now, int limit) {
    return db_.FindAll(
        "SELECT ota_job_id FROM ota_jobs WHERE status = 'active' AND expires_at > 0 AND "
        "expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
        [](const Statement& s) { return s.Text(0); },
        now,
        limit
    );
}

std::vector<OtaJobRow> SqlOtaJobStore::ActiveDynamic() {
    return db_.FindAll(
        SelectJobs("WHERE dynamic = 1 AND status = 'active' ORDER BY ota_job_id"),
        [](const Statement& s) { return ReadJob(s); }
    );
}

std::int64_t SqlOtaJobStore::CountUsingImage(std::string_view ota_image_id, bool not_cancelled) {
    return db_.Count(
        "SELECT COUNT(*) FROM ota_jobs WHERE ota_image_id = ?1 AND (?2 = 0 OR status <> "
        "'cancelled')",
        ota_image_id,
        not_cancelled
    );
}

void SqlOtaJobStore::AddGroup(std::string_view ota_job_id, const OtaJobGroupRow& group) {
    db_.Execute(
        "INSERT INTO ota_job_groups(ota_job_id, group_id, group_name) VALUES (?,?,?) ON CONFLICT "
        "DO NOTHING",
        ota_job_id,
        group.group_id,
        group.group_name
    );
}

std::vector<OtaJobGroupRow> SqlOtaJobStore::Groups(std::string_view ota_job_id) {
    // The group's name now when it still exists, else the name it had.
    return db_.FindAll(
        "SELECT g.group_id, COALESCE(n.group_name, g.group_name) FROM ota_job_groups g "
        "LEFT JOIN node_groups n ON n.group_id = g.group_id WHERE g.ota_job_id = ? "
        "ORDER BY g.group_id",
        [](const Statement& s) {
            return OtaJobGroupRow{s.Text(0), s.Text(1)};
        },
        ota_job_id
    );
}

bool SqlOtaJobStore::GroupTargetedByActiveJob(std::string_view group_id) {
    return db_.Count(
               "SELECT EXISTS (SELECT 1 FROM ota_job_groups g JOIN ota_jobs j ON j.ota_job_id = "
               "g.ota_job_id WHERE g.group_id = ? AND j.status = 'active')",
               group_id
           ) != 0;
}

int SqlOtaJobStore::AddNodes(
    std::string_view ota_job_id, const std::vector<std::string>& node_ids, std::int64_t at_ms
) {
    int added = 0;
    for (const auto& node : node_ids) {
        added += db_.Execute(
            "INSERT INTO ota_job_nodes(ota_job_id, node_id, status, updated_at) "
            "VALUES (?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
            ota_job_id,
            node,
            at_ms
        );
    }
    return added;
}

int SqlOtaJobStore::AddAllNodes(std::string_view ota_job_id, std::int64_t at_ms) {
    return db_.Execute(
        "INSERT INTO ota_job_nodes(ota_job_id, node_id, status, updated_at) "
        "SELECT ?1, node_id, 'pending', ?2 FROM nodes WHERE true ON CONFLICT DO NOTHING",
        ota_job_id,
        at_ms
    );
}

bool SqlOtaJobStore::InsertNode(const OtaJobNodeRow& r) {
    return db_.Execute(
               "INSERT INTO ota_job_nodes(" + std::string(kNodeColumns) +
                   ") VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
               r.ota_job_id,
               r.node_id,
               r.status,
               r.additional_info,
               r.updated_at,
               r.approved
           ) > 0;
}

std::optional<OtaJobNodeRow> SqlOtaJobStore::FindNode(
    std::string_view ota_job_id, std::string_view node_id
) {
    return db_.FindFirst(
        std::string("SELECT ") + kNodeColumns +
            " FROM ota_job_nodes WHERE ota_job_id = ?1 AND node_id = ?2",
        [](const Statement& s) { return ReadNode(s); },
        ota_job_id,
        node_id
    );
}

std::vector<OtaJobNodeRow> SqlOtaJobStore::ListNodes(
    std::string_view ota_job_id,
    const std::optional<std::string>& node_id,
    std::string_view start_id,
    int limit
) {
    return db_.FindAll(
        std::string("SELECT ") + kNodeColumns +
            " FROM ota_job_nodes WHERE ota_job_id = ?1 AND (?2 = 0 OR node_id = ?3) AND node_id "
            ">= ?4 ORDER BY node_id LIMIT ?5",
        [](const Statement& s) { return ReadNode(s); },
        ota_job_id,
        node_id.has_value(),
        Or(node_id),
        start_id,
        limit
    );
}

std::int64_t SqlOtaJobStore::CountNodes(
    std::string_view ota_job_id, const std::optional<std::string>& node_id
) {
    return db_.Count(
        "SELECT COUNT(*) FROM ota_job_nodes WHERE ota_job_id = ?1 AND (?2 = 0 OR node_id = ?3)",
        ota_job_id,
        node_id.has_value(),
        Or(node_id)
    );
}

std::vector<std::string> SqlOtaJobStore::NodeIds(std::string_view ota_job_id) {
    return db_.FindAll(
        "SELECT node_id FROM ota_job_nodes WHERE ota_job_id = ? ORDER BY node_id",
        [](const Statement& s) { return s.Text(0); },
        ota_job_id
    );
}

std::map<std::string, std::int64_t> SqlOtaJobStore::CountByStatus(std::string_view ota_job_id) {
    std::map<std::string, std::int64_t> counts;
    db_.ForEachRow(
        "SELECT status, COUNT(*) FROM ota_job_nodes WHERE ota_job_id = ? GROUP BY status",
        [&](const Statement& s) {
            counts[s.Text(0)] = s.Int(1);
            return true;
        },
        ota_job_id
    );
    return counts;
}

bool SqlOtaJobStore::AnyNodeIn(
    std::string_view ota_job_id, const std::vector<std::string>& statuses
) {
    for (const auto& status : statuses) {
        if (db_.Count(
                "SELECT EXISTS (SELECT 1 FROM ota_job_nodes WHERE ota_job_id = ?1 AND status = ?2)",
                ota_job_id,
                status
            ) != 0) {
            return true;
        }
    }
    return false;
}

bool SqlOtaJobStore::SetNodeStatus(
    std::string_view ota_job_id,
    std::string_view node_id,
    std::string_view status,
    std::string_view additional_info,
    std::int64_t at_ms
) {
    return db_.Execute(
               "UPDATE ota_job_nodes SET status = ?3, additional_info = ?4, updated_at = ?5 "
               "WHERE ota_job_id = ?1 AND node_id = ?2",
               ota_job_id,
               node_id,
               status,
               additional_info,
               at_ms
           ) > 0;
}

void SqlOtaJobStore::SetApproved(std::string_view ota_job_id, std::string_view node_id) {
    db_.Execute(
        "UPDATE ota_job_nodes SET approved = 1 WHERE ota_job_id = ?1 AND node_id = ?2",
        ota_job_id,
        node_id
    );
}

int SqlOtaJobStore::MoveNodes(
    std::string_view ota_job_id,
    const std::vector<std::string>& from,
    std::string_view to,
    std::string_view additional_info,
    std::int64_t at_ms
) {
    int moved = 0;
    for (const auto& status : from) {
        moved += db_.Execute(
            "UPDATE ota_job_nodes SET status = ?3, additional_info = ?4, updated_at = ?5 "
            "WHERE ota_job_id = ?1 AND status = ?2",
            ota_job_id,
            status,
            to,
            additional_info,
            at_ms
        );
    }
    return moved;
}

std::vector<OtaOfferRow> SqlOtaJobStore::Offers(
    std::string_view node_id,
    std::string_view node_type,
    std::string_view node_model,
    std::string_view fw_version
) {
    const std::string columns = Columns(kJobColumns, "j.") + ", " + Columns(kImageColumns, "i.");
    const std::string sql =
        "SELECT " + columns + ", " +
        Columns(
            {"ota_job_id", "node_id", "status", "additional_info", "updated_at", "approved"}, "n."
        ) +
        ", 1 FROM ota_job_nodes n JOIN ota_jobs j ON j.ota_job_id = n.ota_job_id "
        "JOIN ota_images i ON i.ota_image_id = j.ota_image_id "
        "WHERE n.node_id = ?1 AND j.status = 'active' "
        "UNION ALL SELECT " +
        columns +
        ", '', '', '', '', 0, 0, 0 FROM ota_jobs j "
        "JOIN ota_images i ON i.ota_image_id = j.ota_image_id "
        "WHERE j.dynamic = 1 AND j.status = 'active' "
        "AND (j.node_type = '' OR j.node_type = ?2) AND (j.node_model = '' OR j.node_model = ?3) "
        "AND (j.node_fw_version = '' OR j.node_fw_version = ?4) "
        "AND NOT EXISTS (SELECT 1 FROM ota_job_nodes m WHERE m.ota_job_id = j.ota_job_id AND "
        "m.node_id = ?1)";
    auto offers = db_.FindAll(
        sql,
        [](const Statement& s) {
            constexpr int jobs = static_cast<int>(kJobColumns.size());
            constexpr int images = static_cast<int>(kImageColumns.size());
            OtaOfferRow row;
            row.job = ReadJob(s, 0);
            row.image = ReadImage(s, jobs);
            if (s.Bool(jobs + images + 6)) {
                row.node = ReadNode(s, jobs + images);
            }
            return row;
        },
        node_id,
        node_type,
        node_model,
        fw_version
    );
    // A secure boot job delivers its signed firmware's bytes, or nothing.
    std::vector<OtaOfferRow> delivered;
    delivered.reserve(offers.size());
    for (auto& offer : offers) {
        if (ApplySignedImage(offer.job, offer.image)) {
            delivered.push_back(std::move(offer));
        }
    }
    return delivered;
}

bool SqlOtaJobStore::ApplySignedImage(const OtaJobRow& job, OtaImageRow& image) {
    if (job.signed_image_id.empty()) {
        return true;
    }
    bool found = false;
    db_.ForEachRow(
        "SELECT blob_key, file_size, file_md5 FROM signed_images WHERE signed_image_id = ?1",
        [&](const Statement& s) {
            image.blob_key = s.Text(0);
            image.file_size = s.Int(1);
            image.file_md5 = s.Text(2);
            found = true;
            return false;
        },
        job.signed_image_id
    );
    return found;
}

std::optional<OtaImageRow> SqlOtaJobStore::DeliveredImage(const OtaJobRow& job) {
    auto image = db_.FindFirst(
        "SELECT " + Columns(kImageColumns) + " FROM ota_images WHERE ota_image_id = ?1",
        [](const Statement& s) { return ReadImage(s, 0); },
        job.ota_image_id
    );
    if (!image || !ApplySignedImage(job, *image)) {
        return std::nullopt;
    }
    return image;
}

int SqlOtaJobStore::QueueConnected(std::string_view ota_job_id) {
    return db_.Execute(
        "INSERT INTO ota_push_queue(node_id) SELECT n.node_id FROM ota_job_nodes n "
        "JOIN nodes d ON d.node_id = n.node_id WHERE n.ota_job_id = ? AND d.connected = 1 "
        "AND d.revoked = 0 ORDER BY n.node_id ON CONFLICT DO NOTHING",
        ota_job_id
    );
}

int SqlOtaJobStore::QueueConnectedMatching(
    std::string_view node_type, std::string_view node_model, std::string_view fw_version
) {
    return db_.Execute(
        "INSERT INTO ota_push_queue(node_id) SELECT node_id FROM nodes "
        "WHERE connected = 1 AND revoked = 0 AND (?1 = '' OR node_type = ?1) "
        "AND (?2 = '' OR model = ?2) AND (?3 = '' OR fw_version = ?3) ORDER BY node_id "
        "ON CONFLICT DO NOTHING",
        node_type,
        node_model,
        fw_version
    );
}

void SqlOtaJobStore::QueueNode(std::string_view node_id) {
    db_.Execute("INSERT INTO ota_push_queue(node_id) VALUES (?) ON CONFLICT DO NOTHING", node_id);
}

std::vector<std::string> SqlOtaJobStore::TakeQueued(int limit) {
    auto taken = db_.FindAll(
        "SELECT seq, node_id FROM ota_push_queue ORDER BY seq LIMIT ?",
        [](const Statement& s) {
            return std::pair{s.Int(0), s.Text(1)};
        },
        limit
    );
    std::vector<std::string> nodes;
    nodes.reserve(taken.size());
    if (!taken.empty()) {
        db_.Execute("DELETE FROM ota_push_queue WHERE seq <= ?", taken.back().first);
    }
    for (auto& [seq, node] : taken) {
        nodes.push_back(std::move(node));
    }
    return nodes;
}

std::int64_t SqlOtaJobStore::CountQueued() {
    return db_.Count("SELECT COUNT(*) FROM ota_push_queue");
}

}  // namespace rainmaker::storage::sql
