// Makes certificate revocations take effect at once: rewrites the broker's CRL from the store
// and has the embedded broker re-read it (SIGHUP; the revocation plugin then refuses the revoked
// certificates and closes their live connections). With an external broker the CRL file is
// kept current for the operator to point it at.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>

#include "crypto/pki.hpp"
#include "domain/nodes/certificate_revocations.hpp"
#include "storage/database.hpp"

namespace rainmaker::mqtt {

class CrlPublisher final : public domain::nodes::CertificateRevocations {
public:
    // `reload` tells the running broker to re-read `crl_file` (empty: nothing to tell).
    CrlPublisher(
        storage::Database& db,
        const crypto::CertificateAuthority& ca,
        std::filesystem::path crl_file,
        std::function<void()> reload = {}
    );

    void SetReload(std::function<void()> reload);

    // domain::nodes::CertificateRevocations
    void Changed() override;

private:
    storage::Database& db_;
    const crypto::CertificateAuthority& ca_;
    std::filesystem::path crl_file_;
    // Serialises rewrites: each reads the store's list after the change it follows committed,
    // so the last file written holds every revocation.
    std::mutex mutex_;
    std::function<void()> reload_;
};

}  // namespace rainmaker::mqtt
