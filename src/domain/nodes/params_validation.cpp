// The node config's param schema (data_type, properties, bounds, valid_strs) applied to a delta.
#include "domain/nodes/params_validation.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"

namespace rainmaker::domain::nodes {

using core::ApiError;
using core::ErrorCode;

namespace {

[[noreturn]] void Invalid(
    const std::string& device, const std::string& param, const std::string& why
) {
    throw ApiError(
        ErrorCode::kInvalidBody,
        "Invalid param " + device + (param.empty() ? "" : "." + param) + ": " + why
    );
}

const boost::json::object* FindByName(const boost::json::value& list, std::string_view name) {
    if (!list.is_array()) {
        return nullptr;
    }
    for (const auto& item : list.as_array()) {
        if (item.is_object()) {
            const auto* n = item.as_object().if_contains("name");
            if (n != nullptr && n->is_string() && n->as_string() == name) {
                return &item.as_object();
            }
        }
    }
    return nullptr;
}

const boost::json::object* FindDevice(const boost::json::object& config, std::string_view name) {
    for (const auto* key : {"devices", "services"}) {
        if (const auto* list = config.if_contains(key)) {
            if (const auto* device = FindByName(*list, name)) {
                return device;
            }
        }
    }
    return nullptr;
}

bool HasProperty(const boost::json::object& param, std::string_view property) {
    const auto* properties = param.if_contains("properties");
    if (properties == nullptr || !properties->is_array()) {
        return false;
    }
    for (const auto& p : properties->as_array()) {
        if (p.is_string() && p.as_string() == property) {
            return true;
        }
    }
    return false;
}

std::optional<double> Bound(const boost::json::object& param, std::string_view which) {
    const auto* bounds = param.if_contains("bounds");
    if (bounds == nullptr || !bounds->is_object()) {
        return std::nullopt;
    }
    const auto* v = bounds->as_object().if_contains(which);
    if (v == nullptr || !v->is_number()) {
        return std::nullopt;
    }
    return v->to_number<double>();
}

std::string Str(const boost::json::value* v) {
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

void CheckRange(
    const std::string& device,
    const std::string& name,
    const boost::json::object& param,
    double value
) {
    if (const auto min = Bound(param, "min"); min && value < *min) {
        Invalid(device, name, "below the minimum " + core::Serialize(param.at("bounds").at("min")));
    }
    if (const auto max = Bound(param, "max"); max && value > *max) {
        Invalid(device, name, "above the maximum " + core::Serialize(param.at("bounds").at("max")));
    }
}

boost::json::value CastValue(
    const std::string& device,
    const std::string& name,
    const boost::json::object& param,
    const boost::json::value& value
) {
    const std::string type = Str(param.if_contains("data_type"));
    if (type == "bool") {
        if (!value.is_bool()) {
            Invalid(device, name, "must be a bool");
        }
        return value;
    }
    if (type == "int") {
        std::int64_t n = 0;
        if (value.is_int64()) {
            n = value.as_int64();
        } else if (value.is_uint64() && value.as_uint64() <= INT64_MAX) {
            n = static_cast<std::int64_t>(value.as_uint64());
        } else if (value.is_double() && std::isfinite(value.as_double()) &&
                   std::trunc(value.as_double()) == value.as_double() &&
                   std::fabs(value.as_double()) < 9.0e15) {
            n = static_cast<std::int64_t>(value.as_double());
        } else {
            Invalid(device, name, "must be an integer");
        }
        CheckRange(device, name, param, static_cast<double>(n));
        return n;
    }
    if (type == "float") {
        if (!value.is_number()) {
            Invalid(device, name, "must be a number");
        }
        const double d = value.to_number<double>();
        if (!std::isfinite(d)) {
            Invalid(device, name, "must be a finite number");
        }
        CheckRange(device, name, param, d);
        return d;
    }
    if (type == "string") {
        if (!value.is_string()) {
            Invalid(device, name, "must be a string");
        }
        if (const auto* valid = param.if_contains("valid_strs"); valid && valid->is_array()) {
            bool found = false;
            for (const auto& s : valid->as_array()) {
                found = found || s == value;
            }
            if (!found) {
                Invalid(device, name, "is not one of valid_strs");
            }
        }
        return value;
    }
    if (type == "object") {
        if (!value.is_object()) {
            Invalid(device, name, "must be an object");
        }
        return value;
    }
    if (type == "array") {
        if (!value.is_array()) {
            Invalid(device, name, "must be an array");
        }
        if (const auto max = Bound(param, "max");
            max && static_cast<double>(value.as_array().size()) > *max) {
            Invalid(device, name, "has more elements than the maximum");
        }
        return value;
    }
    Invalid(device, name, "has an unknown data_type in the node config");
}

}  // namespace

boost::json::object ValidateParams(
    const boost::json::value& config, const boost::json::object& delta
) {
    if (!config.is_object()) {
        throw ApiError(ErrorCode::kConfigNotFound);
    }
    if (delta.empty()) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid request body: no params given");
    }
    boost::json::object out;
    for (const auto& [device_key, params] : delta) {
        const std::string device(device_key);
        const auto* schema = FindDevice(config.as_object(), device);
        if (schema == nullptr) {
            Invalid(device, "", "no such device in the node config");
        }
        if (!params.is_object() || params.as_object().empty()) {
            Invalid(device, "", "must be a non-empty object of params");
        }
        boost::json::object cast;
        for (const auto& [param_key, value] : params.as_object()) {
            const std::string name(param_key);
            const auto* list = schema->if_contains("params");
            const auto* param = list != nullptr ? FindByName(*list, name) : nullptr;
            if (param == nullptr) {
                Invalid(device, name, "no such param in the node config");
            }
            if (!HasProperty(*param, "write")) {
                Invalid(device, name, "is read-only");
            }
            cast[param_key] = CastValue(device, name, *param, value);
        }
        out[device_key] = std::move(cast);
    }
    return out;
}

namespace {
// Whether `value` is of `type` (an unknown data_type accepts any value).
bool OfDataType(std::string_view type, const boost::json::value& value) {
    if (type == "bool") {
        return value.is_bool();
    }
    if (type == "int") {
        return value.is_int64() || value.is_uint64() ||
               (value.is_double() && std::isfinite(value.as_double()) &&
                std::trunc(value.as_double()) == value.as_double());
    }
    if (type == "float") {
        return value.is_number() && std::isfinite(value.to_number<double>());
    }
    if (type == "string") {
        return value.is_string();
    }
    if (type == "object") {
        return value.is_object();
    }
    if (type == "array") {
        return value.is_array();
    }
    return true;
}
}  // namespace

DeclaredParams::DeclaredParams(const boost::json::value& config) {
    if (!config.is_object()) {
        return;
    }
    for (const auto* key : {"devices", "services"}) {
        const auto* list = config.as_object().if_contains(key);
        if (list == nullptr || !list->is_array()) {
            continue;
        }
        for (const auto& device : list->as_array()) {
            const auto* name =
                device.is_object() ? device.as_object().if_contains("name") : nullptr;
            if (name == nullptr || !name->is_string()) {
                continue;
            }
            // The first device of a name wins, as for REST sets (FindDevice).
            const auto [entry, inserted] = devices_.try_emplace(std::string(name->as_string()));
            if (!inserted) {
                continue;
            }
            auto& params = entry->second;
            const auto* declared = device.as_object().if_contains("params");
            if (declared == nullptr || !declared->is_array()) {
                continue;
            }
            for (const auto& param : declared->as_array()) {
                if (!param.is_object()) {
                    continue;
                }
                const auto* param_name = param.as_object().if_contains("name");
                if (param_name != nullptr && param_name->is_string()) {
                    params.emplace(
                        std::string(param_name->as_string()),
                        Str(param.as_object().if_contains("data_type"))
                    );
                }
            }
        }
    }
}

const std::string* DeclaredParams::DataTypeOf(std::string_view device, std::string_view param)
    const {
    const auto d = devices_.find(std::string(device));
    if (d == devices_.end()) {
        return nullptr;
    }
    const auto p = d->second.find(std::string(param));
    return p == d->second.end() ? nullptr : &p->second;
}

int DeclaredParams::Keep(boost::json::object& report) const {
    int dropped = 0;
    for (auto it = report.begin(); it != report.end();) {
        const auto device = devices_.find(std::string(it->key()));
        if (device == devices_.end() || !it->value().is_object()) {
            dropped += it->value().is_object()
                           ? std::max(1, static_cast<int>(it->value().as_object().size()))
                           : 1;
            it = report.erase(it);
            continue;
        }
        auto& params = it->value().as_object();
        for (auto p = params.begin(); p != params.end();) {
            const auto param = device->second.find(std::string(p->key()));
            if (param == device->second.end() || !OfDataType(param->second, p->value())) {
                ++dropped;
                p = params.erase(p);
            } else {
                ++p;
            }
        }
        ++it;
    }
    return dropped;
}

void MergeReportedParams(boost::json::object& stored, const boost::json::object& report) {
    for (const auto& [device, params] : report) {
        if (!params.is_object()) {
            continue;
        }
        auto& target = stored[device];
        if (!target.is_object()) {
            target = boost::json::object{};
        }
        for (const auto& [name, value] : params.as_object()) {
            target.as_object()[name] = value;
        }
    }
}

}  // namespace rainmaker::domain::nodes
