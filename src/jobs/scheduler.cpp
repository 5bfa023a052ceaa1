// The scheduler's loop: due jobs from the store, run on this thread, one at a time.
#include "jobs/scheduler.hpp"

#include <exception>

#include "core/log.hpp"

namespace rainmaker::jobs {

Scheduler::Scheduler(storage::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

Scheduler::~Scheduler() {
    Stop();
}

void Scheduler::Every(std::string name, std::chrono::seconds interval, std::function<void()> job) {
    jobs_.push_back(Job{std::move(name), interval, std::move(job)});
}

int Scheduler::RunDue() {
    int ran = 0;
    for (auto& job : jobs_) {
        const auto now = clock_.NowSeconds();
        // Known not to be due: no store access (unless the clock was set back past an
        // interval, when the store decides again).
        if (now < job.next_check && job.next_check <= now + job.interval.count()) {
            continue;
        }
        bool claimed = false;
        try {
            claimed = db_.Jobs().ClaimDue(job.name, now, now + job.interval.count());
            if (claimed) {
                ++ran;
                job.run();
            }
        } catch (const std::exception& e) {
            core::log::Error("job " + job.name + " failed: " + e.what());
        }
        if (claimed) {
            job.next_check = now + job.interval.count();  // the due time the claim stored
            continue;
        }
        // Not due (or another instance ran it): look again when the store says it is due.
        try {
            const auto due = db_.Jobs().DueAt(job.name).value_or(now + job.interval.count());
            // A due time beyond an interval from now means the clock was set back: look again
            // now (ClaimDue takes such a run).
            job.next_check = due > now + job.interval.count() ? now : due;
        } catch (const std::exception&) {
            job.next_check = now + 1;
        }
    }
    return ran;
}

void Scheduler::Start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            RunDue();
            lock.lock();
            wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
        }
    });
}

void Scheduler::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

}  // namespace rainmaker::jobs
