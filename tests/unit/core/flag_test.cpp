// The one reader of textual boolean flags.
#include "core/flag.hpp"

#include <gtest/gtest.h>

namespace rainmaker::core {
namespace {

TEST(ParseFlag, ReadsEveryLetterCaseAndDigits) {
    for (const auto* text : {"true", "True", "TRUE", "tRuE", "1"}) {
        EXPECT_EQ(ParseFlag(text), std::optional<bool>(true)) << text;
    }
    for (const auto* text : {"false", "False", "FALSE", "fAlSe", "0"}) {
        EXPECT_EQ(ParseFlag(text), std::optional<bool>(false)) << text;
    }
}

TEST(ParseFlag, RefusesAnythingElse) {
    for (const auto* text :
         {"", "yes", "no", "t", "f", "truee", " true", "true ", "01", "2", "-1"}) {
        EXPECT_EQ(ParseFlag(text), std::nullopt) << '"' << text << '"';
    }
}

}  // namespace
}  // namespace rainmaker::core
