// Account input rules, shared by the current and the deprecated operations.
#include "domain/users/validation.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

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
        if (IsSpace(c) || static_cast<unsigned char>(c) < 0x21 || c == '"' || c == ',' ||
            c == ';' || c == '<' || c == '>' || c == '(' || c == ')' || c == '\\') {
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
    if (!IsEmail(value)) {
        throw ApiError(ErrorCode::kBadUserName);
    }
    std::string lower(value);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    *kind = UserNameKind::kEmail;
    return lower;
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
