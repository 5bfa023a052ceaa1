// Listener and session on Boost.Beast 1.81. The session follows Beast's advanced server with the
// pipelining fix released in 1.85 (a bounded queue of responses, written strictly in request
// order, reading resumed when the queue has room) and the close handling fixed in 1.82 (a
// connection is shut down only after its last queued response is written).
#include "http/server/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/log.hpp"

namespace rainmaker::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

class Session;

// State shared by the listener and every session.
struct ServerContext {
    ServerContext(
        const HttpServerConfig& c,
        const Router& r,
        Metrics& m,
        net::thread_pool& w,
        net::thread_pool& h
    )
        : config(c), router(r), metrics(m), workers(w), heavy_workers(h) {}

    HttpServerConfig config;
    const Router& router;
    Metrics& metrics;
    net::thread_pool& workers;
    net::thread_pool& heavy_workers;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> next_request{0};

    std::mutex sessions_mutex;
    std::condition_variable sessions_gone;
    std::unordered_set<Session*> sessions;
    std::vector<std::weak_ptr<Session>> SnapshotSessions();
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, ServerContext& context)
        : stream_(std::move(socket)), context_(context) {
        beast::error_code ec;
        const auto endpoint = stream_.socket().remote_endpoint(ec);
        client_address_ = ec ? "unknown" : endpoint.address().to_string();
        std::lock_guard lock(context_.sessions_mutex);
        context_.sessions.insert(this);
    }

    ~Session() {
        std::lock_guard lock(context_.sessions_mutex);
        context_.sessions.erase(this);
        context_.sessions_gone.notify_all();
    }

    void Start() {
        net::dispatch(
            stream_.get_executor(), beast::bind_front_handler(&Session::DoRead, shared_from_this())
        );
    }

    // Called at server stop: finish what was read, read nothing more.
    void Shutdown() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->read_closed_ = true;
            if (self->queue_.empty() && !self->writing_) {
                self->DoClose();
            }
        });
    }

private:
    struct Slot {
        std::optional<bhttp::response<bhttp::string_body>> response;
    };

    void DoRead() {
        if (read_closed_ || reading_ || queue_.size() >= context_.config.pipeline_limit) {
            return;
        }
        reading_ = true;
        // A new parser per message: Beast's parser is not reusable, and the limits are per
        // message.
        parser_.emplace();
        parser_->body_limit(context_.config.max_body_bytes);
        parser_->header_limit(static_cast<std::uint32_t>(context_.config.max_header_bytes));
        stream_.expires_after(context_.config.read_timeout);
        bhttp::async_read(
            stream_,
            buffer_,
            *parser_,
            beast::bind_front_handler(&Session::OnRead, shared_from_this())
        );
    }

    void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
        reading_ = false;
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof) {
            read_closed_ = true;
            if (queue_.empty() && !writing_) {
                DoClose();
            }
            return;
        }
        if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
            // The rest of the body is not read: answer and close.
            read_closed_ = true;
            EnqueueError(core::ApiError(core::ErrorCode::kBodyTooLarge), 11);
            return;
        }
        if (ec == beast::error::timeout || ec == net::error::operation_aborted) {
            read_closed_ = true;
            if (queue_.empty() && !writing_) {
                DoClose();
            }
            return;
        }
        if (ec) {
            read_closed_ = true;
            // A malformed message gets a 400 before the connection closes; transport errors
            // just close.
            if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
                EnqueueError(
                    core::ApiError(
                        core::ErrorCode::kInvalidBody, "Malformed HTTP request: " + ec.message()
                    ),
                    11
                );
            } else if (queue_.empty() && !writing_) {
                DoClose();
            }
            return;
        }
        HandleRequest(parser_->release());
        DoRead();
    }

    void EnqueueError(const core::ApiError& error, unsigned version) {
        auto api = ApiResponse::Failure(error);
        auto slot = std::make_shared<Slot>();
        slot->response = MakeResponse(api, version, false, "-");
        queue_.push_back(slot);
        MaybeWrite();
    }

    void HandleRequest(bhttp::request<bhttp::string_body>&& raw) {
        const auto started = std::chrono::steady_clock::now();
        auto request = std::make_shared<ApiRequest>();
        request->method = std::string(raw.method_string());
        const std::string_view target = raw.target();
        const auto question = target.find('?');
        request->target = std::string(target.substr(0, question));
        if (question != std::string_view::npos) {
            request->query = QueryParams(target.substr(question + 1));
        }
        request->body = std::move(raw.body());
        request->authorization = std::string(raw[bhttp::field::authorization]);
        request->client_address = client_address_;
        request->request_id = MakeRequestId();

        const bool keep_alive = raw.keep_alive();
        const unsigned version = raw.version();
        if (!keep_alive) {
            read_closed_ = true;
        }
        auto slot = std::make_shared<Slot>();
        queue_.push_back(slot);

        const Route* route = nullptr;
        try {
            route = &context_.router.Find(request->method, request->target);
        } catch (const core::ApiError& error) {
            request->route = "unmatched";
            Complete(slot, *request, ApiResponse::Failure(error), version, keep_alive, started);
            return;
        }
        if (route->execution == Execution::kInline) {
            Complete(
                slot, *request, context_.router.Run(*route, *request), version, keep_alive, started
            );
            return;
        }
        // Handlers may block on the store: run them on the worker pool, then come back to this
        // connection's strand to write.
        auto& pool =
            route->execution == Execution::kHeavy ? context_.heavy_workers : context_.workers;
        net::post(
            pool,
            [self = shared_from_this(), slot, request, route, version, keep_alive, started] {
                auto response = self->context_.router.Run(*route, *request);
                net::post(
                    self->stream_.get_executor(),
                    [self,
                     slot,
                     request,
                     response = std::move(response),
                     version,
                     keep_alive,
                     started]() mutable {
                        self->Complete(
                            slot, *request, std::move(response), version, keep_alive, started
                        );
                    }
                );
            }
        );
    }

    void Complete(
        const std::shared_ptr<Slot>& slot,
        const ApiRequest& request,
        ApiResponse response,
        unsigned version,
        bool keep_alive,
        std::chrono::steady_clock::time_point started
    ) {
        const auto latency = std::chrono::steady_clock::now() - started;
        context_.metrics.Observe(request.method, request.route, response.status, latency);
        if (core::log::Enabled(core::log::Level::kInfo)) {
            core::log::Info(
                "http method=" + request.method + " path=" + request.target +
                " route=" + request.route + " status=" + std::to_string(response.status) + " us=" +
                std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(latency).count(
                )) +
                " client=" + request.client_address + " id=" + request.request_id
            );
        }
        slot->response = MakeResponse(response, version, keep_alive, request.request_id);
        MaybeWrite();
    }

    bhttp::response<bhttp::string_body> MakeResponse(
        ApiResponse& api, unsigned version, bool keep_alive, const std::string& request_id
    ) const {
        bhttp::response<bhttp::string_body> response{
            static_cast<bhttp::status>(api.status), version};
        response.set(bhttp::field::server, "rainmaker-server");
        response.set(bhttp::field::content_type, api.content_type);
        response.set("X-Request-Id", request_id);
        for (auto& [name, value] : api.headers) {
            response.set(name, value);
        }
        response.keep_alive(keep_alive && !context_.stopping);
        response.body() = std::move(api.body);
        response.prepare_payload();
        return response;
    }

    void MaybeWrite() {
        if (writing_ || queue_.empty() || !queue_.front()->response) {
            return;
        }
        writing_ = true;
        auto& response = *queue_.front()->response;
        stream_.expires_after(context_.config.read_timeout);
        bhttp::async_write(
            stream_,
            response,
            beast::bind_front_handler(&Session::OnWrite, shared_from_this(), response.keep_alive())
        );
    }

    void OnWrite(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
        writing_ = false;
        queue_.pop_front();
        if (ec || !keep_alive) {
            read_closed_ = true;
            DoClose();
            return;
        }
        if (read_closed_ && queue_.empty()) {
            DoClose();
            return;
        }
        MaybeWrite();
        DoRead();  // resumes reading if the queue was full
    }

    void DoClose() {
        if (closed_) {
            return;
        }
        closed_ = true;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    std::string MakeRequestId() {
        const auto n = context_.next_request.fetch_add(1, std::memory_order_relaxed);
        char buffer[24];
        std::snprintf(buffer, sizeof(buffer), "%012llx", static_cast<unsigned long long>(n));
        return buffer;
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::deque<std::shared_ptr<Slot>> queue_;
    ServerContext& context_;
    std::string client_address_;
    bool reading_ = false;
    bool writing_ = false;
    bool read_closed_ = false;
    bool closed_ = false;
};

std::vector<std::weak_ptr<Session>> ServerContext::SnapshotSessions() {
    std::vector<std::weak_ptr<Session>> out;
    std::lock_guard lock(sessions_mutex);
    for (auto* session : sessions) {
        out.push_back(session->weak_from_this());
    }
    return out;
}

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, ServerContext& context, const tcp::endpoint& endpoint)
        : ioc_(ioc), acceptor_(net::make_strand(ioc)), context_(context) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    std::uint16_t Port() const { return acceptor_.local_endpoint().port(); }

    void Start() { DoAccept(); }

    void Stop() {
        net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->acceptor_.close(ec);
        });
    }

private:
    void DoAccept() {
        acceptor_.async_accept(
            net::make_strand(ioc_),
            beast::bind_front_handler(&Listener::OnAccept, shared_from_this())
        );
    }

    void OnAccept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
            return;
        }
        if (!ec) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<Session>(std::move(socket), context_)->Start();
        }
        DoAccept();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    ServerContext& context_;
};

}  // namespace

struct HttpServer::Impl {
    Impl(HttpServerConfig c, const Router& router, Metrics& metrics)
        : config(std::move(c)),
          workers(static_cast<std::size_t>(config.worker_threads)),
          heavy_workers(static_cast<std::size_t>(config.heavy_threads)),
          context(config, router, metrics, workers, heavy_workers),
          ioc(config.io_threads) {}

    // Declaration order matters: the io_context is destroyed before the context its pending
    // sessions refer to.
    HttpServerConfig config;
    net::thread_pool workers;
    net::thread_pool heavy_workers;
    ServerContext context;
    net::io_context ioc;
    std::shared_ptr<Listener> listener;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
    std::vector<std::thread> threads;
    bool stopped = false;
};

int DefaultThreads(int cores_per_thread) {
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    return std::max(1, cores / cores_per_thread);
}

HttpServer::HttpServer(HttpServerConfig config, const Router& router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), router, metrics)) {}

HttpServer::~HttpServer() {
    Stop();
}

std::uint16_t HttpServer::Start() {
    beast::error_code ec;
    const auto address = net::ip::make_address(impl_->config.address, ec);
    if (ec) {
        throw std::runtime_error("invalid listen address " + impl_->config.address);
    }
    try {
        impl_->listener = std::make_shared<Listener>(
            impl_->ioc, impl_->context, tcp::endpoint{address, impl_->config.port}
        );
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(
            "cannot listen on " + impl_->config.address + ":" + std::to_string(impl_->config.port) +
            ": " + e.what()
        );
    }
    impl_->listener->Start();
    impl_->guard.emplace(impl_->ioc.get_executor());
    for (int i = 0; i < impl_->config.io_threads; ++i) {
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
    }
    return impl_->listener->Port();
}

void HttpServer::Stop() {
    if (impl_->stopped || !impl_->listener) {
        return;
    }
    impl_->stopped = true;
    impl_->context.stopping = true;
    impl_->listener->Stop();
    for (auto& weak : impl_->context.SnapshotSessions()) {
        if (auto session = weak.lock()) {
            session->Shutdown();
        }
    }
    {
        std::unique_lock lock(impl_->context.sessions_mutex);
        impl_->context.sessions_gone.wait_for(lock, impl_->config.shutdown_grace, [this] {
            return impl_->context.sessions.empty();
        });
    }
    impl_->guard.reset();
    impl_->ioc.stop();
    for (auto& thread : impl_->threads) {
        thread.join();
    }
    impl_->workers.join();
    impl_->heavy_workers.join();
}

}  // namespace rainmaker::http
