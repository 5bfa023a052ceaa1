// Feeds raw bytes, as a client sends them on one connection, to Beast's request parser with the
// server's limits, then every parsed request to what the session and the router do before any
// handler of an area runs (target split, query, JSON body, route lookup, metrics, the response
// written back): all of it is reachable by anyone who can open a connection.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "fuzz_support.hpp"
#include "http/api/system_routes.hpp"
#include "http/server/api_request.hpp"
#include "http/server/http_server.hpp"
#include "http/server/metrics.hpp"
#include "http/server/router.hpp"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using rainmaker::core::ApiError;
using rainmaker::core::ErrorCode;
using rainmaker::http::Access;
using rainmaker::http::ApiRequest;
using rainmaker::http::ApiResponse;
using rainmaker::http::Router;

// The bytes of one connection, handed out at most `chunk` at a time (0: all at once), as TCP
// may split them. A SyncReadStream, so that bhttp::read drives the parser as async_read does.
class ConnectionBytes {
public:
    ConnectionBytes(std::string_view bytes, std::size_t chunk) : rest_(bytes), chunk_(chunk) {}

    template <typename MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
        if (rest_.empty()) {
            ec = net::error::eof;
            return 0;
        }
        ec = {};
        const std::size_t limit = chunk_ == 0 ? rest_.size() : std::min(chunk_, rest_.size());
        const std::size_t n = net::buffer_copy(buffers, net::buffer(rest_.data(), limit));
        rest_.remove_prefix(n);
        return n;
    }

    template <typename MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers) {
        beast::error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec) {
            throw beast::system_error(ec);
        }
        return n;
    }

private:
    std::string_view rest_;
    std::size_t chunk_;
};

// Authenticated routes are found but refused: accounts are token_fuzz's part.
class NoAccounts final : public rainmaker::domain::auth::Authenticator {
public:
    rainmaker::domain::auth::AuthContext Authenticate(std::string_view /*token*/) override {
        throw ApiError(ErrorCode::kUnauthorized);
    }
};

struct Server {
    Server() : router(accounts) {
        // The system routes run as in the server (they need no services); a few area routes
        // stand in for the rest of the table, to reach 405 and the authentication step.
        rainmaker::http::api::AddSystemRoutes(router, metrics, R"({"keys":[]})");
        const auto ok = [](const ApiRequest&) { return ApiResponse::Success("ok"); };
        router.Add("GET", "/v1/user2", Access::kUser, ok);
        router.Add("PUT", "/v1/user2", Access::kUser, ok);
        router.Add("GET", "/v1/user/nodes", Access::kUser, ok);
        router.Add("PUT", "/v1/user/nodes/params", Access::kUser, ok);
        router.Add("GET", "/v1/admin/node_group", Access::kAdmin, ok);
        router.Add("POST", "/v1/login2", Access::kPublic, ok);
    }

    rainmaker::http::HttpServerConfig config;
    NoAccounts accounts;
    rainmaker::http::Metrics metrics;
    Router router;
};

// Metrics labels must stay a small fixed set whatever clients send, or every new method token
// would add series to /metrics for as long as the server runs.
void CheckMethodLabels(const rainmaker::http::Metrics& metrics) {
    static constexpr std::array<std::string_view, 10> kKnown = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"};
    const std::string text = metrics.Render();
    constexpr std::string_view kLabel = "method=\"";
    for (auto at = text.find(kLabel); at != std::string::npos; at = text.find(kLabel, at)) {
        at += kLabel.size();
        const std::string_view method(text.data() + at, text.find('"', at) - at);
        if (std::find(kKnown.begin(), kKnown.end(), method) == kKnown.end()) {
            std::fprintf(
                stderr,
                "unbounded metrics label: method=\"%.*s\"\n",
                static_cast<int>(method.size()),
                method.data()
            );
            std::abort();
        }
    }
}

// What the session writes back: the same fields as Session::MakeResponse.
void WriteResponse(ApiResponse& api, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(api.status), version};
    response.set(bhttp::field::server, "rainmaker-server");
    response.set(bhttp::field::content_type, api.content_type);
    response.set("X-Request-Id", "000000000001");
    for (auto& [name, value] : api.headers) {
        response.set(name, value);
    }
    response.keep_alive(keep_alive);
    response.body() = std::move(api.body);
    response.prepare_payload();
    std::ostringstream out;
    out << response;
}

// The reads a handler does on the query, each of which may refuse the request.
void ReadQuery(const rainmaker::http::QueryParams& query) {
    for (const auto& [key, value] : query.All()) {
        if (key.empty() || value == "undefined") {
            std::abort();  // QueryParams promises neither
        }
    }
    rainmaker::fuzz::Refusable([&] { query.Bool("node_details", false); });
    rainmaker::fuzz::Refusable([&] { query.Int("num_records", 25); });
    query.FindAny({"node_id", "nodeid"});
    query.Find("start_id");
}

// One request, as Session::HandleRequest and Router::Dispatch treat it; false when the
// connection would not be read further.
bool HandleOne(Server& server, ConnectionBytes& stream, beast::flat_buffer& buffer) {
    // A new parser per message with the server's limits, as in Session::DoRead.
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(server.config.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(server.config.max_header_bytes));
    beast::error_code ec;
    bhttp::read(stream, buffer, parser, ec);
    if (ec) {
        if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
            auto api = ApiResponse::Failure(ApiError(ErrorCode::kBodyTooLarge));
            WriteResponse(api, 11, false);
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
            auto api = ApiResponse::Failure(
                ApiError(ErrorCode::kInvalidBody, "Malformed HTTP request: " + ec.message())
            );
            WriteResponse(api, 11, false);
        }
        return false;
    }
    auto raw = parser.release();

    ApiRequest request;
    request.method = std::string(raw.method_string());
    const std::string_view target = raw.target();
    const auto question = target.find('?');
    request.target = std::string(target.substr(0, question));
    if (question != std::string_view::npos) {
        request.query = rainmaker::http::QueryParams(target.substr(question + 1));
    }
    request.body = std::move(raw.body());
    request.authorization = std::string(raw[bhttp::field::authorization]);
    request.client_address = "127.0.0.1";
    request.request_id = "000000000001";
    ReadQuery(request.query);

    // What a handler does first with the body.
    rainmaker::fuzz::Refusable([&] { request.Json(); });
    rainmaker::fuzz::Refusable([&] { request.JsonObject(); });

    ApiResponse response = server.router.Dispatch(request);
    server.metrics.Observe(request.method, request.route, response.status, {});
    WriteResponse(response, raw.version(), raw.keep_alive());
    return raw.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    rainmaker::fuzz::SilenceLogs();
    return 0;
}

// Input: one byte giving the read size (0: everything at once), then the connection's bytes.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A new router and metrics per input (a few microseconds), so that what /metrics answers
    // depends on this input alone; one unknown method is enough to show an unbounded label.
    Server server;
    if (size == 0) {
        return 0;
    }
    ConnectionBytes stream(rainmaker::fuzz::AsText(data + 1, size - 1), data[0]);
    beast::flat_buffer buffer;
    // The session reads at most pipeline_limit requests ahead; a connection may carry more over
    // time, but a few show how one request's leftovers start the next.
    for (int i = 0; i < 8 && HandleOne(server, stream, buffer); ++i) {
    }
    CheckMethodLabels(server.metrics);
    return 0;
}
