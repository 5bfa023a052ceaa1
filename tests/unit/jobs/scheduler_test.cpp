// The periodic job runner over a real store: jobs run when due and once per due time, a
// restart keeps the schedule, two schedulers on one database run each due job once, and a
// failing job is retried at its next due time.
#include "jobs/scheduler.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::jobs {
namespace {

using namespace std::chrono_literals;

class SchedulerTest : public ::testing::Test {
protected:
    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;
};

TEST_F(SchedulerTest, AJobRunsAtOnceThenEveryIntervalAndNotBefore) {
    Scheduler scheduler(db_, clock_);
    int runs = 0;
    scheduler.Every("sweep", 60s, [&] { ++runs; });
    EXPECT_EQ(scheduler.RunDue(), 1);
    EXPECT_EQ(scheduler.RunDue(), 0);
    clock_.Advance(59s);
    EXPECT_EQ(scheduler.RunDue(), 0);
    clock_.Advance(1s);
    EXPECT_EQ(scheduler.RunDue(), 1);
    EXPECT_EQ(runs, 2);
}

TEST_F(SchedulerTest, ARestartKeepsTheScheduleInTheStore) {
    int runs = 0;
    {
        Scheduler first(db_, clock_);
        first.Every("sweep", 3600s, [&] { ++runs; });
        first.RunDue();
    }
    clock_.Advance(600s);
    Scheduler second(db_, clock_);
    second.Every("sweep", 3600s, [&] { ++runs; });
    EXPECT_EQ(second.RunDue(), 0);  // not due for another 50 minutes
    clock_.Advance(3000s);
    EXPECT_EQ(second.RunDue(), 1);
    EXPECT_EQ(runs, 2);
}

TEST_F(SchedulerTest, TwoSchedulersOnOneDatabaseRunEachDueJobOnce) {
    Scheduler a(db_, clock_);
    Scheduler b(db_, clock_);
    int runs = 0;
    a.Every("sweep", 60s, [&] { ++runs; });
    b.Every("sweep", 60s, [&] { ++runs; });
    EXPECT_EQ(a.RunDue() + b.RunDue(), 1);
    clock_.Advance(60s);
    EXPECT_EQ(b.RunDue() + a.RunDue(), 1);
    EXPECT_EQ(runs, 2);
}

// Two server instances (each its own database object and connections, as two processes have)
// on one database, their schedulers racing in two threads: each due time runs the job once.
TEST_F(SchedulerTest, TwoInstancesRacingRunEachDueJobOnce) {
    const auto other = db_owner_.OpenAgain();
    std::atomic<int> runs{0};
    Scheduler a(db_, clock_);
    Scheduler b(*other, clock_);
    a.Every("sweep", 60s, [&] { ++runs; });
    b.Every("sweep", 60s, [&] { ++runs; });
    for (int round = 1; round <= 20; ++round) {
        std::atomic<int> ran{0};
        std::thread first([&] { ran += a.RunDue(); });
        std::thread second([&] { ran += b.RunDue(); });
        first.join();
        second.join();
        EXPECT_EQ(ran.load(), 1) << "round " << round;
        clock_.Advance(60s);
    }
    EXPECT_EQ(runs.load(), 20);
}

TEST_F(SchedulerTest, AFailingJobDoesNotStopTheOthersAndRunsAgainWhenDue) {
    Scheduler scheduler(db_, clock_);
    int failing = 0;
    int other = 0;
    scheduler.Every("failing", 10s, [&] {
        ++failing;
        throw std::runtime_error("disk full");
    });
    scheduler.Every("other", 10s, [&] { ++other; });
    EXPECT_EQ(scheduler.RunDue(), 2);
    clock_.Advance(10s);
    EXPECT_EQ(scheduler.RunDue(), 2);
    EXPECT_EQ(failing, 2);
    EXPECT_EQ(other, 2);
}

// Review of #14: a clock set forward then back must not freeze the schedule until the future
// due time it left behind.
TEST_F(SchedulerTest, AClockSetBackDoesNotFreezeTheSchedule) {
    Scheduler scheduler(db_, clock_);
    int runs = 0;
    scheduler.Every("sweep", 60s, [&] { ++runs; });
    clock_.Advance(std::chrono::hours(24 * 365));
    EXPECT_EQ(scheduler.RunDue(), 1);  // due a year from the real now
    testing::FakeClock real;           // the clock corrected
    Scheduler corrected(db_, real);
    corrected.Every("sweep", 60s, [&] { ++runs; });
    EXPECT_EQ(corrected.RunDue(), 1);
    EXPECT_EQ(corrected.RunDue(), 0);
    EXPECT_EQ(runs, 2);
}

TEST_F(SchedulerTest, StartAndStopRunTheLoopOnItsThread) {
    Scheduler scheduler(db_, clock_);
    std::atomic<int> runs{0};
    scheduler.Every("sweep", 60s, [&] { ++runs; });
    scheduler.Start();
    for (int i = 0; i < 200 && runs == 0; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    scheduler.Stop();
    EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace rainmaker::jobs
