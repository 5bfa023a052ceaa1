// Input rules of the account operations: user names, passwords, names, tags.
#pragma once

#include <string>
#include <string_view>

namespace rainmaker::domain::users {

enum class UserNameKind { kEmail, kPhone };

// True for +<country code><number>: '+', a non-zero digit, 7 to 15 digits in all (E.164).
bool IsPhoneNumber(std::string_view value);
// A practical e-mail check: one '@', a non-empty local part, a dotted domain, no spaces,
// at most 254 characters.
bool IsEmail(std::string_view value);

// The canonical user name, the form names are stored and compared in, and its kind: surrounding
// spaces trimmed; an e-mail address lower-cased, or, when it is not ASCII, refused if it holds
// a control, format (zero-width, bidirectional), separator, private-use or unassigned code
// point and otherwise NFKC-normalized and lower-cased, so that look-alike spellings (full-width
// letters, decomposed accents) are one name. Throws
// kUserNameMissing when empty, kBadPhoneNumber for a malformed '+' number, kBadUserName
// otherwise; with `email_only` a phone number is kBadUserName (the deprecated operations).
std::string CanonicalUserName(std::string_view raw, bool email_only, UserNameKind* kind);

// Throws kPasswordPolicy unless 8..256 characters, no white space, an upper case letter, a
// lower case letter and a digit.
void CheckPasswordPolicy(std::string_view password);

// Throws kBadName unless 1..256 characters.
void CheckName(std::string_view name);

// A user attribute tag "key:value" with non-empty key and value.
bool IsValidTag(std::string_view tag);

}  // namespace rainmaker::domain::users
