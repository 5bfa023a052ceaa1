// One test per merge rule of user custom data (#70/#71, #118/#119), the public profile (#133)
// and the thing-shadow merge (node metadata #10, group custom_data #56/#57).
#include "domain/users/json_merge.hpp"

#include <functional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace rainmaker::domain::users {
namespace {

namespace json = boost::json;
using core::ApiError;
using core::ErrorCode;

constexpr CustomDataActor kUser = CustomDataActor::kUser;
constexpr CustomDataActor kAdmin = CustomDataActor::kAdmin;

json::object Obj(std::string_view text) {
    return json::parse(text).as_object();
}

// The code of the ApiError `action` throws; records a failure (and gives kInternal) if none.
ErrorCode ThrownCode(const std::function<void()>& action) {
    try {
        action();
    } catch (const ApiError& error) {
        return error.code();
    }
    ADD_FAILURE() << "expected an ApiError";
    return ErrorCode::kInternal;
}

ErrorCode UpdateError(
    const json::object& stored, std::string_view body, CustomDataActor actor = kUser
) {
    return ThrownCode([&] { ApplyCustomDataUpdate(stored, json::parse(body), actor); });
}

// A key only admins may write, and one only the user may write.
json::object MixedStored() {
    return Obj(R"({
    "membership_info": {"value": {"premium": true},
                        "perms": [{"read": ["user", "admin"]}, {"write": ["admin"]}]},
    "preferences": {"value": {"theme": "dark"},
                    "perms": [{"read": ["user", "admin"]}, {"write": ["user"]}]},
    "profile": {"value": {"age": 61}}
})");
}

// --- Custom data: merge rules ----------------------------------------------------------------

TEST(CustomDataUpdate, AddsKeyThatIsNotPresent) {
    const auto result = ApplyCustomDataUpdate(
        Obj(R"({"a": {"value": 1}})"), json::parse(R"({"b": {"value": 2}})"), kUser
    );
    EXPECT_EQ(result, Obj(R"({"a": {"value": 1}, "b": {"value": 2}})"));
}

TEST(CustomDataUpdate, ReplacesValueOfPresentKeyWithoutMergingObjects) {
    const auto result = ApplyCustomDataUpdate(
        Obj(R"({"profile": {"value": {"name": "A", "age": 60}}})"),
        json::parse(R"({"profile": {"value": {"age": 61}}})"),
        kUser
    );
    EXPECT_EQ(result, Obj(R"({"profile": {"value": {"age": 61}}})"));
}

TEST(CustomDataUpdate, ReplacesArraysEntirely) {
    const auto result = ApplyCustomDataUpdate(
        Obj(R"({"langs": {"value": ["English", "Hindi"]}})"),
        json::parse(R"({"langs": {"value": ["Marathi"]}})"),
        kUser
    );
    EXPECT_EQ(result, Obj(R"({"langs": {"value": ["Marathi"]}})"));
}

TEST(CustomDataUpdate, StoresValuesOfAnyType) {
    const auto body = json::parse(
        R"({"s": {"value": ""}, "n": {"value": 1.5}, "b": {"value": false},
            "a": {"value": []}, "o": {"value": {}}})"
    );
    EXPECT_EQ(ApplyCustomDataUpdate({}, body, kUser), body.as_object());
}

TEST(CustomDataUpdate, NullKeyDeletesTheKey) {
    const auto result = ApplyCustomDataUpdate(
        Obj(R"({"a": {"value": 1}, "b": {"value": 2}})"), json::parse(R"({"a": null})"), kUser
    );
    EXPECT_EQ(result, Obj(R"({"b": {"value": 2}})"));
}

TEST(CustomDataUpdate, NullKeyThatIsNotPresentIsNoChange) {
    const auto stored = Obj(R"({"a": {"value": 1}})");
    EXPECT_EQ(ApplyCustomDataUpdate(stored, json::parse(R"({"zz": null})"), kUser), stored);
}

TEST(CustomDataUpdate, KeysNotInTheBodyAreKept) {
    const auto result =
        ApplyCustomDataUpdate(MixedStored(), json::parse(R"({"new": {"value": 0}})"), kUser);
    for (const auto& [key, entry] : MixedStored()) {
        EXPECT_EQ(result.at(key), entry) << key;
    }
}

TEST(CustomDataUpdate, NullBodyDeletesEverythingTheActorMayWrite) {
    const auto stored = Obj(R"({"a": {"value": 1}, "b": {"value": [2]}})");
    EXPECT_TRUE(ApplyCustomDataUpdate(stored, json::value(nullptr), kUser).empty());
    EXPECT_TRUE(ApplyCustomDataUpdate(stored, json::value(nullptr), kAdmin).empty());
}

TEST(CustomDataUpdate, NullBodyKeepsKeysTheActorMayNotWrite) {
    const auto by_user = ApplyCustomDataUpdate(MixedStored(), json::value(nullptr), kUser);
    EXPECT_EQ(by_user, json::object({{"membership_info", MixedStored().at("membership_info")}}));

    const auto by_admin = ApplyCustomDataUpdate(MixedStored(), json::value(nullptr), kAdmin);
    EXPECT_EQ(by_admin, json::object({{"preferences", MixedStored().at("preferences")}}));
}

TEST(CustomDataUpdate, EmptyBodyChangesNothing) {
    EXPECT_EQ(ApplyCustomDataUpdate(MixedStored(), json::object{}, kUser), MixedStored());
}

TEST(CustomDataUpdate, NullValueDeletesTheValueAndKeepsThePerms) {
    const auto result = ApplyCustomDataUpdate(
        MixedStored(), json::parse(R"({"preferences": {"value": null}})"), kUser
    );
    EXPECT_EQ(result.at("preferences"), Obj(R"({"perms": [{"read": ["user", "admin"]},
                                                          {"write": ["user"]}]})"));
}

TEST(CustomDataUpdate, EntryLeftWithoutValueOrPermsIsRemoved) {
    const auto result =
        ApplyCustomDataUpdate(MixedStored(), json::parse(R"({"profile": {"value": null}})"), kUser);
    EXPECT_FALSE(result.contains("profile"));
}

TEST(CustomDataUpdate, PermsOnlyEntryChangesPermsAndKeepsTheValue) {
    const auto result = ApplyCustomDataUpdate(
        MixedStored(), json::parse(R"({"profile": {"perms": [{"write": ["user"]}]}})"), kUser
    );
    EXPECT_EQ(
        result.at("profile"), Obj(R"({"value": {"age": 61}, "perms": [{"write": ["user"]}]})")
    );
}

TEST(CustomDataUpdate, ValueOnlyEntryKeepsThePerms) {
    const auto result = ApplyCustomDataUpdate(
        MixedStored(), json::parse(R"({"preferences": {"value": {"theme": "light"}}})"), kUser
    );
    EXPECT_EQ(result.at("preferences").at("value"), Obj(R"({"theme": "light"})"));
    EXPECT_EQ(result.at("preferences").at("perms"), MixedStored().at("preferences").at("perms"));
}

TEST(CustomDataUpdate, NullPermsDeletesThePermsSoTheDefaultsApply) {
    const auto result = ApplyCustomDataUpdate(
        MixedStored(), json::parse(R"({"preferences": {"perms": null}})"), kUser
    );
    EXPECT_EQ(result.at("preferences"), Obj(R"({"value": {"theme": "dark"}})"));
    // With the default perms back, the admin may write the key again.
    EXPECT_NO_THROW(
        ApplyCustomDataUpdate(result, json::parse(R"({"preferences": {"value": 1}})"), kAdmin)
    );
}

TEST(CustomDataUpdate, EmptyEntryOnNewKeyAddsNothing) {
    EXPECT_TRUE(ApplyCustomDataUpdate({}, json::parse(R"({"a": {}})"), kUser).empty());
}

TEST(CustomDataUpdate, AppliesTheReferenceRequestSample) {
    const auto body = json::parse(R"({
        "membership_info": {"value": {"premium": true},
                            "perms": [{"read": ["user", "admin"]}, {"write": ["admin"]}]},
        "esp.location": {"value": {"esp.city": "Pune", "esp.state": "Maharashtra"},
                         "perms": [{"read": ["user", "admin"]}]},
        "profile": {"value": {"name": "FirstName Lastname", "age": 60}},
        "preferences": {"value": {"theme": "dark"},
                        "perms": [{"read": ["user", "admin"]}, {"write": ["user"]}]},
        "demographics": {"value": {"origin": "Asian", "Languages": ["English"]}}
    })");
    EXPECT_EQ(ApplyCustomDataUpdate({}, body, kUser), body.as_object());
}

// --- Custom data: write permissions ------------------------------------------------------------

TEST(CustomDataUpdate, KeyWithoutPermsIsWritableByUserAndAdmin) {
    const auto stored = Obj(R"({"a": {"value": 1}})");
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kUser));
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kAdmin));
}

TEST(CustomDataUpdate, PermsWithoutWriteListAreWritableByBoth) {
    const auto stored = Obj(R"({"a": {"value": 1, "perms": [{"read": ["user"]}]}})");
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kUser));
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kAdmin));
}

TEST(CustomDataUpdate, UserMayNotWriteAdminOnlyKey) {
    EXPECT_EQ(
        UpdateError(MixedStored(), R"({"membership_info": {"value": {"premium": false}}})", kUser),
        ErrorCode::kCustomDataPermission
    );
}

TEST(CustomDataUpdate, AdminMayWriteAdminOnlyKey) {
    const auto result = ApplyCustomDataUpdate(
        MixedStored(), json::parse(R"({"membership_info": {"value": {"premium": false}}})"), kAdmin
    );
    EXPECT_EQ(result.at("membership_info").at("value"), Obj(R"({"premium": false})"));
}

TEST(CustomDataUpdate, AdminMayNotWriteUserOnlyKey) {
    EXPECT_EQ(
        UpdateError(MixedStored(), R"({"preferences": {"value": {}}})", kAdmin),
        ErrorCode::kCustomDataPermission
    );
}

TEST(CustomDataUpdate, UserMayNotDeleteAdminOnlyKey) {
    EXPECT_EQ(
        UpdateError(MixedStored(), R"({"membership_info": null})", kUser),
        ErrorCode::kCustomDataPermission
    );
}

TEST(CustomDataUpdate, UserMayNotChangePermsOfAdminOnlyKey) {
    EXPECT_EQ(
        UpdateError(MixedStored(), R"({"membership_info": {"perms": null}})", kUser),
        ErrorCode::kCustomDataPermission
    );
}

// A key hidden from one side but writable by it: resetting its perms would have kept the value
// and made it readable to that side (review of #118/#119).
TEST(CustomDataUpdate, PermsOfAKeyTheCallerCannotReadDoNotChange) {
    const auto hidden_from_admin =
        Obj(R"({"diary": {"value": "secret", "perms": [{"read": ["user"]}]}})");
    EXPECT_EQ(
        UpdateError(hidden_from_admin, R"({"diary": {"perms": null}})", kAdmin),
        ErrorCode::kCustomDataPermission
    );
    EXPECT_EQ(
        UpdateError(
            hidden_from_admin, R"({"diary": {"perms": [{"read": ["user", "admin"]}]}})", kAdmin
        ),
        ErrorCode::kCustomDataPermission
    );
    const auto hidden_from_user =
        Obj(R"({"note": {"value": "x", "perms": [{"read": ["admin"]}]}})");
    EXPECT_EQ(
        UpdateError(hidden_from_user, R"({"note": {"perms": null}})", kUser),
        ErrorCode::kCustomDataPermission
    );
    // The side that reads it may still change them.
    const auto opened = ApplyCustomDataUpdate(
        hidden_from_admin, json::parse(R"({"diary": {"perms": null}})"), kUser
    );
    EXPECT_FALSE(opened.at("diary").as_object().contains("perms"));
}

TEST(CustomDataUpdate, EmptyEntryOnUnwritableKeyStillCountsAsAWrite) {
    EXPECT_EQ(
        UpdateError(MixedStored(), R"({"membership_info": {}})", kUser),
        ErrorCode::kCustomDataPermission
    );
}

TEST(CustomDataUpdate, AnyoneMayCreateKeyWithPermsThatExcludeThem) {
    const auto result = ApplyCustomDataUpdate(
        {}, json::parse(R"({"m": {"value": 1, "perms": [{"write": ["admin"]}]}})"), kUser
    );
    EXPECT_EQ(result.at("m").at("value"), 1);
    EXPECT_EQ(
        UpdateError(result, R"({"m": {"value": 2}})", kUser), ErrorCode::kCustomDataPermission
    );
}

TEST(CustomDataUpdate, WriteListsOfSeveralElementsAddUp) {
    const auto stored =
        Obj(R"({"a": {"value": 1, "perms": [{"write": ["user"]}, {"write": ["admin"]}]}})");
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kUser));
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kAdmin));
}

TEST(CustomDataUpdate, OneElementMayHoldBothReadAndWrite) {
    const auto stored =
        Obj(R"({"a": {"value": 1, "perms": [{"read": ["user"], "write": ["admin"]}]}})");
    EXPECT_EQ(
        UpdateError(stored, R"({"a": {"value": 2}})", kUser), ErrorCode::kCustomDataPermission
    );
    EXPECT_NO_THROW(ApplyCustomDataUpdate(stored, json::parse(R"({"a": {"value": 2}})"), kAdmin));
}

// --- Custom data: rejected shapes --------------------------------------------------------------

TEST(CustomDataUpdate, RejectsBodyThatIsNotAnObjectOrNull) {
    for (const char* body : {"[]", R"("text")", "42", "true"}) {
        EXPECT_EQ(UpdateError({}, body), ErrorCode::kInvalidBody) << body;
    }
}

TEST(CustomDataUpdate, RejectsEntryThatIsNotAnObjectOrNull) {
    for (const char* body : {R"({"a": 1})", R"({"a": "x"})", R"({"a": [1]})", R"({"a": true})"}) {
        EXPECT_EQ(UpdateError({}, body), ErrorCode::kInvalidBody) << body;
    }
}

TEST(CustomDataUpdate, RejectsEntryMembersOtherThanValueAndPerms) {
    EXPECT_EQ(UpdateError({}, R"({"a": {"value": 1, "extra": 2}})"), ErrorCode::kInvalidBody);
}

TEST(CustomDataUpdate, RejectsEmptyKey) {
    EXPECT_EQ(UpdateError({}, R"({"": {"value": 1}})"), ErrorCode::kInvalidBody);
}

TEST(CustomDataUpdate, RejectsPermsThatAreNotAnArray) {
    EXPECT_EQ(UpdateError({}, R"({"a": {"perms": {"read": ["user"]}}})"), ErrorCode::kInvalidBody);
}

TEST(CustomDataUpdate, RejectsPermsElementThatIsNotAnObject) {
    EXPECT_EQ(UpdateError({}, R"({"a": {"perms": ["read"]}})"), ErrorCode::kInvalidBody);
    EXPECT_EQ(UpdateError({}, R"({"a": {"perms": [{}]}})"), ErrorCode::kInvalidBody);
}

TEST(CustomDataUpdate, RejectsPermsListOtherThanReadAndWrite) {
    EXPECT_EQ(
        UpdateError({}, R"({"a": {"perms": [{"delete": ["user"]}]}})"), ErrorCode::kInvalidBody
    );
}

TEST(CustomDataUpdate, RejectsUnknownRole) {
    EXPECT_EQ(
        UpdateError({}, R"({"a": {"perms": [{"read": ["user", "guest"]}]}})"),
        ErrorCode::kInvalidBody
    );
}

TEST(CustomDataUpdate, RejectsRoleListThatIsNotAnArrayOfStrings) {
    EXPECT_EQ(UpdateError({}, R"({"a": {"perms": [{"read": "user"}]}})"), ErrorCode::kInvalidBody);
    EXPECT_EQ(UpdateError({}, R"({"a": {"perms": [{"read": [1]}]}})"), ErrorCode::kInvalidBody);
}

TEST(CustomDataUpdate, RejectsEmptyWriteList) {
    EXPECT_EQ(UpdateError({}, R"({"a": {"perms": [{"write": []}]}})"), ErrorCode::kInvalidBody);
}

TEST(CustomDataUpdate, RejectsInvalidShapeBeforeCheckingPermission) {
    EXPECT_EQ(
        UpdateError(MixedStored(), R"({"membership_info": 5})", kUser), ErrorCode::kInvalidBody
    );
}

// --- Custom data: size limit -------------------------------------------------------------------

// A body whose stored map serializes to exactly `bytes` bytes.
json::value BodyOfStoredSize(std::size_t bytes) {
    const std::size_t overhead = json::serialize(Obj(R"({"k": {"value": ""}})")).size();
    json::object body;
    body["k"] = json::object({{"value", std::string(bytes - overhead, 'x')}});
    return body;
}

TEST(CustomDataUpdate, AcceptsDataOfExactlyTheSizeLimit) {
    const auto result = ApplyCustomDataUpdate({}, BodyOfStoredSize(kMaxCustomDataBytes), kUser);
    EXPECT_EQ(json::serialize(result).size(), kMaxCustomDataBytes);
}

TEST(CustomDataUpdate, RejectsDataAboveTheSizeLimit) {
    EXPECT_EQ(
        ThrownCode([] {
            ApplyCustomDataUpdate({}, BodyOfStoredSize(kMaxCustomDataBytes + 1), kUser);
        }),
        ErrorCode::kInputTooLarge
    );
}

TEST(CustomDataUpdate, CountsStoredKeysTowardsTheSizeLimit) {
    const auto big = BodyOfStoredSize(kMaxCustomDataBytes - 100).as_object();
    json::object more;
    more["more"] = json::object({{"value", std::string(100, 'y')}});
    EXPECT_EQ(
        ThrownCode([&] { ApplyCustomDataUpdate(big, more, kUser); }), ErrorCode::kInputTooLarge
    );
}

TEST(CustomDataUpdate, AllowsShrinkingDataThatIsAlreadyTooLarge) {
    json::object stored = BodyOfStoredSize(kMaxCustomDataBytes + 10).as_object();
    stored["small"] = Obj(R"({"value": 1})");
    const auto result = ApplyCustomDataUpdate(stored, json::parse(R"({"k": null})"), kUser);
    EXPECT_EQ(result, Obj(R"({"small": {"value": 1}})"));
}

// --- Custom data: read permissions -------------------------------------------------------------

TEST(CustomDataVisibility, KeyWithoutPermsIsReadableByUserAndAdmin) {
    const auto stored = Obj(R"({"profile": {"value": {"age": 61}}})");
    EXPECT_EQ(VisibleCustomData(stored, kUser), stored);
    EXPECT_EQ(VisibleCustomData(stored, kAdmin), stored);
}

TEST(CustomDataVisibility, PermsWithoutReadListAreReadableByBoth) {
    const auto stored = Obj(R"({"a": {"value": 1, "perms": [{"write": ["admin"]}]}})");
    EXPECT_EQ(VisibleCustomData(stored, kUser), stored);
    EXPECT_EQ(VisibleCustomData(stored, kAdmin), stored);
}

TEST(CustomDataVisibility, AdminOnlyReadKeyIsHiddenFromUser) {
    const auto stored =
        Obj(R"({"a": {"value": 1, "perms": [{"read": ["admin"]}]}, "b": {"value": 2}})");
    EXPECT_EQ(VisibleCustomData(stored, kUser), Obj(R"({"b": {"value": 2}})"));
    EXPECT_EQ(VisibleCustomData(stored, kAdmin), stored);
}

TEST(CustomDataVisibility, UserOnlyReadKeyIsHiddenFromAdmin) {
    const auto stored =
        Obj(R"({"a": {"value": 1, "perms": [{"read": ["user"]}]}, "b": {"value": 2}})");
    EXPECT_EQ(VisibleCustomData(stored, kAdmin), Obj(R"({"b": {"value": 2}})"));
    EXPECT_EQ(VisibleCustomData(stored, kUser), stored);
}

TEST(CustomDataVisibility, AnswersInTheShapeOfTheReferenceSample) {
    // Entries keep their perms when set, omit them otherwise, and may hold perms only.
    EXPECT_EQ(VisibleCustomData(MixedStored(), kUser), MixedStored());
    const auto perms_only = Obj(R"({"preferences": {"perms": [{"write": ["user"]}]}})");
    EXPECT_EQ(VisibleCustomData(perms_only, kUser), perms_only);
}

TEST(CustomDataVisibility, MalformedStoredPermsFallBackToDefaults) {
    const auto stored = Obj(R"({"a": {"value": 1, "perms": "broken"}, "b": 7})");
    EXPECT_EQ(VisibleCustomData(stored, kUser), stored);
    EXPECT_EQ(VisibleCustomData(stored, kAdmin), stored);
}

TEST(CustomDataVisibility, EmptyStoredMapGivesEmptyAnswer) {
    EXPECT_TRUE(VisibleCustomData({}, kUser).empty());
}

// --- Public profile ----------------------------------------------------------------------------

json::object Profile(std::string_view stored, std::string_view update) {
    return MergePublicProfile(Obj(stored), json::parse(update));
}

TEST(PublicProfileMerge, AddsNewKeysAndUpdatesExistingOnes) {
    EXPECT_EQ(
        Profile(R"({"key1": "old", "keep": 1})", R"({"key1": "value1", "key2": "value2"})"),
        Obj(R"({"key1": "value1", "keep": 1, "key2": "value2"})")
    );
}

TEST(PublicProfileMerge, AcceptsValuesOfAnyType) {
    const std::string_view update =
        R"({"s": "x", "n": 2, "b": true, "a": [1, {"x": 1}], "o": {"p": 1}})";
    EXPECT_EQ(Profile("{}", update), Obj(update));
}

TEST(PublicProfileMerge, NullProfileResetsToEmptyObject) {
    EXPECT_EQ(Profile(R"({"a": 1, "b": {"c": 2}})", "null"), json::object{});
}

TEST(PublicProfileMerge, EmptyProfileLeavesProfileUnchanged) {
    const std::string_view stored = R"({"a": 1, "b": {"c": 2}})";
    EXPECT_EQ(Profile(stored, "{}"), Obj(stored));
}

TEST(PublicProfileMerge, EmptyObjectOnExistingKeyLeavesItUnchanged) {
    const std::string_view stored = R"({"obj": {"c": 2}, "str": "s", "num": 3, "arr": [1]})";
    EXPECT_EQ(Profile(stored, R"({"obj": {}, "str": {}, "num": {}, "arr": {}})"), Obj(stored));
}

TEST(PublicProfileMerge, EmptyObjectOnExistingNestedKeyLeavesItUnchanged) {
    const std::string_view stored = R"({"a": {"b": {"c": 1}, "d": 2}})";
    EXPECT_EQ(Profile(stored, R"({"a": {"b": {}, "d": {}}})"), Obj(stored));
}

TEST(PublicProfileMerge, EmptyObjectOnNewKeyAddsEmptyObject) {
    EXPECT_EQ(Profile(R"({"a": 1})", R"({"new": {}})"), Obj(R"({"a": 1, "new": {}})"));
    EXPECT_EQ(Profile(R"({"a": {}})", R"({"a": {"new": {}}})"), Obj(R"({"a": {"new": {}}})"));
}

TEST(PublicProfileMerge, EmptyStringsAndArraysArePreserved) {
    EXPECT_EQ(
        Profile(R"({"s": "old", "a": [1, 2]})", R"({"s": "", "a": [], "t": "", "b": []})"),
        Obj(R"({"s": "", "a": [], "t": "", "b": []})")
    );
}

TEST(PublicProfileMerge, NullDeletesTopLevelKey) {
    EXPECT_EQ(Profile(R"({"a": 1, "b": 2})", R"({"a": null})"), Obj(R"({"b": 2})"));
}

TEST(PublicProfileMerge, NestedNullDeletesKey) {
    EXPECT_EQ(
        Profile(R"({"a": {"b": 1, "c": {"d": 2, "e": 3}}})", R"({"a": {"c": {"d": null}}})"),
        Obj(R"({"a": {"b": 1, "c": {"e": 3}}})")
    );
}

TEST(PublicProfileMerge, NestedKeysAreUpdatedIndividually) {
    EXPECT_EQ(
        Profile(R"({"a": {"b": 1, "c": 2}})", R"({"a": {"b": 10, "d": 4}})"),
        Obj(R"({"a": {"b": 10, "c": 2, "d": 4}})")
    );
}

TEST(PublicProfileMerge, NestedObjectEmptiedByDeletionsBecomesEmptyObject) {
    EXPECT_EQ(
        Profile(R"({"a": {"b": 1, "c": 2}})", R"({"a": {"b": null, "c": null}})"),
        Obj(R"({"a": {}})")
    );
}

TEST(PublicProfileMerge, ArraysAreReplacedNotMerged) {
    EXPECT_EQ(Profile(R"({"a": [1, 2, 3]})", R"({"a": [4]})"), Obj(R"({"a": [4]})"));
}

TEST(PublicProfileMerge, ObjectReplacesNonObjectValue) {
    EXPECT_EQ(Profile(R"({"a": "s"})", R"({"a": {"b": 1}})"), Obj(R"({"a": {"b": 1}})"));
}

TEST(PublicProfileMerge, NullsInsideNewObjectAreDropped) {
    EXPECT_EQ(Profile("{}", R"({"a": {"b": null, "c": 1}})"), Obj(R"({"a": {"c": 1}})"));
}

TEST(PublicProfileMerge, RejectsProfileThatIsNotAnObjectOrNull) {
    for (const char* profile : {"[]", R"("x")", "1", "false"}) {
        EXPECT_EQ(
            ThrownCode([&] { MergePublicProfile({}, json::parse(profile)); }),
            ErrorCode::kInvalidBody
        ) << profile;
    }
}

// --- Thing shadow (node metadata, group custom_data) -------------------------------------------

json::value Shadow(std::string_view stored, std::string_view update) {
    return ShadowMerge(json::parse(stored), json::parse(update));
}

TEST(ThingShadowMerge, NullDeletesTheWholeObject) {
    EXPECT_EQ(Shadow(R"({"a": 1, "b": {"c": 2}})", "null"), json::object{});
}

TEST(ThingShadowMerge, EmptyObjectChangesNothing) {
    const std::string_view stored = R"({"a": 1, "b": {"c": [2]}})";
    EXPECT_EQ(Shadow(stored, "{}"), json::parse(stored));
}

TEST(ThingShadowMerge, NewKeysAreAppended) {
    EXPECT_EQ(Shadow(R"({"a": 1})", R"({"b": 2})"), json::parse(R"({"a": 1, "b": 2})"));
}

TEST(ThingShadowMerge, ExistingKeysAreUpdated) {
    EXPECT_EQ(
        Shadow(R"({"a": 1, "b": 2})", R"({"a": "one"})"), json::parse(R"({"a": "one", "b": 2})")
    );
}

TEST(ThingShadowMerge, AcceptsValuesOfAnyType) {
    const std::string_view update =
        R"({"s": "x", "n": 2.5, "b": false, "a": [1, "2"], "o": {"p": 1}})";
    EXPECT_EQ(Shadow("{}", update), json::parse(update));
}

TEST(ThingShadowMerge, NullValueDeletesTheKey) {
    EXPECT_EQ(Shadow(R"({"a": 1, "b": 2})", R"({"a": null})"), json::parse(R"({"b": 2})"));
}

TEST(ThingShadowMerge, NullValueOfMissingKeyIsNoChange) {
    EXPECT_EQ(Shadow(R"({"a": 1})", R"({"zz": null})"), json::parse(R"({"a": 1})"));
}

TEST(ThingShadowMerge, ArraysAreOverwrittenNotMerged) {
    EXPECT_EQ(Shadow(R"({"a": [1, 2, 3]})", R"({"a": [9]})"), json::parse(R"({"a": [9]})"));
}

TEST(ThingShadowMerge, NestedObjectsAreMergedRecursively) {
    EXPECT_EQ(
        Shadow(R"({"room": {"name": "Hall", "floor": 1}})", R"({"room": {"floor": 2, "x": true}})"),
        json::parse(R"({"room": {"name": "Hall", "floor": 2, "x": true}})")
    );
}

TEST(ThingShadowMerge, NestedNullDeletesNestedKey) {
    EXPECT_EQ(
        Shadow(R"({"a": {"b": 1, "c": 2}})", R"({"a": {"b": null}})"),
        json::parse(R"({"a": {"c": 2}})")
    );
}

TEST(ThingShadowMerge, NestedObjectEmptiedByDeletionsStaysAsEmptyObject) {
    EXPECT_EQ(Shadow(R"({"a": {"b": 1}})", R"({"a": {"b": null}})"), json::parse(R"({"a": {}})"));
}

TEST(ThingShadowMerge, ObjectReplacesScalarAndScalarReplacesObject) {
    EXPECT_EQ(
        Shadow(R"({"a": 1, "b": {"c": 2}})", R"({"a": {"x": 1}, "b": "flat"})"),
        json::parse(R"({"a": {"x": 1}, "b": "flat"})")
    );
}

TEST(ThingShadowMerge, NestedEmptyObjectReplacesScalar) {
    EXPECT_EQ(Shadow(R"({"a": 1})", R"({"a": {}})"), json::parse(R"({"a": {}})"));
}

TEST(ThingShadowMerge, NestedEmptyObjectOnObjectIsNoChange) {
    EXPECT_EQ(Shadow(R"({"a": {"b": 1}})", R"({"a": {}})"), json::parse(R"({"a": {"b": 1}})"));
}

TEST(ThingShadowMerge, MissingStoredMetadataCountsAsEmpty) {
    EXPECT_EQ(Shadow("null", R"({"a": 1})"), json::parse(R"({"a": 1})"));
    EXPECT_EQ(Shadow("null", "{}"), json::object{});
}

TEST(ThingShadowMerge, RejectsUpdateThatIsNotAnObjectOrNull) {
    for (const char* update : {"[]", R"("x")", "1", "true"}) {
        EXPECT_EQ(
            ThrownCode([&] { ShadowMerge(json::object{}, json::parse(update)); }),
            ErrorCode::kInvalidBody
        ) << update;
    }
}

}  // namespace
}  // namespace rainmaker::domain::users
