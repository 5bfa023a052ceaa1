// Command-response requests in the store (#101-#104): one row per request and node (a request
// sent to several nodes shares its id), its life from requested to an answer or a timeout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rainmaker::storage {

struct CommandRow {
    std::int64_t seq = 0;  // creation order, assigned by Insert; the page cursor
    std::string request_id;
    std::string node_id;
    std::string user_id;  // who made it
    std::string user_name;
    bool admin = false;  // made through the admin route
    int cmd = 0;
    int role = 0;        // the role byte sent to the node
    int data_kind = 0;   // 0 JSON object, 1 string, 2 base64 (domain/commands)
    std::string data;    // as given: JSON text, the string, or the base64 text
    std::string status;  // requested | in_progress | success | failure | timed_out
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;       // unix seconds; 0 = never
    std::optional<int> device_status;  // the node's status byte, once it answered
    std::string status_description;
    std::optional<std::string> response_data;  // the node's data bytes, once it answered
    std::int64_t responded_at = 0;
    std::int64_t ended_at = 0;  // when it left requested/in_progress (the retention counts
                                // from here); 0 while pending
};

// Which requests a list holds; every field set narrows it. Rows come in `seq` order.
struct CommandFilter {
    std::optional<std::string> user_id;
    std::optional<std::string> request_id;
    std::optional<std::string> node_id;
    std::optional<std::string> status;
    std::optional<int> cmd;
    std::optional<std::int64_t> created_from;  // created_at >= this
    std::optional<std::int64_t> created_to;    // created_at <= this
    bool descending = false;
    std::optional<std::int64_t> start_seq;  // the first row of the page (inclusive)
};

class CommandStore {
public:
    virtual ~CommandStore() = default;

    // Inserts with the next seq; false when (request_id, node_id) exists.
    virtual bool Insert(const CommandRow& row) = 0;
    virtual std::optional<CommandRow> Find(
        std::string_view request_id, std::string_view node_id
    ) = 0;
    // At most `limit` rows of `filter`, from its start_seq, in its order.
    virtual std::vector<CommandRow> List(const CommandFilter& filter, int limit) = 0;
    // How many rows `filter` holds (its start_seq ignored).
    virtual int Count(const CommandFilter& filter) = 0;
    // The node's requests still requested or in_progress, oldest first.
    virtual std::vector<CommandRow> Pending(std::string_view node_id) = 0;
    // The node's requests still requested (never sent), oldest first.
    virtual std::vector<CommandRow> Unsent(std::string_view node_id) = 0;
    // How many of the node's requests are still requested or in_progress.
    virtual int CountPending(std::string_view node_id) = 0;
    // How many of the user's requests for the node are still requested or in_progress.
    virtual int CountPendingOf(std::string_view user_id, std::string_view node_id) = 0;
    // The user's requests of `cmd` for the node still requested or in_progress.
    virtual std::vector<CommandRow> PendingOf(
        std::string_view user_id, std::string_view node_id, int cmd
    ) = 0;
    // Sets the role byte of a pending request (the maker's role when it is sent).
    virtual void SetRole(std::string_view request_id, std::string_view node_id, int role) = 0;
    // requested → in_progress; false when the request is no longer "requested".
    virtual bool MarkDelivered(std::string_view request_id, std::string_view node_id) = 0;
    // Ends a request still requested or in_progress with `status` and what the node answered
    // (device_status and response nullopt when it did not); false when it had ended already.
    virtual bool Finish(
        std::string_view request_id,
        std::string_view node_id,
        std::string_view status,
        std::optional<int> device_status,
        std::string_view description,
        const std::optional<std::string>& response,
        std::int64_t at
    ) = 0;
    // Ends every pending request of the user as failure with `description`; returns how many.
    virtual int FailPendingOfUser(
        std::string_view user_id, std::string_view description, std::int64_t at
    ) = 0;
    // Times out every pending request whose expiry is at or before `now`; returns how many.
    virtual int ExpireDue(std::int64_t now) = 0;
    // The earliest expiry of a pending request, nullopt when none expires.
    virtual std::optional<std::int64_t> NextExpiry() = 0;
    // Deletes the requests that ended before `before`; returns how many.
    virtual int DeleteEndedBefore(std::int64_t before) = 0;
};

}  // namespace rainmaker::storage
