// The SQLite implementation of OtaJobStore.
#pragma once

#include "storage/ota_job_store.hpp"

namespace rainmaker::storage::sql {

class SqlDatabase;

class SqlOtaJobStore final : public OtaJobStore {
public:
    explicit SqlOtaJobStore(SqlDatabase& db) : db_(db) {}

    // storage::OtaJobStore
    bool Insert(const OtaJobRow& job) override;
    std::optional<OtaJobRow> Find(std::string_view ota_job_id) override;
    std::optional<OtaJobRow> FindByName(std::string_view ota_job_name) override;
    std::vector<OtaJobRow> List(const OtaJobFilter& filter, std::string_view start_id, int limit)
        override;
    std::int64_t Count(const OtaJobFilter& filter) override;
    std::optional<OtaJobRow> LatestForImage(std::string_view ota_image_id, bool archived) override;
    bool MoveStatus(
        std::string_view ota_job_id, std::string_view from, std::string_view to, std::int64_t at
    ) override;
    bool Archive(std::string_view ota_job_id) override;
    std::vector<std::string> DueJobs(std::int64_t now, int limit) override;
    std::vector<OtaJobRow> ActiveDynamic() override;
    std::int64_t CountUsingImage(std::string_view ota_image_id, bool not_cancelled) override;
    void AddGroup(std::string_view ota_job_id, const OtaJobGroupRow& group) override;
    std::vector<OtaJobGroupRow> Groups(std::string_view ota_job_id) override;
    bool GroupTargetedByActiveJob(std::string_view group_id) override;
    int AddNodes(
        std::string_view ota_job_id, const std::vector<std::string>& node_ids, std::int64_t at_ms
    ) override;
    int AddAllNodes(std::string_view ota_job_id, std::int64_t at_ms) override;
    bool InsertNode(const OtaJobNodeRow& row) override;
    std::optional<OtaJobNodeRow> FindNode(std::string_view ota_job_id, std::string_view node_id)
        override;
    std::vector<OtaJobNodeRow> ListNodes(
        std::string_view ota_job_id,
        const std::optional<std::string>& node_id,
        std::string_view start_id,
        int limit
    ) override;
    std::int64_t CountNodes(std::string_view ota_job_id, const std::optional<std::string>& node_id)
        override;
    std::vector<std::string> NodeIds(std::string_view ota_job_id) override;
    std::map<std::string, std::int64_t> CountByStatus(std::string_view ota_job_id) override;
    bool AnyNodeIn(std::string_view ota_job_id, const std::vector<std::string>& statuses) override;
    bool SetNodeStatus(
        std::string_view ota_job_id,
        std::string_view node_id,
        std::string_view status,
        std::string_view additional_info,
        std::int64_t at_ms
    ) override;
    void SetApproved(std::string_view ota_job_id, std::string_view node_id) override;
    int MoveNodes(
        std::string_view ota_job_id,
        const std::vector<std::string>& from,
        std::string_view to,
        std::string_view additional_info,
        std::int64_t at_ms
    ) override;
    std::vector<OtaOfferRow> Offers(
        std::string_view node_id,
        std::string_view node_type,
        std::string_view node_model,
        std::string_view fw_version
    ) override;
    int QueueConnected(std::string_view ota_job_id) override;
    int QueueConnectedMatching(
        std::string_view node_type, std::string_view node_model, std::string_view fw_version
    ) override;
    void QueueNode(std::string_view node_id) override;
    std::vector<std::string> TakeQueued(int limit) override;
    std::int64_t CountQueued() override;

    std::optional<OtaImageRow> DeliveredImage(const OtaJobRow& job) override;

private:
    // Puts the signed firmware's bytes in `image` for a secure boot job; false when it is gone.
    bool ApplySignedImage(const OtaJobRow& job, OtaImageRow& image);

    SqlDatabase& db_;
};

}  // namespace rainmaker::storage::sql
