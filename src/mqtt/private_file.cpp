#include "mqtt/private_file.hpp"

#include <fstream>
#include <stdexcept>

namespace rainmaker::mqtt {

namespace fs = std::filesystem;

void WritePrivateFile(const fs::path& path, const std::string& text, fs::perms perms) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) {
            throw std::runtime_error("cannot write " + tmp.string());
        }
    }
    fs::permissions(tmp, perms, fs::perm_options::replace);
    fs::rename(tmp, path);
}

}  // namespace rainmaker::mqtt
