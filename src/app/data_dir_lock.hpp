// One server per data directory: an exclusive lock on <data-dir>/lock, taken before the server
// writes anything there (its broker files, keys and database), held until it exits. A second
// server on the same directory stops at once with a clear message and changes nothing.
#pragma once

#include <filesystem>
#include <optional>
#include <sys/types.h>

namespace rainmaker::app {

class DataDirLock {
public:
    // Creates the directory if needed and takes the lock. Throws std::runtime_error naming the
    // pid of the server that holds it.
    explicit DataDirLock(const std::filesystem::path& data_dir);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

private:
    int fd_ = -1;
};

// The pid of the server holding the lock of `data_dir`, or nullopt when none runs there (the
// admin command line tells it about changes it must act on: SIGHUP re-reads the CRL).
std::optional<pid_t> RunningServer(const std::filesystem::path& data_dir);

}  // namespace rainmaker::app
