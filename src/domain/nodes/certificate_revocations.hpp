// How the domain makes the broker refuse node certificates it revoked, at once: the broker side
// (src/mqtt) rewrites the CRL from the store, has the broker re-read it and closes the live
// connections of revoked certificates.
#pragma once

namespace rainmaker::domain::nodes {

class CertificateRevocations {
public:
    virtual ~CertificateRevocations() = default;
    // Called after a transaction that revoked certificates (or deactivated a node) committed.
    // Never throws: a failure is logged, and the CRL is rewritten at the next call or start.
    virtual void Changed() = 0;
};

}  // namespace rainmaker::domain::nodes
