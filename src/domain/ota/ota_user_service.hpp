// The user's side of OTA (#41-#43): the users of a node see the user-approval job that would
// update it (with the firmware URL only when the job grants user_ota_image_acccess), approve it
// (the node gets it at once: it must be online), and follow its status. Who may: every user
// mapped to the node, primary or secondary (the reference's "the node associated with his
// account"; MayUseNodeOta in the .cpp is the one place that decides it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "domain/auth/auth_context.hpp"
#include "domain/ota/ota_delivery.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::ota {

// #41's answer.
struct UpdateCheck {
    bool ota_available = false;
    std::string ota_job_id;
    std::string description;  // the admin's text
    std::string fw_version;
    std::int64_t file_size = 0;
    std::string file_md5;
    std::optional<std::string> url;  // with user_ota_image_acccess only
    std::optional<boost::json::object> metadata;
};

// #43's answer.
struct NodeOtaStatus {
    std::string node_id;
    std::string status;
    std::string additional_info;
    std::int64_t timestamp = 0;  // unix ms
};

class OtaUserService {
public:
    OtaUserService(storage::Database& db, OtaDelivery& delivery);

    // #41. Throws kAdminNodeIdMissing (105018), kNodeNotOwned (not a user of the node).
    UpdateCheck Check(const auth::AuthContext& caller, std::string_view node_id);

    // #42: the user approves the job for the node, which is sent its otaurl now. Throws
    // kOtaJobIdMissing, kAdminNodeIdMissing, kNodeNotOwned, kOtaJobNotForNode (an unknown job
    // or one that does not target the node), kOtaJobNotApplicable (not a user-approval job,
    // no longer active, done on the node, or the node runs its version already), kNodeOffline.
    void Approve(
        const auth::AuthContext& caller, std::string_view ota_job_id, std::string_view node_id
    );

    // #43. Throws kAdminNodeIdMissing, kOtaJobIdMissing, kNodeNotOwned, kOtaStatusNotFound (no
    // status of that job on that node).
    NodeOtaStatus Status(
        const auth::AuthContext& caller, std::string_view node_id, std::string_view ota_job_id
    );

private:
    // The node, when the caller may use its OTA updates (kNodeNotOwned otherwise).
    storage::NodeRow RequireNode(const auth::AuthContext& caller, std::string_view node_id);

    storage::Database& db_;
    OtaDelivery& delivery_;
};

}  // namespace rainmaker::domain::ota
