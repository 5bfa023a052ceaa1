// Names of the series data types.
#include "domain/timeseries/ts_types.hpp"

#include "core/text.hpp"

namespace rainmaker::domain::timeseries {

std::optional<TsType> ParseTsType(std::string_view text) {
    const std::string lower = core::AsciiLower(text);
    if (lower == "float") {
        return TsType::kFloat;
    }
    if (lower == "int") {
        return TsType::kInt;
    }
    if (lower == "bool") {
        return TsType::kBool;
    }
    if (lower == "string") {
        return TsType::kString;
    }
    if (lower == "object") {
        return TsType::kObject;
    }
    if (lower == "array") {
        return TsType::kArray;
    }
    return std::nullopt;
}

std::string_view TsTypeName(TsType type) {
    switch (type) {
        case TsType::kFloat:
            return "float";
        case TsType::kInt:
            return "int";
        case TsType::kBool:
            return "bool";
        case TsType::kString:
            return "string";
        case TsType::kObject:
            return "object";
        case TsType::kArray:
            return "array";
    }
    return "float";
}

}  // namespace rainmaker::domain::timeseries
