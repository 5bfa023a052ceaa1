// The finite-number check over a parsed document, without recursion.
#include "core/json.hpp"

#include <cmath>
#include <vector>

namespace rainmaker::core {

namespace {

bool AllNumbersFinite(const boost::json::value& root) {
    std::vector<const boost::json::value*> pending{&root};
    while (!pending.empty()) {
        const boost::json::value* value = pending.back();
        pending.pop_back();
        switch (value->kind()) {
            case boost::json::kind::double_:
                if (!std::isfinite(value->get_double())) {
                    return false;
                }
                break;
            case boost::json::kind::array:
                for (const auto& item : value->get_array()) {
                    pending.push_back(&item);
                }
                break;
            case boost::json::kind::object:
                for (const auto& member : value->get_object()) {
                    pending.push_back(&member.value());
                }
                break;
            default:
                break;
        }
    }
    return true;
}

}  // namespace

std::optional<boost::json::value> ParseUntrustedJson(std::string_view text, std::size_t max_depth) {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::value value = boost::json::parse(text, ec, {}, options);
    if (ec || !AllNumbersFinite(value)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace rainmaker::core
