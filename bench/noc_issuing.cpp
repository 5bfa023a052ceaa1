// NOC issuing in process (#9): device NOCs through FabricService::IssueNocs over SQLite (open
// the sealed root key, check the CSR's signature, sign with ECDSA P-256, store the node and its
// commissioning request, one transaction each), beside the raw ECDSA P-256 signing rate of the
// same OpenSSL in the same run (bench/noc.sh also runs `openssl speed ecdsap256`).
//
//   noc_issuing [--count N]
//
// Prints a Markdown table. The store lives in a temporary directory removed at the end.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <openssl/evp.h>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "crypto/matter_certs.hpp"
#include "crypto/pki.hpp"
#include "domain/groups/fabric_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace {

using namespace rainmaker;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

// Raw ECDSA P-256 signatures over SHA-256 of a short message, per second.
double RawSignRate(int count) {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    const std::string message(64, 'm');
    unsigned char signature[80];
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t size = sizeof signature;
        if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) != 1 ||
            EVP_DigestSign(
                ctx,
                signature,
                &size,
                reinterpret_cast<const unsigned char*>(message.data()),  // NOLINT: OpenSSL
                message.size()
            ) != 1) {
            std::fprintf(stderr, "signing failed\n");
            std::exit(1);
        }
        EVP_MD_CTX_free(ctx);
    }
    const double rate = count / Seconds(start);
    EVP_PKEY_free(key);
    return rate;
}

}  // namespace

int main(int argc, char** argv) {
    int count = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--count") {
            count = std::atoi(argv[i + 1]);
        }
    }
    char pattern[] = "/tmp/rm-noc-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
        return 1;
    }
    const std::filesystem::path dir = pattern;
    {
        storage::sqlite::SqliteDatabase db(dir / "db.sqlite");
        core::SystemClock clock;
        const auto sealer = crypto::FabricKeySealer::FromKeyForTest(std::string(32, 'k'));
        domain::groups::FabricService fabrics(db, *sealer, clock);
        storage::UserRow user;
        user.user_id = "owner";
        user.user_name = "owner@x.com";
        user.password_hash = "x";
        db.Users().Insert(user);
        storage::GroupRow home;
        home.group_id = "home";
        home.owner_id = "owner";
        home.group_name = "Home";
        db.Groups().Insert(home);
        db.Transaction([&] { fabrics.MakeFabric(home); });

        std::vector<std::string> csrs;  // made before the clock starts: the phones' work
        for (int i = 0; i < count; ++i) {
            csrs.push_back(crypto::MakeKeyAndCsr("bench").csr_pem);
        }
        domain::auth::AuthContext caller;
        caller.user_id = "owner";
        const auto start = Clock::now();
        for (const auto& csr : csrs) {
            domain::groups::NocBatch batch{"add", "node", {{csr, "home", {}, {}}}, false, false};
            fabrics.IssueNocs(caller, batch);
        }
        const double nocs = count / Seconds(start);
        const double raw = RawSignRate(count);
        // The certificate work alone: the root opened once, each CSR checked and signed.
        const auto fabric = db.Matter().FindFabric("home");
        const auto key = sealer->Open(fabric->root_key_sealed, "home");
        const crypto::MatterIssuer issuer(key, fabric->root_ca);
        const auto sign_start = Clock::now();
        for (const auto& csr : csrs) {
            issuer.Sign({csr, 5, 6, {}}, 1'765'000'000);
        }
        const double certs = count / Seconds(sign_start);
        std::printf("| what | per second |\n|---|---|\n");
        std::printf("| device NOCs issued (open key, CSR check, sign, store) | %.0f |\n", nocs);
        std::printf("| MatterIssuer::Sign alone (CSR parse and check, sign) | %.0f |\n", certs);
        std::printf("| raw ECDSA P-256 SHA-256 signatures (same OpenSSL) | %.0f |\n", raw);
        std::printf("| ratio | %.0f %% |\n", 100.0 * nocs / raw);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
