// OpenSSL ownership types, error reporting and private-key file handling shared by jwt.cpp,
// pki.cpp and the other crypto/ sources, kept in one place so all wipe secrets, name errors and
// write key files alike.
#include "crypto/openssl_support.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include "core/log.hpp"
#include "core/random.hpp"

namespace rainmaker::crypto::detail {

SecretText::~SecretText() {
    OPENSSL_cleanse(value.data(), value.size());
}

void SecretText::Clear() {
    OPENSSL_cleanse(value.data(), value.size());
    value.clear();
}

void ThrowOpenSsl(const std::string& what) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    std::string message = what;
    if (code != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        message += ": ";
        message += text.data();
    }
    throw std::runtime_error(message);
}

void ThrowErrno(const std::string& what, const std::filesystem::path& path) {
    throw std::runtime_error(
        what + " " + path.string() + ": " + std::generic_category().message(errno)
    );
}

const unsigned char* Bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data() != nullptr ? s.data() : "");
}

int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return -1;
}

bool IsP256(const EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "EC") != 1) {
        return false;
    }
    std::array<char, 64> group{};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(
            key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &length
        ) != 1) {
        return false;
    }
    const std::string_view name(group.data(), length);
    return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

BioPtr ReadBio(std::string_view text) {
    if (text.size() > kMaxPemBytes) {
        return nullptr;
    }
    return BioPtr(BIO_new_mem_buf(Bytes(text), static_cast<int>(text.size())));
}

PkeyPtr ParsePrivateKey(std::string_view pem) {
    const BioPtr bio = ReadBio(pem);
    return PkeyPtr(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr
    );
}

std::string EcdsaDerToRaw(std::string_view der) {
    constexpr int kHalf = 32;
    const unsigned char* cursor = Bytes(der);
    const std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG_free>> sig(
        d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()))
    );
    if (!sig) {
        ThrowOpenSsl("cannot decode the ECDSA signature");
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::array<unsigned char, 2 * kHalf> raw{};
    if (BN_bn2binpad(r, raw.data(), kHalf) != kHalf ||
        BN_bn2binpad(s, raw.data() + kHalf, kHalf) != kHalf) {
        ThrowOpenSsl("cannot encode the ECDSA signature");
    }
    return {reinterpret_cast<const char*>(raw.data()), raw.size()};
}

std::string EcdsaRawToDer(std::string_view raw) {
    constexpr int kHalf = 32;
    if (raw.size() != 2 * kHalf) {
        return {};
    }
    const std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG_free>> sig(ECDSA_SIG_new());
    BignumPtr r(BN_bin2bn(Bytes(raw), kHalf, nullptr));
    BignumPtr s(BN_bin2bn(Bytes(raw) + kHalf, kHalf, nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        ThrowOpenSsl("cannot build the ECDSA signature");
    }
    (void)r.release();  // ECDSA_SIG_set0 took both on success
    (void)s.release();
    const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (size <= 0) {
        ThrowOpenSsl("cannot encode the ECDSA signature");
    }
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* cursor = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &cursor) != size) {
        ThrowOpenSsl("cannot encode the ECDSA signature");
    }
    return der;
}

std::string ReadAll(BIO* bio) {
    std::string out;
    // Sized up front so a private key is never left behind in a freed, unwiped buffer.
    out.reserve(static_cast<std::size_t>(std::max(0, static_cast<int>(BIO_pending(bio)))));
    std::array<char, 1024> chunk{};
    int read = 0;
    while ((read = BIO_read(bio, chunk.data(), static_cast<int>(chunk.size()))) > 0) {
        out.append(chunk.data(), static_cast<std::size_t>(read));
    }
    OPENSSL_cleanse(chunk.data(), chunk.size());
    return out;
}

std::string PrivateKeyToPem(EVP_PKEY* key, const char* what) {
    return WriteToString(
        [&](BIO* b) {
            return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
        },
        what,
        true
    );
}

bool ReadSmallFile(
    const std::filesystem::path& path, std::string& out, std::string_view noun, bool is_key
) {
    const std::string name(noun);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return false;
        }
        ThrowErrno("cannot open " + name, path);
    }

    struct stat info {};

    if (is_key && ::fstat(fd, &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        core::log::Warn(name + " " + path.string() + " is readable by other users; chmod 600 it");
    }
    std::array<char, 4096> chunk{};
    for (;;) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int saved = errno;
            OPENSSL_cleanse(chunk.data(), chunk.size());
            ::close(fd);
            errno = saved;
            ThrowErrno("cannot read " + name, path);
        }
        if (n == 0) {
            break;
        }
        out.append(chunk.data(), static_cast<std::size_t>(n));
        if (out.size() > kMaxPemBytes) {
            break;  // too large to be one of ours: parsing rejects it
        }
    }
    OPENSSL_cleanse(chunk.data(), chunk.size());
    ::close(fd);
    return true;
}

bool WriteFileIfAbsent(
    const std::filesystem::path& path, std::string_view text, mode_t mode, std::string_view noun
) {
    const std::string name(noun);
    std::filesystem::path temporary = path;
    temporary += ".tmp-" + core::RandomHex(8);
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        ThrowErrno("cannot create " + name, temporary);
    }
    const auto fail = [&] {
        const int saved = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        errno = saved;
        ThrowErrno("cannot write " + name, temporary);
    };
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail();
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {  // fchmod: the umask must not narrow it
        fail();
    }
    if (::close(fd) != 0) {
        const int saved = errno;
        ::unlink(temporary.c_str());
        errno = saved;
        ThrowErrno("cannot write " + name, temporary);
    }
    const bool linked = ::link(temporary.c_str(), path.c_str()) == 0;
    const int saved = errno;
    if (linked || saved == EEXIST) {
        ::unlink(temporary.c_str());
        return linked;
    }
    // Some file systems have no hard links; there the rename is the best we can do.
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int rename_errno = errno;
        ::unlink(temporary.c_str());
        errno = rename_errno;
        ThrowErrno("cannot install " + name, path);
    }
    return true;
}

std::string LoadOrCreateSecret(
    const std::filesystem::path& file, std::string_view noun, bool may_create
) {
    constexpr std::size_t kSecretBytes = 32;
    const std::string name(noun);
    SecretText text;
    if (!ReadSmallFile(file, text.value, noun, true)) {
        if (!may_create) {
            throw std::runtime_error(
                "the " + name + " " + file.string() +
                " is missing (no new one is made: what it sealed needs the old one)"
            );
        }
        std::filesystem::create_directories(file.parent_path());
        std::array<unsigned char, kSecretBytes> bytes{};
        if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
            ThrowOpenSsl("cannot draw the " + name);
        }
        SecretText hex;
        for (const unsigned char b : bytes) {
            static constexpr char kDigits[] = "0123456789abcdef";
            hex.value.push_back(kDigits[b >> 4U]);
            hex.value.push_back(kDigits[b & 0x0FU]);
        }
        OPENSSL_cleanse(bytes.data(), bytes.size());
        hex.value.push_back('\n');
        if (WriteFileIfAbsent(file, hex.value, 0600, noun)) {
            core::log::Info("created the " + name + " " + file.string());
        }
        if (!ReadSmallFile(file, text.value, noun, true)) {
            throw std::runtime_error(name + " disappeared: " + file.string());
        }
    }
    auto& hex = text.value;
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) {
        hex.pop_back();
    }
    if (hex.size() != 2 * kSecretBytes) {
        throw std::runtime_error(name + " file holds no 32-byte hex key: " + file.string());
    }
    std::string secret;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        unsigned value = 0;
        if (std::sscanf(hex.c_str() + i, "%2x", &value) != 1) {
            throw std::runtime_error(name + " file is not hex: " + file.string());
        }
        secret.push_back(static_cast<char>(value));
    }
    return secret;
}

}  // namespace rainmaker::crypto::detail
