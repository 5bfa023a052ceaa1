// A fake external service written for Node (tests/support/*.mjs) as a child process: started
// with its arguments, its first line of output read ("listening <port>..."), stopped when this
// object goes (its stdin closed, which the fakes stop on, then SIGTERM and a wait).
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace rainmaker::testing {

class NodeFake {
public:
    // Runs `node <script> <args...>` (script relative to the source tree); throws
    // std::runtime_error when it prints no line within 30 s.
    NodeFake(const std::string& script, const std::vector<std::string>& args);
    ~NodeFake();
    NodeFake(const NodeFake&) = delete;
    NodeFake& operator=(const NodeFake&) = delete;

    // Its first line of output.
    const std::string& first_line() const { return first_line_; }

private:
    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    std::string first_line_;
};

}  // namespace rainmaker::testing
