// Account input rules, shared by the current and the deprecated operations.
#include "domain/users/validation.hpp"

#include <algorithm>
#include <cctype>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include "core/error.hpp"
#include "core/text.hpp"

namespace rainmaker::domain::users {

using core::ApiError;
using core::ErrorCode;

namespace {
bool IsSpace(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && IsSpace(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Code points no user name may hold: controls, format characters (zero-width characters,
// bidirectional overrides and isolates, ...), separators and white space, private use,
// surrogates and unassigned code points. Each could make one name look like another.
bool Refused(UChar32 c) {
    switch (u_charType(c)) {
        case U_CONTROL_CHAR:
        case U_FORMAT_CHAR:
        case U_SPACE_SEPARATOR:
        case U_LINE_SEPARATOR:
        case U_PARAGRAPH_SEPARATOR:
        case U_PRIVATE_USE_CHAR:
        case U_SURROGATE:
        case U_UNASSIGNED:
            return true;
        default:
            return false;
    }
}

// A non-ASCII e-mail user name in the form names are compared in: valid UTF-8, no refused
// code point, then NFKC (full-width letters, ligatures and compatibility forms become their
// plain letters, composed and decomposed accents one) and lower case. Lower case, not case
// folding: folding would turn "straße" into "strasse", another mailbox, and codes are mailed
// to the canonical name. Throws kBadUserName.
std::string NormalizedUnicodeName(std::string_view value) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(value.data());
    const auto length = static_cast<std::int32_t>(value.size());
    for (std::int32_t i = 0; i < length;) {
        UChar32 c = 0;
        U8_NEXT(bytes, i, length, c);
        if (c < 0 || Refused(c)) {
            throw ApiError(ErrorCode::kBadUserName);
        }
    }
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status)) {
        throw ApiError(ErrorCode::kInternal, {}, "ICU NFKC unavailable");
    }
    icu::UnicodeString normalized = nfkc->normalize(
        icu::UnicodeString::fromUTF8(icu::StringPiece(value.data(), length)), status
    );
    if (U_FAILURE(status)) {
        throw ApiError(ErrorCode::kBadUserName);
    }
    normalized.toLower(icu::Locale::getRoot());
    // Lower-casing may leave a string that is no longer NFKC (rare): normalize once more.
    normalized = nfkc->normalize(normalized, status);
    if (U_FAILURE(status)) {
        throw ApiError(ErrorCode::kBadUserName);
    }
    std::string out;
    normalized.toUTF8String(out);
    return out;
}

}  // namespace

bool IsPhoneNumber(std::string_view value) {
    if (value.size() < 8 || value.size() > 16 || value[0] != '+' || value[1] == '0') {
        return false;
    }
    return std::all_of(value.begin() + 1, value.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

bool IsEmail(std::string_view value) {
    if (value.empty() || value.size() > 254) {
        return false;
    }
    const auto at = value.find('@');
    if (at == 0 || at == std::string_view::npos ||
        value.find('@', at + 1) != std::string_view::npos) {
        return false;
    }
    for (const char c : value) {
        if (IsSpace(c) || static_cast<unsigned char>(c) < 0x21 || c == 0x7f || c == '"' ||
            c == ',' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')' || c == '\\') {
            return false;
        }
    }
    const std::string_view domain = value.substr(at + 1);
    const auto dot = domain.rfind('.');
    return !domain.empty() && dot != std::string_view::npos && dot != 0 &&
           dot + 1 < domain.size() && domain.find("..") == std::string_view::npos &&
           domain.front() != '.' && domain.front() != '-';
}

std::string CanonicalUserName(std::string_view raw, bool email_only, UserNameKind* kind) {
    const std::string_view value = Trim(raw);
    if (value.empty()) {
        throw ApiError(ErrorCode::kUserNameMissing);
    }
    if (value[0] == '+' && !email_only) {
        if (!IsPhoneNumber(value)) {
            throw ApiError(ErrorCode::kBadPhoneNumber);
        }
        *kind = UserNameKind::kPhone;
        return std::string(value);
    }
    std::string name;
    if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x80; })) {
        name = core::AsciiLower(value);
    } else {
        name = NormalizedUnicodeName(value);
    }
    if (!IsEmail(name)) {
        throw ApiError(ErrorCode::kBadUserName);
    }
    *kind = UserNameKind::kEmail;
    return name;
}

void CheckPasswordPolicy(std::string_view password) {
    const bool length_ok = password.size() >= 8 && password.size() <= 256;
    const bool no_space = std::none_of(password.begin(), password.end(), IsSpace);
    const bool upper = std::any_of(password.begin(), password.end(), [](unsigned char c) {
        return std::isupper(c) != 0;
    });
    const bool lower = std::any_of(password.begin(), password.end(), [](unsigned char c) {
        return std::islower(c) != 0;
    });
    const bool digit = std::any_of(password.begin(), password.end(), [](unsigned char c) {
        return std::isdigit(c) != 0;
    });
    if (!(length_ok && no_space && upper && lower && digit)) {
        throw ApiError(ErrorCode::kPasswordPolicy);
    }
}

void CheckName(std::string_view name) {
    if (name.empty() || name.size() > 256) {
        throw ApiError(ErrorCode::kBadName);
    }
}

bool IsValidTag(std::string_view tag) {
    const auto colon = tag.find(':');
    return colon != std::string_view::npos && colon > 0 && colon + 1 < tag.size() &&
           tag.size() <= 256;
}

}  // namespace rainmaker::domain::users
