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

TEST(ResourceRole, TheWireTextsParseToTheirRoles) {
    // Literal texts, not Name(): a name and its parse changed together would still round-trip.
    EXPECT_EQ(ParseResourceRole("primary"), ResourceRole::kPrimary);
    EXPECT_EQ(ParseResourceRole("secondary"), ResourceRole::kSecondary);
    static_assert(ParseResourceRole("primary") == ResourceRole::kPrimary);
    static_assert(ParseResourceRole("secondary") == ResourceRole::kSecondary);
}

TEST(ResourceRoleDeathTest, AValueOutsideTheEnumIsNeverNamed) {
    // The underlying type of an enum class is int: 2 is a valid value of it, but no role.
    const auto stray = static_cast<ResourceRole>(2);
    EXPECT_DEATH((void)Name(stray), "");
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
