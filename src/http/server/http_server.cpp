// Listener and session on Boost.Beast 1.81. The session follows Beast's advanced server with the
// pipelining fix released in 1.85 (a bounded queue of responses, written strictly in request
// order, reading resumed when the queue has room) and the close handling fixed in 1.82 (a
// connection is shut down only after its last queued response is written).
//
// Limits on top of Beast's: caps on open connections, in all and per peer address (past them a
// canned 503 at accept); a budget for the bytes held by request bodies being read or handled, in
// all and per client address, charged as the bytes arrive (a declared length costs nothing); a
// header deadline shorter than the keep-alive idle time and one deadline for a whole body; an
// accept loop that backs off instead of spinning when the process is out of descriptors.
//
// The TLS listener runs the same session over an SSL stream (Session<TlsStream>): a handshake
// with its own deadline first, then the same reads, limits and writes; closing sends the TLS
// close_notify (bounded wait) before the TCP close.
#include "http/server/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fcntl.h>
#include <mutex>
#include <openssl/ssl.h>
#include <optional>
#include <sys/resource.h>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "domain/auth/address_key.hpp"
#include "http/server/accept_errors.hpp"
#include "http/server/budget.hpp"
#include "http/server/client_address.hpp"

namespace rainmaker::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// How long a closing TLS connection waits for the peer's close_notify after sending its own.
constexpr auto kTlsShutdownTime = std::chrono::seconds(2);

// What the server keeps of a session of either kind: a way to ask it to stop.
class SessionBase {
public:
    virtual ~SessionBase() = default;
    // Finish what was read, read nothing more.
    virtual void Shutdown() = 0;
    virtual std::weak_ptr<SessionBase> Weak() = 0;
};

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

// A body's first allocation; it then doubles as bytes arrive, up to its declared length.
constexpr std::size_t kFirstBodyCapacity = 4096;

// Refused accepts that concern one connection (ECONNABORTED...) are logged at most this often.
constexpr auto kAcceptLogInterval = std::chrono::seconds(10);

// A request body read into a string that grows with the bytes received. Beast's string_body
// reserves the whole declared Content-Length before the first byte, so a header alone could make
// the server hold max_body_bytes; here what a body holds follows what its client has sent, and
// that is what the body budget is charged (Session::ChargeBody).
// The member names are the ones Beast's Body concept requires.
// NOLINTBEGIN(readability-identifier-naming)
struct ReceivedBody {
    struct value_type {
        std::string bytes;
        std::uint64_t limit = 0;     // the parser's body_limit: the buffer never grows past it
        UploadSink* sink = nullptr;  // set: the bytes go there, not to `bytes`
        // The sink threw: the request is answered with its ApiError, or 500 for another error.
        std::optional<core::ApiError> sink_error;
    };

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(bhttp::header<isRequest, Fields>& /*header*/, value_type& body) : body_(body) {}

        void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
            ceiling_ = length ? std::min(*length, body_.limit) : body_.limit;
            ec = {};
        }

        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
            const std::size_t n = net::buffer_size(buffers);
            if (body_.sink != nullptr) {
                try {
                    for (const auto buffer : beast::buffers_range_ref(buffers)) {
                        body_.sink->Write(
                            std::string_view(static_cast<const char*>(buffer.data()), buffer.size())
                        );
                    }
                } catch (const core::ApiError& e) {
                    if (e.http_status() >= 500) {
                        core::log::Error(
                            std::string("http: a streamed upload failed: ") + e.what() + " " +
                            e.internal()
                        );
                    }
                    body_.sink_error = e;  // a refusal (too large): answered as it says
                    ec = beast::errc::make_error_code(beast::errc::io_error);
                    return 0;
                } catch (const std::exception& e) {
                    core::log::Error(std::string("http: a streamed upload failed: ") + e.what());
                    body_.sink_error = core::ApiError(
                        core::ErrorCode::kInternal, "Storing the upload failed, try again later"
                    );
                    ec = beast::errc::make_error_code(beast::errc::io_error);
                    return 0;
                }
                ec = {};
                return n;
            }
            const std::size_t at = body_.bytes.size();
            Reserve(at + n);
            body_.bytes.resize(at + n);
            net::buffer_copy(net::buffer(body_.bytes.data() + at, n), buffers);
            ec = {};
            return n;
        }

        void finish(beast::error_code& ec) { ec = {}; }

    private:
        // Doubles the buffer (from kFirstBodyCapacity) until `needed` fits, never past the
        // ceiling. A new string is given the size asked: std::string's own growth would round it
        // up to twice the old capacity, past the declared length.
        void Reserve(std::size_t needed) {
            const std::size_t capacity = body_.bytes.capacity();
            if (needed <= capacity) {
                return;
            }
            const std::uint64_t doubled = std::max({needed, 2 * capacity, kFirstBodyCapacity});
            const std::uint64_t target =
                std::min(doubled, std::max<std::uint64_t>(ceiling_, needed));
            std::string bigger;
            bigger.reserve(static_cast<std::size_t>(target));
            bigger.append(body_.bytes);
            body_.bytes.swap(bigger);
        }

        value_type& body_;
        std::uint64_t ceiling_ = 0;
    };
};

// A response body read from a ResponseStream as it is written, a piece at a time.
struct StreamBody {
    struct value_type {
        std::shared_ptr<ResponseStream> stream;
    };

    static std::uint64_t size(const value_type& body) { return body.stream->Size(); }

    class writer {
    public:
        using const_buffers_type = net::const_buffer;

        template <bool isRequest, class Fields>
        writer(const bhttp::header<isRequest, Fields>& /*header*/, const value_type& body)
            : body_(body), left_(body.stream->Size()) {}

        void init(beast::error_code& ec) { ec = {}; }

        boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
            if (left_ == 0) {
                ec = {};
                return boost::none;
            }
            std::size_t n = 0;
            try {
                n = body_.stream->Read(
                    buffer_.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left_, kPiece))
                );
            } catch (const std::exception& e) {
                core::log::Warn(std::string("http: a streamed answer was cut short: ") + e.what());
                n = 0;
            }
            if (n == 0) {
                // Fewer bytes than announced: the connection closes mid-body.
                ec = beast::errc::make_error_code(beast::errc::io_error);
                return boost::none;
            }
            left_ -= n;
            ec = {};
            return {{net::const_buffer(buffer_.data(), n), left_ > 0}};
        }

    private:
        static constexpr std::size_t kPiece = 64 * 1024;

        const value_type& body_;
        std::uint64_t left_;
        std::array<char, kPiece> buffer_{};
    };
};

// NOLINTEND(readability-identifier-naming)

using Request = bhttp::request<ReceivedBody>;

// A connection's places under max_connections and max_connections_per_address (or, for a
// refused connection, among the lingering refusals), held until its socket is closed.
struct ConnectionPlace {
    Budget::Reservation all;
    KeyedBudget::Reservation address;  // empty: not counted per address
};

// What a request body holds, charged to the budget of all bodies and to its client's share of
// it; held until its handler is done or the connection dies.
struct BodyShare {
    Budget::Reservation all;
    KeyedBudget::Reservation address;  // empty: no per-address share configured

    void Release() {
        all.Release();
        address.Release();
    }
};

// Grows `share` to `total`, taking it from `budget` when it is empty; false when it does not fit.
bool Charge(Budget& budget, Budget::Reservation& share, std::uint64_t total) {
    if (!share) {
        share = budget.Reserve(total);
        return static_cast<bool>(share);
    }
    return share.GrowTo(total);
}

std::string BusyBody() {
    return core::Serialize(boost::json::object{
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

// The X-Forwarded-For lines of a request header, joined with ',' (several lines are one list).
std::string ForwardedFor(const bhttp::fields& header) {
    std::string joined;
    for (auto [it, end] = header.equal_range("X-Forwarded-For"); it != end; ++it) {
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

    // `place` is held until the socket is closed.
    LingeringClose(tcp::socket&& socket, ConnectionPlace place)
        : stream_(std::move(socket)), place_(std::move(place)) {}

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
    ConnectionPlace place_;
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
        net::thread_pool& h,
        net::thread_pool& o,
        net::ssl::context* t
    )
        : config(c),
          router(r),
          metrics(m),
          workers(w),
          heavy_workers(h),
          outbound_workers(o),
          tls(t),
          trusted_proxies(c.trusted_proxies),
          connections(c.max_connections),
          body_budget(c.max_pending_body_bytes) {
        // A limit of 0: no budget per address at all.
        if (c.max_connections_per_address != 0) {
            connections_per_address.emplace(c.max_connections_per_address);
        }
        if (c.max_pending_body_bytes_per_address != 0) {
            body_per_address.emplace(c.max_pending_body_bytes_per_address);
        }
    }

    HttpServerConfig config;
    const Router& router;
    Metrics& metrics;
    net::thread_pool& workers;
    net::thread_pool& heavy_workers;
    net::thread_pool& outbound_workers;
    net::ssl::context* tls;  // null: no TLS listener
    TrustedProxies trusted_proxies;
    Budget connections;                                  // one unit per open connection
    std::optional<KeyedBudget> connections_per_address;  // per peer, not for proxies; or none
    Budget body_budget;                                  // bytes held by request bodies
    std::optional<KeyedBudget> body_per_address;         // per client address; or none
    Budget lingering_refusals{kMaxLingeringRefusals};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> next_request{0};

    std::mutex sessions_mutex;
    std::condition_variable sessions_gone;
    std::unordered_set<SessionBase*> sessions;
    std::vector<std::weak_ptr<SessionBase>> SnapshotSessions();
};

// One connection: plain (Stream = PlainStream) or TLS (TlsStream).
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

public:
    // `peer` is the TCP peer (none when it could not be read); `place` is the connection's place
    // under the connection caps, held until it is closed.
    Session(
        tcp::socket&& socket,
        std::optional<net::ip::address> peer,
        ConnectionPlace place,
        ServerContext& context
    )
        : stream_(MakeStream(std::move(socket), context)),
          context_(context),
          place_(std::move(place)) {
        if (peer) {
            peer_ = *peer;
            client_address_ = AddressText(peer_);
            peer_is_proxy_ = context_.trusted_proxies.Contains(peer_);
        } else {
            client_address_ = "unknown";
        }
        std::lock_guard lock(context_.sessions_mutex);
        context_.sessions.insert(this);
    }

    ~Session() override {
        std::lock_guard lock(context_.sessions_mutex);
        context_.sessions.erase(this);
        context_.sessions_gone.notify_all();
    }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void Start() {
        net::dispatch(
            stream_.get_executor(),
            beast::bind_front_handler(&Session::Begin, this->shared_from_this())
        );
    }

    // Called at server stop: finish what was read, read nothing more.
    void Shutdown() override {
        net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
            self->read_closed_ = true;
            if (self->queue_.empty() && !self->writing_) {
                self->DoClose();
            }
        });
    }

    std::weak_ptr<SessionBase> Weak() override { return this->weak_from_this(); }

private:
    static Stream MakeStream(tcp::socket&& socket, ServerContext& context) {
        if constexpr (kTls) {
            return Stream(std::move(socket), *context.tls);
        } else {
            return Stream(std::move(socket));
        }
    }

    // The TCP layer: deadlines and the socket.
    beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

    void Begin() {
        if constexpr (kTls) {
            // The handshake has its own deadline: a client that connects and says nothing, or
            // trickles its hello, is cut at handshake_timeout.
            handshaking_ = true;
            Tcp().expires_after(context_.config.https.handshake_timeout);
            stream_.async_handshake(
                net::ssl::stream_base::server,
                beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this())
            );
        } else {
            DoRead();
        }
    }

    void OnHandshake(beast::error_code ec) {
        handshaking_ = false;
        if (ec) {
            // Garbage, plain HTTP on the TLS port, an old protocol version, a timeout: the
            // connection goes, nothing is answered (there is no channel to answer on).
            context_.metrics.CountTlsHandshakeFailure();
            if (core::log::Enabled(core::log::Level::kDebug)) {
                core::log::Debug(
                    "https: handshake with " + client_address_ + " failed: " + ec.message()
                );
            }
            transport_failed_ = true;
            DoClose();
            return;
        }
        DoRead();
    }

    struct Slot {
        std::optional<bhttp::response<bhttp::string_body>> response;
        std::optional<bhttp::response<StreamBody>> streamed;  // or this
        std::optional<bhttp::response_serializer<StreamBody>> serializer;
        bool ready = false;  // response or streamed is set
        BodyShare body;      // what the request body holds, until its handler is done
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
        // The largest any route takes until the header names the route (OnReadHeader).
        const std::size_t limit =
            std::max(context_.config.max_body_bytes, context_.router.LargestBodyLimit());
        parser_->body_limit(limit);
        parser_->header_limit(static_cast<std::uint32_t>(context_.config.max_header_bytes));
        parser_->get().body().limit = limit;
        if (buffer_.size() > 0) {
            DoReadHeader();  // pipelined: the next request has begun
            return;
        }
        // Between requests a keep-alive connection may idle for read_timeout; the header's own
        // deadline starts with its first byte.
        SetReadDeadline(context_.config.read_timeout);
        stream_.async_read_some(
            buffer_.prepare(kFirstReadBytes),
            beast::bind_front_handler(&Session::OnFirstBytes, this->shared_from_this())
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
        SetReadDeadline(context_.config.header_timeout);
        bhttp::async_read_header(
            stream_,
            buffer_,
            *parser_,
            beast::bind_front_handler(&Session::OnReadHeader, this->shared_from_this())
        );
    }

    void OnReadHeader(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            OnReadFailed(ec);
            return;
        }
        request_client_ = peer_is_proxy_
                              ? ResolveClientAddress(
                                    peer_, ForwardedFor(parser_->get()), context_.trusted_proxies
                                )
                              : client_address_;
        const auto& header = parser_->get();
        const std::string_view target(header.target());
        const Route* route = context_.router.Match(
            std::string_view(header.method_string()), target.substr(0, target.find('?'))
        );
        streaming_ = route != nullptr && route->open_upload;
        // The route's own body limit (most routes: http.max_body_bytes), before any body byte
        // and before an upload takes a slot for it.
        const std::size_t limit = context_.router.BodyLimit(
            std::string_view(header.method_string()), target, context_.config.max_body_bytes
        );
        if (const auto length = parser_->content_length(); length && *length > limit) {
            OnReadFailed(bhttp::error::body_limit);
            return;
        }
        if (streaming_ && !OpenUpload(*route)) {
            return;
        }
        if (parser_->is_done()) {
            OnReadDone();
            return;
        }
        parser_->body_limit(limit);
        parser_->get().body().limit = limit;
        // One deadline for the whole body, from its header: a client sending a byte now and then
        // cannot keep its bytes (and its connection) for longer. A streamed upload (up to
        // hundreds of MB) must instead make progress every read_timeout, within upload_timeout.
        SetReadDeadline(context_.config.read_timeout);
        stream_deadline_ = std::chrono::steady_clock::now() + context_.config.upload_timeout;
        if (!ChargeBody()) {
            return;
        }
        if (ExpectsContinue(header) && queue_.empty() && !writing_) {
            WriteContinue();
            return;
        }
        DoReadBody();
    }

    static bool ExpectsContinue(const bhttp::request_header<>& header) {
        return beast::iequals(header[bhttp::field::expect], "100-continue");
    }

    // "Send the body": what a client that asked (curl does for bodies over 1 MiB) waits for
    // before sending it, once the header was accepted. Only when nothing else is being
    // written, so that it cannot come between other answers.
    void WriteContinue() {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        writing_ = true;
        Tcp().expires_after(context_.config.read_timeout);
        net::async_write(
            stream_,
            net::buffer(kContinue.data(), kContinue.size()),
            beast::bind_front_handler(&Session::OnContinueWritten, this->shared_from_this())
        );
    }

    void OnContinueWritten(beast::error_code ec, std::size_t /*bytes*/) {
        writing_ = false;
        if (ec) {
            body_share_.Release();
            transport_failed_ = true;
            reading_ = false;
            read_closed_ = true;
            upload_sink_.reset();
            DoClose();
            return;
        }
        DoReadBody();
    }

    // The request as its header gave it, for an UploadOpener.
    ApiRequest HeaderRequest(const bhttp::request_header<>& header) const {
        ApiRequest request;
        FillRequest(header, request);
        request.client_address = request_client_;
        return request;
    }

    static void FillRequest(const bhttp::request_header<>& header, ApiRequest& request) {
        request.method = std::string(header.method_string());
        const std::string_view target = header.target();
        const auto question = target.find('?');
        request.target = std::string(target.substr(0, question));
        if (question != std::string_view::npos) {
            request.raw_query = std::string(target.substr(question + 1));
            request.query = QueryParams(request.raw_query);
        }
        request.authorization = std::string(header[bhttp::field::authorization]);
        request.content_md5 = std::string(header["Content-MD5"]);
        request.range = std::string(header[bhttp::field::range]);
    }

    // Opens the sink of a streamed upload; on a refusal answers it (the body unread) and
    // returns false.
    bool OpenUpload(const Route& route) {
        ApiResponse refusal;
        try {
            ApiRequest header_request = HeaderRequest(parser_->get());
            if (const auto length = parser_->content_length()) {
                header_request.content_length = *length;
            }
            upload_sink_ = route.open_upload(header_request);
            if (upload_sink_) {
                parser_->get().body().sink = upload_sink_.get();
                return true;
            }
            refusal = ApiResponse::Failure(core::ApiError(core::ErrorCode::kInternal));
        } catch (const core::ApiError& error) {
            refusal = ApiResponse::Failure(error);
        } catch (const std::exception& e) {
            core::log::Error(std::string("http: opening a streamed upload failed: ") + e.what());
            refusal = ApiResponse::Failure(core::ApiError(core::ErrorCode::kInternal));
        }
        context_.metrics.Observe(
            std::string(parser_->get().method_string()), route.pattern, refusal.status, {}
        );
        reading_ = false;
        read_closed_ = true;
        discard_input_ = !parser_->is_done();
        const unsigned version = parser_->get().version();
        parser_.reset();
        EnqueueFinal(std::move(refusal), version);
        return false;
    }

    // The body is read a step at a time, and the budget charged after each step with what the
    // body holds: a declared length costs nothing until its bytes arrive.
    void DoReadBody() {
        if (streaming_) {
            read_deadline_ = std::min(
                std::chrono::steady_clock::now() + context_.config.read_timeout, stream_deadline_
            );
        }
        // Set before every step, so that nothing done in between (a write) can move it.
        Tcp().expires_at(read_deadline_);
        bhttp::async_read_some(
            stream_,
            buffer_,
            *parser_,
            beast::bind_front_handler(&Session::OnReadBody, this->shared_from_this())
        );
    }

    void OnReadBody(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            body_share_.Release();
            OnReadFailed(ec);
            return;
        }
        if (!ChargeBody()) {
            return;
        }
        if (parser_->is_done()) {
            OnReadDone();
            return;
        }
        DoReadBody();
    }

    // Grows the body's share to what it holds now: its buffer, and what has arrived but is not
    // parsed yet. When the budget, or the client's share of it, has no room, the request is
    // answered 503 and the connection closed (false).
    bool ChargeBody() {
        const std::uint64_t held = parser_->get().body().bytes.capacity() + buffer_.size();
        auto refusal = Metrics::Refusal::kBodyBudget;
        bool fits = Charge(context_.body_budget, body_share_.all, held);
        if (fits && context_.body_per_address) {
            refusal = Metrics::Refusal::kBodyBudgetPerAddress;
            if (body_share_.address) {
                fits = body_share_.address.GrowTo(held);
            } else {
                body_share_.address = context_.body_per_address->Reserve(
                    domain::auth::AddressKey(request_client_), held
                );
                fits = static_cast<bool>(body_share_.address);
            }
        }
        if (fits) {
            return true;
        }
        body_share_.Release();
        context_.metrics.CountRefusal(refusal);
        reading_ = false;
        read_closed_ = true;
        discard_input_ = true;
        const unsigned version = parser_->get().version();
        parser_.reset();  // the body's memory goes now, not with the connection
        upload_sink_.reset();
        EnqueueBusy(version);
        return false;
    }

    // The deadline of the read phase starting now (idle, header, body).
    void SetReadDeadline(std::chrono::seconds timeout) {
        read_deadline_ = std::chrono::steady_clock::now() + timeout;
        Tcp().expires_at(read_deadline_);
    }

    void OnReadDone() {
        reading_ = false;
        HandleRequest(parser_->release(), std::move(body_share_));
        DoRead();
    }

    void OnReadFailed(beast::error_code ec) {
        reading_ = false;
        read_closed_ = true;
        upload_sink_.reset();  // an upload cut short leaves nothing behind
        if (parser_ && parser_->get().body().sink_error) {
            discard_input_ = true;
            EnqueueFinal(
                ApiResponse::Failure(*parser_->get().body().sink_error), parser_->get().version()
            );
            return;
        }
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
        // A timeout, a reset, a TLS error: the transport is gone or broken. (At the end of the
        // stream the client closed cleanly, and a TLS connection still says goodbye.)
        if (ec != bhttp::error::end_of_stream) {
            transport_failed_ = true;
        }
        if (queue_.empty() && !writing_) {
            DoClose();
        }
    }

    // A response after which the connection closes (it is the last in the queue).
    void EnqueueFinal(ApiResponse api, unsigned version) {
        auto slot = std::make_shared<Slot>();
        slot->response = MakeResponse(api, version, false, "-");
        slot->ready = true;
        queue_.push_back(slot);
        MaybeWrite();
    }

    void EnqueueBusy(unsigned version) {
        auto api = ApiResponse::Text(BusyBody(), "application/json", 503);
        api.headers.emplace_back("Retry-After", kBusyRetryAfter);
        EnqueueFinal(std::move(api), version);
    }

    void HandleRequest(Request&& raw, BodyShare body_share) {
        const auto started = std::chrono::steady_clock::now();
        auto request = std::make_shared<ApiRequest>();
        FillRequest(raw, *request);
        request->body = std::move(raw.body().bytes);
        request->upload = std::move(upload_sink_);
        request->client_address = std::move(request_client_);
        request->request_id = MakeRequestId();

        const bool keep_alive = raw.keep_alive();
        const unsigned version = raw.version();
        if (!keep_alive) {
            read_closed_ = true;
        }
        auto slot = std::make_shared<Slot>();
        slot->body = std::move(body_share);
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
        auto& pool = route->execution == Execution::kHeavy      ? context_.heavy_workers
                     : route->execution == Execution::kOutbound ? context_.outbound_workers
                                                                : context_.workers;
        net::post(
            pool,
            [self = this->shared_from_this(), slot, request, route, version, keep_alive, started] {
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
        if (response.stream) {
            slot->streamed =
                MakeResponseWith<StreamBody>(response, version, keep_alive, request.request_id);
        } else {
            slot->response = MakeResponse(response, version, keep_alive, request.request_id);
        }
        slot->ready = true;
        MaybeWrite();
    }

    // The response of `api` with its body (a string, or a stream the blob routes fill).
    template <typename Body>
    bhttp::response<Body> MakeResponseWith(
        ApiResponse& api, unsigned version, bool keep_alive, const std::string& request_id
    ) const {
        bhttp::response<Body> response{static_cast<bhttp::status>(api.status), version};
        response.set(bhttp::field::server, "rainmaker-server");
        response.set(bhttp::field::content_type, api.content_type);
        response.set("X-Request-Id", request_id);
        for (auto& [name, value] : api.headers) {
            response.set(name, value);
        }
        response.keep_alive(keep_alive && !context_.stopping);
        if constexpr (std::is_same_v<Body, StreamBody>) {
            response.body().stream = std::move(api.stream);
        } else {
            response.body() = std::move(api.body);
        }
        response.prepare_payload();
        return response;
    }

    bhttp::response<bhttp::string_body> MakeResponse(
        ApiResponse& api, unsigned version, bool keep_alive, const std::string& request_id
    ) const {
        return MakeResponseWith<bhttp::string_body>(api, version, keep_alive, request_id);
    }

    void MaybeWrite() {
        if (closed_ || writing_ || queue_.empty() || !queue_.front()->ready) {
            return;
        }
        writing_ = true;
        if (queue_.front()->streamed) {
            auto& slot = *queue_.front();
            slot.serializer.emplace(*slot.streamed);
            WriteSome();
            return;
        }
        auto& response = *queue_.front()->response;
        // The write's own deadline. Beast's tcp_stream keeps one timer per direction and leaves
        // a pending read's alone here; a read started later sets its phase's deadline itself
        // (SetReadDeadline, DoReadBody), so a write never moves a header or body deadline.
        Tcp().expires_after(context_.config.read_timeout);
        bhttp::async_write(
            stream_,
            response,
            beast::bind_front_handler(
                &Session::OnWrite, this->shared_from_this(), response.keep_alive()
            )
        );
    }

    // A streamed answer is written a step at a time, each with its own deadline: a large file
    // to a slow client takes as long as it takes while it makes progress.
    void WriteSome() {
        auto& slot = *queue_.front();
        Tcp().expires_after(context_.config.read_timeout);
        bhttp::async_write_some(
            stream_,
            *slot.serializer,
            beast::bind_front_handler(
                &Session::OnWriteSome, this->shared_from_this(), slot.streamed->keep_alive()
            )
        );
    }

    void OnWriteSome(bool keep_alive, beast::error_code ec, std::size_t bytes) {
        if (!ec && !queue_.front()->serializer->is_done()) {
            WriteSome();
            return;
        }
        OnWrite(keep_alive, ec, bytes);
    }

    void OnWrite(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
        writing_ = false;
        queue_.pop_front();
        if (ec) {
            transport_failed_ = true;
        }
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
        if constexpr (kTls) {
            // close_notify first, unless the TLS layer is broken, never set up, or a read is
            // pending (a TLS shutdown cannot run beside a read): those just close.
            if (!transport_failed_ && !handshaking_ && !reading_) {
                Tcp().expires_after(kTlsShutdownTime);
                stream_.async_shutdown(
                    beast::bind_front_handler(&Session::OnTlsShutdown, this->shared_from_this())
                );
                return;
            }
        }
        CloseSocket();
    }

    void OnTlsShutdown(beast::error_code /*ec*/) { CloseSocket(); }

    void CloseSocket() {
        auto& socket = Tcp().socket();
        if (discard_input_ && !transport_failed_) {
            // The client may still be sending what was not read: keep the answer from being
            // destroyed by a reset. The connection keeps its slot until the socket is closed.
            std::make_shared<LingeringClose>(std::move(socket), std::move(place_))->Start();
            return;
        }
        beast::error_code ec;
        socket.shutdown(tcp::socket::shutdown_send, ec);
        socket.close(ec);
    }

    std::string MakeRequestId() {
        const auto n = context_.next_request.fetch_add(1, std::memory_order_relaxed);
        char buffer[24];
        std::snprintf(buffer, sizeof(buffer), "%012llx", static_cast<unsigned long long>(n));
        return buffer;
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<ReceivedBody>> parser_;
    std::deque<std::shared_ptr<Slot>> queue_;
    ServerContext& context_;
    ConnectionPlace place_;
    BodyShare body_share_;                                 // the body being read
    std::chrono::steady_clock::time_point read_deadline_;  // of the read phase under way
    net::ip::address peer_;
    bool peer_is_proxy_ = false;  // its X-Forwarded-For names the client
    std::string client_address_;  // when the peer is not a proxy
    std::string request_client_;  // the client of the request being read
    bool reading_ = false;
    bool writing_ = false;
    bool read_closed_ = false;
    bool closed_ = false;
    bool discard_input_ = false;  // closing with input unread: linger
    bool streaming_ = false;      // the body being read goes to upload_sink_
    std::shared_ptr<UploadSink> upload_sink_;
    std::chrono::steady_clock::time_point stream_deadline_;  // of a streamed body
    bool handshaking_ = false;                               // TLS: the handshake is under way
    bool transport_failed_ = false;  // the handshake or a read or write failed: no close_notify
};

std::vector<std::weak_ptr<SessionBase>> ServerContext::SnapshotSessions() {
    std::vector<std::weak_ptr<SessionBase>> out;
    std::lock_guard lock(sessions_mutex);
    for (auto* session : sessions) {
        out.push_back(session->Weak());
    }
    return out;
}

class Listener : public std::enable_shared_from_this<Listener> {
public:
    // `tls`: connections are TLS sessions (the context's ssl context).
    Listener(net::io_context& ioc, ServerContext& context, const tcp::endpoint& endpoint, bool tls)
        : tls_(tls),
          ioc_(ioc),
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
            context_.metrics.CountAcceptError();
            if (IsOutOfResources(ec)) {
                // Accepting again at once would fail again at once, spinning a core while the
                // backlog waits.
                BackOff(ec);
                return;
            }
            // One connection failed before it was accepted (reset, a network error): the next
            // one has nothing to do with it.
            LogFailedAccept(ec);
            DoAccept();
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
        ConnectionPlace place;
        place.all = context_.connections.Reserve(1);
        if (!place.all) {
            Refuse(std::move(socket), Metrics::Refusal::kMaxConnections);
            DoAccept();
            return;
        }
        beast::error_code peer_ec;
        const auto endpoint = socket.remote_endpoint(peer_ec);
        std::optional<net::ip::address> peer;
        if (!peer_ec) {
            peer = endpoint.address();
        }
        // Counted per peer, except a trusted proxy's: it carries everyone's connections.
        if (peer && context_.connections_per_address && !context_.trusted_proxies.Contains(*peer)) {
            place.address = context_.connections_per_address->Reserve(
                domain::auth::AddressKey(AddressText(*peer)), 1
            );
            if (!place.address) {
                Refuse(std::move(socket), Metrics::Refusal::kMaxConnectionsPerAddress);
                DoAccept();
                return;
            }
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        if (tls_) {
            std::make_shared<Session<TlsStream>>(
                std::move(socket), peer, std::move(place), context_
            )
                ->Start();
        } else {
            std::make_shared<Session<PlainStream>>(
                std::move(socket), peer, std::move(place), context_
            )
                ->Start();
        }
        DoAccept();
    }

    // Past a connection cap: a canned 503 written at once (it fits the empty send buffer), the
    // request never parsed, then a lingering close.
    void Refuse(tcp::socket socket, Metrics::Refusal reason) {
        context_.metrics.CountRefusal(reason);
        beast::error_code ec;
        socket.non_blocking(true, ec);
        const auto& answer = RefusedConnectionAnswer();
        socket.write_some(net::buffer(answer), ec);
        ConnectionPlace place;
        place.all = context_.lingering_refusals.Reserve(1);
        if (place.all) {
            std::make_shared<LingeringClose>(std::move(socket), std::move(place))->Start();
            return;
        }
        socket.shutdown(tcp::socket::shutdown_send, ec);
        socket.close(ec);
    }

    // A warning for the first failure, then at most one per kAcceptLogInterval with the count:
    // a client that can make accepts fail must not flood the log either.
    void LogFailedAccept(const beast::error_code& ec) {
        ++unlogged_accept_failures_;
        const auto now = std::chrono::steady_clock::now();
        if (last_accept_log_ != std::chrono::steady_clock::time_point{} &&
            now - last_accept_log_ < kAcceptLogInterval) {
            return;
        }
        core::log::Warn(
            "http: a connection failed before it was accepted (" + ec.message() + "); " +
            std::to_string(unlogged_accept_failures_) + " since the previous such line"
        );
        last_accept_log_ = now;
        unlogged_accept_failures_ = 0;
    }

    void BackOff(const beast::error_code& ec) {
        ReleaseReserve();  // first: what follows may need a descriptor
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

    bool tls_;
    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer retry_timer_;
    ServerContext& context_;
    std::vector<int> reserve_;
    std::chrono::milliseconds backoff_{};
    std::uint64_t failed_accepts_ = 0;
    std::chrono::steady_clock::time_point last_accept_log_{};
    std::uint64_t unlogged_accept_failures_ = 0;
};

// The server side of TLS: 1.2 or newer, ECDHE with AES-GCM or ChaCha20-Poly1305 (what mbedTLS in
// ESP-IDF, browsers, curl and the SDKs offer), the chain and key from files. Throws
// std::runtime_error naming the file that could not be loaded.
net::ssl::context MakeTlsContext(const HttpsConfig& https) {
    net::ssl::context tls(net::ssl::context::tls_server);
    tls.set_options(
        net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
        net::ssl::context::single_dh_use | net::ssl::context::no_compression
    );
    SSL_CTX* native = tls.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") != 1) {
        throw std::runtime_error("https: the cipher list was refused");
    }
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Idle keep-alive connections give their read and write buffers back (about 34 KiB each).
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    beast::error_code ec;
    tls.use_certificate_chain_file(https.cert_file.string(), ec);
    if (ec) {
        throw std::runtime_error(
            "https: cannot load the certificate chain " + https.cert_file.string() + ": " +
            ec.message()
        );
    }
    tls.use_private_key_file(https.key_file.string(), net::ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error(
            "https: cannot load the private key " + https.key_file.string() + ": " + ec.message()
        );
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        throw std::runtime_error(
            "https: the private key " + https.key_file.string() +
            " does not belong to the certificate " + https.cert_file.string()
        );
    }
    return tls;
}

}  // namespace

struct HttpServer::Impl {
    Impl(HttpServerConfig c, const Router& router, Metrics& metrics)
        : config(std::move(c)),
          workers(static_cast<std::size_t>(config.worker_threads)),
          heavy_workers(static_cast<std::size_t>(config.heavy_threads)),
          outbound_workers(static_cast<std::size_t>(config.outbound_threads)),
          context(config, router, metrics, workers, heavy_workers, outbound_workers, nullptr),
          ioc(config.io_threads) {}

    // Declaration order matters: the io_context is destroyed before the context its pending
    // sessions refer to, and the sessions before the TLS context they use.
    HttpServerConfig config;
    net::thread_pool workers;
    net::thread_pool heavy_workers;
    net::thread_pool outbound_workers;
    std::optional<net::ssl::context> tls;
    ServerContext context;
    net::io_context ioc;
    std::shared_ptr<Listener> listener;
    std::shared_ptr<Listener> tls_listener;
    std::uint16_t https_port = 0;
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
            "): a body of the largest size must fit"
        );
    }
    // A client's share holds at least one body of the largest size, and is never more than the
    // budget it is a share of (so the 8 MiB default also suits a smaller budget).
    if (config.max_pending_body_bytes_per_address != 0) {
        config.max_pending_body_bytes_per_address = std::clamp(
            config.max_pending_body_bytes_per_address,
            config.max_body_bytes,
            config.max_pending_body_bytes
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
    const auto listen = [&](std::uint16_t port, bool tls) {
        try {
            return std::make_shared<Listener>(
                impl_->ioc, impl_->context, tcp::endpoint{address, port}, tls
            );
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(
                "cannot listen on " + impl_->config.address + ":" + std::to_string(port) + ": " +
                e.what()
            );
        }
    };
    // The certificate first: a bad one stops the start before anything listens.
    if (impl_->config.https.enabled) {
        impl_->tls.emplace(MakeTlsContext(impl_->config.https));
        impl_->context.tls = &*impl_->tls;
    }
    impl_->listener = listen(impl_->config.port, false);
    if (impl_->config.https.enabled) {
        impl_->tls_listener = listen(impl_->config.https.port, true);
        impl_->https_port = impl_->tls_listener->Port();
    }
    impl_->context.metrics.SetConnectionGauges([context = &impl_->context] {
        return Metrics::ConnectionGauges{context->connections.used(), context->body_budget.used()};
    });
    impl_->listener->Start();
    if (impl_->tls_listener) {
        impl_->tls_listener->Start();
    }
    impl_->guard.emplace(impl_->ioc.get_executor());
    for (int i = 0; i < impl_->config.io_threads; ++i) {
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
    }
    return impl_->listener->Port();
}

std::uint16_t HttpServer::HttpsPort() const {
    return impl_->https_port;
}

void HttpServer::Stop() {
    if (impl_->stopped || !impl_->listener) {
        return;
    }
    impl_->stopped = true;
    impl_->context.stopping = true;
    impl_->listener->Stop();
    if (impl_->tls_listener) {
        impl_->tls_listener->Stop();
    }
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
    impl_->outbound_workers.join();
    impl_->context.metrics.SetConnectionGauges({});  // the metrics outlive the server
}

}  // namespace rainmaker::http
