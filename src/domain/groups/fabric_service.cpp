// Matter fabrics over the Matter store: ids, the sealed root, member identities, NOCs and
// commissioning; every change runs in one transaction.
#include "domain/groups/fabric_service.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "crypto/base64.hpp"
#include "crypto/pki.hpp"
#include "domain/groups/group_service.hpp"
#include "domain/nodes/node_access.hpp"

namespace rainmaker::domain::groups {

using core::ApiError;
using core::ErrorCode;
using storage::FabricRow;
using storage::MatterMemberRow;
using storage::MatterNodeRow;

namespace {

// Ids are drawn at random; a clash (2^-64) is retried a few times before giving up.
constexpr int kDrawAttempts = 5;
// CAT identifiers (upper 16 bits) by role, disjoint so an operate tag never reads as an admin
// one; members' own CATs come from a third range. Version 1 (lower 16 bits).
constexpr std::uint32_t kAdminCatBase = 0x0100;
constexpr std::uint32_t kOperateCatBase = 0x0600;
constexpr std::uint32_t kCatSpan = 0x0300;
constexpr std::uint32_t kUserCatBase = 0x1000;
constexpr std::uint32_t kUserCatSpan = 0x5000;
constexpr std::uint32_t kCatVersion1 = 1;
// Parsed fabric roots kept in memory (each a few KiB).
constexpr std::size_t kMaxIssuers = 1024;
// How long a device NOC's commissioning request may be confirmed.
constexpr std::int64_t kCommissionSeconds = 3600;

std::uint64_t Random64() {
    const auto hex = core::RandomHex(8);
    return std::stoull(hex, nullptr, 16);
}

std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
        return static_cast<char>(std::toupper(c));
    });
    return s;
}

std::uint32_t Cat(std::uint32_t base, std::uint32_t span) {
    return (base + core::RandomBelow(span)) << 16 | kCatVersion1;
}

std::uint32_t ParseCat(const std::string& hex) {
    return static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16));
}

// The CAT with the next version (its low 16 bits). Past version 0xFFFF the role takes the
// next identifier of its range, version 1: identifiers only go up, so none is handed out
// again (an old one coming back would make the NOCs revoked with it match once more). Past
// the range's last identifier the fabric cannot revoke any more: 108077, nothing changes.
std::uint32_t NextCatVersion(std::uint32_t cat, std::uint32_t base, std::uint32_t span) {
    if ((cat & 0xFFFFU) < 0xFFFFU) {
        return cat + 1;
    }
    const std::uint32_t id = (cat >> 16) + 1;
    if (id < base || id >= base + span) {
        throw ApiError(
            ErrorCode::kFabricIdsFailed,
            "Error occurred while generating matter fabric IDs: the fabric's CAT identifiers "
            "are used up (make a new fabric)",
            "CAT " + crypto::MatterCatHex(cat) + " is the last of its range"
        );
    }
    return id << 16 | kCatVersion1;
}

// The challenge response as the apps send it: hex (as in challenge-response mapping), else
// base64.
std::optional<std::string> SignatureBytes(std::string_view text) {
    if (text.size() % 2 == 0 && !text.empty() &&
        text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
        std::string out;
        for (std::size_t i = 0; i < text.size(); i += 2) {
            out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16))
            );
        }
        return out;
    }
    return crypto::Base64Decode(text);
}

bool Primary(const std::optional<GroupRole>& role) {
    return role && role->Primary();
}

// What a csr_requests item may reach: its group (top-level, the caller's or shared with
// them), the caller's role there and the group's fabric.
struct ItemAccess {
    storage::GroupRow group;
    std::optional<GroupRole> role;
    FabricRow fabric;
};

// Throws 108111 (no such group, or not the caller's), 108088 (not a fabric), 108140 (a
// secondary asking for a primary controller) or 108056 (a secondary commissioning).
ItemAccess CheckItemAccess(
    storage::Database& db, std::string_view user_id, const CsrItem& item, std::string_view type
) {
    const auto group = db.Groups().Find(item.group_id);
    const auto role =
        group && group->kind == "user" ? RoleInGroup(db, user_id, *group) : std::nullopt;
    if (!role) {
        throw ApiError(
            ErrorCode::kCsrGroupNotAccessible, "Group missing or not accessible: " + item.group_id
        );
    }
    if (!group->parent_id.empty()) {
        throw ApiError(ErrorCode::kNotAFabric);
    }
    auto fabric = db.Matter().FindFabric(group->group_id);
    if (!fabric) {
        throw ApiError(ErrorCode::kNotAFabric);
    }
    if (type == "controller" && item.role && item.role->role == core::ResourceRole::kPrimary &&
        !Primary(role)) {
        throw ApiError(ErrorCode::kSecondaryPrimaryController);
    }
    // Commissioning a device changes the home: its primaries only.
    if (type == "node" && !Primary(role)) {
        throw ApiError(ErrorCode::kSharedGroupReadOnly);
    }
    return ItemAccess{*group, role, std::move(*fabric)};
}

}  // namespace

std::string CsrRequestsTooMany() {
    return "Error, input size is too large: at most " + std::to_string(kMaxCsrRequests) +
           " csr_requests in one request";
}

std::optional<std::uint64_t> ParseMatterId(std::string_view hex) {
    if (hex.empty() || hex.size() > 16) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : hex) {
        int digit = 0;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            return std::nullopt;
        }
        value = value << 4 | static_cast<std::uint64_t>(digit);
    }
    return value;
}

FabricService::FabricService(
    storage::Database& db, const crypto::KeySealer& sealer, const core::Clock& clock
)
    : db_(db), sealer_(sealer), clock_(clock) {}

void FabricService::MakeFabric(const storage::GroupRow& group) {
    if (db_.Matter().FindFabric(group.group_id)) {
        throw ApiError(ErrorCode::kAlreadyFabric);
    }
    FabricRow fabric;
    fabric.group_id = group.group_id;
    fabric.ipk = Upper(core::RandomHex(16));
    // The role CATs start at the bottom of their ranges: each identifier gives 0xFFFF
    // versions and the identifiers are used in order (NextCatVersion).
    fabric.cat_admin = crypto::MatterCatHex(kAdminCatBase << 16 | kCatVersion1);
    fabric.cat_operate = crypto::MatterCatHex(kOperateCatBase << 16 | kCatVersion1);
    fabric.created_at = clock_.NowSeconds();
    const auto rcac_id = std::max<std::uint64_t>(Random64(), 1);
    fabric.rcac_id = crypto::MatterIdHex(rcac_id);
    bool inserted = false;
    for (int attempt = 0; attempt < kDrawAttempts && !inserted; ++attempt) {
        const auto fabric_id = Random64();
        if (fabric_id == 0) {
            continue;
        }
        fabric.fabric_id = crypto::MatterIdHex(fabric_id);
        try {
            auto root = crypto::MakeMatterRoot(rcac_id, fabric_id, clock_.NowSeconds());
            fabric.root_ca = root.cert_pem;
            fabric.root_key_sealed = sealer_.Seal(root.key_pem, group.group_id);
        } catch (const std::exception& e) {
            throw ApiError(ErrorCode::kFabricRootFailed, "", e.what());
        }
        inserted = db_.Matter().InsertFabric(fabric);
    }
    if (!inserted) {
        throw ApiError(ErrorCode::kFabricIdsFailed);
    }
    InsertMember(group.group_id, group.owner_id);
    for (const auto& share : db_.Groups().SharesOfGroup(group.group_id)) {
        InsertMember(group.group_id, share.user_id);
    }
}

MatterMemberRow FabricService::EnsureMember(std::string_view group_id, std::string_view user_id) {
    if (auto member = db_.Matter().FindMember(group_id, user_id)) {
        return *member;
    }
    auto member = InsertMember(group_id, user_id);
    db_.Matter().BumpAclRevision(group_id, clock_.NowSeconds());
    return member;
}

MatterMemberRow FabricService::InsertMember(std::string_view group_id, std::string_view user_id) {
    MatterMemberRow member{std::string(group_id), std::string(user_id), "", ""};
    for (int attempt = 0; attempt < kDrawAttempts; ++attempt) {
        member.matter_user_id = crypto::MatterIdHex(FreshNodeId(group_id));
        member.user_cat_id = crypto::MatterCatHex(Cat(kUserCatBase, kUserCatSpan));
        if (db_.Matter().InsertMember(member)) {
            return member;
        }
    }
    throw ApiError(ErrorCode::kFabricIdsFailed);
}

void FabricService::MemberLeft(
    std::string_view group_id, std::string_view user_id, bool was_primary
) {
    if (!db_.Matter().FindFabric(group_id)) {
        return;
    }
    db_.Matter().DeleteMember(group_id, user_id);
    const bool controllers = DeleteControllersOf(group_id, user_id);
    RaiseCats(group_id, was_primary || controllers, !was_primary || controllers);
}

void FabricService::MemberRoleChanged(
    std::string_view group_id, core::ResourceRole from, core::ResourceRole to
) {
    const bool demoted =
        from == core::ResourceRole::kPrimary && to == core::ResourceRole::kSecondary;
    if (demoted && db_.Matter().FindFabric(group_id)) {
        RaiseCats(group_id, true, false);
    }
}

void FabricService::ForgetRainmakerNode(std::string_view node_id) {
    for (const auto& node : db_.Matter().NodesOfRainmakerNode(node_id)) {
        db_.Matter().DeleteNode(node.group_id, node.matter_node_id);
        if (node.kind == "controller") {
            RaiseCats(node.group_id, true, true);
        }
        core::log::Info(
            "node " + std::string(node_id) + " left RainMaker: no longer Matter " + node.kind +
            " " + node.matter_node_id + " of the fabric of group " + node.group_id
        );
    }
}

bool FabricService::DeleteControllersOf(std::string_view group_id, std::string_view user_id) {
    bool any = false;
    for (const auto& node : db_.Matter().Nodes(group_id, "controller")) {
        if (node.requested_by == user_id) {
            db_.Matter().DeleteNode(group_id, node.matter_node_id);
            any = true;
        }
    }
    return any;
}

void FabricService::RaiseCats(std::string_view group_id, bool admin, bool operate) {
    auto fabric = db_.Matter().FindFabric(group_id);
    if (!fabric) {
        return;
    }
    if (admin) {
        fabric->cat_admin = crypto::MatterCatHex(
            NextCatVersion(ParseCat(fabric->cat_admin), kAdminCatBase, kCatSpan)
        );
    }
    if (operate) {
        fabric->cat_operate = crypto::MatterCatHex(
            NextCatVersion(ParseCat(fabric->cat_operate), kOperateCatBase, kCatSpan)
        );
    }
    if (admin || operate) {
        db_.Matter().UpdateCats(group_id, fabric->cat_admin, fabric->cat_operate);
    }
    db_.Matter().BumpAclRevision(group_id, clock_.NowSeconds());
}

std::uint64_t FabricService::FreshNodeId(std::string_view group_id) {
    for (int attempt = 0; attempt < kDrawAttempts; ++attempt) {
        // Operational node ids: 1 .. 0xFFFF_FFEF_FFFF_FFFF.
        const auto id = Random64() % crypto::kMaxOperationalNodeId + 1;
        if (!db_.Matter().NodeIdTaken(group_id, crypto::MatterIdHex(id))) {
            return id;
        }
    }
    throw ApiError(ErrorCode::kFabricIdsFailed);
}

void FabricService::RemoveFromFabric(
    std::string_view group_id, const std::vector<std::string>& ids
) {
    if (!db_.Matter().FindFabric(group_id)) {
        return;
    }
    for (const auto& id : ids) {
        if (const auto node = db_.Matter().FindByRainmakerNode(id);
            node && node->group_id == group_id && node->kind == "node") {
            db_.Matter().DeleteNode(group_id, node->matter_node_id);
            continue;
        }
        const auto matter_id = ParseMatterId(id);
        if (!matter_id) {
            continue;
        }
        const auto node = db_.Matter().FindNode(group_id, crypto::MatterIdHex(*matter_id));
        if (node && node->kind == "node" && node->rainmaker_node_id.empty()) {
            db_.Matter().DeleteNode(group_id, node->matter_node_id);
        }
    }
}

void FabricService::NodeLeftGroup(std::string_view group_id, std::string_view node_id) {
    const auto group = db_.Groups().Find(group_id);
    if (!group) {
        return;
    }
    if (const auto fabric = FabricOf(*group)) {
        RemoveFromFabric(fabric->group_id, {std::string(node_id)});
    }
}

std::optional<FabricRow> FabricService::FabricOf(const storage::GroupRow& group) {
    std::optional<storage::GroupRow> top = group;
    for (int depth = 0; top && !top->parent_id.empty() && depth < 3; ++depth) {
        top = db_.Groups().Find(top->parent_id);
    }
    if (!top) {
        return std::nullopt;
    }
    return db_.Matter().FindFabric(top->group_id);
}

boost::json::object FabricService::Details(const FabricRow& fabric, std::string_view user_id) {
    boost::json::object out{
        {"root_ca", fabric.root_ca},
        {"ipk", fabric.ipk},
        {"group_cat_id_admin", fabric.cat_admin},
        {"group_cat_id_operate", fabric.cat_operate}};
    if (const auto member = db_.Matter().FindMember(fabric.group_id, user_id)) {
        out["matter_user_id"] = member->matter_user_id;
        out["user_cat_id"] = member->user_cat_id;
    }
    return out;
}

boost::json::array FabricService::NodeList(const FabricRow& fabric) {
    boost::json::array out;
    for (const auto& node : db_.Matter().Nodes(fabric.group_id, "node")) {
        if (node.status != "success") {
            continue;
        }
        boost::json::object item{
            {"matter_node_id", node.matter_node_id},
            {"is_rainmaker_node", !node.rainmaker_node_id.empty()}};
        if (!node.rainmaker_node_id.empty()) {
            item["node_id"] = node.rainmaker_node_id;
        }
        out.push_back(std::move(item));
    }
    return out;
}

std::shared_ptr<const crypto::MatterIssuer> FabricService::IssuerOf(const FabricRow& fabric) {
    {
        const std::lock_guard lock(issuers_mutex_);
        const auto it = issuers_.find(fabric.group_id);
        if (it != issuers_.end() && it->second.first == fabric.root_key_sealed) {
            return it->second.second;
        }
    }
    std::string key;
    std::shared_ptr<const crypto::MatterIssuer> issuer;
    try {
        key = sealer_.Open(fabric.root_key_sealed, fabric.group_id);
        issuer = std::make_shared<const crypto::MatterIssuer>(key, fabric.root_ca);
    } catch (const std::exception& e) {
        std::fill(key.begin(), key.end(), '\0');
        throw ApiError(ErrorCode::kFabricKeyUnreadable, "", e.what());
    }
    std::fill(key.begin(), key.end(), '\0');
    const std::lock_guard lock(issuers_mutex_);
    if (issuers_.size() >= kMaxIssuers) {
        issuers_.clear();
    }
    issuers_[fabric.group_id] = {fabric.root_key_sealed, issuer};
    return issuer;
}

std::string FabricService::SignNoc(
    const FabricRow& fabric,
    const crypto::CheckedCsrKey& csr_key,
    std::uint64_t node_id,
    const std::vector<std::uint32_t>& cats
) {
    const auto issuer = IssuerOf(fabric);
    try {
        const auto fabric_id = ParseMatterId(fabric.fabric_id).value_or(0);
        return issuer->Sign(
            crypto::NocRequest{{}, node_id, fabric_id, cats, &csr_key}, clock_.NowSeconds()
        );
    } catch (const std::invalid_argument& e) {
        throw ApiError(ErrorCode::kInvalidCsr, std::string("Error, invalid CSR: ") + e.what());
    } catch (const std::exception& e) {
        throw ApiError(ErrorCode::kNocCreateFailed, "", e.what());
    }
}

boost::json::object FabricService::IssueNocs(
    const auth::AuthContext& caller, const NocBatch& batch
) {
    if (batch.operation.empty()) {
        throw ApiError(ErrorCode::kCsrWithoutOperation);
    }
    if (batch.operation != "add") {
        throw ApiError(ErrorCode::kGroupOperation);
    }
    const auto& type = batch.csr_type;
    if (type != "user" && type != "node" && type != "controller") {
        throw ApiError(ErrorCode::kBadCsrType);
    }
    if (batch.items.empty()) {
        throw ApiError(ErrorCode::kCsrMissing);
    }
    if (batch.has_tags && type != "node") {
        throw ApiError(ErrorCode::kTagsNodeOnly);
    }
    if (batch.has_metadata && type != "node") {
        throw ApiError(ErrorCode::kMetadataNodeOnly);
    }
    if (type == "node" && batch.items.size() > 1) {
        throw ApiError(ErrorCode::kNodeCsrOne);
    }
    if (batch.items.size() > kMaxCsrRequests) {
        throw ApiError(ErrorCode::kInputTooLarge, CsrRequestsTooMany());
    }
    std::vector<std::string> seen;
    for (const auto& item : batch.items) {
        if (item.csr.empty() || item.group_id.empty()) {
            throw ApiError(ErrorCode::kCsrItemFields);
        }
        if (std::find(seen.begin(), seen.end(), item.group_id) != seen.end()) {
            throw ApiError(ErrorCode::kCsrDuplicateGroup);
        }
        seen.push_back(item.group_id);
        if (type == "controller") {
            if (!item.matter_node_id || !item.role) {
                throw ApiError(ErrorCode::kControllerCsrFields);
            }
            if (!item.role->role) {
                throw ApiError(ErrorCode::kCsrRole);
            }
        }
    }
    // Access first, on a read (cheap), so that a caller cannot make the server verify CSRs for
    // groups they have no part in; then each CSR's signature before the write transaction
    // (the costly part of a NOC: a verification costs about three signatures), so that
    // concurrent requests check theirs while another holds the store's write lock; then the
    // access again inside the transaction, as it may have changed meanwhile.
    storage::ReadSnapshot(db_, [&] {
        for (const auto& item : batch.items) {
            CheckItemAccess(db_, caller.user_id, item, type);
        }
        return true;
    });
    std::vector<crypto::CheckedCsrKey> keys;
    keys.reserve(batch.items.size());
    for (const auto& item : batch.items) {
        try {
            keys.push_back(crypto::MatterCsrPublicKey(item.csr));
        } catch (const std::invalid_argument& e) {
            throw ApiError(ErrorCode::kInvalidCsr, std::string("Error, invalid CSR: ") + e.what());
        }
    }
    boost::json::array certificates;
    db_.Transaction([&] {
        for (std::size_t index = 0; index < batch.items.size(); ++index) {
            const auto& item = batch.items[index];
            const auto& key = keys[index];
            const auto access = CheckItemAccess(db_, caller.user_id, item, type);
            const auto& group = access.group;
            const auto& fabric = access.fabric;
            const auto& role = access.role;
            const std::uint32_t role_cat =
                ParseCat(Primary(role) ? fabric.cat_admin : fabric.cat_operate);
            boost::json::object certificate{{"group_id", group.group_id}};
            if (type == "user") {
                const auto member = EnsureMember(group.group_id, caller.user_id);
                const auto node_id = ParseMatterId(member.matter_user_id).value_or(0);
                certificate["user_noc"] =
                    SignNoc(fabric, key, node_id, {role_cat, ParseCat(member.user_cat_id)});
                certificate["matter_user_id"] = member.matter_user_id;
                certificate["user_cat_id"] = member.user_cat_id;
            } else if (type == "controller") {
                const auto id = ParseMatterId(*item.matter_node_id);
                const auto node =
                    id ? db_.Matter().FindNode(group.group_id, crypto::MatterIdHex(*id))
                       : std::nullopt;
                // A controller's NOC goes to whoever holds its RainMaker node directly as primary:
                // another member naming its Matter node id gets nothing.
                const auto holder =
                    node ? db_.Nodes().FindMapping(caller.user_id, node->rainmaker_node_id)
                         : std::nullopt;
                if (!node || node->kind != "controller" || !holder ||
                    holder->direct_role != core::ResourceRole::kPrimary) {
                    throw ApiError(
                        ErrorCode::kMatterNodeMissing,
                        "Node id " + *item.matter_node_id + " does not exist"
                    );
                }
                const std::uint32_t cat = ParseCat(
                    item.role->role == core::ResourceRole::kPrimary ? fabric.cat_admin
                                                                    : fabric.cat_operate
                );
                // Controllers read user_noc, as the controller firmware parses it.
                certificate["user_noc"] = SignNoc(fabric, key, *id, {cat});
                certificate["matter_node_id"] = node->matter_node_id;
            } else {
                MatterNodeRow node;
                node.group_id = group.group_id;
                node.kind = "node";
                node.status = "pending";
                node.requested_by = caller.user_id;
                node.created_at = clock_.NowSeconds();
                const auto node_id = FreshNodeId(group.group_id);
                node.matter_node_id = crypto::MatterIdHex(node_id);
                certificate["node_noc"] = SignNoc(fabric, key, node_id, {});
                bool inserted = false;
                for (int attempt = 0; attempt < kDrawAttempts && !inserted; ++attempt) {
                    node.request_id = core::RandomAlnum(22);
                    inserted = db_.Matter().InsertNode(node);
                }
                if (!inserted) {
                    throw ApiError(ErrorCode::kFabricIdsFailed);
                }
                certificate["matter_node_id"] = node.matter_node_id;
                certificate["request_id"] = node.request_id;
            }
            certificate["fabric_id"] = fabric.fabric_id;
            certificates.push_back(std::move(certificate));
        }
    });
    return boost::json::object{
        {"status", "success"},
        {"description", "Certificates issued successfully"},
        {"certificates", std::move(certificates)}};
}

void FabricService::Confirm(const auth::AuthContext& caller, const CommissioningConfirm& c) {
    if (c.request_id.empty() || c.status.empty()) {
        throw ApiError(ErrorCode::kRequestIdStatusMissing);
    }
    if (c.status != "success" && c.status != "failure" && c.status != "failed") {
        throw ApiError(ErrorCode::kBadCommissionStatus);
    }
    const bool success = c.status == "success";
    const bool rainmaker = c.rainmaker_node_id.has_value() || c.challenge_response.has_value();
    if (success && rainmaker &&
        (!c.rainmaker_node_id || c.rainmaker_node_id->empty() || !c.challenge_response ||
         c.challenge_response->empty())) {
        throw ApiError(ErrorCode::kConfirmNeedsChallenge);
    }
    std::optional<std::string> joined_group;
    db_.Transaction([&] {
        auto node = db_.Matter().FindRequest(c.request_id);
        const auto group = node ? db_.Groups().Find(node->group_id) : std::nullopt;
        // Another user's request does not exist for the caller.
        if (!node || !group || !Primary(RoleInGroup(db_, caller.user_id, *group))) {
            throw ApiError(ErrorCode::kCommissionRequestNotFound);
        }
        if (c.group_id && *c.group_id != node->group_id) {
            throw ApiError(ErrorCode::kConfirmGroupMismatch);
        }
        if (node->status != "pending") {
            throw ApiError(ErrorCode::kRequestNotConfirmable);
        }
        // Commissioning takes minutes; a request left open longer is not confirmed any more
        // (a new NOC is asked for).
        if (clock_.NowSeconds() - node->created_at > kCommissionSeconds) {
            throw ApiError(ErrorCode::kCommissionTimedOut);
        }
        if (!success) {
            node->status = "failure";
            db_.Matter().UpdateNode(*node);
            return;
        }
        if (rainmaker) {
            const auto& node_id = *c.rainmaker_node_id;
            const auto found = db_.Nodes().Find(node_id);
            if (!found || found->cert_pem.empty() || found->revoked) {
                throw ApiError(
                    ErrorCode::kMatterNodeMissing, "Node id " + node_id + " does not exist"
                );
            }
            // The node signs the request id the server issued with its NOC (fresh, random): a
            // challenge the client chose could be an old signature replayed (one from a mapping,
            // or another commissioning), so any other challenge is refused.
            if (c.challenge && *c.challenge != c.request_id) {
                throw ApiError(
                    ErrorCode::kCommissionChallengeInvalid,
                    "The challenge is the request_id of the commissioning request"
                );
            }
            const std::string& challenge = c.request_id;
            const auto signature = SignatureBytes(*c.challenge_response);
            if (challenge.empty() || !signature ||
                !crypto::VerifyNodeSignature(found->cert_pem, challenge, *signature)) {
                throw ApiError(ErrorCode::kCommissionChallengeInvalid);
            }
            if (const auto other = db_.Matter().FindByRainmakerNode(node_id)) {
                throw ApiError(
                    ErrorCode::kRequestNotConfirmable,
                    "Commissioning request not confirmable: the node is already in a fabric"
                );
            }
            // Like challenge-response mapping: a node another user holds is theirs until it
            // is reset.
            const auto mine = db_.Nodes().FindMapping(caller.user_id, node_id);
            if (!mine || mine->direct_role != core::ResourceRole::kPrimary) {
                for (const auto& mapping : db_.Nodes().MappingsOfNode(node_id)) {
                    if (mapping.user_id != caller.user_id &&
                        mapping.direct_role == core::ResourceRole::kPrimary) {
                        throw ApiError(
                            ErrorCode::kFabricMappingRefused,
                            "Adding user to nodes mapping failed: the node belongs to another "
                            "user"
                        );
                    }
                }
                nodes::SetDirectRole(
                    db_, caller.user_id, node_id, core::ResourceRole::kPrimary, clock_.NowSeconds()
                );
            }
            node->rainmaker_node_id = node_id;
            if (group->owner_id == caller.user_id) {
                joined_group = group->group_id;
            }
        }
        node->status = "success";
        db_.Matter().UpdateNode(*node);
        if (joined_group && joiner_) {
            joiner_(caller.user_id, *joined_group, node->rainmaker_node_id);
        }
    });
}

std::string FabricService::CreateController(
    const auth::AuthContext& caller, std::string_view group_id, std::string_view node_id
) {
    std::string matter_node_id;
    db_.Transaction([&] {
        const auto group = db_.Groups().Find(group_id);
        const auto role = group && group->kind == "user" ? RoleInGroup(db_, caller.user_id, *group)
                                                         : std::nullopt;
        if (!role) {
            throw ApiError(ErrorCode::kCsrGroupNotAccessible);
        }
        const auto fabric =
            group->parent_id.empty() ? db_.Matter().FindFabric(group->group_id) : std::nullopt;
        if (!fabric) {
            throw ApiError(ErrorCode::kNotAFabric);
        }
        if (!Primary(role)) {
            throw ApiError(ErrorCode::kSharedGroupReadOnly);
        }
        // Held directly: a primary through someone else's shared home does not own the node.
        const auto mapping = db_.Nodes().FindMapping(caller.user_id, node_id);
        if (!mapping || mapping->direct_role != core::ResourceRole::kPrimary) {
            throw ApiError(
                ErrorCode::kMatterNodeMissing, "Node id " + std::string(node_id) + " does not exist"
            );
        }
        for (const auto& existing : db_.Matter().Nodes(group->group_id, "controller")) {
            if (existing.rainmaker_node_id == node_id) {
                matter_node_id = existing.matter_node_id;  // asked again: the same id
                return;
            }
        }
        MatterNodeRow node;
        node.group_id = group->group_id;
        node.kind = "controller";
        node.rainmaker_node_id = std::string(node_id);
        node.requested_by = caller.user_id;
        node.created_at = clock_.NowSeconds();
        node.matter_node_id = crypto::MatterIdHex(FreshNodeId(group->group_id));
        if (!db_.Matter().InsertNode(node)) {
            throw ApiError(ErrorCode::kFabricIdsFailed);
        }
        matter_node_id = node.matter_node_id;
    });
    return matter_node_id;
}

boost::json::object FabricService::NodeAcl(
    const auth::AuthContext& caller,
    const std::optional<std::string>& group_id,
    const std::optional<std::string>& type_entity
) {
    if (type_entity && !group_id) {
        throw ApiError(ErrorCode::kTypeEntityNeedsGroup);
    }
    return storage::ReadSnapshot(db_, [&] {
        std::vector<storage::GroupRow> groups;
        if (group_id) {
            const auto group = db_.Groups().Find(*group_id);
            const auto role = group && group->kind == "user"
                                  ? RoleInGroup(db_, caller.user_id, *group)
                                  : std::nullopt;
            if (!role) {
                throw ApiError(ErrorCode::kAclGroupNotOwned);
            }
            if (!group->parent_id.empty() || !db_.Matter().FindFabric(group->group_id)) {
                throw ApiError(ErrorCode::kNotAFabric);
            }
            if (!Primary(role)) {
                throw ApiError(ErrorCode::kGroupShareNotPrimary);
            }
            groups.push_back(*group);
        } else {
            const int count = db_.Groups().CountTopLevel("user", caller.user_id);
            for (auto& group : db_.Groups().ListTopLevel("user", caller.user_id, "", count + 1)) {
                if (db_.Matter().FindFabric(group.group_id) &&
                    Primary(RoleInGroup(db_, caller.user_id, group))) {
                    groups.push_back(std::move(group));
                }
            }
            if (groups.empty()) {
                throw ApiError(ErrorCode::kNoFabrics);
            }
        }
        boost::json::array entries;
        for (const auto& group : groups) {
            const auto fabric = db_.Matter().FindFabric(group.group_id);
            // Every change of the values below (a member in or out, a role or CAT version
            // changed) raised the sequence: a controller rewrites a device's ACL when it grows.
            const auto revision = db_.Matter().FindAclRevision(group.group_id);
            // The members' ids by role: primaries administer, secondaries operate.
            boost::json::array admins{boost::json::string(fabric->cat_admin)};
            boost::json::array operators{boost::json::string(fabric->cat_operate)};
            const auto add_member = [&](std::string_view user, bool primary) {
                if (const auto member = db_.Matter().FindMember(group.group_id, user)) {
                    (primary ? admins : operators).emplace_back(member->matter_user_id);
                }
            };
            add_member(group.owner_id, true);
            for (const auto& share : db_.Groups().SharesOfGroup(group.group_id)) {
                add_member(share.user_id, share.role == core::ResourceRole::kPrimary);
            }
            for (const auto& node : db_.Matter().Nodes(group.group_id, "node")) {
                if (node.status != "success") {
                    continue;
                }
                for (const auto& [prefix, value] :
                     {std::pair{"NODE_ACL_ADMIN_", &admins},
                      std::pair{"NODE_ACL_OPERATE_", &operators}}) {
                    const std::string entity = prefix + node.matter_node_id;
                    if (type_entity && *type_entity != entity) {
                        continue;
                    }
                    entries.push_back(boost::json::object{
                        {"group_id", group.group_id},
                        {"fabric_id", fabric->fabric_id},
                        {"type_entity", entity},
                        {"sequence", revision.sequence},
                        {"value", *value},
                        {"last_modified_time", std::max(node.created_at, revision.modified_at)}});
                }
            }
        }
        return boost::json::object{{"fabric_node_acl", std::move(entries)}};
    });
}

}  // namespace rainmaker::domain::groups
