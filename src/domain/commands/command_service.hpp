// Command-response (#101-#104, device-protocol §2.4): a user (or an admin, for any node) sends a
// command with data to up to 25 nodes; each node gets it as TLV8 on to-node (at once when it is
// online, else when it polls after connecting) and answers on from-node. A request goes
// requested → in_progress (sent) → success | failure (the node's answer) or timed_out (the
// command-timeouts job, due times in the store). Users read back only their own requests.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/auth/auth_context.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "domain/nodes/node_publisher.hpp"
#include "storage/database.hpp"

namespace rainmaker::domain::commands {

struct CommandConfig {
    std::int64_t default_timeout_seconds = 30;
    int max_pending_per_node = 100;  // requests still requested or in_progress
    int retention_days = 30;         // ended requests are deleted this long after they ended
    // One from-node message: 64 KiB of data and the other items.
    std::size_t max_response_bytes = 72 * 1024;
    // One user's pending requests for one node, so that one user cannot fill the node's cap.
    int max_pending_per_user_node = 20;
    // Rows one user holds (pending, and ended within the retention); the admin route is not
    // counted, as for the other per-user quotas.
    int max_stored_per_user = 1000;
    // A node's poll resends its requests already sent at most once per this; a poll within it
    // sends only the requests never sent.
    std::int64_t resend_interval_seconds = 10;
};

// How the data of a request was given (storage::CommandRow::data_kind).
enum class DataKind { kJson = 0, kString = 1, kBase64 = 2 };

inline constexpr const char* kStatusRequested = "requested";
inline constexpr const char* kStatusInProgress = "in_progress";
inline constexpr const char* kStatusSuccess = "success";
inline constexpr const char* kStatusFailure = "failure";
inline constexpr const char* kStatusTimedOut = "timed_out";

inline constexpr std::size_t kMaxNodes = 25;
// The catalog's "64KB" of data as sent: the JSON text, the string, or the base64 text.
inline constexpr std::size_t kMaxDataBytes = 64 * 1024;
// Records in one page of #101/#103 (a record carries up to 64 KiB of data and 64 KiB of
// answer): larger num_records get this many and a next_id.
inline constexpr int kMaxCommandPage = 100;
// Nodes whose last resend time is remembered (past it, the times older than the interval are
// forgotten; when none is, the poll sends only requests never sent).
inline constexpr std::size_t kMaxResendEntries = 65536;
inline constexpr std::int64_t kMaxTimeoutSeconds = 2592000;  // 30 days

// The body of #102/#104. The edge checks node_ids is an array of strings and the flags are
// booleans; the rest is checked here, each with its own error code.
struct Submission {
    std::vector<std::string> node_ids;
    std::optional<boost::json::value> cmd;
    std::optional<boost::json::value> data;  // object, string, or base64 text (is_base64)
    bool is_base64 = false;
    std::optional<boost::json::value> timeout;
    bool override_pending = false;  // `override`
};

// What #102/#104 did: the request id, the nodes it was made for and those refused (with why).
struct SubmitResult {
    std::string request_id;
    std::vector<std::string> accepted;
    std::vector<std::pair<std::string, core::ApiError>> refused;
};

// The query string of #101/#103 as given (numbers stay text: each has its own error code).
struct CommandQuery {
    std::optional<std::string> request_id;
    std::optional<std::string> node_id;
    std::optional<std::string> status;
    std::optional<std::string> start_time;
    std::optional<std::string> end_time;
    std::optional<std::string> cmd_id;
    std::optional<std::string> start_id;
    int num_records = 10;
    bool desc_order = false;
};

struct CommandPage {
    std::vector<storage::CommandRow> requests;
    int total = 0;
    std::optional<std::string> next_id;
};

// Counters for /metrics.
struct CommandCounters {
    std::atomic<std::uint64_t> submitted{0};  // one per request and node
    std::atomic<std::uint64_t> sent{0};       // to-node publishes, resends included
    std::atomic<std::uint64_t> answered{0};   // answers that ended a request
    std::atomic<std::uint64_t> polls{0};
    std::atomic<std::uint64_t> polls_limited{0};  // polls within the resend interval
    std::atomic<std::uint64_t> unmatched{0};      // answers to no pending request of the node
    std::atomic<std::uint64_t> timed_out{0};
};

class CommandService {
public:
    CommandService(
        storage::Database& db,
        nodes::NodePublisher& publisher,
        const core::Clock& clock,
        CommandConfig config = {}
    );

    // Registers the handler of from-node (answers and polls); set-params answers are merged
    // through `ingest`. Call before the link starts.
    void RegisterIngest(nodes::NodeIngest& ingest);

    // #102 (`admin`: #104, any node; an invalid timeout falls back to the default). Throws
    // 131102-131107, 131111, 131114, 131115; when no node takes the request, the first node's
    // refusal (100010 not the caller's or unknown, 100015 unknown to an admin, 131113 no
    // cmd-resp attribute, 100070 too many pending requests).
    SubmitResult Submit(const auth::AuthContext& caller, const Submission& submission, bool admin);

    // #101 (`admin`: #103). Throws 131001, 131003, 131011-131015, 126003 (a node the caller
    // has no access to), kInvalidQuery (status), kInvalidStartId.
    CommandPage List(const auth::AuthContext& caller, const CommandQuery& query, bool admin);

    // Times out the pending requests past their expiry; returns how many. The periodic job.
    int ExpireDue();
    // Deletes requests that ended longer than the retention ago; returns how many. The hourly
    // job.
    int DeleteOld();

    // The account of `user_id` is being deleted (inside its transaction): its pending requests
    // fail.
    void ForgetUser(std::string_view user_id);

    const CommandCounters& counters() const { return counters_; }

    std::string RenderMetrics() const;

private:
    // A from-node message of `node_id` (inside the ingest transaction).
    void OnFromNode(std::string_view node_id, std::string_view payload);
    // The node's poll: every pending request again (those already sent at most once per
    // resend interval).
    void Resend(std::string_view node_id);
    // Whether the node's requests already sent may go again now (and, if so, notes the time).
    bool MayResend(std::string_view node_id, std::int64_t now);
    // The role byte of the request's maker now (their current role on the node; the admin
    // route: 1 while they are still an admin); nullopt, the request failed, when they may no
    // longer send it. Updates the row's role.
    std::optional<int> CurrentRole(const storage::CommandRow& row, std::int64_t now);
    // Publishes the request on to-node with `role`; true when the link took it.
    bool Send(const storage::CommandRow& row, int role);

    storage::Database& db_;
    nodes::NodePublisher& publisher_;
    const core::Clock& clock_;
    CommandConfig config_;
    nodes::NodeIngest* ingest_ = nullptr;
    CommandCounters counters_;
    std::mutex resend_mutex_;
    std::unordered_map<std::string, std::int64_t> last_resend_;  // node → unix seconds
};

}  // namespace rainmaker::domain::commands
