// One thread that runs the server's periodic jobs (housekeeping today; time series retention,
// command and automation timers later). Due times live in the store (storage::JobStore), so a
// restart keeps the schedule and, with several instances, each run happens once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "storage/database.hpp"

namespace rainmaker::jobs {

class Scheduler {
public:
    Scheduler(storage::Database& db, const core::Clock& clock);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Registers `job`, run every `interval` (first when its stored due time comes; a job never
    // run before is due at once). Call before Start.
    void Every(std::string name, std::chrono::seconds interval, std::function<void()> job);

    // Starts the thread; it looks for due jobs every second.
    void Start();
    void Stop();

    // Runs, once each, the jobs that are due now; returns how many ran. A job that throws is
    // logged and runs again at its next due time. The thread calls this; tests call it too.
    int RunDue();

private:
    struct Job {
        std::string name;
        std::chrono::seconds interval;
        std::function<void()> run;
        std::int64_t next_check = 0;  // unix seconds; the store decides when this comes
    };

    storage::Database& db_;
    const core::Clock& clock_;
    std::vector<Job> jobs_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace rainmaker::jobs
