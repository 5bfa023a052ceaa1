// CRL rewrite and broker reload.
#include "mqtt/crl_publisher.hpp"

#include <fstream>
#include <stdexcept>

#include "core/log.hpp"
#include "mqtt/private_file.hpp"

namespace rainmaker::mqtt {

namespace fs = std::filesystem;

CrlPublisher::CrlPublisher(
    storage::Database& db,
    const crypto::CertificateAuthority& ca,
    fs::path crl_file,
    std::function<void()> reload
)
    : db_(db), ca_(ca), crl_file_(std::move(crl_file)), reload_(std::move(reload)) {}

void CrlPublisher::SetReload(std::function<void()> reload) {
    std::lock_guard lock(mutex_);
    reload_ = std::move(reload);
}

void CrlPublisher::Changed() {
    std::lock_guard lock(mutex_);
    try {
        const auto serials = db_.Nodes().RevokedSerials();
        const std::string crl = ca_.MakeCrl(serials);
        fs::create_directories(crl_file_.parent_path());
        WritePrivateFile(crl_file_, crl);
        if (reload_) {
            reload_();
        }
        core::log::Info(
            "broker CRL rewritten: " + std::to_string(serials.size()) + " revoked certificate(s)"
        );
    } catch (const std::exception& e) {
        core::log::Error(std::string("rewriting the broker CRL failed: ") + e.what());
    }
}

}  // namespace rainmaker::mqtt
