// The names of resource roles: what the wire and the store say, and nothing else.
#include "core/resource_role.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "support/resource_role_print.hpp"

namespace rainmaker::core {
namespace {

TEST(ResourceRole, NamesAreTheWireText) {
    EXPECT_EQ(Name(ResourceRole::kPrimary), "primary");
    EXPECT_EQ(Name(ResourceRole::kSecondary), "secondary");
    static_assert(Name(ResourceRole::kPrimary) != Name(ResourceRole::kSecondary));
}

TEST(ResourceRole, EveryNameParsesBackToItsRole) {
    for (const auto role : {ResourceRole::kPrimary, ResourceRole::kSecondary}) {
        EXPECT_EQ(ParseResourceRole(Name(role)), role) << Name(role);
    }
    static_assert(ParseResourceRole("primary") == ResourceRole::kPrimary);
    static_assert(ParseResourceRole("secondary") == ResourceRole::kSecondary);
}

TEST(ResourceRole, UnknownTextIsNoRole) {
    // Nothing close to a name is read as one: no case folding, trimming or prefixes, and the
    // other words the API uses about roles (owner, admin, the NODE source) are not roles.
    for (const std::string_view text :
         {"",
          "Primary",
          "PRIMARY",
          "Secondary",
          " primary",
          "primary ",
          "primar",
          "primaryx",
          "secondaryy",
          "second",
          "owner",
          "admin",
          "superadmin",
          "user",
          "NODE",
          "1",
          "0",
          "true",
          "null"}) {
        EXPECT_EQ(ParseResourceRole(text), std::nullopt) << '"' << text << '"';
    }
    // An embedded NUL does not end the text early.
    EXPECT_EQ(ParseResourceRole(std::string_view("primary\0x", 9)), std::nullopt);
    EXPECT_EQ(ParseResourceRole(std::string_view("primary\0", 8)), std::nullopt);
}

}  // namespace
}  // namespace rainmaker::core
