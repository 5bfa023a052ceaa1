// What the command-line tools (rainmaker-sim, bench/params_latency) share: their
// `--name value` / `--flag` argument parsing and reading a one-line file.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rainmaker::tools {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// --name value options and --flag switches from argv[first] on; anything else is an error.
class Args {
public:
    Args(
        int argc,
        char** argv,
        int first,
        const std::set<std::string>& valued,
        const std::set<std::string>& flags
    ) {
        for (int i = first; i < argc; ++i) {
            const std::string arg = argv[i];
            if (flags.count(arg) != 0) {
                flags_.insert(arg);
            } else if (valued.count(arg) != 0) {
                if (i + 1 >= argc) {
                    throw UsageError(arg + " needs a value");
                }
                values_[arg] = argv[++i];
            } else {
                throw UsageError("unknown argument " + arg);
            }
        }
    }

    bool Has(const std::string& name) const {
        return flags_.count(name) != 0 || values_.count(name) != 0;
    }

    std::string Get(const std::string& name, const std::string& fallback = {}) const {
        const auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }

    std::string Required(const std::string& name) const {
        const auto it = values_.find(name);
        if (it == values_.end() || it->second.empty()) {
            throw UsageError(name + " is required");
        }
        return it->second;
    }

    double Number(const std::string& name, double fallback, double min, double max) const {
        const auto it = values_.find(name);
        if (it == values_.end()) {
            return fallback;
        }
        std::size_t used = 0;
        double value = 0;
        try {
            value = std::stod(it->second, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != it->second.size() || !(value >= min && value <= max)) {
            throw UsageError(
                name + " must be a number in [" + std::to_string(min) + ", " + std::to_string(max) +
                "]"
            );
        }
        return value;
    }

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

// The file's text without leading and trailing whitespace.
inline std::string ReadTrimmed(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    const auto begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) {
        return {};
    }
    const auto end = s.find_last_not_of(" \t\r\n");
    return s.substr(begin, end - begin + 1);
}

}  // namespace rainmaker::tools
