// Checks Argon2id hashing and verification, with the minimum cost so the suite stays fast.
#include "crypto/password_hash.hpp"

#include <string>

#include <gtest/gtest.h>

namespace rainmaker::crypto {
namespace {

TEST(PasswordHash, ProducesAnArgon2idHashWithTheRequestedCost) {
    const std::string hash = HashPassword("correct horse", PasswordCost::kMin);
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0U) << hash;
}

TEST(PasswordHash, AcceptsTheRightPassword) {
    const std::string hash = HashPassword("correct horse", PasswordCost::kMin);
    EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
}

TEST(PasswordHash, RejectsAWrongPassword) {
    const std::string hash = HashPassword("correct horse", PasswordCost::kMin);
    EXPECT_FALSE(VerifyPassword(hash, "correct horse "));
    EXPECT_FALSE(VerifyPassword(hash, "Correct horse"));
    EXPECT_FALSE(VerifyPassword(hash, ""));
}

TEST(PasswordHash, SaltsEveryHash) {
    EXPECT_NE(HashPassword("same", PasswordCost::kMin), HashPassword("same", PasswordCost::kMin));
}

TEST(PasswordHash, HandlesEmptyNonAsciiAndEmbeddedNulPasswords) {
    const std::string with_nul("pass\0word", 9);
    for (const std::string& password :
         {std::string(), std::string("p\xc3\xa4ssw\xc3\xb6rd"), with_nul}) {
        const std::string hash = HashPassword(password, PasswordCost::kMin);
        EXPECT_TRUE(VerifyPassword(hash, password));
    }
    EXPECT_FALSE(VerifyPassword(HashPassword(with_nul, PasswordCost::kMin), "pass"));
}

TEST(PasswordHash, RejectsMalformedHashesWithoutThrowing) {
    const std::string good = HashPassword("pw", PasswordCost::kMin);
    // Five from the end: a character whose six bits all belong to the digest.
    std::string flipped = good;
    char& digit = flipped[flipped.size() - 5];
    digit = digit == 'A' ? 'B' : 'A';
    for (const std::string& hash : {
             std::string(),
             std::string("pw"),
             std::string("$argon2id$"),
             std::string("$argon2id$v=19$m=8,t=1,p=1$"),
             good.substr(0, good.size() - 5),
             good + "A",
             flipped,
             std::string(good).replace(good.find('$', 1), 1, "#"),
             good.substr(0, 10) + std::string(1, '\0') + good.substr(11),
             std::string(1000, 'x'),
             std::string(good.size() * 3, '$'),
         }) {
        EXPECT_FALSE(VerifyPassword(hash, "pw")) << hash;
    }
}

TEST(PasswordHash, InteractiveCostUsesLibsodiumInteractiveLimits) {
    const std::string hash = HashPassword("pw", PasswordCost::kInteractive);
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0U) << hash;
    EXPECT_TRUE(VerifyPassword(hash, "pw"));
}

TEST(PasswordHash, ParsesTheThreeCostNames) {
    EXPECT_EQ(ParsePasswordCost("min"), PasswordCost::kMin);
    EXPECT_EQ(ParsePasswordCost("interactive"), PasswordCost::kInteractive);
    EXPECT_EQ(ParsePasswordCost("moderate"), PasswordCost::kModerate);
    EXPECT_EQ(ParsePasswordCost(""), std::nullopt);
    EXPECT_EQ(ParsePasswordCost("Interactive"), std::nullopt);
    EXPECT_EQ(ParsePasswordCost("sensitive"), std::nullopt);
}

}  // namespace
}  // namespace rainmaker::crypto
