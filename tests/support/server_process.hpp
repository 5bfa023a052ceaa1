// Starts the real rainmaker-server binary on a free loopback port with a temporary data
// directory, and stops it (and removes the directory) when the test ends. With
// RAINMAKER_TEST_BACKEND=postgres its stores are a database of its own on the test PostgreSQL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/test_postgres.hpp"

namespace rainmaker::testing {

class ServerProcess {
public:
    struct Options {
        std::vector<std::string> args;           // extra command-line arguments
        std::map<std::string, std::string> env;  // extra environment variables
        std::filesystem::path data_dir;          // empty: a new temporary directory
        unsigned long max_open_files = 0;        // RLIMIT_NOFILE of the server; 0 = inherited
        bool hard_open_file_limit = false;       // max_open_files also as the hard limit
    };

    ServerProcess();
    explicit ServerProcess(Options options);
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    std::uint16_t port() const { return port_; }

    // The HTTPS listener's port (0 when the server did not print one).
    std::uint16_t https_port() const { return https_port_; }

    // The TLS port devices connect to, and the CA they must trust.
    std::uint16_t mqtt_port() const { return mqtt_port_; }

    std::filesystem::path ca_file() const { return data_dir_ / "tls" / "ca.pem"; }

    const std::filesystem::path& data_dir() const { return data_dir_; }

    pid_t pid() const { return pid_; }

    // The pid of the mosquitto the server runs for this data directory, or -1.
    pid_t BrokerPid() const;

    // SIGTERM and wait; returns the exit status (or -signal).
    int Stop();
    // SIGKILL and wait: the crash case.
    void Kill();
    // Starts again on the same data directory (and a new free port).
    void Restart();

    // The command line (for RunProgram) that runs `sql` on the server's database and prints
    // each row's columns separated by '|': the sqlite3 CLI, or psql on a PostgreSQL run.
    std::vector<std::string> QueryCommand(const std::string& sql) const;

    // The newest 6-digit code the mailbox holds for `recipient` (waits up to 10 s); empty when
    // none arrived.
    std::string LatestCode(const std::string& recipient) const;
    // How many mailbox messages `recipient` has received.
    int MessageCount(const std::string& recipient) const;

    // Runs the binary with `args` on this data directory (e.g. admin create-user) and returns
    // its exit status; its stdout (and stderr, with `with_stderr`) goes to `output` when given.
    int RunCommand(
        const std::vector<std::string>& args,
        std::string* output = nullptr,
        bool with_stderr = false
    ) const;

private:
    void Launch();

    Options options_;
    std::unique_ptr<PostgresTestDatabase> postgres_;  // the stores, on PostgreSQL runs
    std::filesystem::path data_dir_;
    bool owns_dir_ = false;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::uint16_t port_ = 0;
    std::uint16_t mqtt_port_ = 0;
    std::uint16_t https_port_ = 0;
};

}  // namespace rainmaker::testing
