// Time series over the SQLite store, no HTTP (domain/timeseries): what nodes publish is checked
// against their config and stored; queries read it back raw or per interval in a time zone
// (daylight-saving days of 23 and 25 hours, weeks starting on Sunday), differential, a page at
// a time; compaction and retention change what is stored but never what a query answers.
#include "domain/timeseries/timeseries_service.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain/nodes/mapping_service.hpp"
#include "domain/nodes/node_ingest.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/test_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::domain::timeseries {
namespace {

using core::ApiError;
using core::ErrorCode;
using nodes::IngestOutcome;

constexpr const char* kNode = "node1";
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
// Europe/Berlin midnights around the 2026 clock changes (last Sundays of March and October).
constexpr std::int64_t kMar28 = 1774652400;  // Saturday
constexpr std::int64_t kMar29 = 1774738800;  // Sunday: 23 hours
constexpr std::int64_t kMar30 = 1774821600;
constexpr std::int64_t kMar31 = 1774908000;
constexpr std::int64_t kOct25 = 1792879200;  // Sunday: 25 hours
constexpr std::int64_t kOct26 = 1792969200;

const char* const kConfig =
    R"({"node_id":"node1","info":{"name":"n","type":"Sensor"},"devices":[{"name":"Sensor",)"
    R"("params":[{"name":"Temperature","data_type":"float"},{"name":"Energy","data_type":"int"},)"
    R"({"name":"Door","data_type":"bool"},{"name":"Mode","data_type":"string"},)"
    R"({"name":"Profile","data_type":"object"}]}]})";

std::string Records(const std::vector<std::pair<std::int64_t, std::string>>& records) {
    std::string out;
    for (const auto& [t, v] : records) {
        out += (out.empty() ? "" : ",") + std::string(R"({"t":)") + std::to_string(t) + R"(,"v":)" +
               v + "}";
    }
    return "[" + out + "]";
}

class TimeSeriesServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        series_.RegisterIngest(ingest_);
        for (const auto* caller : {&owner_, &stranger_}) {
            storage::UserRow u;
            u.user_id = caller->user_id;
            u.user_name = caller->user_name;
            u.password_hash = "hash";
            u.created_at = 1;
            ASSERT_TRUE(db_.Users().Insert(u));
        }
        ASSERT_EQ(ingest_.Handle(kNode, "config", kConfig), IngestOutcome::kApplied);
        storage::UserNodeRow mapping;
        mapping.user_id = owner_.user_id;
        mapping.node_id = kNode;
        db_.Nodes().PutMapping(mapping);
    }

    IngestOutcome TsData(
        const std::string& name,
        const std::string& dt,
        const std::vector<std::pair<std::int64_t, std::string>>& records
    ) {
        return ingest_.Handle(
            kNode,
            "tsdata",
            R"({"ts_data_version":"2021-09-13","ts_data":[{"name":")" + name + R"(","dt":")" + dt +
                R"(","records":)" + Records(records) + "}]}"
        );
    }

    // Hourly float readings from `from` (inclusive) to `to` (exclusive): value = hour index.
    void Hourly(std::int64_t from, std::int64_t to) {
        std::vector<std::pair<std::int64_t, std::string>> records;
        for (std::int64_t t = from; t < to; t += kHour) {
            records.emplace_back(t, std::to_string((t - from) / kHour) + ".5");
        }
        ASSERT_EQ(TsData("Sensor.Temperature", "float", records), IngestOutcome::kApplied);
    }

    TsQueryInput Input(const std::string& param = "Sensor.Temperature") {
        TsQueryInput in;
        in.node_id = kNode;
        in.param_name = param;
        return in;
    }

    TsPage Query(const TsQueryInput& in) { return series_.Query(owner_, in, false); }

    // The error code of the query, 0 when it answers.
    int ErrorOf(const TsQueryInput& in, const auth::AuthContext* caller = nullptr) {
        try {
            series_.Query(caller != nullptr ? *caller : owner_, in, false);
            return 0;
        } catch (const ApiError& e) {
            return e.wire_code();
        }
    }

    static std::vector<std::int64_t> Times(const TsPage& page) {
        std::vector<std::int64_t> out;
        for (const auto& v : page.values) {
            out.push_back(v.ts);
        }
        return out;
    }

    static double Float(const TsResult& r) { return std::get<double>(r.val); }

    static std::int64_t Int(const TsResult& r) { return std::get<std::int64_t>(r.val); }

    testing::TempDir dir_;
    rainmaker::testing::TestDatabase db_owner_{dir_.path()};
    rainmaker::storage::sql::SqlDatabase& db_ = *db_owner_;
    testing::FakeClock clock_;  // 2027-01-15 08:00 UTC
    nodes::MappingService mapping_{db_, clock_};
    nodes::NodeIngest ingest_{db_, mapping_, clock_};
    TimeSeriesService series_{db_, clock_};
    auth::AuthContext owner_{"user-1", "owner@example.com", "s1", auth::PlatformRole::kUser};
    auth::AuthContext stranger_{"user-2", "other@example.com", "s2", auth::PlatformRole::kUser};
};

TEST_F(TimeSeriesServiceTest, RecordsTheConfigDoesNotDeclareOrMistypedAreDroppedAndCounted) {
    const std::int64_t t = kMar28;
    ASSERT_EQ(
        ingest_.Handle(
            kNode,
            "tsdata",
            R"({"ts_data":[{"name":"Sensor.Temperature","dt":"float","records":[)"
            R"({"t":)" +
                std::to_string(t) + R"(,"v":21.5},{"t":)" + std::to_string(t + 60) +
                R"(,"v":22}]},)"
                R"({"name":"Sensor.Ghost","dt":"float","records":[{"t":)" +
                std::to_string(t) +
                R"(,"v":1}]},)"
                R"({"name":"Sensor.Energy","dt":"float","records":[{"t":)" +
                std::to_string(t) +
                R"(,"v":1}]},)"
                R"({"name":"Sensor.Door","dt":"bool","records":[{"t":)" +
                std::to_string(t) +
                R"(,"v":"open"},{"t":5,"v":true},{"v":true}]},)"
                R"({"name":"Sensor.Profile","dt":"object","records":[{"t":)" +
                std::to_string(t) + R"(,"v":{}}]},"junk"]})"
        ),
        IngestOutcome::kApplied
    );
    // Kept: the two temperatures (22 as a float). Dropped: Ghost (undeclared), Energy (declared
    // int, sent as float), Door's string, its time of 1970 and its record without a time, the
    // object (tsdata is for scalars), and the entry that is not an object.
    EXPECT_EQ(series_.counters().records_stored, 2u);
    EXPECT_EQ(series_.counters().records_dropped, 7u);
    auto in = Input();
    in.start_time = std::to_string(t);
    in.end_time = std::to_string(t + kDay);
    const auto page = Query(in);
    ASSERT_EQ(page.values.size(), 2u);
    EXPECT_EQ(Float(page.values[1]), 22.0);

    // Not JSON, or no ts_data array: the message is refused as a whole.
    EXPECT_EQ(ingest_.Handle(kNode, "tsdata", "{"), IngestOutcome::kMalformed);
    EXPECT_EQ(ingest_.Handle(kNode, "tsdata", R"({"ts_data":{}})"), IngestOutcome::kMalformed);
}

TEST_F(TimeSeriesServiceTest, RawDefaultsToTheLastSevenDaysInBothOrdersAPageAtATime) {
    const std::int64_t now = clock_.NowSeconds();
    std::vector<std::pair<std::int64_t, std::string>> records;
    for (int i = 0; i < 10; ++i) {
        records.emplace_back(now - 8 * kDay + i * kDay, std::to_string(i));  // 8 days ago .. now+1d
    }
    ASSERT_EQ(TsData("Sensor.Energy", "int", records), IngestOutcome::kApplied);
    auto in = Input("Sensor.Energy");
    in.type = "int";
    auto page = Query(in);
    // [now - 7 days, now]: days 1..8 of the 10 (the 8-day-old point and the future one are out).
    EXPECT_EQ(page.values.size(), 8u);
    EXPECT_FALSE(page.next_id);
    EXPECT_EQ(Int(page.values.front()), 1);

    in.num_records = 3;
    in.desc_order = true;
    std::vector<std::int64_t> seen;
    std::optional<std::string> next;
    int pages = 0;
    do {
        in.start_id = next;
        page = Query(in);
        for (const auto& v : page.values) {
            seen.push_back(Int(v));
        }
        next = page.next_id;
        ++pages;
    } while (next);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, (std::vector<std::int64_t>{8, 7, 6, 5, 4, 3, 2, 1}));
}

TEST_F(TimeSeriesServiceTest, PageTokensServeOnlyTheirQueryAndCallerFiveTimesWithinAnHour) {
    Hourly(kMar28, kMar28 + 10 * kHour);
    auto in = Input();
    in.start_time = std::to_string(kMar28);
    in.end_time = std::to_string(kMar28 + kDay);
    in.num_records = 4;
    const auto first = Query(in);
    ASSERT_TRUE(first.next_id);
    in.start_id = first.next_id;

    auto other = in;
    other.desc_order = true;
    EXPECT_EQ(ErrorOf(other), 105043);  // other parameters
    // Another user mapped to the node cannot follow the owner's token either.
    storage::UserNodeRow mapping;
    mapping.user_id = stranger_.user_id;
    mapping.node_id = kNode;
    db_.Nodes().PutMapping(mapping);
    EXPECT_EQ(ErrorOf(in, &stranger_), 105043);

    for (int use = 0; use < 5; ++use) {
        const auto second = Query(in);
        EXPECT_EQ(Times(second).front(), kMar28 + 4 * kHour);
    }
    EXPECT_EQ(ErrorOf(in), 105043);  // a sixth use

    in.start_id.reset();
    in.start_id = Query(in).next_id;
    clock_.Advance(std::chrono::seconds(3601));
    EXPECT_EQ(ErrorOf(in), 105043);  // expired
    in.start_id = "made-up";
    EXPECT_EQ(ErrorOf(in), 105043);
}

TEST_F(TimeSeriesServiceTest, DaysFollowTheZonesClockChangesAndWeeksStartOnTheGivenDay) {
    Hourly(kMar28, kMar31);
    Hourly(kOct25 - kDay, kOct26 + kDay);
    auto in = Input();
    in.aggregate = "count";
    in.aggregation_interval = "day";
    in.timezone = "europe/berlin";  // case-insensitive
    in.start_time = std::to_string(kMar28);
    in.end_time = std::to_string(kMar31);
    auto page = Query(in);
    EXPECT_EQ(page.timezone, "Europe/Berlin");
    EXPECT_EQ(Times(page), (std::vector<std::int64_t>{kMar28, kMar29, kMar30}));
    EXPECT_EQ(Int(page.values[0]), 24);
    EXPECT_EQ(Int(page.values[1]), 23);  // the clocks went forward
    EXPECT_EQ(Int(page.values[2]), 24);

    // avg of the day of 23 hourly values i..i+22 (each + .5) starting at index 24.
    in.aggregate = "avg";
    page = Query(in);
    EXPECT_DOUBLE_EQ(Float(page.values[1]), (24 + 46) / 2.0 + 0.5);

    in.aggregate = "count";
    in.start_time = std::to_string(kOct25);
    in.end_time = std::to_string(kOct26);
    page = Query(in);
    ASSERT_EQ(page.values.size(), 1u);
    EXPECT_EQ(Int(page.values[0]), 25);  // the clocks went back

    // In UTC the same hours fall into other days.
    in.timezone = "UTC";
    page = Query(in);
    EXPECT_EQ(Times(page).front(), kOct25 - 22 * kHour);  // 24 October 00:00 UTC

    // Weeks starting on Sunday: Saturday 28 March is in the week of Sunday 22 March, Sunday
    // 29 March starts the next one.
    in.timezone = "Europe/Berlin";
    in.aggregation_interval = "week";
    in.week_start = "Sunday";
    in.start_time = std::to_string(kMar28);
    in.end_time = std::to_string(kMar31);
    page = Query(in);
    ASSERT_EQ(page.values.size(), 2u);
    EXPECT_EQ(page.values[0].ts, kMar28 - 6 * kDay);
    EXPECT_EQ(Int(page.values[0]), 24);
    EXPECT_EQ(page.values[1].ts, kMar29);
    EXPECT_EQ(Int(page.values[1]), 23 + 24);
    in.week_start = "monday";
    page = Query(in);
    ASSERT_EQ(page.values.size(), 2u);
    EXPECT_EQ(page.values[1].ts, kMar30);

    // Hours across the change: 02:00-03:00 local does not exist on 29 March.
    in.aggregation_interval = "hour";
    in.week_start.reset();
    in.start_time = std::to_string(kMar29);
    in.end_time = std::to_string(kMar30);
    page = Query(in);
    EXPECT_EQ(page.values.size(), 23u);
}

TEST_F(TimeSeriesServiceTest, DifferentialGivesTheStepsAndACounterResetCountsFromZero) {
    // A meter's running total, reset to 0 after the fourth reading.
    ASSERT_EQ(
        TsData(
            "Sensor.Energy",
            "int",
            {{kMar28, "100"},
             {kMar28 + kHour, "110"},
             {kMar28 + 2 * kHour, "125"},
             {kMar28 + 3 * kHour, "130"},
             {kMar28 + 4 * kHour, "4"},
             {kMar28 + 5 * kHour, "10"}}
        ),
        IngestOutcome::kApplied
    );
    auto in = Input("Sensor.Energy");
    in.type = "int";
    in.differential = true;
    in.start_time = std::to_string(kMar28 + kHour);
    in.end_time = std::to_string(kMar28 + kDay);
    auto page = Query(in);
    // The first step comes from the reading before the range.
    std::vector<std::int64_t> steps;
    for (const auto& v : page.values) {
        steps.push_back(Int(v));
    }
    EXPECT_EQ(steps, (std::vector<std::int64_t>{10, 15, 5, -126, 6}));
    in.reset_on_negative = true;
    page = Query(in);
    EXPECT_EQ(Int(page.values[3]), 4);
    in.aggregate = "sum";
    in.aggregation_interval = "day";
    page = Query(in);
    ASSERT_EQ(page.values.size(), 1u);
    EXPECT_EQ(Int(page.values[0]), 10 + 15 + 5 + 4 + 6);
    EXPECT_TRUE(page.reset_on_negative);
}

TEST_F(TimeSeriesServiceTest, CompactionMovesTheHeadIntoChunksAndAnswersStayTheSame) {
    Hourly(kMar28 - 60 * kDay, kMar28);  // 1440 points
    auto in = Input();
    in.aggregate = "max";
    in.aggregation_interval = "month";
    in.start_time = std::to_string(kMar28 - 60 * kDay);
    in.end_time = std::to_string(kMar28);
    const auto before = Query(in);
    EXPECT_EQ(series_.Compact(false), 1440);  // over compact_after_points
    EXPECT_EQ(series_.Compact(true), 0);      // nothing left in the head
    const auto after = Query(in);
    ASSERT_EQ(after.values.size(), before.values.size());
    for (std::size_t i = 0; i < after.values.size(); ++i) {
        EXPECT_EQ(after.values[i].ts, before.values[i].ts);
        EXPECT_EQ(Float(after.values[i]), Float(before.values[i]));
    }
    // A late correction lands in the head and wins over the chunk; after compaction too.
    ASSERT_EQ(
        TsData("Sensor.Temperature", "float", {{kMar28 - 30 * kDay, "999.25"}}),
        IngestOutcome::kApplied
    );
    auto raw = Input();
    raw.start_time = std::to_string(kMar28 - 30 * kDay - kHour);
    raw.end_time = std::to_string(kMar28 - 30 * kDay + 2 * kHour);
    EXPECT_EQ(Float(Query(raw).values[1]), 999.25);
    EXPECT_EQ(Query(raw).values.size(), 3u);
    EXPECT_EQ(series_.Compact(true), 1);
    EXPECT_EQ(Float(Query(raw).values[1]), 999.25);
    EXPECT_EQ(Query(raw).values.size(), 3u);
    raw.desc_order = true;
    EXPECT_EQ(Times(Query(raw)).front(), kMar28 - 30 * kDay + kHour);
}

TEST_F(TimeSeriesServiceTest, SimpleSeriesKeepTheirTypeAndTheirOwnRetention) {
    const std::int64_t now = clock_.NowSeconds();
    const auto simple = [&](std::int64_t t, int days) {
        return ingest_.Handle(
            kNode,
            "simple_tsdata",
            R"({"name":"Sensor.Profile","dt":"object","t":)" + std::to_string(t) +
                R"(,"v":{"a":[1,2]},"d":)" + std::to_string(days) + "}"
        );
    };
    ASSERT_EQ(simple(now - kDay, 2), IngestOutcome::kApplied);
    SimpleQueryInput in;
    in.node_id = kNode;
    in.param_name = "Sensor.Profile";
    in.data_type = "object";
    in.start_time = std::to_string(now - 5 * kDay);
    in.end_time = std::to_string(now);
    auto page = series_.QuerySimple(owner_, in, false);
    ASSERT_EQ(page.values.size(), 1u);
    EXPECT_EQ(std::get<std::string>(page.values[0].val), R"({"a":[1,2]})");
    in.data_type = "string";
    EXPECT_TRUE(series_.QuerySimple(owner_, in, false).values.empty());
    in.data_type = "text";
    EXPECT_THROW(series_.QuerySimple(owner_, in, false), ApiError);

    // A point its retention has already passed is not stored (a backdated point would only
    // make compaction rewrite old chunks).
    const auto dropped = series_.counters().records_dropped.load();
    ASSERT_EQ(simple(now - 3 * kDay, 2), IngestOutcome::kApplied);
    EXPECT_EQ(series_.counters().records_dropped, dropped + 1);

    // Two days of retention (`d`): two days on, the 3-day-old point is no longer answered,
    // even before the hourly job deletes it; a tsdata point of the same age stays for the
    // default year.
    ASSERT_EQ(TsData("Sensor.Energy", "int", {{now - kDay, "1"}}), IngestOutcome::kApplied);
    series_.Compact(true);
    clock_.Advance(std::chrono::seconds(2 * kDay));
    in.data_type = "object";
    in.end_time = std::to_string(now + 2 * kDay);
    EXPECT_TRUE(series_.QuerySimple(owner_, in, false).values.empty());
    EXPECT_EQ(series_.DeleteExpired(), 1);
    EXPECT_TRUE(series_.QuerySimple(owner_, in, false).values.empty());
    auto ts = Input("Sensor.Energy");
    ts.type = "int";
    EXPECT_EQ(Query(ts).values.size(), 1u);
}

TEST_F(TimeSeriesServiceTest, HoursAndMinutesSpanADayOfSecondsAlsoOnClockChangeDays) {
    auto in = Input();
    in.aggregate = "avg";
    in.aggregation_interval = "hour";
    in.timezone = "Europe/Berlin";
    in.start_time = std::to_string(kMar29);  // a day of 23 hours
    in.end_time = std::to_string(kMar29 + kDay);
    EXPECT_EQ(ErrorOf(in), 0);
    in.aggregation_interval = "minute";
    EXPECT_EQ(ErrorOf(in), 0);
    in.end_time = std::to_string(kMar29 + kDay + 1);
    EXPECT_EQ(ErrorOf(in), 126012);
    in.start_time = std::to_string(kOct25);  // a day of 25 hours: still 24 of them at most
    in.end_time = std::to_string(kOct26);
    EXPECT_EQ(ErrorOf(in), 126012);
    // Times past the year 9999 are refused, not overflowed.
    in.aggregation_interval = "year";
    in.start_time = "253402300800";
    EXPECT_EQ(ErrorOf(in), 126010);
    in.start_time = "0";
    in.end_time = "9223372036854775807";
    EXPECT_EQ(ErrorOf(in), 126011);
}

TEST_F(TimeSeriesServiceTest, LongRangesAreReadAFewChunksAtATimeWithoutGapsOrRepeats) {
    TimeSeriesConfig small;
    small.chunk_points = 4;
    TimeSeriesService series(db_, clock_, small);
    nodes::NodeIngest ingest(db_, mapping_, clock_);
    series.RegisterIngest(ingest);
    std::vector<std::pair<std::int64_t, std::string>> records;
    for (int i = 0; i < 50; ++i) {
        records.emplace_back(kMar28 + i * kHour, std::to_string(i) + ".5");
    }
    ASSERT_EQ(
        ingest.Handle(
            kNode,
            "tsdata",
            R"({"ts_data":[{"name":"Sensor.Temperature","dt":"float","records":)" +
                Records(records) + "}]}"
        ),
        IngestOutcome::kApplied
    );
    EXPECT_EQ(series.Compact(true), 50);  // 13 chunks
    ASSERT_EQ(
        TsData("Sensor.Temperature", "float", {{kMar28 + 7 * kHour, "70.5"}}),
        IngestOutcome::kApplied
    );  // a head point over a chunk's: it wins
    for (const bool desc : {false, true}) {
        auto in = Input();
        in.start_time = std::to_string(kMar28);
        in.end_time = std::to_string(kMar28 + 31 * kDay);
        in.num_records = 7;
        in.desc_order = desc;
        std::vector<std::int64_t> seen;
        double at_seven = 0;
        do {
            const auto page = series.Query(owner_, in, false);
            for (const auto& v : page.values) {
                seen.push_back((v.ts - kMar28) / kHour);
                if (v.ts == kMar28 + 7 * kHour) {
                    at_seven = Float(v);
                }
            }
            in.start_id = page.next_id;
        } while (in.start_id);
        std::vector<std::int64_t> expected(50);
        for (int i = 0; i < 50; ++i) {
            expected[static_cast<std::size_t>(i)] = desc ? 49 - i : i;
        }
        EXPECT_EQ(seen, expected) << (desc ? "descending" : "ascending");
        EXPECT_EQ(at_seven, 70.5);
    }
}

TEST_F(TimeSeriesServiceTest, ADamagedChunkAnswersTheCatalogsStoreErrors) {
    Hourly(kMar28, kMar28 + 3 * kHour);
    const std::int64_t now = clock_.NowSeconds();
    ASSERT_EQ(
        ingest_.Handle(
            kNode,
            "simple_tsdata",
            R"({"name":"Sensor.Mode","dt":"string","t":)" + std::to_string(now - kHour) +
                R"(,"v":"eco"})"
        ),
        IngestOutcome::kApplied
    );
    series_.Compact(true);
    db_.Execute("UPDATE ts_chunks SET data = ?", std::string_view("not a chunk"));
    auto in = Input();
    in.start_time = std::to_string(kMar28);
    in.end_time = std::to_string(kMar29);
    EXPECT_EQ(ErrorOf(in), 126014);
    SimpleQueryInput simple;
    simple.node_id = kNode;
    simple.param_name = "Sensor.Mode";
    simple.data_type = "string";
    try {
        series_.QuerySimple(owner_, simple, false);
        ADD_FAILURE() << "a damaged chunk was read";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.wire_code(), 136003);
    }
}

TEST_F(TimeSeriesServiceTest, ASeriesGoesWhenItsLastUserDeletesTheAccount) {
    Hourly(kMar28, kMar28 + 3 * kHour);
    mapping_.SetNodeReleased([this](std::string_view node) { series_.ForgetNode(node); });
    auth::AuthContext admin{"admin-1", "admin@example.com", "s3", auth::PlatformRole::kAdmin};
    auto in = Input();
    in.start_time = std::to_string(kMar28);
    in.end_time = std::to_string(kMar29);
    // Another user of the node keeps it (and its series).
    storage::UserNodeRow mapping;
    mapping.user_id = stranger_.user_id;
    mapping.node_id = kNode;
    mapping.role = core::ResourceRole::kSecondary;
    db_.Nodes().PutMapping(mapping);
    db_.Transaction([&] { mapping_.ForgetUser(owner_.user_id); });
    EXPECT_EQ(series_.Query(admin, in, true).values.size(), 3u);
    EXPECT_FALSE(db_.Nodes().FindMapping(owner_.user_id, kNode));
    db_.Transaction([&] { mapping_.ForgetUser(stranger_.user_id); });
    EXPECT_EQ(series_.Query(admin, in, true).values.size(), 0u);
}

TEST_F(TimeSeriesServiceTest, OnlyUsersOfTheNodeReadItAndItsSeriesGoWithItsLastUser) {
    Hourly(kMar28, kMar28 + 3 * kHour);
    auto in = Input();
    in.start_time = std::to_string(kMar28);
    in.end_time = std::to_string(kMar29);
    EXPECT_EQ(ErrorOf(in, &stranger_), 126002);
    auth::AuthContext admin{"admin-1", "admin@example.com", "s3", auth::PlatformRole::kAdmin};
    EXPECT_EQ(series_.Query(admin, in, true).values.size(), 3u);
    auto missing = in;
    missing.node_id = "no-such-node";
    EXPECT_THROW(series_.Query(admin, missing, true), ApiError);

    mapping_.SetNodeReleased([this](std::string_view node) { series_.ForgetNode(node); });
    mapping_.RemoveMapping(owner_, kNode);
    EXPECT_EQ(series_.Query(admin, in, true).values.size(), 0u);
    // The node's next readings make a new series (the cached id of the old one is not reused).
    Hourly(kMar28, kMar28 + kHour);
    EXPECT_EQ(series_.Query(admin, in, true).values.size(), 1u);
}

TEST_F(TimeSeriesServiceTest, EachInvalidParameterHasItsCode) {
    const auto code = [&](auto edit) {
        auto in = Input();
        in.start_time = std::to_string(kMar28);
        in.end_time = std::to_string(kMar29);
        edit(in);
        return ErrorOf(in);
    };
    EXPECT_EQ(code([](auto& in) { in.node_id.clear(); }), 126003);
    EXPECT_EQ(code([](auto& in) { in.param_name.clear(); }), 126004);
    EXPECT_EQ(code([](auto& in) { in.aggregate = "median"; }), 126005);
    EXPECT_EQ(code([](auto& in) { in.aggregate = "avg"; }), 126006);  // no interval
    EXPECT_EQ(code([](auto& in) { in.aggregation_interval = "fortnight"; }), 126006);
    EXPECT_EQ(code([](auto& in) { in.week_start = "Someday"; }), 126007);
    EXPECT_EQ(
        code([](auto& in) {
            in.aggregate = "avg";
            in.aggregation_interval = "day";
            in.end_time.reset();
        }),
        126008
    );
    EXPECT_EQ(
        code([](auto& in) {
            in.aggregate = "avg";
            in.aggregation_interval = "day";
            in.start_time.reset();
            in.end_time.reset();
            in.num_intervals = "32";
        }),
        126009
    );
    EXPECT_EQ(code([](auto& in) { in.start_time = "yesterday"; }), 126010);
    EXPECT_EQ(code([](auto& in) { in.end_time = "-5"; }), 126011);
    EXPECT_EQ(code([](auto& in) { in.end_time = std::to_string(kMar28 + 32 * kDay); }), 126012);
    EXPECT_EQ(code([](auto& in) { in.end_time = std::to_string(kMar28); }), 126013);
    EXPECT_EQ(
        code([](auto& in) {
            in.aggregate = "sum";
            in.aggregation_interval = "day";
            in.start_time.reset();
            in.end_time.reset();
        }),
        126015
    );
    EXPECT_EQ(
        code([](auto& in) {
            in.aggregate = "latest";
            in.aggregation_interval = "month";
        }),
        126016
    );
    EXPECT_EQ(code([](auto& in) { in.type = "decimal"; }), 126017);
    EXPECT_EQ(code([](auto& in) { in.timezone = "Mars/Olympus"; }), 126020);
    // Type-dependent: a bool series.
    ASSERT_EQ(TsData("Sensor.Door", "bool", {{kMar28, "true"}}), IngestOutcome::kApplied);
    EXPECT_EQ(
        code([](auto& in) {
            in.param_name = "Sensor.Door";
            in.type = "int";
        }),
        126018
    );
    EXPECT_EQ(
        code([](auto& in) {
            in.param_name = "Sensor.Door";
            in.type = "bool";
            in.aggregate = "avg";
            in.aggregation_interval = "day";
        }),
        126019
    );
    EXPECT_EQ(
        code([](auto& in) {
            in.param_name = "Sensor.Door";
            in.type = "bool";
            in.differential = true;
        }),
        126021
    );
    // Without a type the documented default (float) gives way to the one stored type.
    EXPECT_EQ(code([](auto& in) { in.param_name = "Sensor.Door"; }), 0);
}

TEST_F(TimeSeriesServiceTest, NumIntervalsCountsTheCurrentIntervalAndKeepsItsWindowAcrossPages) {
    const std::int64_t now = clock_.NowSeconds();
    std::vector<std::pair<std::int64_t, std::string>> records;
    for (std::int64_t t = now - 23 * kHour; t <= now; t += 60) {
        records.emplace_back(t, "1.0");
    }
    ASSERT_EQ(TsData("Sensor.Temperature", "float", records), IngestOutcome::kApplied);
    auto in = Input();
    in.aggregate = "count";
    in.aggregation_interval = "hour";
    in.num_intervals = "3";
    auto page = Query(in);
    ASSERT_EQ(page.values.size(), 3u);
    EXPECT_EQ(page.values.back().ts, now);  // 08:00 UTC, the hour now
    EXPECT_EQ(Int(page.values.back()), 1);
    EXPECT_EQ(Int(page.values.front()), 60);

    in.aggregation_interval = "minute";
    in.num_intervals = "300";
    page = Query(in);
    ASSERT_EQ(page.values.size(), 200u);
    ASSERT_TRUE(page.next_id);
    clock_.Advance(std::chrono::seconds(600));  // the window would move without the token
    in.start_id = page.next_id;
    page = Query(in);
    EXPECT_EQ(page.values.size(), 100u);
    EXPECT_EQ(page.values.back().ts, now);
}

}  // namespace
}  // namespace rainmaker::domain::timeseries
