// Admin tags: "name:value" strings on resources (storage::TagStore), their resource-type
// spellings, and the tags expressions of GET /admin/tags and GET /admin/nodes.
//
// A tag is "name:value", split at the first ':'. The name is 1..kMaxTagNameBytes bytes and holds
// no ':'; the value is 1..kMaxTagValueBytes bytes (it may hold ':'). Both are valid UTF-8 with no
// control characters and no leading or trailing space. A resource carries at most
// kMaxTagsPerResource tags; one request attaches or detaches at most that many.
//
// A tags expression is terms joined by the word AND or the word OR, each surrounded by spaces:
//   "location:pune OR location:bangalore", "floor:1 AND wing:east".
// One expression uses one operator only: there is no precedence to learn, because mixing AND and
// OR is refused (135011 / 105042) rather than given a meaning; there are no parentheses. A term is
// the text between operators, trimmed, and must be a valid tag. At most kMaxExpressionBytes bytes
// and kMaxExpressionTerms terms.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/tag_store.hpp"

namespace rainmaker::domain::tags {

inline constexpr std::size_t kMaxTagNameBytes = 64;
inline constexpr std::size_t kMaxTagValueBytes = 128;
inline constexpr std::size_t kMaxTagsPerResource = 64;
inline constexpr std::size_t kMaxExpressionBytes = 1024;
inline constexpr std::size_t kMaxExpressionTerms = 10;

// Whether `tag` is a valid "name:value" tag (rules above).
bool IsValidTag(std::string_view tag);
// Whether `name` is a valid tag name (or `value` a valid value).
bool IsValidTagName(std::string_view name);
bool IsValidTagValue(std::string_view value);

// The resource type a client spelt (Node, NODE, node, Group, OTAImage, OTAJob, User; any case),
// or nullopt.
std::optional<storage::TagResource> ParseResourceType(std::string_view text);
// The spelling answers use: NODE, GROUP, OTAIMAGE, OTAJOB, USER.
std::string_view ResourceTypeName(storage::TagResource type);

enum class ExpressionError { kNone, kInvalid, kMixedOperators };

struct ParsedExpression {
    ExpressionError error = ExpressionError::kNone;
    storage::TagQuery query;  // meaningful when error == kNone
};

// Parses a tags expression (rules above); never throws.
ParsedExpression ParseExpression(std::string_view text);

}  // namespace rainmaker::domain::tags
