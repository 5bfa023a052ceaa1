// The chunk codec of time series (domain/timeseries/codec): every type round-trips exactly,
// regular readings cost a few bits a point, and damaged bytes are refused, never read past.
#include "domain/timeseries/codec.hpp"

#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace rainmaker::domain::timeseries {
namespace {

void ExpectRoundTrip(TsType type, const std::vector<TsPoint>& points) {
    const auto chunk = EncodeChunk(type, points);
    const auto back = DecodeChunk(type, chunk);
    ASSERT_EQ(back.size(), points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
        EXPECT_EQ(back[i].t, points[i].t) << i;
        if (type == TsType::kFloat && std::isnan(std::get<double>(points[i].value))) {
            EXPECT_TRUE(std::isnan(std::get<double>(back[i].value))) << i;
        } else {
            EXPECT_EQ(back[i].value, points[i].value) << i;
        }
    }
}

TEST(TsCodec, RoundTripsEveryTypeExactly) {
    std::mt19937_64 random(42);
    std::vector<TsPoint> floats;
    std::vector<TsPoint> ints;
    std::vector<TsPoint> bools;
    std::vector<TsPoint> strings;
    std::int64_t t = 1'700'000'000;
    for (int i = 0; i < 2000; ++i) {
        t += 1 + static_cast<std::int64_t>(random() % 120);
        floats.push_back({t, std::ldexp(static_cast<double>(random() % 100000), -7)});
        ints.push_back({t, static_cast<std::int64_t>(random()) >> (random() % 64)});
        bools.push_back({t, (random() & 1) != 0});
        strings.push_back({t, std::string(random() % 3 == 0 ? "on" : "a longer value")});
    }
    ExpectRoundTrip(TsType::kFloat, floats);
    ExpectRoundTrip(TsType::kInt, ints);
    ExpectRoundTrip(TsType::kBool, bools);
    ExpectRoundTrip(TsType::kString, strings);
}

TEST(TsCodec, KeepsExtremeValuesAndTimes) {
    const auto max = std::numeric_limits<std::int64_t>::max();
    const auto min = std::numeric_limits<std::int64_t>::min();
    ExpectRoundTrip(TsType::kInt, {{0, max}, {1, min}, {2, max}, {max, min}});
    ExpectRoundTrip(
        TsType::kFloat,
        {{min, 0.0},
         {-5, -0.0},
         {0, std::numeric_limits<double>::infinity()},
         {1, std::numeric_limits<double>::quiet_NaN()},
         {2, std::numeric_limits<double>::denorm_min()},
         {max, -1e308}}
    );
    ExpectRoundTrip(TsType::kString, {{1, std::string()}, {2, std::string(5000, 'x')}});
    ExpectRoundTrip(TsType::kFloat, {});
    ExpectRoundTrip(TsType::kBool, {{7, true}});
}

// A sensor read every minute: the kind of series the 16 bytes a point goal is about.
TEST(TsCodec, ARegularReadingCostsAFewBitsAPoint) {
    std::vector<TsPoint> points;
    double temperature = 21.5;
    for (int i = 0; i < 1440; ++i) {
        if (i % 10 == 0) {
            temperature += (i % 20 == 0) ? 0.5 : -0.25;
        }
        points.push_back({1'700'000'000 + 60LL * i, temperature});
    }
    const auto chunk = EncodeChunk(TsType::kFloat, points);
    EXPECT_LT(chunk.size() * 8.0 / points.size(), 8.0) << chunk.size() << " bytes";
}

TEST(TsCodec, RefusesDamagedChunks) {
    const auto chunk = EncodeChunk(TsType::kFloat, {{1, 1.5}, {2, 2.5}, {3, 3.25}});
    for (std::size_t cut = 0; cut < chunk.size(); ++cut) {
        EXPECT_THROW(DecodeChunk(TsType::kFloat, chunk.substr(0, cut)), CorruptChunk) << cut;
    }
    EXPECT_THROW(DecodeChunk(TsType::kInt, chunk), CorruptChunk);  // another type
    std::string huge_count = chunk;
    huge_count[2] = '\x7f';  // a count the bytes cannot hold
    EXPECT_THROW(DecodeChunk(TsType::kFloat, huge_count), CorruptChunk);
    std::mt19937 random(7);
    for (int i = 0; i < 2000; ++i) {
        std::string noise(1 + random() % 40, '\0');
        for (auto& c : noise) {
            c = static_cast<char>(random());
        }
        noise[0] = '\x01';
        noise[1] = static_cast<char>(random() % 4);
        const auto type = static_cast<TsType>(static_cast<unsigned char>(noise[1]));
        try {
            DecodeChunk(type, noise);
        } catch (const CorruptChunk&) {
        }
    }
}

}  // namespace
}  // namespace rainmaker::domain::timeseries
