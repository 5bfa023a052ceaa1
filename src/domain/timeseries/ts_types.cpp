// Names of the series data types.
#include "domain/timeseries/ts_types.hpp"

#include <algorithm>
#include <cctype>

namespace rainmaker::domain::timeseries {

std::optional<TsType> ParseTsType(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
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
