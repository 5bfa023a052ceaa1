// Concurrent writes to one account on a server with several worker threads: every write the
// server acknowledged is still there afterwards, and a password change that answered 200 is the
// only password that works (hardening finding 2: lost updates on the user row).
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::object;

const char* const kAlice = "alice@example.com";

// Four workers, and the default password cost: hashing then takes tens of milliseconds, the
// window in which a read-modify-write of the row would lose what others wrote.
ServerProcess::Options FourWorkers() {
    ServerProcess::Options options;
    options.args = {"--worker-threads", "4", "--password-cost", "interactive"};
    return options;
}

// The custom data keys the server holds for the user.
std::set<std::string> StoredKeys(HttpClient& client, const std::string& token) {
    std::set<std::string> keys;
    const auto r = client.Get("/v1/user/custom_data", token);
    if (r.status == 200 && r.json.is_object()) {
        for (const auto& [key, value] : r.json.as_object()) {
            keys.insert(std::string(key));
        }
    }
    return keys;
}

TEST(AccountConcurrency, APasswordChangeKeepsConcurrentWritesAndIsNeverUndoneByThem) {
    ServerProcess server(FourWorkers());
    HttpClient setup(server.port());
    SignUpAndLogin(setup, server, kAlice);

    // Each round: writers change custom data and the profile through one session while another
    // session changes the password. Every write answered 200 must stay, and afterwards only the
    // new password may work.
    const std::string passwords[] = {"Passw0rdOne", "Passw0rdTwo"};
    for (int round = 0; round < 4; ++round) {
        const std::string& current = passwords[round % 2];
        const std::string& next = passwords[(round + 1) % 2];
        const Tokens writer = Login(setup, kAlice, current);
        const Tokens changer = Login(setup, kAlice, current);
        std::atomic<bool> stop{false};
        std::vector<std::vector<std::string>> acknowledged(3);
        std::vector<std::thread> writers;
        for (int w = 0; w < 3; ++w) {
            writers.emplace_back([&, w] {
                HttpClient client(server.port());
                for (int i = 0; !stop && i < 2000; ++i) {
                    const std::string key = "r" + std::to_string(round) + "w" + std::to_string(w) +
                                            "_" + std::to_string(i);
                    const auto r = client.Put(
                        "/v1/user/custom_data",
                        object{{key, object{{"value", i}}}},
                        writer.accesstoken
                    );
                    if (r.status == 200) {
                        acknowledged[w].push_back(key);
                    }
                    client.Put("/v1/user2", object{{"name", key}}, writer.accesstoken);
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        HttpClient client(server.port());
        const auto r = client.Put(
            "/v1/password2",
            object{{"password", current}, {"newpassword", next}},
            changer.accesstoken
        );
        stop = true;
        for (auto& t : writers) {
            t.join();
        }
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_TRUE(IsFailure(TryLogin(client, kAlice, current), 400, 101009))
            << "round " << round << ": the old password still works";
        const Tokens after = Login(client, kAlice, next);
        const auto keys = StoredKeys(client, after.accesstoken);
        int total = 0;
        int lost = 0;
        for (const auto& list : acknowledged) {
            for (const auto& key : list) {
                ++total;
                lost += keys.count(key) == 0 ? 1 : 0;
            }
        }
        EXPECT_GT(total, 0) << "round " << round << ": no write was acknowledged";
        EXPECT_EQ(lost, 0) << "round " << round << ": " << lost << " of " << total
                           << " acknowledged custom data keys lost";
    }
}

// Someone who knows the old password keeps logging in (and changing it to itself) while the
// owner resets it: once the reset answered, no session of theirs may work and only the new
// password may (review of #14: sessions opened by logins in flight survived the reset, and a
// change checked against the old password undid it).
TEST(AccountConcurrency, LoginsAndChangesInFlightCannotOutliveOrUndoAReset) {
    const TomlConfig config("[http]\nheavy_threads = 4\n");
    auto options = config.Options();
    options.args.insert(options.args.end(), {"--password-cost", "interactive"});
    ServerProcess server(options);
    HttpClient setup(server.port());
    const std::string passwords[] = {"Passw0rdOne", "Passw0rdTwo"};
    SignUpAndLogin(setup, server, kAlice, passwords[0]);
    for (int round = 0; round < 2; ++round) {
        const std::string& old_password = passwords[round % 2];
        const std::string& new_password = passwords[(round + 1) % 2];
        std::atomic<bool> stop{false};
        std::mutex mutex;
        std::vector<std::string> refresh_tokens;
        std::vector<std::thread> attackers;
        for (int a = 0; a < 3; ++a) {
            attackers.emplace_back([&, a] {
                HttpClient client(server.port());
                while (!stop) {
                    const auto login = TryLogin(client, kAlice, old_password);
                    if (login.status != 200) {
                        continue;
                    }
                    {
                        std::lock_guard lock(mutex);
                        refresh_tokens.push_back(login.Str("refreshtoken"));
                    }
                    if (a == 0) {
                        client.Put(
                            "/v1/password2",
                            object{{"password", old_password}, {"newpassword", old_password}},
                            login.Str("accesstoken")
                        );
                    }
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        HttpClient owner(server.port());
        ASSERT_EQ(owner.Put("/v1/forgotpassword2", object{{"user_name", kAlice}}).status, 200);
        const auto reset = owner.Put(
            "/v1/forgotpassword2",
            object{
                {"user_name", kAlice},
                {"verification_code", server.LatestCode(kAlice)},
                {"password", new_password}}
        );
        stop = true;
        for (auto& t : attackers) {
            t.join();
        }
        ASSERT_EQ(reset.status, 200) << reset.body;
        EXPECT_EQ(TryLogin(owner, kAlice, new_password).status, 200) << "round " << round;
        EXPECT_TRUE(IsFailure(TryLogin(owner, kAlice, old_password), 400, 101009))
            << "round " << round;
        int alive = 0;
        for (const auto& token : refresh_tokens) {
            alive +=
                owner.Post("/v1/login2", object{{"refreshtoken", token}}).status == 200 ? 1 : 0;
        }
        EXPECT_EQ(alive, 0) << "round " << round << ": " << alive << " of " << refresh_tokens.size()
                            << " sessions survived the reset";
    }
}

}  // namespace
}  // namespace rainmaker::testing
