// The values of a time series as the server keeps them: one data type per series (the `dt` a
// node sends), points ordered by time in whole seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace rainmaker::domain::timeseries {

// The `dt` of a node's records. Objects and arrays come only in simple series (the firmware
// refuses them for tsdata) and are kept as their JSON text.
enum class TsType { kFloat, kInt, kBool, kString, kObject, kArray };

// "float" | "int" | "bool" | "string" | "object" | "array" (case-insensitive), or nullopt.
std::optional<TsType> ParseTsType(std::string_view text);
std::string_view TsTypeName(TsType type);

// Numbers: aggregated by value, and differentiable.
inline bool Numeric(TsType type) {
    return type == TsType::kFloat || type == TsType::kInt;
}

// Kept as text (string, object, array).
inline bool IsText(TsType type) {
    return type == TsType::kString || type == TsType::kObject || type == TsType::kArray;
}

// A value of its series' type: double (float), int64 (int), bool, or text (string, and the
// JSON text of objects and arrays).
using TsValue = std::variant<double, std::int64_t, bool, std::string>;

struct TsPoint {
    std::int64_t t = 0;  // unix seconds
    TsValue value;
};

}  // namespace rainmaker::domain::timeseries
