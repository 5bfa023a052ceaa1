// What keeps the store from only growing: expired sessions and codes, timed-out and old
// mapping requests, expired sharing requests, accounts never confirmed, claims never mapped,
// old alerts and events. One sweep, run periodically by the scheduler (jobs/).
#pragma once

#include <chrono>

#include "core/clock.hpp"
#include "domain/nodes/claim_service.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::housekeeping {

struct RetentionConfig {
    std::chrono::seconds unconfirmed_account_ttl{7 * 24 * 3600};
    std::chrono::seconds sharing_request_ttl{7 * 24 * 3600};        // pending sharing requests
    std::chrono::seconds closed_request_retention{30 * 24 * 3600};  // answered requests
    std::chrono::seconds alert_retention{30 * 24 * 3600};
    std::chrono::seconds event_retention{30 * 24 * 3600};
    std::chrono::seconds mapping_report_ttl{24 * 3600};  // a node's unmatched mapping report
};

// How many rows one sweep removed (or timed out), per kind.
struct SweepCounts {
    int sessions = 0;
    int codes = 0;
    int mapping_requests = 0;
    int sharing_requests = 0;
    int unconfirmed_accounts = 0;
    int claims = 0;
    int alerts = 0;
    int events = 0;

    int Total() const {
        return sessions + codes + mapping_requests + sharing_requests + unconfirmed_accounts +
               claims + alerts + events;
    }
};

class Housekeeping {
public:
    Housekeeping(
        storage::Database& db,
        nodes::ClaimService& claims,
        const core::Clock& clock,
        RetentionConfig config
    );

    // One sweep of everything; each kind in its own transaction.
    SweepCounts RunOnce();

private:
    storage::Database& db_;
    nodes::ClaimService& claims_;
    const core::Clock& clock_;
    RetentionConfig config_;
};

}  // namespace rainmaker::domain::housekeeping
