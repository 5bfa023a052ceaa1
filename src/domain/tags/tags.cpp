// Tag validation and tags expressions.
#include "domain/tags/tags.hpp"

#include "core/text.hpp"
#include "core/utf8.hpp"

namespace rainmaker::domain::tags {

namespace {

// Valid UTF-8, no control characters, no leading or trailing space, 1..max bytes.
bool IsCleanText(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max || s.front() == ' ' || s.back() == ' ') {
        return false;
    }
    std::size_t i = 0;
    while (i < s.size()) {
        const auto cp = core::NextCodePoint(s, i);
        if (!cp || *cp < 0x20 || *cp == 0x7F || (*cp >= 0x80 && *cp < 0xA0)) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool IsValidTagName(std::string_view name) {
    return name.find(':') == std::string_view::npos && IsCleanText(name, kMaxTagNameBytes);
}

bool IsValidTagValue(std::string_view value) {
    return IsCleanText(value, kMaxTagValueBytes);
}

bool IsValidTag(std::string_view tag) {
    const auto colon = tag.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    return IsValidTagName(tag.substr(0, colon)) && IsValidTagValue(tag.substr(colon + 1));
}

std::optional<storage::TagResource> ParseResourceType(std::string_view text) {
    using storage::TagResource;
    const std::string lower = core::AsciiLower(text);
    if (lower == "node") {
        return TagResource::kNode;
    }
    if (lower == "group") {
        return TagResource::kGroup;
    }
    if (lower == "otaimage") {
        return TagResource::kOtaImage;
    }
    if (lower == "otajob") {
        return TagResource::kOtaJob;
    }
    if (lower == "user") {
        return TagResource::kUser;
    }
    return std::nullopt;
}

std::string_view ResourceTypeName(storage::TagResource type) {
    switch (type) {
        case storage::TagResource::kNode:
            return "NODE";
        case storage::TagResource::kGroup:
            return "GROUP";
        case storage::TagResource::kOtaImage:
            return "OTAIMAGE";
        case storage::TagResource::kOtaJob:
            return "OTAJOB";
        case storage::TagResource::kUser:
            return "USER";
    }
    return "NODE";
}

ParsedExpression ParseExpression(std::string_view text) {
    ParsedExpression out;
    if (text.empty() || text.size() > kMaxExpressionBytes) {
        out.error = ExpressionError::kInvalid;
        return out;
    }
    // An operator word at either end has no term on that side.
    std::string_view trimmed = text;
    while (!trimmed.empty() && trimmed.front() == ' ') {
        trimmed.remove_prefix(1);
    }
    while (!trimmed.empty() && trimmed.back() == ' ') {
        trimmed.remove_suffix(1);
    }
    for (const std::string_view word : {std::string_view("AND"), std::string_view("OR")}) {
        const std::string front = std::string(word) + " ";
        const std::string back = " " + std::string(word);
        if (trimmed == word || trimmed.substr(0, front.size()) == front ||
            (trimmed.size() >= back.size() && trimmed.substr(trimmed.size() - back.size()) == back
            )) {
            out.error = ExpressionError::kInvalid;
            return out;
        }
    }
    bool saw_and = false;
    bool saw_or = false;
    bool invalid = false;
    std::size_t term_start = 0;
    auto flush = [&](std::size_t end) {
        std::string_view term = text.substr(term_start, end - term_start);
        while (!term.empty() && term.front() == ' ') {
            term.remove_prefix(1);
        }
        while (!term.empty() && term.back() == ' ') {
            term.remove_suffix(1);
        }
        const auto colon = term.find(':');
        if (!IsValidTag(term) || out.query.terms.size() >= kMaxExpressionTerms) {
            invalid = true;
            return;
        }
        out.query.terms.emplace_back(
            std::string(term.substr(0, colon)), std::string(term.substr(colon + 1))
        );
    };
    std::size_t i = 0;
    while (i < text.size() && !invalid) {
        // An operator is the word AND or OR with a space on each side.
        const bool is_and = text.substr(i, 5) == " AND ";
        const bool is_or = !is_and && text.substr(i, 4) == " OR ";
        if (is_and || is_or) {
            (is_and ? saw_and : saw_or) = true;
            flush(i);
            i += is_and ? 4 : 3;  // stay on the trailing space: "a AND OR b" has an empty term
            term_start = i;
            continue;
        }
        ++i;
    }
    if (!invalid) {
        flush(text.size());
    }
    if (invalid) {
        out.error = ExpressionError::kInvalid;
        out.query = {};
    } else if (saw_and && saw_or) {
        out.error = ExpressionError::kMixedOperators;
        out.query = {};
    } else {
        out.query.all = saw_and;
    }
    return out;
}

}  // namespace rainmaker::domain::tags
