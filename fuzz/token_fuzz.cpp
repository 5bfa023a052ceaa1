// Feeds bytes as the Authorization header of every authenticated request (through the JWT
// check and the session lookup), as the refresh token of login2, and as the claims the server
// signs (which must verify back to themselves): a token is the first thing any client sends.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "crypto/digest.hpp"
#include "crypto/jwt.hpp"
#include "domain/auth/token_service.hpp"
#include "fuzz_support.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace json = boost::json;
using namespace rainmaker;

// A fixed signing key, made for this target only, so that the seed tokens in
// fuzz/corpus/token_fuzz/ carry valid signatures and the fuzzer starts past the signature check.
constexpr std::string_view kSigningKeyPem = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgC5kwrVpavS418nkK
qsoPBnakRN5gdynN6ik+4M9uZX+hRANCAASZ1WLlDamJNxUFDA95R6TR1OsxpwpU
OcupZZ0wTGPyAV933elAUzPzn7pD7xdXnxS3Wup0mDYnG80s/X+3J+dk
-----END PRIVATE KEY-----
)";

constexpr std::string_view kRefreshToken = "fuzz-refresh-token";

std::filesystem::path WriteKey(const std::filesystem::path& dir) {
    const auto file = dir / "token-signing.pem";
    std::ofstream(file) << kSigningKeyPem;
    std::filesystem::permissions(
        file,
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace
    );
    return file;
}

// One user with a live session (the refresh token above), a revoked and an expired one.
struct Tokens {
    Tokens()
        : db(dir.path() / "rainmaker.db"),
          signer(crypto::JwtSigner::LoadOrCreate(WriteKey(dir.path()))) {
        fuzz::SilenceLogs();
        storage::UserRow user;
        user.user_id = "u-fuzz";
        user.user_name = "fuzz@example.com";
        user.password_hash = "x";
        user.confirmed = true;
        db.Users().Insert(user);
        const auto now = clock.NowSeconds();
        const auto session =
            [&](const char* id, std::string_view refresh, std::int64_t expires, bool revoked) {
                storage::SessionRow row;
                row.session_id = id;
                row.user_id = user.user_id;
                row.refresh_hash = crypto::Sha256Hex(refresh);
                row.created_at = now - 10;
                row.expires_at = expires;
                row.revoked = revoked;
                db.Sessions().Insert(row, user.password_hash);
            };
        session("s-live", kRefreshToken, now + 3600, false);
        session("s-revoked", "fuzz-revoked-token", now + 3600, true);
        session("s-expired", "fuzz-expired-token", now - 1, false);
    }

    testing::TempDir dir;  // first member: removed after the store is closed
    testing::FakeClock clock;
    storage::sqlite::SqliteDatabase db;
    std::unique_ptr<crypto::JwtSigner> signer;
};

Tokens& Instance() {
    static Tokens instance;  // one store and key per process, removed at exit
    return instance;
}

[[noreturn]] void Fail(const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::abort();
}

// A new service per input: its caches of verified tokens and live sessions start empty, so
// each input is judged on its own.
domain::auth::TokenService Service(Tokens& s) {
    return domain::auth::TokenService(*s.signer, s.db, s.clock, domain::auth::TokenConfig{});
}

void Header(Tokens& s, std::string_view header) {
    s.signer->Verify(header);
    auto service = Service(s);
    fuzz::Refusable([&] { service.Authenticate(header); });
    // The second call answers from the cache: it must agree with the first.
    const bool first = fuzz::Refusable([&] { service.Authenticate(header); });
    const bool again = fuzz::Refusable([&] { service.Authenticate(header); });
    if (first != again) {
        Fail("the token cache changed the answer");
    }
}

void Refresh(Tokens& s, std::string_view refresh_token) {
    auto service = Service(s);
    domain::auth::Tokens issued;
    if (!fuzz::Refusable([&] { issued = service.Refresh(refresh_token); })) {
        return;
    }
    // Only the live session refreshes, and its new tokens authenticate.
    if (refresh_token != kRefreshToken) {
        Fail("a refresh token of no live session refreshed");
    }
    if (service.Authenticate(issued.accesstoken).session_id != "s-live") {
        Fail("a refreshed access token names another session");
    }
}

void Claims(Tokens& s, std::string_view text) {
    boost::system::error_code ec;
    const json::value claims = json::parse(text, ec);
    if (ec || !claims.is_object()) {
        return;
    }
    std::string token;
    try {
        token = s.signer->Sign(claims.as_object());
    } catch (const std::invalid_argument&) {
        return;  // documented: a string that is not UTF-8, or a token over kMaxTokenBytes
    }
    const auto verified = s.signer->Verify(token);
    if (!verified || !fuzz::SameJson(*verified, claims)) {
        Fail("a token the server signed does not verify to its claims: " + token);
    }
    auto service = Service(s);
    fuzz::Refusable([&] { service.Authenticate(token); });
    fuzz::Refusable([&] { service.Authenticate("Bearer " + token); });
}

}  // namespace

// Input: a selector byte, then the bytes. Selector % 4: 0-1 an Authorization header, 2 a
// refresh token, 3 claims (JSON) signed here.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Tokens& s = Instance();
    if (size == 0) {
        return 0;
    }
    const std::string_view rest = fuzz::AsText(data + 1, size - 1);
    switch (data[0] % 4) {
        case 2:
            Refresh(s, rest);
            break;
        case 3:
            Claims(s, rest);
            break;
        default:
            Header(s, rest);
    }
    return 0;
}
