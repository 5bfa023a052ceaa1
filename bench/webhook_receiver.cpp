// The receiving end of `bench/webhooks.sh`: a keep-alive Beast HTTP/1.1 server that accepts
// every webhook POST (200 with `{}`), checks its X-Rainmaker-Signature against the shared
// secret, and counts what zero loss and per-node order need: distinct (webhook_name, event_id)
// pairs, duplicates, and event ids that went backwards for a (webhook_name, node_id).
//
// Usage: webhook_receiver --secret S [--threads N] PORT   (PORT 0 picks a free port; N: 1)
// Prints `listening on http://127.0.0.1:PORT` once it accepts connections. `GET /stats`
// answers the counters as JSON; SIGINT or SIGTERM prints them on stdout and stops.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kReadTimeout = std::chrono::seconds(60);
constexpr std::uint64_t kBodyLimit = 1024 * 1024;  // the server posts bodies far below this

// Seconds since the epoch, as the script's `date +%s.%N`.
double UnixSeconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(
        EVP_sha256(),
        key.data(),
        static_cast<int>(key.size()),
        reinterpret_cast<const unsigned char*>(data.data()),
        data.size(),
        mac,
        &size
    );
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[mac[i] >> 4];
        out += kHex[mac[i] & 0xF];
    }
    return out;
}

// What one integration delivered.
struct WebhookCounts {
    std::uint64_t posts = 0;
    std::uint64_t duplicates = 0;    // an event id seen before for this webhook_name
    std::uint64_t out_of_order = 0;  // a new event id below the node's newest one
    std::unordered_set<std::int64_t> seen;
    std::unordered_map<std::string, std::int64_t> newest;  // node_id → highest event id
    double first_s = 0;                                    // first and last post accepted
    double last_s = 0;
};

// Every counter, behind one lock: a post's bookkeeping is a few hash lookups, far below the
// cost of the request itself.
class Stats {
public:
    explicit Stats(std::string secret) : secret_(std::move(secret)) {}

    void Count(std::string_view signature, const std::string& body) {
        const bool signed_ok = signature == "sha256=" + HmacSha256Hex(secret_, body);
        boost::system::error_code ec;
        const auto parsed = boost::json::parse(body, ec);
        std::string webhook;
        std::string node;
        std::int64_t event_id = 0;
        bool body_ok = !ec && parsed.is_object();
        if (body_ok) {
            const auto& o = parsed.as_object();
            const auto* id = o.if_contains("event_id");
            const auto* name = o.if_contains("webhook_name");
            const auto* node_id = o.if_contains("node_id");
            body_ok = id != nullptr && id->is_int64() && name != nullptr && name->is_string() &&
                      node_id != nullptr && node_id->is_string();
            if (body_ok) {
                event_id = id->as_int64();
                webhook = name->as_string().c_str();
                node = node_id->as_string().c_str();
            }
        }
        const double now = UnixSeconds();
        std::lock_guard lock(mutex_);
        ++posts_;
        body_bytes_ += body.size();
        bad_signatures_ += signed_ok ? 0 : 1;
        if (!body_ok) {
            ++bad_bodies_;
            return;
        }
        auto& w = webhooks_[webhook];
        ++w.posts;
        if (w.first_s == 0) {
            w.first_s = now;
        }
        w.last_s = now;
        if (!w.seen.insert(event_id).second) {
            ++w.duplicates;
            return;
        }
        auto [newest, added] = w.newest.try_emplace(node, event_id);
        if (!added) {
            if (event_id < newest->second) {
                ++w.out_of_order;
            } else {
                newest->second = event_id;
            }
        }
    }

    void CountOther() {
        std::lock_guard lock(mutex_);
        ++other_requests_;
    }

    std::string Json() {
        std::lock_guard lock(mutex_);
        boost::json::object hooks;
        for (const auto& [name, w] : webhooks_) {
            hooks[name] = boost::json::object{
                {"posts", w.posts},
                {"distinct", w.seen.size()},
                {"duplicates", w.duplicates},
                {"out_of_order", w.out_of_order},
                {"nodes", w.newest.size()},
                {"first_post_s", w.first_s},
                {"last_post_s", w.last_s}};
        }
        return boost::json::serialize(boost::json::object{
            {"posts", posts_},
            {"other_requests", other_requests_},
            {"bad_signatures", bad_signatures_},
            {"bad_bodies", bad_bodies_},
            {"body_bytes", body_bytes_},
            {"webhooks", std::move(hooks)}});
    }

private:
    const std::string secret_;
    std::mutex mutex_;
    std::uint64_t posts_ = 0;
    std::uint64_t other_requests_ = 0;  // GET /stats and anything not a POST
    std::uint64_t bad_signatures_ = 0;
    std::uint64_t bad_bodies_ = 0;  // not JSON, or without event_id, webhook_name, node_id
    std::uint64_t body_bytes_ = 0;
    std::map<std::string, WebhookCounts> webhooks_;
};

http::response<http::string_body> MakeResponse(
    const http::request<http::string_body>& request, Stats& stats
) {
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(request.keep_alive());
    if (request.method() == http::verb::post) {
        stats.Count(request["X-Rainmaker-Signature"], request.body());
        response.body() = "{}";
    } else if (request.method() == http::verb::get && request.target() == "/stats") {
        stats.CountOther();
        response.body() = stats.Json();
    } else {
        stats.CountOther();
        response.result(http::status::not_found);
        response.body() = "{}";
    }
    response.prepare_payload();
    return response;
}

// One connection, as the server's session reads them: a new parser per request with a body
// limit, a timeout before every read, one request at a time.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, Stats& stats) : stream_(std::move(socket)), stats_(stats) {}

    void Start() {
        asio::dispatch(
            stream_.get_executor(), beast::bind_front_handler(&Session::DoRead, shared_from_this())
        );
    }

private:
    void DoRead() {
        parser_.emplace();
        parser_->body_limit(kBodyLimit);
        stream_.expires_after(kReadTimeout);
        http::async_read(
            stream_,
            buffer_,
            *parser_,
            beast::bind_front_handler(&Session::OnRead, shared_from_this())
        );
    }

    void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec == http::error::end_of_stream) {
            DoClose();
            return;
        }
        if (ec) {
            return;
        }
        response_ = MakeResponse(parser_->get(), stats_);
        http::async_write(
            stream_, response_, beast::bind_front_handler(&Session::OnWrite, shared_from_this())
        );
    }

    void OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            return;
        }
        if (!response_.keep_alive()) {
            DoClose();
            return;
        }
        DoRead();
    }

    void DoClose() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    beast::tcp_stream stream_;
    Stats& stats_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(asio::io_context& ioc, const tcp::endpoint& endpoint, Stats& stats)
        : ioc_(ioc), acceptor_(asio::make_strand(ioc)), stats_(stats) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    unsigned short Port() const { return acceptor_.local_endpoint().port(); }

    void Start() { DoAccept(); }

private:
    void DoAccept() {
        acceptor_.async_accept(
            asio::make_strand(ioc_),
            beast::bind_front_handler(&Listener::OnAccept, shared_from_this())
        );
    }

    void OnAccept(beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            socket.set_option(tcp::no_delay(true));
            std::make_shared<Session>(std::move(socket), stats_)->Start();
        }
        DoAccept();
    }

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    Stats& stats_;
};

struct Options {
    unsigned short port = 0;
    int threads = 1;
    std::string secret;
};

bool ParseInt(std::string_view text, int min, int max, int& out) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return false;
    }
    out = value;
    return true;
}

std::optional<Options> ParseOptions(int argc, char** argv) {
    Options options;
    bool have_port = false;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--threads" && i + 1 < args.size()) {
            if (!ParseInt(args[++i], 1, 64, options.threads)) {
                return std::nullopt;
            }
        } else if (args[i] == "--secret" && i + 1 < args.size()) {
            options.secret = args[++i];
        } else if (!have_port) {
            int port = 0;
            if (!ParseInt(args[i], 0, 65535, port)) {
                return std::nullopt;
            }
            options.port = static_cast<unsigned short>(port);
            have_port = true;
        } else {
            return std::nullopt;
        }
    }
    if (!have_port || options.secret.empty()) {
        return std::nullopt;
    }
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = ParseOptions(argc, argv);
    if (!options) {
        std::cerr << "usage: webhook_receiver --secret S [--threads N] PORT"
                     "   (PORT 0 picks a free port)\n";
        return EXIT_FAILURE;
    }
    try {
        Stats stats(options->secret);
        asio::io_context ioc{options->threads};
        const auto listener = std::make_shared<Listener>(
            ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), options->port}, stats
        );
        listener->Start();

        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });

        std::cout << "listening on http://127.0.0.1:" << listener->Port() << std::endl;

        std::vector<std::thread> threads;
        threads.reserve(static_cast<std::size_t>(options->threads - 1));
        for (int i = 1; i < options->threads; ++i) {
            threads.emplace_back([&ioc] { ioc.run(); });
        }
        ioc.run();
        for (auto& thread : threads) {
            thread.join();
        }
        std::cout << stats.Json() << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "webhook_receiver: " << e.what() << '\n';
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
