// libsodium's randombytes: seeded from the kernel, safe from every thread.
#include "core/random.hpp"

#include <sodium.h>
#include <stdexcept>

namespace rainmaker::core {

namespace {
struct SodiumInit {
    SodiumInit() {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium initialisation failed");
        }
    }
};
}  // namespace

void EnsureSodium() {
    static const SodiumInit kInit;
}

std::string RandomHex(std::size_t bytes) {
    EnsureSodium();
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0xF]);
    }
    return out;
}

std::uint32_t RandomBelow(std::uint32_t upper) {
    EnsureSodium();
    return randombytes_uniform(upper);
}

std::string RandomAlnum(std::size_t length) {
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
        out.push_back(kChars[RandomBelow(sizeof(kChars) - 1)]);
    }
    return out;
}

std::string RandomDigits(std::size_t digits) {
    std::string out;
    out.reserve(digits);
    for (std::size_t i = 0; i < digits; ++i) {
        out.push_back(static_cast<char>('0' + RandomBelow(10)));
    }
    return out;
}

}  // namespace rainmaker::core
