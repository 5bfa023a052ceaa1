// The HTTP layer of the real server: routing, versions, the error envelope, limits,
// pipelining, connection close, client quirks and graceful shutdown.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

TEST(HttpServer, AnswersApiVersionsWithoutVersionPrefix) {
    ServerProcess server;
    HttpClient client(server.port());
    const auto r = client.Get("/apiversions");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json.at("supported_versions").as_array().at(0).as_string(), "v1");
}

}  // namespace
}  // namespace rainmaker::testing
