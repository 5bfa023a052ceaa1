// The OTA messages of device-protocol §6 as data: what a node sends on otafetch and otastatus
// (checked strictly: these are untrusted bytes of any node with a certificate) and the otaurl
// the server sends back; plus the statuses a node has in a job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace rainmaker::domain::ota {

// A node's status in a job (ota_job_nodes.status): pending (targeted, not offered yet),
// triggered (its otaurl was sent), started (its first "in-progress"), in_progress (later
// ones), delayed (outside the download window: it asks again), and the terminal ones: success,
// failed, rejected (the node's), timed_out (the job's timeout passed first).
inline constexpr std::string_view kNodePending = "pending";
inline constexpr std::string_view kNodeTriggered = "triggered";
inline constexpr std::string_view kNodeStarted = "started";
inline constexpr std::string_view kNodeInProgress = "in_progress";
inline constexpr std::string_view kNodeDelayed = "delayed";
inline constexpr std::string_view kNodeSuccess = "success";
inline constexpr std::string_view kNodeFailed = "failed";
inline constexpr std::string_view kNodeRejected = "rejected";
inline constexpr std::string_view kNodeTimedOut = "timed_out";

// A job is never offered again to a node in one of these for it (device-protocol §6.2).
bool IsTerminal(std::string_view node_status);
// The statuses that are not terminal: a node in one is left to update.
const std::vector<std::string>& UnfinishedStatuses();

// The limits of what a node may send (docs/SECURITY.md).
inline constexpr std::size_t kMaxOtaFetchBytes = 1024;
inline constexpr std::size_t kMaxOtaStatusBytes = 2048;
inline constexpr std::size_t kMaxJobIdLength = 64;  // the firmware keeps it in NVS (< 64)
inline constexpr std::size_t kMaxAdditionalInfoBytes = 512;
inline constexpr std::size_t kMaxReportedVersionLength = 64;  // esp_app_desc_t: 32

// otafetch: {"node_id","fw_version"[,"network_id"]}.
struct OtaFetch {
    std::string fw_version;  // "" when not given
};

// Throws std::invalid_argument when node_id names another node than the topic's, or a member
// has the wrong type or is too long.
OtaFetch ParseOtaFetch(std::string_view topic_node_id, const boost::json::object& payload);

// otastatus: {"ota_job_id","status","additional_info"[,"ts"][,"network_id"]}.
struct OtaStatusReport {
    std::string ota_job_id;
    std::string status;  // as sent: in-progress | success | failed | delayed | rejected
    std::string additional_info;
};

// Throws std::invalid_argument when ota_job_id is missing, empty or too long, status is not one
// of the five, additional_info is not a string or longer than kMaxAdditionalInfoBytes, or ts is
// not a number.
OtaStatusReport ParseOtaStatus(const boost::json::object& payload);

// The node status a report moves the node to, from `current`: in-progress → started the first
// time, in_progress after; the others by name.
std::string_view NodeStatusAfter(std::string_view current, std::string_view reported);

// otaurl (§6.1).
struct OtaUrl {
    std::string ota_job_id;
    std::string url;
    std::int64_t file_size = 0;
    std::string file_md5;
    std::string fw_version;
    std::optional<boost::json::object> metadata;  // download_window, validity
};

std::string SerializeOtaUrl(const OtaUrl& message);

}  // namespace rainmaker::domain::ota
