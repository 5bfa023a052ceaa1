// NOC issuing in process (#9), beside the raw ECDSA P-256 rates of the same OpenSSL in the same
// run (bench/noc.sh also runs `openssl speed ecdsap256`, one process and one per core):
//   - raw signatures and verifications: EVP_PKEY_sign / EVP_PKEY_verify over a SHA-256 digest
//     with a context made once, what `openssl speed` measures;
//   - MatterIssuer::Sign: the certificate work alone (CSR read and its signature checked, the
//     NOC written and signed);
//   - device NOCs through FabricService::IssueNocs over SQLite (CSR checked, the fabric's root
//     from the issuer cache, the node id drawn, the NOC signed, the node and its commissioning
//     request stored in one transaction per request);
//   - user NOCs for five fabrics in one request (one transaction for the five);
// each on one thread, then on --threads threads at once (every thread its own requests, as the
// server's worker threads run concurrent requests).
//
//   noc_issuing [--count N] [--threads T]
//
// Prints a Markdown table. The store lives in a temporary directory removed at the end.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <openssl/evp.h>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "crypto/matter_certs.hpp"
#include "crypto/pki.hpp"
#include "domain/groups/fabric_service.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace {

using namespace rainmaker;
using Clock = std::chrono::steady_clock;

double ThreadCpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Operations per second of wall-clock time, and per CPU-second the working threads used (what
// `openssl speed` reports by default: on a machine shared with other work, the cost of the
// work itself).
struct Rates {
    double wall = 0;
    double cpu = 0;
};

// Runs work(thread, i) for i in [0, count) split over `threads` threads.
Rates Rate(int count, int threads, const std::function<void(int, int)>& work) {
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> cpu(static_cast<std::size_t>(threads), 0.0);
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            ++ready;
            while (!go) {
                std::this_thread::yield();
            }
            const double start = ThreadCpuSeconds();
            for (int i = t; i < count; i += threads) {
                work(t, i);
            }
            cpu[static_cast<std::size_t>(t)] = ThreadCpuSeconds() - start;
        });
    }
    while (ready < threads) {
        std::this_thread::yield();
    }
    const auto start = Clock::now();
    go = true;
    for (auto& thread : pool) {
        thread.join();
    }
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu_total = 0;
    for (const double c : cpu) {
        cpu_total += c;
    }
    return {count / wall, count / cpu_total};
}

[[noreturn]] void Die(const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::exit(1);
}

struct RawEcdsa {
    explicit RawEcdsa(int threads) {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        for (int t = 0; t < threads; ++t) {
            EVP_PKEY_CTX* sign = EVP_PKEY_CTX_new(key, nullptr);
            EVP_PKEY_CTX* verify = EVP_PKEY_CTX_new(key, nullptr);
            if (sign == nullptr || verify == nullptr || EVP_PKEY_sign_init(sign) != 1 ||
                EVP_PKEY_verify_init(verify) != 1) {
                Die("cannot make signing contexts");
            }
            signers.push_back(sign);
            verifiers.push_back(verify);
        }
        std::size_t size = sizeof signature;
        if (EVP_PKEY_sign(signers[0], signature, &size, digest, sizeof digest) != 1) {
            Die("signing failed");
        }
        signature_size = size;
    }

    ~RawEcdsa() {
        for (auto* c : signers) {
            EVP_PKEY_CTX_free(c);
        }
        for (auto* c : verifiers) {
            EVP_PKEY_CTX_free(c);
        }
        EVP_PKEY_free(key);
    }

    RawEcdsa(const RawEcdsa&) = delete;
    RawEcdsa& operator=(const RawEcdsa&) = delete;

    void Sign(int thread) {
        unsigned char out[80];
        std::size_t size = sizeof out;
        if (EVP_PKEY_sign(signers[thread], out, &size, digest, sizeof digest) != 1) {
            Die("signing failed");
        }
    }

    void Verify(int thread) {
        if (EVP_PKEY_verify(verifiers[thread], signature, signature_size, digest, sizeof digest) !=
            1) {
            Die("verification failed");
        }
    }

    EVP_PKEY* key = nullptr;
    std::vector<EVP_PKEY_CTX*> signers;
    std::vector<EVP_PKEY_CTX*> verifiers;
    unsigned char digest[32] = {1, 2, 3};
    unsigned char signature[80] = {};
    std::size_t signature_size = 0;
};

storage::GroupRow Home(storage::Database& db, const std::string& id) {
    storage::GroupRow home;
    home.group_id = id;
    home.owner_id = "owner";
    home.group_name = id;
    db.Groups().Insert(home);
    return home;
}

}  // namespace

int main(int argc, char** argv) {
    int count = 2000;
    int threads = static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--count") {
            count = std::atoi(argv[i + 1]);
        } else if (std::string(argv[i]) == "--threads") {
            threads = std::atoi(argv[i + 1]);
        }
    }
    if (count <= 0 || threads <= 0) {
        Die("usage: noc_issuing [--count N] [--threads T]");
    }
    char pattern[] = "/tmp/rm-noc-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
        return 1;
    }
    const std::filesystem::path dir = pattern;
    {
        storage::sqlite::SqliteDatabase db(dir / "db.sqlite");
        core::SystemClock clock;
        const auto sealer = crypto::KeySealer::FromKeyForTest(std::string(32, 'k'));
        domain::groups::FabricService fabrics(db, *sealer, clock);
        storage::UserRow user;
        user.user_id = "owner";
        user.user_name = "owner@x.com";
        user.password_hash = "x";
        db.Users().Insert(user);
        constexpr int kBatch = 5;
        for (int f = 0; f < kBatch; ++f) {
            const auto home = Home(db, "home" + std::to_string(f));
            db.Transaction([&] { fabrics.MakeFabric(home); });
        }
        // Made before the clock starts: the phones' work.
        std::vector<std::string> csrs;
        for (int i = 0; i < count; ++i) {
            csrs.push_back(crypto::MakeKeyAndCsr("bench").csr_pem);
        }
        domain::auth::AuthContext caller;
        caller.user_id = "owner";
        const auto device_noc = [&](int, int i) {
            domain::groups::NocBatch batch{
                "add", "node", {{csrs[i], "home0", {}, {}}}, false, false};
            fabrics.IssueNocs(caller, batch);
        };
        const auto user_nocs = [&](int, int i) {
            domain::groups::NocBatch batch{"add", "user", {}, false, false};
            for (int f = 0; f < kBatch; ++f) {
                batch.items.push_back(
                    {csrs[(i * kBatch + f) % count], "home" + std::to_string(f), {}, {}}
                );
            }
            fabrics.IssueNocs(caller, batch);
        };
        const auto fabric = db.Matter().FindFabric("home0");
        const auto key = sealer->Open(fabric->root_key_sealed, "home0");
        const crypto::MatterIssuer issuer(key, fabric->root_ca);
        const auto issue = [&](int, int i) {
            issuer.Sign({csrs[i], 5, 6, {0x01000001, 0x10000001}}, 1'765'000'000);
        };
        RawEcdsa raw(threads);
        const int raw_count = std::max(count * 10, 20000);

        struct Row {
            const char* what;
            Rates one;
            Rates all;
        };

        std::vector<Row> rows;
        const auto measure =
            [&](const char* what, int n, int per_call, const std::function<void(int, int)>& w) {
                auto one = Rate(n, 1, w);
                auto all = Rate(n, threads, w);
                for (auto* r : {&one, &all}) {
                    r->wall *= per_call;
                    r->cpu *= per_call;
                }
                rows.push_back({what, one, all});
            };
        measure(
            "raw ECDSA P-256 signatures (EVP_PKEY_sign, digest, context reused)",
            raw_count,
            1,
            [&](int t, int) { raw.Sign(t); }
        );
        measure("raw ECDSA P-256 verifications (EVP_PKEY_verify)", raw_count, 1, [&](int t, int) {
            raw.Verify(t);
        });
        measure(
            "MatterIssuer::Sign (CSR read and checked, NOC written and signed)", count, 1, issue
        );
        measure(
            "device NOCs through FabricService::IssueNocs (+ store, a transaction each)",
            count,
            1,
            device_noc
        );
        measure(
            "user NOCs, 5 fabrics per request (one transaction for the 5)",
            count / kBatch,
            kBatch,
            user_nocs
        );

        std::printf(
            "| what | 1 thread, per CPU-s | 1 thread, wall | %d threads, wall (machine) | %d "
            "threads, per CPU-s |\n|---|---:|---:|---:|---:|\n",
            threads,
            threads
        );
        for (const auto& row : rows) {
            std::printf(
                "| %s | %.0f | %.0f | %.0f | %.0f |\n",
                row.what,
                row.one.cpu,
                row.one.wall,
                row.all.wall,
                row.all.cpu
            );
        }
        const auto& sign = rows[0];
        std::printf("\nratios to raw signing in the same run (same measure, same threads):\n\n");
        std::printf(
            "| what | 1 thread, per CPU-s | %d threads, wall (machine) |\n|---|---:|---:|\n",
            threads
        );
        for (std::size_t i = 1; i < rows.size(); ++i) {
            std::printf(
                "| %s | %.1f %% | %.1f %% |\n",
                rows[i].what,
                100.0 * rows[i].one.cpu / sign.one.cpu,
                100.0 * rows[i].all.wall / sign.all.wall
            );
        }
        std::printf(
            "\nbound for one verification + one signature per NOC: %.1f %% of raw signing\n",
            100.0 / (1.0 + sign.one.cpu / rows[1].one.cpu)
        );
    }
    std::filesystem::remove_all(dir);
    return 0;
}
