// The ceiling for `make bench`: the least a Beast 1.81 HTTP/1.1 server can do per request on
// this machine (async, keep-alive, a strand per connection, a fixed small JSON body), so the
// rainmaker-server figures can be read as a fraction of it.
//
// Usage: bare_beast_server [--threads N] PORT    (PORT 0 picks a free port; N defaults to 2)
// Prints `listening on http://127.0.0.1:PORT` once it accepts connections.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The same body rainmaker-server returns for GET /apiversions, so the two runs move the same
// number of bytes.
constexpr std::string_view kBody = R"({"supported_versions":["v1"],"additional_info":[]})";

// Same defences as the real session: a read timeout and a small body limit. They cost little
// and leaving them out would make the ceiling unfairly high.
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kBodyLimit = 64 * 1024;

// Builds the answer per request (as a real handler would) instead of reusing one serialized
// buffer, so the ceiling includes Beast's header formatting.
http::response<http::string_body> MakeResponse(const http::request<http::string_body>& request) {
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(request.keep_alive());
    response.body() = kBody;
    response.prepare_payload();
    return response;
}

// One connection: read a request, write the answer, repeat until the peer closes. Requests are
// answered one at a time (no pipelining), which is what wrk sends.
class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket&& socket) : stream_(std::move(socket)) {}

    void Start() {
        // Run the first read on the connection's strand so every handler of this session is
        // serialized without locks.
        asio::dispatch(
            stream_.get_executor(), beast::bind_front_handler(&Session::DoRead, shared_from_this())
        );
    }

private:
    void DoRead() {
        // A new parser per message: a parser is single-use, and the body limit applies to
        // each request rather than to the connection.
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
            return;  // timeout, reset or bad request: drop the connection
        }
        response_ = MakeResponse(parser_->get());
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
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
};

// Accepts connections and gives each one its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(asio::io_context& ioc, const tcp::endpoint& endpoint)
        : ioc_(ioc), acceptor_(asio::make_strand(ioc)) {
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
            std::make_shared<Session>(std::move(socket))->Start();
        }
        DoAccept();
    }

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
};

struct Options {
    unsigned short port = 0;
    int threads = 2;
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
            if (!ParseInt(args[++i], 1, 256, options.threads)) {
                return std::nullopt;
            }
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
    if (!have_port) {
        return std::nullopt;
    }
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = ParseOptions(argc, argv);
    if (!options) {
        std::cerr << "usage: bare_beast_server [--threads N] PORT   (PORT 0 picks a free port)\n";
        return EXIT_FAILURE;
    }
    try {
        asio::io_context ioc{options->threads};
        const auto listener = std::make_shared<Listener>(
            ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), options->port}
        );
        listener->Start();

        // Stop cleanly on SIGINT/SIGTERM so run.sh's trap leaves no stray process.
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
    } catch (const std::exception& e) {
        std::cerr << "bare_beast_server: " << e.what() << '\n';
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
