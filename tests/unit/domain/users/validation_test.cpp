// Account input rules.
#include "domain/users/validation.hpp"

#include <functional>

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace rainmaker::domain::users {
namespace {

int CodeOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const core::ApiError& e) {
        return e.wire_code();
    }
    return 0;
}

TEST(CanonicalUserName, LowerCasesAndTrimsEmails) {
    UserNameKind kind{};
    EXPECT_EQ(CanonicalUserName("  Alice@Example.COM ", false, &kind), "alice@example.com");
    EXPECT_EQ(kind, UserNameKind::kEmail);
}

TEST(CanonicalUserName, AcceptsE164PhoneNumbers) {
    UserNameKind kind{};
    EXPECT_EQ(CanonicalUserName("+911234567890", false, &kind), "+911234567890");
    EXPECT_EQ(kind, UserNameKind::kPhone);
}

TEST(CanonicalUserName, RefusesEachBadFormWithItsCode) {
    UserNameKind kind{};
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("", false, &kind); }), 101001);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("   ", false, &kind); }), 101001);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("no-at-sign", false, &kind); }), 101002);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("a@b", false, &kind); }), 101002);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("a b@c.com", false, &kind); }), 101002);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("a@@c.com", false, &kind); }), 101002);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("+12ab", false, &kind); }), 101037);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("+0123456789", false, &kind); }), 101037);
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("+1234567890123456", false, &kind); }), 101037);
    // The deprecated operations take e-mail only.
    EXPECT_EQ(CodeOf([&] { CanonicalUserName("+911234567890", true, &kind); }), 101002);
}

// Hardening finding 9: look-alike accounts.
TEST(CanonicalUserName, RefusesControlFormatAndSeparatorCodePoints) {
    UserNameKind kind{};
    for (const char* name : {
             "ali\u200Bce@example.com",    // zero-width space
             "alice\u200D@example.com",    // zero-width joiner
             "\u202Ealice@example.com",    // right-to-left override
             "alice@exa\u2066mple.com",    // left-to-right isolate
             "al\u00ADice@example.com",    // soft hyphen
             "alice\uFEFF@example.com",    // byte order mark
             "ali\u00A0ce@example.com",    // no-break space
             "alice\u2028@example.com",    // line separator
             "al\uE000ice@example.com",    // private use
             "al\x01ice@example.com",      // C0 control
             "al\xC2\x85ice@example.com",  // C1 control (NEL)
             "al\xFFice@example.com",      // not UTF-8
             "al\xC3ice@example.com",      // truncated UTF-8
             "alice\x7f@example.com",      // DEL
         }) {
        EXPECT_EQ(CodeOf([&] { CanonicalUserName(name, false, &kind); }), 101002) << name;
    }
}

TEST(CanonicalUserName, ComparesLookAlikeSpellingsAsOneName) {
    UserNameKind kind{};
    // Full-width letters and case are folded; a precomposed and a decomposed é are one.
    EXPECT_EQ(CanonicalUserName("\uFF21lice@example.com", false, &kind), "alice@example.com");
    EXPECT_EQ(
        CanonicalUserName("Jos\u00C9@example.com", false, &kind),
        CanonicalUserName("jose\u0301@example.com", false, &kind)
    );
    EXPECT_EQ(CanonicalUserName("Jos\u00C9@example.com", false, &kind), "jos\u00e9@example.com");
    // Lower case, not case folding: the canonical name is where codes are mailed.
    EXPECT_EQ(CanonicalUserName("Stra\u00DFe@example.de", false, &kind), "stra\u00dfe@example.de");
    // ASCII names are simply lower-cased, as before.
    EXPECT_EQ(CanonicalUserName("Bob@Example.com", false, &kind), "bob@example.com");
}

TEST(PasswordPolicy, AcceptsOnlyMixedPasswordsOf8To256WithoutSpaces) {
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("Passw0rd"); }), 0);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("A1" + std::string(254, 'b')); }), 0);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("A1" + std::string(255, 'b')); }), 101004);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("Passw0r"); }), 101004);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("password1"); }), 101004);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("PASSWORD1"); }), 101004);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("Passwordd"); }), 101004);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy("Pass w0rd"); }), 101004);
    EXPECT_EQ(CodeOf([] { CheckPasswordPolicy(""); }), 101004);
}

TEST(Name, MustBe1To256Characters) {
    EXPECT_EQ(CodeOf([] { CheckName("A"); }), 0);
    EXPECT_EQ(CodeOf([] { CheckName(std::string(256, 'n')); }), 0);
    EXPECT_EQ(CodeOf([] { CheckName(""); }), 101053);
    EXPECT_EQ(CodeOf([] { CheckName(std::string(257, 'n')); }), 101053);
}

TEST(Tags, MustBeKeyColonValue) {
    EXPECT_TRUE(IsValidTag("location:kitchen"));
    EXPECT_FALSE(IsValidTag("kitchen"));
    EXPECT_FALSE(IsValidTag(":kitchen"));
    EXPECT_FALSE(IsValidTag("location:"));
}

}  // namespace
}  // namespace rainmaker::domain::users
