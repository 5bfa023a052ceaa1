// Mosquitto configuration and process supervision.
#include "mqtt/embedded_broker.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <chrono>
#include <fstream>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.hpp"
#include "core/random.hpp"
#include "mqtt/child_descriptors.hpp"
#include "mqtt/private_file.hpp"

namespace rainmaker::mqtt {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLinkUser = "rainmaker-server";

// `preferred` when it is free, else any free port.
std::uint16_t FreePort(const std::string& address, std::uint16_t preferred = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(preferred);
    ::inet_pton(AF_INET, address == "0.0.0.0" ? "0.0.0.0" : address.c_str(), &addr.sin_addr);
    // As Mosquitto binds it (SO_REUSEADDR): the connections of its last run may linger in
    // TIME_WAIT.
    const int one = 1;
    if (preferred != 0 && fd >= 0 &&
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        ::close(fd);
        return preferred;
    }
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw std::runtime_error("no free port on " + address);
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool Accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    return ok;
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs a program and waits for it; true when it exits 0.
bool Run(const std::vector<std::string>& args) {
    // Built before fork: the child of a threaded process may only call async-signal-safe
    // functions (no allocation).
    std::vector<char*> argv;
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        CloseInheritedDescriptors();
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

std::string CurrentUser() {
    const passwd* pw = ::getpwuid(::geteuid());
    return pw != nullptr ? pw->pw_name : "root";
}

// Our broker plugins live in <binary dir>/../lib.
fs::path DefaultPluginPath(const char* name) {
    std::error_code ec;
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path(name) : exe.parent_path().parent_path() / "lib" / name;
}

}  // namespace

EmbeddedBroker::EmbeddedBroker(
    BrokerConfig config, fs::path dir, const crypto::CertificateAuthority& ca
)
    : config_(std::move(config)), dir_(std::move(dir)), ca_(ca) {}

EmbeddedBroker::~EmbeddedBroker() {
    Stop();
}

LinkEndpoint EmbeddedBroker::Link() const {
    return LinkEndpoint{"127.0.0.1", internal_port_, kLinkUser, link_password_};
}

void EmbeddedBroker::WriteFiles(
    const std::vector<std::string>& revoked_serials, bool keep_link_port
) {
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace);
    constexpr auto kPrivate = fs::perms::owner_read | fs::perms::owner_write;

    // The password of the server's own link: generated once, kept.
    const fs::path password_file = dir_ / "link-password";
    if (fs::exists(password_file)) {
        link_password_ = ReadFile(password_file);
    }
    if (link_password_.empty()) {
        link_password_ = core::RandomAlnum(40);
        WritePrivateFile(password_file, link_password_, kPrivate);
    }
    fs::remove(dir_ / "passwd");
    WritePrivateFile(dir_ / "passwd", "", kPrivate);
    if (!Run({"mosquitto_passwd", "-b", (dir_ / "passwd").string(), kLinkUser, link_password_})) {
        throw std::runtime_error("mosquitto_passwd failed (is the mosquitto package installed?)");
    }

    fs::path cert = config_.server_cert_file;
    fs::path key = config_.server_key_file;
    if (cert.empty()) {
        // Our own server certificate, valid for the advertised host and loopback.
        cert = dir_ / "server.pem";
        key = dir_ / "server.key";
        const auto issued = ca_.IssueServerCertFor(config_.public_host);
        WritePrivateFile(cert, issued.cert_pem, kPrivate);
        WritePrivateFile(key, issued.key_pem, kPrivate);
    }
    WritePrivateFile(dir_ / "ca.pem", ca_.CertPem(), kPrivate);
    WritePrivateFile(CrlFile(), ca_.MakeCrl(revoked_serials), kPrivate);

    // Nodes: only their own topics, in both spellings. '#' does not match topics starting
    // with '$', so the $aws form is listed on its own.
    WritePrivateFile(
        dir_ / "nodes.acl",
        "# Generated by rainmaker-server: each node may use only its own topics.\n"
        "pattern readwrite node/%u/#\n"
        "pattern write $aws/rules/+/node/%u/#\n",
        kPrivate
    );
    WritePrivateFile(
        dir_ / "internal.acl",
        std::string("# Generated by rainmaker-server: its own link sees everything.\n") + "user " +
            kLinkUser + "\ntopic readwrite #\ntopic readwrite $aws/#\n",
        kPrivate
    );

    if (node_port_ == 0) {
        node_port_ = config_.node_port != 0 ? config_.node_port : FreePort(config_.node_address);
    }
    // The link's listener keeps its port across restarts when it can: Mosquitto ties a
    // persisted session to its listener by port (per_listener_settings).
    const fs::path port_file = dir_ / "link-port";
    std::uint16_t saved = 0;
    if (fs::exists(port_file)) {
        const auto text = ReadFile(port_file);
        std::from_chars(text.data(), text.data() + text.size(), saved);
    }
    // (A broker someone else runs may hold it now: kept as it is.)
    internal_port_ = keep_link_port && saved != 0 ? saved : FreePort("127.0.0.1", saved);
    if (internal_port_ != saved) {
        WritePrivateFile(port_file, std::to_string(internal_port_), kPrivate);
    }
    const fs::path plugin = config_.plugin_path.empty() ? DefaultPluginPath("rainmaker_presence.so")
                                                        : fs::path(config_.plugin_path);
    // The revocation plugin sits beside the presence plugin.
    const fs::path revocation_plugin = plugin.parent_path() / "rainmaker_revocation.so";
    for (const auto& p : {plugin, revocation_plugin}) {
        if (!fs::exists(p)) {
            throw std::runtime_error("broker plugin not found at " + p.string());
        }
    }
    std::string conf;
    conf += "# Generated by rainmaker-server at every start; edit its configuration instead.\n";
    // The broker reads files of the private data directory: it runs as the server's user.
    conf += "user " + CurrentUser() + "\n";
    // Persistence keeps the link's session (the node messages queued for it, and those handed
    // over but not yet acknowledged) across a broker restart: Mosquitto saves it when stopped,
    // as it is when the server dies (SIGTERM, below), and every 10 s otherwise.
    conf += "persistence true\npersistence_location " + dir_.string() + "/\n";
    conf += "autosave_interval 10\n";
    conf += "log_dest stderr\nlog_type error\nlog_type warning\n";
    // The largest messages are a node config (the server stores up to 64 KiB) and a command
    // with up to 64 KiB of data (TLV, to-node/from-node): 128 KiB bounds what one message of a
    // node can make the broker and the server hold. The server's own limits per topic are
    // smaller (domain/nodes/node_ingest.hpp, docs/SECURITY.md).
    // The server's link may fall behind a burst: the broker keeps up to a million QoS 1 messages
    // for it rather than dropping them (mosquitto drops silently past this limit).
    conf += "per_listener_settings true\nset_tcp_nodelay true\nmax_queued_messages 1000000\n";
    conf += "max_packet_size 131072\n\n";
    conf += "# Devices: TLS with client certificates from our CA; user name = certificate CN.\n";
    conf += "listener " + std::to_string(node_port_) + " " + config_.node_address + "\n";
    conf += "cafile " + (dir_ / "ca.pem").string() + "\n";
    conf += "certfile " + cert.string() + "\n";
    conf += "keyfile " + key.string() + "\n";
    conf += "crlfile " + CrlFile().string() + "\n";
    // The client id is forced to the certificate CN: a node cannot take over another node's
    // (or the server's) session by connecting with its client id.
    conf +=
        "require_certificate true\nuse_identity_as_username true\nuse_username_as_clientid true\n";
    conf += "allow_anonymous false\n";
    conf += "acl_file " + (dir_ / "nodes.acl").string() + "\n";
    // Revocation first: a revoked node's first action is refused (and its connection closed)
    // before the presence plugin could report it; on SIGHUP it re-reads the CRL and closes the
    // connections of certificates revoked since (the broker only refuses their next handshake).
    conf += "plugin " + revocation_plugin.string() + "\n";
    conf += "plugin_opt_crl_file " + CrlFile().string() + "\n";
    conf += "plugin_opt_ca_file " + (dir_ / "ca.pem").string() + "\n";
    conf += "plugin " + plugin.string() + "\n";
    conf += std::string("plugin_opt_ignore_username ") + kLinkUser + "\n";
    // Node messages in the basic-ingest spelling reach the link's shared subscriptions.
    conf += "plugin_opt_rewrite_basic_ingest true\n\n";
    conf += "# rainmaker-server's own link: loopback only, password.\n";
    conf += "listener " + std::to_string(internal_port_) + " 127.0.0.1\n";
    conf += "allow_anonymous false\n";
    conf += "password_file " + (dir_ / "passwd").string() + "\n";
    conf += "acl_file " + (dir_ / "internal.acl").string() + "\n";
    WritePrivateFile(dir_ / "mosquitto.conf", conf, kPrivate);
}

pid_t EmbeddedBroker::Spawn() {
    const std::string conf = (dir_ / "mosquitto.conf").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
        // The broker must not outlive the server, even after kill -9.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        sigset_t none;
        sigemptyset(&none);
        ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
        // Nothing of the server's: not its HTTP listener, connections, database or link.
        CloseInheritedDescriptors();
        ::execlp(
            config_.mosquitto_binary.c_str(),
            config_.mosquitto_binary.c_str(),
            "-c",
            conf.c_str(),
            static_cast<char*>(nullptr)
        );
        ::_exit(127);
    }
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    try {
        // For the next start of the server, should this one be killed (WaitForEarlierBroker).
        WritePrivateFile(
            dir_ / "mosquitto.pid",
            std::to_string(pid),
            fs::perms::owner_read | fs::perms::owner_write
        );
    } catch (const std::exception& e) {
        core::log::Warn(std::string("broker: pid file not written: ") + e.what());
    }
    return pid;
}

// The broker of this directory's last run, if it still runs: the server it served was killed,
// and the kernel's SIGTERM has it saving its persistence file. The new one must not read a
// half-saved state, nor find the link's port taken: wait for it (15 s), then stop it.
void EmbeddedBroker::WaitForEarlierBroker() {
    const fs::path pid_file = dir_ / "mosquitto.pid";
    if (!fs::exists(pid_file)) {
        return;
    }
    const auto text = ReadFile(pid_file);
    pid_t pid = 0;
    std::from_chars(text.data(), text.data() + text.size(), pid);
    const auto ours = [&] {
        if (pid <= 1 || ::kill(pid, 0) != 0) {
            return false;
        }
        const auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
        return cmdline.find((dir_ / "mosquitto.conf").string()) != std::string::npos;
    };
    for (int i = 0; i < 300 && ours(); ++i) {
        if (i == 0) {
            core::log::Info("broker: waiting for the last run's mosquitto to save and exit");
        }
        if (i == 200) {
            ::kill(pid, SIGTERM);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (ours()) {
        ::kill(pid, SIGKILL);
    }
}

void EmbeddedBroker::Start(const std::vector<std::string>& revoked_serials) {
    WaitForEarlierBroker();
    WriteFiles(revoked_serials);
    pid_ = Spawn();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    int retries = 2;
    while (!(Accepts(internal_port_) && Accepts(node_port_))) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            // A port found free was taken before mosquitto bound it (another process picking
            // free ports too): once more on other ones. A configured port is not changed.
            if (retries-- == 0) {
                throw std::runtime_error("mosquitto exited at start (see its log above)");
            }
            core::log::Warn("broker: mosquitto exited at start; trying again on other ports");
            if (config_.node_port == 0) {
                node_port_ = 0;
            }
            fs::remove(dir_ / "link-port");
            WriteFiles(revoked_serials);
            pid_ = Spawn();
            continue;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("mosquitto did not open its ports");
        }
        std::unique_lock lock(mutex_);
        stopped_.wait_for(lock, std::chrono::milliseconds(20));
    }
    core::log::Info(
        "broker: mosquitto pid " + std::to_string(pid_.load()) + ", devices on " +
        config_.node_address + ":" + std::to_string(node_port_) + " (TLS), CA " +
        (dir_ / "ca.pem").string()
    );
    supervisor_ = std::thread([this] { Supervise(); });
}

void EmbeddedBroker::Supervise() {
    auto backoff = std::chrono::seconds(1);
    while (!stopping_) {
        int status = 0;
        const pid_t pid = pid_;
        // Wait without reaping first: while the dead broker is a zombie its pid cannot be
        // reused, so Reload never signals another process; reaped under the lock Reload takes.
        siginfo_t info{};
        if (pid <= 0 || ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) {
            break;
        }
        {
            std::lock_guard lock(pid_mutex_);
            if (::waitpid(pid, &status, 0) != pid) {
                break;
            }
            pid_ = -1;
        }
        if (stopping_) {
            break;
        }
        core::log::Error(
            "broker: mosquitto exited (status " + std::to_string(status) + "), restarting in " +
            std::to_string(backoff.count()) + " s"
        );
        {
            std::unique_lock lock(mutex_);
            if (stopped_.wait_for(lock, backoff, [this] { return stopping_.load(); })) {
                break;
            }
        }
        backoff = std::min(backoff * 2, std::chrono::seconds(30));
        const pid_t next = Spawn();
        std::lock_guard lock(pid_mutex_);
        pid_ = next;
    }
}

void EmbeddedBroker::Reload() {
    std::lock_guard lock(pid_mutex_);
    const pid_t pid = pid_;
    if (pid > 0 && !stopping_) {
        ::kill(pid, SIGHUP);
    }
}

void EmbeddedBroker::Stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    stopped_.notify_all();
    const pid_t pid = pid_;
    if (pid > 0) {
        ::kill(pid, SIGTERM);
        // The supervisor reaps it; give it 5 s to exit, then kill it.
        bool alive = true;
        for (int i = 0; i < 500 && alive; ++i) {
            alive = ::kill(pid, 0) == 0;
            if (alive && !supervisor_.joinable()) {
                int status = 0;
                alive = ::waitpid(pid, &status, WNOHANG) != pid;
            }
            if (alive) {
                std::unique_lock lock(mutex_);
                stopped_.wait_for(lock, std::chrono::milliseconds(10));
            }
        }
        if (alive) {
            ::kill(pid, SIGKILL);
        }
    }
    if (supervisor_.joinable()) {
        supervisor_.join();
    }
    pid_ = -1;
}

}  // namespace rainmaker::mqtt
