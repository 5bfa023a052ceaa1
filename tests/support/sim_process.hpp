// Runs the device simulator (rainmaker-sim) as a child process: commands go to its stdin,
// its event lines ("connected", "ready", "params/remote {...}", ...) are read from stdout.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rainmaker::testing {

class SimProcess {
public:
    // What the simulator's stdin is: a pipe (commands through Send), or a terminal of which it
    // is in the background process group or in the foreground one, as from an interactive
    // shell with and without `&` (Send writes to the terminal).
    enum class Stdin { kPipe, kTerminalBackground, kTerminalForeground };

    // Starts `rainmaker-sim <args...>`.
    explicit SimProcess(std::vector<std::string> args, Stdin stdin_kind = Stdin::kPipe);
    ~SimProcess();
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    // The next line starting with `prefix` (lines before it are kept in lines()); empty when
    // none arrived within `timeout` or the process ended.
    std::string WaitFor(
        const std::string& prefix, std::chrono::milliseconds timeout = std::chrono::seconds(15)
    );
    // Lines starting with `prefix` that arrive within `window` (for "nothing arrived" checks).
    std::vector<std::string> Collect(const std::string& prefix, std::chrono::milliseconds window);
    void Send(const std::string& command);
    // SIGKILL: the device loses power.
    void Kill();
    // SIGSTOP: the device freezes (no packet in or out, its connection left open).
    void Freeze();
    // True when the simulator is stopped by a job-control signal (SIGTTIN: "Stopped (tty
    // input)"), read from /proc.
    bool IsStopped() const;

    const std::vector<std::string>& lines() const { return lines_; }

    // Runs rainmaker-sim to completion and returns its stdout (exit status in *status).
    static std::string Run(const std::vector<std::string>& args, int* status);

private:
    void StartOnTerminal(std::vector<std::string>& args, bool foreground, int in[2], int out[2]);
    bool ReadLine(std::string& line, std::chrono::steady_clock::time_point deadline);

    pid_t pid_ = -1;     // the simulator
    pid_t leader_ = -1;  // terminal modes: the session leader that holds the terminal
    int in_fd_ = -1;
    int out_fd_ = -1;
    std::string buffer_;
    std::vector<std::string> lines_;
    std::size_t next_ = 0;  // first line of lines_ not returned by WaitFor yet
};

}  // namespace rainmaker::testing
