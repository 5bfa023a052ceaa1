// Feeds bytes as a tags expression (the `tags` query of GET /admin/tags and GET /admin/nodes) and
// as a tag ("name:value", the bodies of PUT/DELETE /admin/tags and PUT /admin/nodes): the parser
// never throws, keeps its bounds, and every term it accepts is a valid tag that parses back alone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/tags/tags.hpp"

namespace {

using namespace rainmaker::domain::tags;

void Check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = ParseExpression(text);
    if (parsed.error == ExpressionError::kNone) {
        Check(text.size() <= kMaxExpressionBytes);
        Check(!parsed.query.terms.empty() && parsed.query.terms.size() <= kMaxExpressionTerms);
        for (const auto& [name, value] : parsed.query.terms) {
            const std::string tag = name + ":" + value;
            Check(IsValidTag(tag));
            const auto alone = ParseExpression(tag);
            // A term holding no operator parses back to itself.
            if (tag.find(" AND ") == std::string::npos && tag.find(" OR ") == std::string::npos) {
                Check(alone.error == ExpressionError::kNone && alone.query.terms.size() == 1);
                Check(alone.query.terms[0].first == name && alone.query.terms[0].second == value);
            }
        }
    } else {
        Check(parsed.query.terms.empty());
    }
    if (IsValidTag(text)) {
        Check(text.size() <= kMaxTagNameBytes + 1 + kMaxTagValueBytes);
    }
    (void)ParseResourceType(text);
    return 0;
}
