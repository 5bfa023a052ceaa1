// Checks a desired-params delta against the node's config before it is sent to the node:
// unknown device or param, write-protected param, wrong type, out of bounds, not a valid string.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json.hpp>

namespace rainmaker::domain::nodes {

// Returns the delta with every value cast to its param's data_type (an int param given 5.0
// gets 5), ready to publish on params/remote. Throws ApiError(kInvalidBody) naming the first
// offending device/param, or kConfigNotFound when `config` is not a node config.
boost::json::object ValidateParams(
    const boost::json::value& config, const boost::json::object& delta
);

// Merges a params/local report into the stored params: per device, per param, the value is
// replaced (objects and arrays whole). Non-object devices in the report are ignored.
void MergeReportedParams(boost::json::object& stored, const boost::json::object& report);

// The params a node's config declares, indexed to filter the node's reports quickly: device
// (or service) name → param name → data_type.
class DeclaredParams {
public:
    // A `config` that is not a node config declares nothing.
    explicit DeclaredParams(const boost::json::value& config);

    // Keeps of a params report only what the config declares: devices it lists, their params,
    // with values of the param's data_type (bounds are not applied: a sensor may report what
    // it measures). Returns how many params were dropped (a whole unknown or malformed device
    // counts as its number of params, at least one).
    int Keep(boost::json::object& report) const;

    // The data_type of a declared param ("" when it declares none); nullptr when the config
    // has no such device or param.
    const std::string* DataTypeOf(std::string_view device, std::string_view param) const;

private:
    std::unordered_map<std::string, std::unordered_map<std::string, std::string>> devices_;
};

}  // namespace rainmaker::domain::nodes
