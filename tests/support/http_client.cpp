// Beast's synchronous client calls, reconnecting when the server closed the connection.
#include "support/http_client.hpp"

#include <chrono>
#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace rainmaker::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

std::string HttpResult::Str(const std::string& key) const {
    if (!json.is_object()) {
        return {};
    }
    const auto* v = json.as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

std::int64_t HttpResult::ErrorCode() const {
    if (!json.is_object()) {
        return 0;
    }
    const auto* v = json.as_object().if_contains("error_code");
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

bool HttpResult::IsFailureEnvelope() const {
    if (!json.is_object()) {
        return false;
    }
    const auto& o = json.as_object();
    return o.size() == 3 && Str("status") == "failure" && ErrorCode() >= 100000 &&
           o.contains("description") && o.at("description").is_string() &&
           !o.at("description").as_string().empty();
}

struct HttpClient::Impl {
    explicit Impl(std::uint16_t p) : port(p) {}

    std::uint16_t port;
    net::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;

    void Connect() {
        stream.emplace(ioc);
        stream->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        buffer.clear();
    }
};

HttpClient::HttpClient(std::uint16_t port) : impl_(std::make_unique<Impl>(port)) {}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::Request(
    const std::string& method,
    const std::string& target,
    const std::string& body,
    const std::map<std::string, std::string>& headers
) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            if (!impl_->stream) {
                impl_->Connect();
            }
            bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
            req.set(bhttp::field::host, "127.0.0.1");
            req.keep_alive(true);
            for (const auto& [k, v] : headers) {
                req.set(k, v);
            }
            req.body() = body;
            req.prepare_payload();
            impl_->stream->expires_after(std::chrono::seconds(60));
            bhttp::write(*impl_->stream, req);
            bhttp::response_parser<bhttp::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            bhttp::read(*impl_->stream, impl_->buffer, parser);
            auto res = parser.release();
            HttpResult result;
            result.status = static_cast<int>(res.result_int());
            result.body = res.body();
            for (const auto& field : res) {
                std::string name(field.name_string());
                for (auto& c : name) {
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                }
                result.headers[name] = std::string(field.value());
            }
            boost::system::error_code ec;
            result.json = boost::json::parse(result.body, ec);
            if (ec) {
                result.json = nullptr;
            }
            if (!res.keep_alive()) {
                impl_->stream.reset();
            }
            return result;
        } catch (const boost::system::system_error&) {
            impl_->stream.reset();
            if (attempt == 1) {
                throw;
            }
        }
    }
    return {};
}

namespace {
std::map<std::string, std::string> AuthHeaders(const std::string& token) {
    std::map<std::string, std::string> h;
    if (!token.empty()) {
        h["Authorization"] = token;
    }
    return h;
}
}  // namespace

HttpResult HttpClient::Get(const std::string& target, const std::string& token) {
    return Request("GET", target, {}, AuthHeaders(token));
}

HttpResult HttpClient::Post(
    const std::string& target, const boost::json::value& body, const std::string& token
) {
    auto h = AuthHeaders(token);
    h["Content-Type"] = "application/json";
    return Request("POST", target, boost::json::serialize(body), h);
}

HttpResult HttpClient::Put(
    const std::string& target, const boost::json::value& body, const std::string& token
) {
    auto h = AuthHeaders(token);
    h["Content-Type"] = "application/json";
    return Request("PUT", target, boost::json::serialize(body), h);
}

HttpResult HttpClient::Delete(const std::string& target, const std::string& token) {
    return Request("DELETE", target, {}, AuthHeaders(token));
}

std::string HttpClient::Raw(const std::string& bytes, int timeout_ms) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), impl_->port));
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    net::write(stream, net::buffer(bytes));
    std::string out;
    char chunk[4096];
    for (;;) {
        boost::system::error_code ec;
        const auto n = stream.read_some(net::buffer(chunk), ec);
        out.append(chunk, n);
        if (ec) {
            break;
        }
    }
    return out;
}

}  // namespace rainmaker::testing
