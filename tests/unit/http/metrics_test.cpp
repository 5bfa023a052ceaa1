// The Prometheus text of request counts: labels stay a bounded set whatever clients send.
#include "http/server/metrics.hpp"

#include <gtest/gtest.h>

namespace rainmaker::http {
namespace {

TEST(Metrics, CountsStandardMethodsByName) {
    Metrics metrics;
    metrics.Observe("GET", "/healthz", 200, {});
    metrics.Observe("DELETE", "/v1/user2", 401, {});
    const auto text = metrics.Render();
    EXPECT_NE(
        text.find(R"(rainmaker_http_requests_total{method="GET",route="/healthz",status="200"} 1)"),
        std::string::npos
    ) << text;
    EXPECT_NE(text.find(R"(method="DELETE",route="/v1/user2",status="401"} 1)"), std::string::npos);
}

// Found by fuzz/http_request_fuzz: any token is a valid HTTP method to the parser, and each one
// a client sent became a new series.
TEST(Metrics, CountsUnknownMethodsAsOtherSoSeriesStayBounded) {
    Metrics metrics;
    for (int i = 0; i < 100; ++i) {
        metrics.Observe("X" + std::to_string(i), "unmatched", 404, {});
    }
    const auto text = metrics.Render();
    EXPECT_EQ(text.find(R"(method="X1")"), std::string::npos) << text;
    EXPECT_NE(
        text.find(
            R"(rainmaker_http_requests_total{method="other",route="unmatched",status="404"} 100)"
        ),
        std::string::npos
    ) << text;
}

}  // namespace
}  // namespace rainmaker::http
