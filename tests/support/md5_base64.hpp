// The base64 MD5 of some bytes, as Content-MD5 headers and md5_checksum queries carry it.
#pragma once

#include <openssl/evp.h>
#include <string>

#include "support/esp_image.hpp"

namespace rainmaker::testing {

inline std::string Md5Base64(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_md5(), nullptr);
    return ToBase64(std::string(reinterpret_cast<const char*>(digest), size));
}

}  // namespace rainmaker::testing
