// The merge rules of custom data, public profile and thing shadow; see json_merge.hpp for the
// rules and the choices made where the reference text is silent.
#include "domain/users/json_merge.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "core/json.hpp"

namespace rainmaker::domain::users {

namespace json = boost::json;
using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::string_view kValueMember = "value";
constexpr std::string_view kPermsMember = "perms";
constexpr std::string_view kReadList = "read";
constexpr std::string_view kWriteList = "write";
constexpr std::string_view kUserRole = "user";
constexpr std::string_view kAdminRole = "admin";

// Which of the two actors a perms list names.
struct RoleSet {
    bool user = false;
    bool admin = false;

    bool Has(CustomDataActor actor) const { return actor == CustomDataActor::kUser ? user : admin; }
};

// The effective perms of one key. A list the key does not set defaults to both actors.
struct KeyPerms {
    RoleSet read{true, true};
    RoleSet write{true, true};
};

// Reads a "read"/"write" list into `roles`; false when it is not an array of known role names.
bool ReadRoleList(const json::value& list, RoleSet& roles) {
    if (!list.is_array()) {
        return false;
    }
    for (const json::value& role : list.as_array()) {
        if (!role.is_string()) {
            return false;
        }
        if (role.as_string() == kUserRole) {
            roles.user = true;
        } else if (role.as_string() == kAdminRole) {
            roles.admin = true;
        } else {
            return false;
        }
    }
    return true;
}

// Parses a "perms" array; nullopt when its shape is wrong (see the rules in the header).
std::optional<KeyPerms> ParsePerms(const json::value& perms) {
    if (!perms.is_array()) {
        return std::nullopt;
    }
    // Lists start empty and are only reset to the default when no element names them, so that
    // several "read" elements add up instead of each starting from the default.
    std::optional<RoleSet> read;
    std::optional<RoleSet> write;
    for (const json::value& element : perms.as_array()) {
        if (!element.is_object() || element.as_object().empty()) {
            return std::nullopt;
        }
        for (const auto& [name, list] : element.as_object()) {
            std::optional<RoleSet>* target = nullptr;
            if (name == kReadList) {
                target = &read;
            } else if (name == kWriteList) {
                target = &write;
            } else {
                return std::nullopt;
            }
            if (!target->has_value()) {
                target->emplace();
            }
            if (!ReadRoleList(list, **target)) {
                return std::nullopt;
            }
        }
    }
    KeyPerms result;
    if (read) {
        result.read = *read;
    }
    if (write) {
        result.write = *write;
    }
    return result;
}

// The perms of a stored entry. Stored data is only written through ApplyCustomDataUpdate, which
// validates perms; should a malformed entry get in anyway (a migration, a manual edit) it gets
// the defaults: perms only ever arbitrate between the owning user and admins, so falling back to
// "both" never exposes the data to anyone else, and keeps the key repairable.
KeyPerms PermsOfStoredEntry(const json::value& entry) {
    if (!entry.is_object()) {
        return {};
    }
    const json::value* perms = entry.as_object().if_contains(kPermsMember);
    if (perms == nullptr) {
        return {};
    }
    return ParsePerms(*perms).value_or(KeyPerms{});
}

std::string Quoted(std::string_view key) {
    return "'" + std::string(key) + "'";
}

[[noreturn]] void ThrowInvalidEntry(std::string_view key, std::string_view what) {
    throw ApiError(
        ErrorCode::kInvalidBody,
        "Invalid custom data for key " + Quoted(key) + ": " + std::string(what)
    );
}

// Checks one non-null body entry; throws kInvalidBody naming the key when its shape is wrong.
void ValidateEntry(std::string_view key, const json::value& entry) {
    if (!entry.is_object()) {
        ThrowInvalidEntry(key, R"(expected an object with "value" and/or "perms", or null)");
    }
    for (const auto& [member, content] : entry.as_object()) {
        if (member == kValueMember) {
            continue;
        }
        if (member != kPermsMember) {
            ThrowInvalidEntry(key, "unknown member " + Quoted(member));
        }
        if (content.is_null()) {
            continue;
        }
        const std::optional<KeyPerms> perms = ParsePerms(content);
        if (!perms) {
            ThrowInvalidEntry(
                key,
                R"(perms must be an array of {"read": [...], "write": [...]} listing "user" and/or )"
                R"("admin")"
            );
        }
        if (!perms->write.user && !perms->write.admin) {
            ThrowInvalidEntry(key, "an empty write list would make the key read-only forever");
        }
    }
}

// Sets `member` of `entry` to `content`, or deletes it when `content` is null.
void SetOrErase(json::object& entry, std::string_view member, const json::value& content) {
    if (content.is_null()) {
        entry.stable_erase(member);
    } else {
        entry[member] = content;
    }
}

// JSON Merge Patch (RFC 7386) of `patch` into `target`, in place. With `keep_on_empty_object`
// (the public profile variant), {"k": {}} leaves an existing k untouched whatever its type.
// Recursion depth is bounded by the body parser's depth limit (core::kMaxJsonDepth).
void MergePatchInto(json::object& target, const json::object& patch, bool keep_on_empty_object) {
    for (const auto& [key, change] : patch) {
        if (change.is_null()) {
            target.stable_erase(key);
            continue;
        }
        if (!change.is_object()) {
            target[key] = change;  // scalars, strings and arrays replace, "" and [] included
            continue;
        }
        json::value* existing = target.if_contains(key);
        if (keep_on_empty_object && existing != nullptr && change.as_object().empty()) {
            continue;
        }
        if (existing != nullptr && existing->is_object()) {
            MergePatchInto(existing->as_object(), change.as_object(), keep_on_empty_object);
        } else {
            json::object fresh;
            MergePatchInto(fresh, change.as_object(), keep_on_empty_object);
            target[key] = std::move(fresh);
        }
    }
}

}  // namespace

json::object ApplyCustomDataUpdate(
    const json::object& stored, const json::value& body, CustomDataActor actor
) {
    if (body.is_null()) {
        // "The data can be deleted by putting data: null." Only what the actor may write goes:
        // a user clearing their data must not remove admin-managed keys, and refusing the whole
        // request instead would leave such a user no way to clear the rest.
        json::object kept;
        for (const auto& [key, entry] : stored) {
            if (!PermsOfStoredEntry(entry).write.Has(actor)) {
                kept[key] = entry;
            }
        }
        return kept;
    }
    if (!body.is_object()) {
        throw ApiError(ErrorCode::kInvalidBody, "Custom data must be a JSON object or null");
    }

    json::object result = stored;
    for (const auto& [key, entry] : body.as_object()) {
        if (key.empty()) {
            throw ApiError(ErrorCode::kInvalidBody, "Custom data keys must not be empty");
        }
        if (!entry.is_null()) {
            ValidateEntry(key, entry);
        }
        json::value* current = result.if_contains(key);
        if (current != nullptr && !PermsOfStoredEntry(*current).write.Has(actor)) {
            throw ApiError(
                ErrorCode::kCustomDataPermission,
                "Not allowed to write custom data key " + Quoted(key)
            );
        }
        // New perms on a value the actor cannot read could make it readable to them (perms
        // reset to the defaults, value kept): changing perms takes read access too.
        if (current != nullptr && entry.is_object() && entry.as_object().contains(kPermsMember) &&
            !PermsOfStoredEntry(*current).read.Has(actor)) {
            throw ApiError(
                ErrorCode::kCustomDataPermission,
                "Not allowed to change the permissions of custom data key " + Quoted(key) +
                    ", which the caller cannot read"
            );
        }
        if (entry.is_null()) {
            result.stable_erase(key);
            continue;
        }
        json::object merged;
        if (current != nullptr && current->is_object()) {
            merged = current->as_object();
        }
        const json::object& change = entry.as_object();
        if (const json::value* value = change.if_contains(kValueMember)) {
            SetOrErase(merged, kValueMember, *value);
        }
        if (const json::value* perms = change.if_contains(kPermsMember)) {
            SetOrErase(merged, kPermsMember, *perms);
        }
        if (merged.empty()) {
            result.stable_erase(key);
        } else {
            result[key] = std::move(merged);
        }
    }

    const std::size_t size = core::Serialize(result).size();
    if (size > kMaxCustomDataBytes) {
        throw ApiError(
            ErrorCode::kInputTooLarge,
            {},
            "custom data would be " + std::to_string(size) + " bytes, limit " +
                std::to_string(kMaxCustomDataBytes)
        );
    }
    return result;
}

json::object VisibleCustomData(const json::object& stored, CustomDataActor actor) {
    json::object visible;
    for (const auto& [key, entry] : stored) {
        if (PermsOfStoredEntry(entry).read.Has(actor)) {
            visible[key] = entry;
        }
    }
    return visible;
}

json::object MergePublicProfile(const json::object& stored, const json::value& profile) {
    if (profile.is_null()) {
        return {};
    }
    if (!profile.is_object()) {
        throw ApiError(ErrorCode::kInvalidBody, "profile must be a JSON object or null");
    }
    json::object result = stored;
    MergePatchInto(result, profile.as_object(), /*keep_on_empty_object=*/true);
    return result;
}

json::value ShadowMerge(const json::value& stored, const json::value& update) {
    if (update.is_null()) {
        return json::object{};
    }
    if (!update.is_object()) {
        throw ApiError(ErrorCode::kInvalidBody, "Metadata must be a JSON object or null");
    }
    json::object result = stored.is_object() ? stored.as_object() : json::object{};
    MergePatchInto(result, update.as_object(), /*keep_on_empty_object=*/false);
    return result;
}

}  // namespace rainmaker::domain::users
