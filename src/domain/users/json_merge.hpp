// The three JSON merge dialects of the RainMaker API as pure functions, so that handlers only
// load, merge and store: user custom data (per-key {value, perms}), the public profile, and the
// thing-shadow merge of node metadata and group custom_data.
#pragma once

#include <cstddef>

#include <boost/json.hpp>

namespace rainmaker::domain::users {

// Who is writing or reading a user's custom data: the user through /user/custom_data (#70/#71),
// or an admin through /admin/custom_data (#118/#119).
enum class CustomDataActor { kUser, kAdmin };

// Upper bound on the serialized stored custom data map (SW 3.8: "JSON <= 399 KB"; the official
// backend keeps it in one 400 KB database item). Measured on the map after the update, so an
// update that shrinks an oversized map still goes through.
inline constexpr std::size_t kMaxCustomDataBytes = 399 * 1024;

// User custom data (#70/#71, #118/#119): stored map {key: {"value": any, "perms": [...]}}.
// Applies a PUT body; returns the new stored map. Throws kInvalidBody for a malformed body,
// kCustomDataPermission when the actor may not write a key, kInputTooLarge above the size limit.
// All or nothing: when it throws, no key of the body has been applied.
//
// Rules:
// - body null: every key the actor may write is deleted; keys it may not write stay.
// - body {}: no change. Any other non-object body: kInvalidBody.
// - {"k": null}: deletes key k.
// - {"k": {"value": v}}: v replaces the old value as a whole (objects and arrays are not merged).
// - {"k": {"value": null}}: deletes the value, keeps the perms (SDK deleteCustomData).
// - {"k": {"perms": [...]}}: replaces the perms, keeps the value; {"perms": null} deletes them
//   (SDK deleteCustomDataPermissions), so the defaults apply again.
// - an entry left with neither value nor perms is removed.
// - members other than "value" and "perms", an empty key, or an entry that is neither an object
//   nor null: kInvalidBody.
// - perms: an array of objects whose members are "read" and/or "write", each a list drawn from
//   "user" and "admin"; several "read" (or "write") lists add up. A list that is absent defaults
//   to ["user", "admin"] (so a key without perms is readable and writable by both). An empty
//   "write" list is rejected (kInvalidBody): it would lock the key for everyone forever.
// - writing (setting, changing perms, deleting) an existing key needs the actor in the key's
//   current write list; creating a new key is always allowed, also with perms that exclude the
//   writer (the reference sample has the user store membership_info with write: ["admin"]).
// - every key named in the body counts as a write, even {"k": {}}.
boost::json::object ApplyCustomDataUpdate(
    const boost::json::object& stored, const boost::json::value& body, CustomDataActor actor
);

// What `actor` may read of the stored map (keys it may not read are left out), in the response
// shape of GET: {key: {"value": ..., "perms": [...]}} with perms only where they were set. Also
// the answer of PUT, applied to the map ApplyCustomDataUpdate returned.
boost::json::object VisibleCustomData(const boost::json::object& stored, CustomDataActor actor);

// Public profile (#133): merge `profile` (the body's "profile" member, possibly null) into the
// stored profile. Throws kInvalidBody when `profile` is neither an object nor null.
//
// Rules (JSON Merge Patch, RFC 7386, with one exception):
// - profile null: the profile is reset to {}.
// - {"k": null}, at any depth: deletes k.
// - {"k": {}}: leaves an existing k unchanged whatever its type (the exception: plain merge patch
//   would turn a non-object k into {}); a new k is added as {}.
// - {"k": {...}}: merged recursively into an object k; replaces a non-object k.
// - any other value (string, number, bool, array, including "" and []) replaces k as a whole.
// - an object emptied by nested deletions stays as {}.
boost::json::object MergePublicProfile(
    const boost::json::object& stored, const boost::json::value& profile
);

// Thing-shadow merge used for node metadata (#10, mapping #12/#15, fabric nodes #57) and group
// custom_data (#56/#57): null deletes all, {} no-op, keys upserted, {"k":null} deletes k, arrays
// replaced, nested objects merged recursively. This is JSON Merge Patch (RFC 7386) at every
// depth: a nested {"k": {...}} merges into an object k and replaces a non-object k (so a nested
// {"k": {}} turns a scalar k into {}), and an object emptied by deletions stays as {}.
// The result is always an object: null gives {} (deleted metadata reads back as {}, never as
// null, which apps would have to special-case), and a stored value that is not an object (no
// metadata yet) counts as {}. Throws kInvalidBody when `update` is neither an object nor null.
boost::json::value ShadowMerge(const boost::json::value& stored, const boost::json::value& update);

}  // namespace rainmaker::domain::users
