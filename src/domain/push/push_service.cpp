// Push endpoint registration: the rules of #84-#86 over the PushStore, each change in one
// write transaction.
#include "domain/push/push_service.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/text.hpp"

namespace rainmaker::domain::push {

using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::array<std::string_view, 3> kPlatforms = {"GCM", "APNS", "APNS_SANDBOX"};
constexpr std::array<std::string_view, 8> kPlatformTypes = {
    "huawei", "glory", "millet", "meizu", "oppo", "vivo", "fcm", "asus"};

template <std::size_t N>
bool OneOf(const std::array<std::string_view, N>& values, std::string_view value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

// FCM, HMS and APNs tokens are printable ASCII without spaces (base64url, hex, ':').
// APNs device tokens are hex: one phone's token may come in either case from different app
// builds; kept in lower case so that it is one token (and one user). FCM tokens are
// case-sensitive and kept as given.
std::string StoredToken(std::string_view platform, std::string_view token) {
    return platform == "APNS" || platform == "APNS_SANDBOX" ? core::AsciiLower(token)
                                                            : std::string(token);
}

bool IsHex(std::string_view token) {
    return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

bool PrintableToken(std::string_view token) {
    return std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Endpoint FromRow(const storage::PushEndpointRow& row) {
    return Endpoint{
        row.endpoint_arn,
        ApplicationArn(row.platform, row.platform_type),
        row.platform,
        row.platform_type,
        row.device_token,
        row.created_at};
}

}  // namespace

std::string ApplicationArn(std::string_view platform, std::string_view platform_type) {
    std::string arn = "arn:rainmaker:push:app/" + std::string(platform);
    if (!platform_type.empty()) {
        arn += "/" + std::string(platform_type);
    }
    return arn;
}

PushService::PushService(storage::Database& db, const core::Clock& clock, PushConfig config)
    : db_(db), clock_(clock), config_(config) {}

Registration PushService::Register(const auth::AuthContext& caller, const EndpointInput& input) {
    if (!input.platform || !OneOf(kPlatforms, *input.platform)) {
        throw ApiError(ErrorCode::kPushInvalidPlatform);
    }
    if (!input.mobile_device_token || input.mobile_device_token->empty()) {
        throw ApiError(ErrorCode::kPushTokenMissing);
    }
    const std::string token = StoredToken(*input.platform, *input.mobile_device_token);
    if (token.size() > config_.max_token_length) {
        throw ApiError(
            ErrorCode::kInputTooLarge,
            "mobile_device_token is longer than " + std::to_string(config_.max_token_length) +
                " characters"
        );
    }
    if (!PrintableToken(token)) {
        throw ApiError(ErrorCode::kInvalidBody, "Invalid mobile_device_token");
    }
    const std::string platform_type = input.platform_type.value_or("");
    if (!platform_type.empty() && !OneOf(kPlatformTypes, platform_type)) {
        throw ApiError(ErrorCode::kPushPlatformTypeInvalid);
    }
    // The platform types are Android vendors' push services (China vendor push): GCM only.
    if (!platform_type.empty() && *input.platform != "GCM") {
        throw ApiError(
            ErrorCode::kPushPlatformTypeInvalid,
            "platform_type is for Android vendor push: it goes with platform GCM only"
        );
    }

    storage::PushEndpointRow row;
    row.endpoint_arn = "arn:rainmaker:push:endpoint/" + core::RandomHex(16);
    row.user_id = caller.user_id;
    row.platform = *input.platform;
    row.platform_type = platform_type;
    row.device_token = token;
    row.created_at = clock_.NowSeconds();
    bool moved = false;
    db_.Transaction([&] {
        auto& store = db_.Push();
        const auto existing = store.FindByToken(token);
        if (existing && existing->user_id == caller.user_id) {
            throw ApiError(ErrorCode::kPushEndpointExists);
        }
        if (store.CountForUser(caller.user_id) >= config_.max_endpoints_per_user) {
            throw ApiError(
                ErrorCode::kTooManyRequests,
                "Too many push endpoints: at most " +
                    std::to_string(config_.max_endpoints_per_user) + " per user"
            );
        }
        if (existing) {
            // One device, one user: the token leaves its previous user.
            store.Delete(existing->endpoint_arn);
            moved = true;
        }
        if (!store.Insert(row)) {
            throw ApiError(ErrorCode::kPushEndpointExists);
        }
    });
    return Registration{FromRow(row), moved};
}

std::vector<Endpoint> PushService::List(const auth::AuthContext& caller) {
    std::vector<Endpoint> out;
    for (const auto& row : db_.Push().ListForUser(caller.user_id)) {
        out.push_back(FromRow(row));
    }
    return out;
}

void PushService::Delete(
    const auth::AuthContext& caller,
    std::string_view mobile_device_token,
    std::string_view endpoint_arn
) {
    if (mobile_device_token.empty() && endpoint_arn.empty()) {
        throw ApiError(ErrorCode::kPushTokenOrEndpointMissing);
    }
    if (mobile_device_token.size() > config_.max_token_length ||
        endpoint_arn.size() > config_.max_endpoint_length) {
        throw ApiError(ErrorCode::kInputTooLarge);
    }
    db_.Transaction([&] {
        auto& store = db_.Push();
        // An APNs token was stored in lower case: a hex token is looked up in that form too.
        const std::string lower = StoredToken("APNS", mobile_device_token);
        auto row = endpoint_arn.empty() ? store.FindByToken(mobile_device_token)
                                        : store.Find(endpoint_arn);
        if (!row && endpoint_arn.empty() && IsHex(mobile_device_token)) {
            row = store.FindByToken(lower);
        }
        const bool same_token =
            row && (mobile_device_token.empty() || row->device_token == mobile_device_token ||
                    (IsHex(mobile_device_token) && row->device_token == lower));
        // Another user's endpoint is not found: its existence is not disclosed.
        if (!row || row->user_id != caller.user_id || !same_token) {
            throw ApiError(ErrorCode::kPushEndpointNotFound);
        }
        store.Delete(row->endpoint_arn);
    });
}

}  // namespace rainmaker::domain::push
