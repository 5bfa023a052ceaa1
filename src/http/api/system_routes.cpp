// Memory-only handlers: they run inline on the I/O thread.
#include "http/api/system_routes.hpp"

#include "core/json.hpp"

namespace rainmaker::http::api {

namespace {
constexpr std::string_view kBuildInfo = "rainmaker-server 0.1.0";
}

void AddSystemRoutes(Router& router, const Metrics& metrics, std::string jwks) {
    // Catalog #0 GET /apiversions — no version prefix, no authentication.
    const std::string versions = core::Serialize(boost::json::object{
        {"supported_versions", boost::json::array{"v1"}},
        {"additional_info",
         boost::json::array{boost::json::object{
             {"version", "v1"},
             {"build_info", kBuildInfo},
             {"release_notes", "ESP RainMaker API 2.8.1 operations served by rainmaker-server"}}}}}
    );
    router.Add(
        "GET",
        "/apiversions",
        Access::kPublic,
        [versions](const ApiRequest&) { return ApiResponse::Text(versions, "application/json"); },
        Execution::kInline
    );
    router.Add(
        "GET",
        "/healthz",
        Access::kPublic,
        [](const ApiRequest&) { return ApiResponse::Success("healthy"); },
        Execution::kInline
    );
    router.Add(
        "GET",
        "/metrics",
        Access::kPublic,
        [&metrics](const ApiRequest&) {
            return ApiResponse::Text(metrics.Render(), "text/plain; version=0.0.4");
        },
        Execution::kInline
    );
    router.Add(
        "GET",
        "/.well-known/jwks.json",
        Access::kPublic,
        [jwks = std::move(jwks)](const ApiRequest&) {
            return ApiResponse::Text(jwks, "application/json");
        },
        Execution::kInline
    );
}

}  // namespace rainmaker::http::api
