// The housekeeping sweep over the stores.
#include "domain/housekeeping/housekeeping.hpp"

#include "core/log.hpp"

namespace rainmaker::domain::housekeeping {

Housekeeping::Housekeeping(
    storage::Database& db,
    nodes::ClaimService& claims,
    const core::Clock& clock,
    RetentionConfig config
)
    : db_(db), claims_(claims), clock_(clock), config_(config) {}

SweepCounts Housekeeping::RunOnce() {
    const auto now = clock_.NowSeconds();
    const auto before = [&](std::chrono::seconds age) { return now - age.count(); };
    SweepCounts n;
    // Revoked sessions can go at once: a revoked session and a missing one are both refused.
    n.sessions = db_.Sessions().DeleteExpired(now);
    n.codes = db_.Codes().DeleteExpired(now);
    n.mapping_requests = db_.Nodes().SweepMappingRequests(
        now, before(config_.closed_request_retention), before(config_.mapping_report_ttl)
    );
    n.sharing_requests = db_.Sharing().DeleteExpired(
        before(config_.sharing_request_ttl), before(config_.closed_request_retention)
    );
    n.unconfirmed_accounts = db_.Users().DeleteUnconfirmed(before(config_.unconfirmed_account_ttl));
    n.claims = claims_.ExpirePendingClaims();
    n.alerts = db_.Nodes().DeleteAlerts(before(config_.alert_retention));
    n.events = db_.Events().DeleteBefore(before(config_.event_retention));
    if (n.Total() > 0) {
        core::log::Info(
            "housekeeping: removed " + std::to_string(n.sessions) + " session(s), " +
            std::to_string(n.codes) + " code(s), " + std::to_string(n.mapping_requests) +
            " mapping request change(s), " + std::to_string(n.sharing_requests) +
            " sharing request(s), " + std::to_string(n.unconfirmed_accounts) +
            " unconfirmed account(s), " + std::to_string(n.claims) + " expired claim(s), " +
            std::to_string(n.alerts) + " alert(s), " + std::to_string(n.events) + " event(s)"
        );
    }
    return n;
}

}  // namespace rainmaker::domain::housekeeping
