// otafetch / otastatus checks and the otaurl payload (device-protocol §6).
#include "domain/ota/ota_messages.hpp"

#include <stdexcept>

#include "core/json.hpp"

namespace rainmaker::domain::ota {

namespace {

// The string member `key` (nullopt when absent or null); throws when it is another type or
// longer than `max`.
std::optional<std::string> Text(
    const boost::json::object& payload, std::string_view key, std::size_t max
) {
    const auto* v = payload.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        throw std::invalid_argument(std::string(key) + " is not a string");
    }
    if (v->as_string().size() > max) {
        throw std::invalid_argument(
            std::string(key) + " is longer than " + std::to_string(max) + " bytes"
        );
    }
    return std::string(v->as_string());
}

}  // namespace

bool IsTerminal(std::string_view s) {
    return s == kNodeSuccess || s == kNodeFailed || s == kNodeRejected || s == kNodeTimedOut;
}

const std::vector<std::string>& UnfinishedStatuses() {
    static const std::vector<std::string> statuses = {
        std::string(kNodePending),
        std::string(kNodeTriggered),
        std::string(kNodeStarted),
        std::string(kNodeInProgress),
        std::string(kNodeDelayed)};
    return statuses;
}

OtaFetch ParseOtaFetch(std::string_view topic_node_id, const boost::json::object& payload) {
    // The node id comes from the topic (the broker authenticated it); one in the payload must
    // agree.
    if (const auto named = Text(payload, "node_id", kMaxJobIdLength);
        named && *named != topic_node_id) {
        throw std::invalid_argument("otafetch names another node");
    }
    Text(payload, "network_id", kMaxReportedVersionLength);
    OtaFetch fetch;
    fetch.fw_version = Text(payload, "fw_version", kMaxReportedVersionLength).value_or("");
    return fetch;
}

OtaStatusReport ParseOtaStatus(const boost::json::object& payload) {
    OtaStatusReport report;
    report.ota_job_id = Text(payload, "ota_job_id", kMaxJobIdLength).value_or("");
    if (report.ota_job_id.empty()) {
        throw std::invalid_argument("otastatus without ota_job_id");
    }
    report.status = Text(payload, "status", 16).value_or("");
    if (report.status != "in-progress" && report.status != "success" && report.status != "failed" &&
        report.status != "delayed" && report.status != "rejected") {
        throw std::invalid_argument("otastatus with an unknown status");
    }
    report.additional_info = Text(payload, "additional_info", kMaxAdditionalInfoBytes).value_or("");
    if (const auto* ts = payload.if_contains("ts"); ts != nullptr && !ts->is_number()) {
        throw std::invalid_argument("otastatus ts is not a number");
    }
    Text(payload, "network_id", kMaxReportedVersionLength);
    return report;
}

std::string_view NodeStatusAfter(std::string_view current, std::string_view reported) {
    if (reported == "in-progress") {
        return current == kNodeStarted || current == kNodeInProgress ? kNodeInProgress
                                                                     : kNodeStarted;
    }
    if (reported == "success") {
        return kNodeSuccess;
    }
    if (reported == "failed") {
        return kNodeFailed;
    }
    if (reported == "delayed") {
        return kNodeDelayed;
    }
    return kNodeRejected;
}

std::string SerializeOtaUrl(const OtaUrl& m) {
    boost::json::object out;
    out["ota_job_id"] = m.ota_job_id;
    out["url"] = m.url;
    out["file_size"] = m.file_size;
    out["file_md5"] = m.file_md5;
    out["fw_version"] = m.fw_version;
    if (m.metadata) {
        out["metadata"] = *m.metadata;
    }
    return core::Serialize(out);
}

}  // namespace rainmaker::domain::ota
