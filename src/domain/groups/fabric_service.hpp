// Homes as Matter fabrics (#9): a top-level user group with is_matter gets a fabric (a 64-bit
// fabric id, its own root CA, an IPK, admin and operate CATs) and each member a Matter
// identity (matter_user_id, user_cat_id); members ask for NOCs (user, controller, device) and
// confirm the commissioning of devices. The group rules stay in GroupService, which calls in.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/resource_role.hpp"
#include "crypto/matter_certs.hpp"
#include "domain/auth/auth_context.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::groups {

struct CsrItem {
    std::string csr;
    std::string group_id;
    std::optional<core::NamedRole> role;        // controller: primary | secondary
    std::optional<std::string> matter_node_id;  // controller: its node id (16 hex digits)
};

// csr_requests items in one PUT /user/node_group: each costs a CSR verification and a
// signature (more: 400, 100036, before anything else is looked at).
inline constexpr std::size_t kMaxCsrRequests = 32;
// The description of that 100036.
std::string CsrRequestsTooMany();

// PUT /user/node_group with csr_requests (#57).
struct NocBatch {
    std::string operation;  // must be "add"
    std::string csr_type;   // user | node | controller
    std::vector<CsrItem> items;
    bool has_tags = false;  // tags / metadata: node CSRs only
    bool has_metadata = false;
};

// PUT /user/node_group with request_id and status (#57): confirms a device's commissioning.
struct CommissioningConfirm {
    std::string request_id;
    std::string status;  // success | failure
    std::optional<std::string> rainmaker_node_id;
    std::optional<std::string> challenge;
    std::optional<std::string> challenge_response;
    std::optional<std::string> group_id;  // ?group_id=: must be the request's fabric (108100)
};

class FabricService {
public:
    FabricService(storage::Database& db, const crypto::KeySealer& sealer, const core::Clock& clock);

    // Makes the top-level user group a fabric, with an identity for its owner and every user
    // it is shared with. Call inside the transaction that creates or converts the group.
    // Throws 108092 when it is one already, 108077/108078 when ids or the root cannot be made.
    void MakeFabric(const storage::GroupRow& group);
    // The user's identity in the fabric, made on first use (call inside a transaction); a new
    // member raises the fabric's ACL sequence (their id joins the ACLs' values).
    storage::MatterMemberRow EnsureMember(std::string_view group_id, std::string_view user_id);

    // Revocation (call these inside the transaction that changes the membership; no fabric:
    // nothing happens). A NOC cannot be taken back, but the CASE Authenticated Tags it carries
    // can stop matching: a device's ACL entry names a CAT with a version, and a NOC's CAT with
    // the same identifier matches only when its version is at least that one (Matter
    // §6.6.2.1.2). So the CAT of a role someone no longer holds gets the next version, the node
    // ACLs (#65) answer it with a higher sequence so that controllers rewrite the devices'
    // ACLs, and the members who keep the role get NOCs with the new version on their next
    // request.
    //
    // `user_id` left the fabric (share removed, left, account deleted, home handed over): their
    // identity goes; the CAT of the role they held (admin for a primary, operate for a
    // secondary) is raised; the controllers they made go too, and both CATs are raised then
    // (a controller's NOC may carry either).
    void MemberLeft(std::string_view group_id, std::string_view user_id, bool was_primary);
    // A member's role changed from `from` to `to`. Only a role someone lost is revoked: a
    // demotion (primary to secondary) raises the admin CAT their NOCs carry; a promotion
    // raises nothing (a primary may operate too, so the operate CAT they hold grants nothing
    // they lost, and the other secondaries keep theirs).
    void MemberRoleChanged(
        std::string_view group_id, core::ResourceRole from, core::ResourceRole to
    );
    // A RainMaker node left RainMaker (reset, or its last user gone): it is no longer a device
    // or a controller of any fabric, so its next owner can commission it. A controller's
    // fabric has both CATs raised (the NOCs it was given carry one).
    void ForgetRainmakerNode(std::string_view node_id);

    // #57 operation remove on a fabric home: a pure-Matter device named by its matter_node_id
    // is deleted; a RainMaker+Matter node named by its node id leaves the fabric and is a
    // RainMaker node again. Other ids are ignored (call inside the transaction).
    void RemoveFromFabric(std::string_view group_id, const std::vector<std::string>& ids);
    // A user who lost access to the RainMaker node had it taken out of their group (the
    // store's NodeAccessHooks::node_left_group): when the group is a fabric's home or one of
    // its rooms, the node leaves the fabric (as RemoveFromFabric).
    void NodeLeftGroup(std::string_view group_id, std::string_view node_id);

    // The fabric of the top-level group of `group` (a fabric's sub-groups belong to it).
    std::optional<storage::FabricRow> FabricOf(const storage::GroupRow& group);
    // {root_ca, ipk, group_cat_id_admin, group_cat_id_operate, matter_user_id, user_cat_id}
    // as `user_id` sees them (no member identity yet: the ids are left out).
    boost::json::object Details(const storage::FabricRow& fabric, std::string_view user_id);
    // [{matter_node_id, node_id?, is_rainmaker_node}] of the fabric's commissioned devices.
    boost::json::array NodeList(const storage::FabricRow& fabric);

    // #57 csr_requests: {"certificates": [...]} in request order; nothing is issued when one
    // item fails. The caller's access to every item's group is checked before any CSR is
    // verified (and again in the write). Throws 100036 (more than kMaxCsrRequests), 108107, 108108,
    // 108110, 108111, 108088, 108112, 108113, 108116, 108123, 108124, 108137, 108101, 108140,
    // 108085, 108056; 108083 / 108086 when the fabric's root cannot be opened / the NOC cannot be
    // made.
    boost::json::object IssueNocs(const auth::AuthContext& caller, const NocBatch& batch);
    // #57 request_id/status (within an hour of the NOC). Throws 108105, 108102, 108103, 108100,
    // 108099, 108104, 108095, 108096, 108101, 108098 (a node another user holds).
    void Confirm(const auth::AuthContext& caller, const CommissioningConfirm& confirm);

    // #57 ?matter_controller=true: the RainMaker node `node_id` (the caller's, primary)
    // becomes a controller of the fabric; returns its matter_node_id. Throws 108111, 108088,
    // 108056, 103xxx when the node is not the caller's.
    std::string CreateController(
        const auth::AuthContext& caller, std::string_view group_id, std::string_view node_id
    );

    // #65: {"fabric_node_acl": [...]}: per commissioned device of the fabrics the caller is a
    // primary of (or of `group_id`), NODE_ACL_ADMIN_<id> (admin CAT, primaries' ids) and
    // NODE_ACL_OPERATE_<id> (operate CAT, secondaries' ids); `type_entity` picks one entry.
    // Throws 108119, 108118, 108041, 108088, 108117.
    boost::json::object NodeAcl(
        const auth::AuthContext& caller,
        const std::optional<std::string>& group_id,
        const std::optional<std::string>& type_entity
    );

    // Adds a RainMaker node to a home once commissioned (GroupService::AddMappedNode).
    using NodeJoiner = std::function<
        void(std::string_view user_id, std::string_view group_id, std::string_view node_id)>;

    void SetNodeJoiner(NodeJoiner joiner) { joiner_ = std::move(joiner); }

private:
    std::uint64_t FreshNodeId(std::string_view group_id);
    // The member's identity, inserted (no such member yet).
    storage::MatterMemberRow InsertMember(std::string_view group_id, std::string_view user_id);
    // Raises the version of the fabric's admin and/or operate CAT, and its ACL sequence.
    void RaiseCats(std::string_view group_id, bool admin, bool operate);
    // Deletes the controllers `user_id` made in the fabric; whether there were any.
    bool DeleteControllersOf(std::string_view group_id, std::string_view user_id);
    // A NOC for the key of a CSR checked before (crypto::MatterCsrPublicKey).
    std::string SignNoc(
        const storage::FabricRow& fabric,
        const crypto::CheckedCsrKey& csr_key,
        std::uint64_t node_id,
        const std::vector<std::uint32_t>& cats
    );

    // The fabric's root, opened and parsed once (a sealed key is unique: a fabric made again
    // gets a new entry).
    std::shared_ptr<const crypto::MatterIssuer> IssuerOf(const storage::FabricRow& fabric);

    storage::Database& db_;
    const crypto::KeySealer& sealer_;
    std::mutex issuers_mutex_;
    // group id -> (sealed key, its issuer); cleared when it grows past kMaxIssuers.
    std::map<
        std::string,
        std::pair<std::string, std::shared_ptr<const crypto::MatterIssuer>>,
        std::less<>>
        issuers_;
    const core::Clock& clock_;
    NodeJoiner joiner_;
};

// "ABCD..." → the 64-bit value of 1..16 hex digits; nullopt otherwise.
std::optional<std::uint64_t> ParseMatterId(std::string_view hex);

}  // namespace rainmaker::domain::groups
