// Listener and session on Boost.Beast 1.81. The session follows Beast's advanced server with the
// pipelining fix released in 1.85 (a bounded queue of responses, written strictly in request
// order, reading resumed when the queue has room) and the close handling fixed in 1.82 (a
// connection is shut down only after its last queued response is written).
//
// Limits on top of Beast's: a cap on open connections (past it a canned 503 at accept), a
// budget shared by all request bodies being read or handled (reserved from the header, before
// the body is read), a header deadline shorter than the keep-alive idle time, and an accept
// loop that backs off instead of spinning when the process is out of descriptors.
#include "http/server/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "core/log.hpp"
#include "http/server/budget.hpp"
#include "http/server/client_address.hpp"

namespace rainmaker::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

class Session;

// Answers to a connection or request refused by a server limit: the RainMaker envelope with
// 100070, the code clients already back off on, under HTTP 503 since the server, not the
// caller, is over its limit.
constexpr const char* kBusyDescription = "Server busy, try again later";
constexpr const char* kBusyRetryAfter = "1";  // seconds

// Descriptors the listener keeps open and gives up while accepts are paused for lack of them,
// so that the rest of the process (logging, SQLite, the broker link, a sanitizer's pipe) can
// still open a few; accepting resumes only once they could be taken back.
constexpr std::size_t kReserveDescriptors = 4;
constexpr auto kFirstAcceptBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxAcceptBackoff = std::chrono::milliseconds(1000);

// Refused connections being closed at once; past this they are closed without lingering.
constexpr std::uint64_t kMaxLingeringRefusals = 64;

// The first read of a request waits for any bytes at all (the keep-alive idle time).
constexpr std::size_t kFirstReadBytes = 4096;

std::string BusyBody() {
    return boost::json::serialize(boost::json::object{
        {"status", "failure"},
        {"error_code", core::Info(core::ErrorCode::kTooManyRequests).code},
        {"description", kBusyDescription}});
}

// The whole answer to a connection refused at accept, made once: the request is never parsed
// and nothing is allocated per refusal.
const std::string& RefusedConnectionAnswer() {
    static const std::string answer = [] {
        const std::string body = BusyBody();
        return std::string("HTTP/1.1 503 Service Unavailable\r\nServer: rainmaker-server\r\n") +
               "Content-Type: application/json\r\nRetry-After: " + kBusyRetryAfter +
               "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    }();
    return answer;
}

// Asio opens and accepts sockets without SOCK_CLOEXEC: without this, every program the server
// starts (Mosquitto) would inherit the listener and the client connections.
void SetCloseOnExec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) {
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

// The X-Forwarded-For lines of `request`, joined with ',' (several lines are one list).
std::string ForwardedFor(const bhttp::request<bhttp::string_body>& request) {
    std::string joined;
    for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it) {
        if (!joined.empty()) {
            joined += ',';
        }
        joined.append(it->value().data(), it->value().size());
    }
    return joined;
}

// Closes a connection whose client may still be sending (a refused connection, a body not
// read) without destroying the answer: closing a socket with unread input sends a reset, and
// the reset can overtake the answer still in flight. So the sending side is shut (FIN after
// the answer), what the client still sends is read and dropped for a short while, and then the
// socket is closed (nginx's lingering close).
class LingeringClose : public std::enable_shared_from_this<LingeringClose> {
public:
    static constexpr auto kLingerTime = std::chrono::seconds(2);
    static constexpr std::size_t kLingerBytes = std::size_t{1024} * 1024;

    // `slot` (a place under max_connections, or among the lingering refusals) is held until
    // the socket is closed.
    LingeringClose(tcp::socket&& socket, Budget::Reservation slot)
        : stream_(std::move(socket)), slot_(std::move(slot)) {}

    void Start() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) {
            stream_.socket().close(ec);
            return;
        }
        stream_.expires_after(kLingerTime);  // one deadline for all the reads below
        DoRead();
    }

private:
    void DoRead() {
        stream_.async_read_some(
            net::buffer(sink_),
            beast::bind_front_handler(&LingeringClose::OnRead, shared_from_this())
        );
    }

    void OnRead(beast::error_code ec, std::size_t bytes) {
        drained_ += bytes;
        if (ec || drained_ >= kLingerBytes) {
            beast::error_code ignored;
            stream_.socket().close(ignored);
            return;
        }
        DoRead();
    }

    beast::tcp_stream stream_;
    Budget::Reservation slot_;
    std::array<char, 4096> sink_{};
    std::size_t drained_ = 0;
};

// State shared by the listener and every session.
struct ServerContext {
    ServerContext(
        const HttpServerConfig& c,
        const Router& r,
        Metrics& m,
        net::thread_pool& w,
        net::thread_pool& h
    )
        : config(c),
          router(r),
          metrics(m),
          workers(w),
          heavy_workers(h),
          trusted_proxies(c.trusted_proxies),
          connections(c.max_connections),
          body_budget(c.max_pending_body_bytes) {}

    HttpServerConfig config;
    const Router& router;
    Metrics& metrics;
    net::thread_pool& workers;
    net::thread_pool& heavy_workers;
    TrustedProxies trusted_proxies;
    Budget connections;  // one unit per open connection
    Budget body_budget;  // bytes of bodies being read or handled
    Budget lingering_refusals{kMaxLingeringRefusals};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> next_request{0};

    std::mutex sessions_mutex;
    std::condition_variable sessions_gone;
    std::unordered_set<Session*> sessions;
    std::vector<std::weak_ptr<Session>> SnapshotSessions();
};

class Session : public std::enable_shared_from_this<Session> {
public:
    // `slot` is the connection's place under max_connections, held until it is closed.
    Session(tcp::socket&& socket, Budget::Reservation slot, ServerContext& context)
        : stream_(std::move(socket)), context_(context), slot_(std::move(slot)) {
        beast::error_code ec;
        const auto endpoint = stream_.socket().remote_endpoint(ec);
        if (ec) {
            client_address_ = "unknown";
        } else {
            peer_ = endpoint.address();
            client_address_ = ResolveClientAddress(peer_, {}, context_.trusted_proxies);
            peer_is_proxy_ = context_.trusted_proxies.Contains(peer_);
        }
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
        Budget::Reservation body;  // the request body's share, until its handler is done
    };

    void DoRead() {
        if (closed_ || read_closed_ || reading_ ||
            queue_.size() >= context_.config.pipeline_limit) {
            return;
        }
        reading_ = true;
        // A new parser per message: Beast's parser is not reusable, and the limits are per
        // message.
        parser_.emplace();
        parser_->body_limit(context_.config.max_body_bytes);
        parser_->header_limit(static_cast<std::uint32_t>(context_.config.max_header_bytes));
        if (buffer_.size() > 0) {
            DoReadHeader();  // pipelined: the next request has begun
            return;
        }
        // Between requests a keep-alive connection may idle for read_timeout; the header's own
        // deadline starts with its first byte.
        stream_.expires_after(context_.config.read_timeout);
        stream_.async_read_some(
            buffer_.prepare(kFirstReadBytes),
            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this())
        );
    }

    void OnFirstBytes(beast::error_code ec, std::size_t bytes) {
        buffer_.commit(bytes);
        if (ec) {
            OnReadFailed(ec);
            return;
        }
        DoReadHeader();
    }

    void DoReadHeader() {
        // A header trickling in byte by byte (slowloris) is cut at header_timeout.
        stream_.expires_after(context_.config.header_timeout);
        bhttp::async_read_header(
            stream_,
            buffer_,
            *parser_,
            beast::bind_front_handler(&Session::OnReadHeader, shared_from_this())
        );
    }

    void OnReadHeader(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            OnReadFailed(ec);
            return;
        }
        if (parser_->is_done()) {
            OnReadDone();
            return;
        }
        // The body's memory comes out of the shared budget before any of it is read: the
        // declared length (the parser has refused one above max_body_bytes already), or the
        // whole body limit for a chunked body, whose length nobody knows yet.
        const auto length = parser_->content_length();
        body_reservation_ =
            context_.body_budget.Reserve(length ? *length : context_.config.max_body_bytes);
        if (!body_reservation_) {
            reading_ = false;
            read_closed_ = true;
            discard_input_ = true;
            context_.metrics.CountRefusal(Metrics::Refusal::kBodyBudget);
            EnqueueBusy(parser_->get().version());
            return;
        }
        stream_.expires_after(context_.config.read_timeout);
        bhttp::async_read(
            stream_,
            buffer_,
            *parser_,
            beast::bind_front_handler(&Session::OnReadBody, shared_from_this())
        );
    }

    void OnReadBody(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            body_reservation_.Release();
            OnReadFailed(ec);
            return;
        }
        OnReadDone();
    }

    void OnReadDone() {
        reading_ = false;
        HandleRequest(parser_->release(), std::move(body_reservation_));
        DoRead();
    }

    void OnReadFailed(beast::error_code ec) {
        reading_ = false;
        read_closed_ = true;
        if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
            // The rest of the message is not read: answer and close.
            discard_input_ = true;
            EnqueueFinal(ApiResponse::Failure(core::ApiError(core::ErrorCode::kBodyTooLarge)), 11);
            return;
        }
        const bool malformed =
            ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
            ec != bhttp::error::end_of_stream;
        if (malformed) {
            // A malformed message gets a 400 before the connection closes; transport errors,
            // timeouts and the end of the stream just close.
            discard_input_ = true;
            EnqueueFinal(
                ApiResponse::Failure(core::ApiError(
                    core::ErrorCode::kInvalidBody, "Malformed HTTP request: " + ec.message()
                )),
                11
            );
            return;
        }
        if (queue_.empty() && !writing_) {
            DoClose();
        }
    }

    // A response after which the connection closes (it is the last in the queue).
    void EnqueueFinal(ApiResponse api, unsigned version) {
        auto slot = std::make_shared<Slot>();
        slot->response = MakeResponse(api, version, false, "-");
        queue_.push_back(slot);
        MaybeWrite();
    }

    void EnqueueBusy(unsigned version) {
        auto api = ApiResponse::Text(BusyBody(), "application/json", 503);
        api.headers.emplace_back("Retry-After", kBusyRetryAfter);
        EnqueueFinal(std::move(api), version);
    }

    void HandleRequest(
        bhttp::request<bhttp::string_body>&& raw, Budget::Reservation body_reservation
    ) {
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
        request->client_address =
            peer_is_proxy_
                ? ResolveClientAddress(peer_, ForwardedFor(raw), context_.trusted_proxies)
                : client_address_;
        request->request_id = MakeRequestId();

        const bool keep_alive = raw.keep_alive();
        const unsigned version = raw.version();
        if (!keep_alive) {
            read_closed_ = true;
        }
        auto slot = std::make_shared<Slot>();
        slot->body = std::move(body_reservation);
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
        slot->body.Release();  // the handler is done with the body
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
        if (closed_ || writing_ || queue_.empty() || !queue_.front()->response) {
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
        if (discard_input_) {
            // The client may still be sending what was not read: keep the answer from being
            // destroyed by a reset. The connection keeps its slot until the socket is closed.
            std::make_shared<LingeringClose>(std::move(stream_.socket()), std::move(slot_))
                ->Start();
            return;
        }
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
    Budget::Reservation slot_;
    Budget::Reservation body_reservation_;  // the body being read
    net::ip::address peer_;
    bool peer_is_proxy_ = false;  // its X-Forwarded-For names the client
    std::string client_address_;  // when the peer is not a proxy
    bool reading_ = false;
    bool writing_ = false;
    bool read_closed_ = false;
    bool closed_ = false;
    bool discard_input_ = false;  // closing with input unread: linger
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
        : ioc_(ioc),
          acceptor_(net::make_strand(ioc)),
          retry_timer_(acceptor_.get_executor()),
          context_(context) {
        acceptor_.open(endpoint.protocol());
        SetCloseOnExec(acceptor_.native_handle());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
        TakeReserve();
    }

    ~Listener() { ReleaseReserve(); }

    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    std::uint16_t Port() const { return acceptor_.local_endpoint().port(); }

    void Start() { DoAccept(); }

    void Stop() {
        net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->acceptor_.close(ec);
            self->retry_timer_.cancel();
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
        if (ec) {
            // Out of descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM): accepting
            // again at once would fail again at once, spinning a core while the backlog waits.
            BackOff(ec);
            return;
        }
        SetCloseOnExec(socket.native_handle());
        if (failed_accepts_ > 0) {
            core::log::Info(
                "http: accepting connections again after " + std::to_string(failed_accepts_) +
                " failed accepts"
            );
            failed_accepts_ = 0;
            backoff_ = {};
        }
        if (auto slot = context_.connections.Reserve(1)) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<Session>(std::move(socket), std::move(slot), context_)->Start();
        } else {
            Refuse(std::move(socket));
        }
        DoAccept();
    }

    // Past max_connections: a canned 503 written at once (it fits the empty send buffer), the
    // request never parsed, then a lingering close.
    void Refuse(tcp::socket socket) {
        context_.metrics.CountRefusal(Metrics::Refusal::kMaxConnections);
        beast::error_code ec;
        socket.non_blocking(true, ec);
        const auto& answer = RefusedConnectionAnswer();
        socket.write_some(net::buffer(answer), ec);
        if (auto slot = context_.lingering_refusals.Reserve(1)) {
            std::make_shared<LingeringClose>(std::move(socket), std::move(slot))->Start();
            return;
        }
        socket.shutdown(tcp::socket::shutdown_send, ec);
        socket.close(ec);
    }

    void BackOff(const beast::error_code& ec) {
        ReleaseReserve();  // first: what follows may need a descriptor
        context_.metrics.CountAcceptError();
        if (failed_accepts_++ == 0) {
            // Once per episode, not per attempt: the log must not flood either.
            core::log::Warn(
                "http: accept failed (" + ec.message() +
                "); new connections wait in the backlog, retrying every " +
                std::to_string(kFirstAcceptBackoff.count()) + " ms up to every " +
                std::to_string(kMaxAcceptBackoff.count()) + " ms"
            );
        }
        ScheduleRetry();
    }

    void ScheduleRetry() {
        backoff_ =
            backoff_.count() == 0 ? kFirstAcceptBackoff : std::min(backoff_ * 2, kMaxAcceptBackoff);
        retry_timer_.expires_after(backoff_);
        retry_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec || !self->acceptor_.is_open()) {
                return;
            }
            // Accept again only with the reserve back: the listener never takes the process's
            // last descriptors.
            if (!self->TakeReserve()) {
                self->ReleaseReserve();
                self->ScheduleRetry();
                return;
            }
            self->DoAccept();
        });
    }

    // Opens the reserve up to kReserveDescriptors; false when a descriptor could not be had.
    bool TakeReserve() {
        while (reserve_.size() < kReserveDescriptors) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                return false;
            }
            reserve_.push_back(fd);
        }
        return true;
    }

    void ReleaseReserve() {
        for (const int fd : reserve_) {
            ::close(fd);
        }
        reserve_.clear();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer retry_timer_;
    ServerContext& context_;
    std::vector<int> reserve_;
    std::chrono::milliseconds backoff_{};
    std::uint64_t failed_accepts_ = 0;
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

std::size_t DefaultMaxConnections() {
    constexpr std::uint64_t kCeiling = 10000;
    constexpr std::uint64_t kReserve = 128;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return kCeiling;
    }
    const std::uint64_t files = limit.rlim_cur;
    const std::uint64_t usable = files >= 2 * kReserve ? files - kReserve : files / 2;
    return static_cast<std::size_t>(std::clamp<std::uint64_t>(usable, 1, kCeiling));
}

namespace {

// Settings that would make the server refuse everything, or that it cannot read.
HttpServerConfig Checked(HttpServerConfig config) {
    if (config.max_connections == 0) {
        throw std::runtime_error("http.max_connections must be at least 1");
    }
    if (config.max_pending_body_bytes < config.max_body_bytes) {
        throw std::runtime_error(
            "http.max_pending_body_bytes (" + std::to_string(config.max_pending_body_bytes) +
            ") must be at least http.max_body_bytes (" + std::to_string(config.max_body_bytes) +
            "): a chunked body reserves the whole body limit"
        );
    }
    try {
        TrustedProxies{config.trusted_proxies};
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("http.trusted_proxies: ") + e.what());
    }
    return config;
}

}  // namespace

HttpServer::HttpServer(HttpServerConfig config, const Router& router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(Checked(std::move(config)), router, metrics)) {}

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
    impl_->context.metrics.SetConnectionGauges([context = &impl_->context] {
        return Metrics::ConnectionGauges{context->connections.used(), context->body_budget.used()};
    });
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
    impl_->context.metrics.SetConnectionGauges({});  // the metrics outlive the server
}

}  // namespace rainmaker::http
