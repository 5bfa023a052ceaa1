// No acknowledged message lost (#13): a server killed with -9 while a node publishes as fast as
// the broker takes it loses none of the messages the broker acknowledged to the node. The
// broker (the embedded one, which the server's death stops) keeps the link's session on disk;
// the link acknowledges a message only once it is committed, so at the restart the broker hands
// over again whatever the server had not committed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <mosquitto.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using namespace std::chrono_literals;

// A node publishing numbered time-series records at QoS 1 with libmosquitto, keeping up to
// 500 unacknowledged, and recording which numbers the broker acknowledged.
class CountingPublisher {
public:
    CountingPublisher(const ServerProcess& server, const Device& d, std::int64_t base_t)
        : node_id_(d.node_id), base_t_(base_t) {
        mosquitto_lib_init();
        client_ = mosquitto_new(d.node_id.c_str(), true, this);
        mosquitto_tls_set(
            client_,
            server.ca_file().c_str(),
            nullptr,
            (d.dir / "node.crt").c_str(),
            (d.dir / "node.key").c_str(),
            nullptr
        );
        mosquitto_max_inflight_messages_set(client_, 500);
        mosquitto_publish_callback_set(client_, [](mosquitto*, void* self, int mid) {
            static_cast<CountingPublisher*>(self)->Acked(mid);
        });
        connected_ =
            mosquitto_connect(client_, "127.0.0.1", server.mqtt_port(), 30) == MOSQ_ERR_SUCCESS;
        if (connected_) {
            mosquitto_loop_start(client_);
            thread_ = std::thread([this] { Publish(); });
        }
    }

    ~CountingPublisher() {
        Stop();
        mosquitto_destroy(client_);
    }

    bool connected() const { return connected_; }

    void Stop() {
        stopping_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
        if (connected_) {
            mosquitto_disconnect(client_);
            mosquitto_loop_stop(client_, true);
            connected_ = false;
        }
    }

    std::set<std::int64_t> Acked() {
        std::lock_guard lock(mutex_);
        return acked_;
    }

private:
    void Publish() {
        const std::string topic = "node/" + node_id_ + "/tsdata";
        for (std::int64_t i = 0; !stopping_ && i < 1000000; ++i) {
            const auto t = base_t_ + i;
            const std::string payload =
                R"({"ts_data_version":"2021-09-13","ts_data":[{"name":"Light.Temperature",)"
                R"("dt":"float","records":[{"t":)" +
                std::to_string(t) + R"(,"v":1.5}]}]})";
            int mid = 0;
            // At most 500 unacknowledged (libmosquitto would queue more, and message ids are 16
            // bits: more in flight would reuse them); refused when the connection is gone.
            while (!stopping_) {
                {
                    std::lock_guard lock(mutex_);
                    if (sent_.size() < 500 && mosquitto_publish(
                                                  client_,
                                                  &mid,
                                                  topic.c_str(),
                                                  static_cast<int>(payload.size()),
                                                  payload.data(),
                                                  1,
                                                  false
                                              ) == MOSQ_ERR_SUCCESS) {
                        sent_[mid] = t;
                        break;
                    }
                }
                std::this_thread::sleep_for(1ms);
            }
        }
    }

    void Acked(int mid) {
        std::lock_guard lock(mutex_);
        if (const auto it = sent_.find(mid); it != sent_.end()) {
            acked_.insert(it->second);
            sent_.erase(it);
        }
    }

    std::string node_id_;
    std::int64_t base_t_;
    mosquitto* client_ = nullptr;
    bool connected_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::map<int, std::int64_t> sent_;  // message id -> the record's time
    std::set<std::int64_t> acked_;
};

class IngestDurabilityTest : public ::testing::Test, protected DeviceLab {
protected:
    IngestDurabilityTest()
        : DeviceLab(server_, client_, dir_),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")) {}

    // The node, mapped and configured by the simulator, which then stops: the test speaks as it.
    void SetUp() override { device_ = ClaimConfigured(alice_, "n1", "Temperature"); }

    // Every stored record time of Light.Temperature in [start, end), page by page.
    std::set<std::int64_t> Stored(HttpClient& client, std::int64_t start, std::int64_t end) {
        std::set<std::int64_t> times;
        std::string start_id;
        for (int page = 0; page < 10000; ++page) {
            const auto r = client.Get(
                "/v1/user/nodes/tsdata?node_id=" + device_.node_id +
                    "&param_name=Light.Temperature&num_records=200&start_time=" +
                    std::to_string(start) + "&end_time=" + std::to_string(end) +
                    (start_id.empty() ? "" : "&start_id=" + start_id),
                alice_.accesstoken
            );
            if (r.status != 200) {
                ADD_FAILURE() << r.body;
                return times;
            }
            const auto& series = r.json.at("ts_data").as_array();
            if (series.empty()) {
                return times;
            }
            for (const auto& v : series[0].at("params").at(0).at("values").as_array()) {
                times.insert(v.at("ts").to_number<std::int64_t>());
            }
            const auto* next = series[0].as_object().if_contains("next_id");
            if (next == nullptr) {
                return times;
            }
            start_id = std::string(next->as_string());
        }
        return times;
    }

    TempDir dir_;
    ServerProcess server_;
    HttpClient client_;
    Tokens alice_;
    Device device_;
};

TEST_F(IngestDurabilityTest, AServerKilledUnderLoadLosesNoMessageTheBrokerAcknowledged) {
    const std::int64_t base_t = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch()
                                )
                                    .count() -
                                86400;
    std::set<std::int64_t> acked;
    {
        CountingPublisher node(server_, device_, base_t);
        ASSERT_TRUE(node.connected());
        for (int i = 0; i < 3000 && node.Acked().size() < 3000; ++i) {
            std::this_thread::sleep_for(5ms);
        }
        ASSERT_GE(node.Acked().size(), 3000u) << "the load did not start";
        server_.Kill();  // its broker goes with it (SIGTERM from the kernel)
        node.Stop();
        acked = node.Acked();
    }
    server_.Restart();
    HttpClient client(server_.port());
    const std::int64_t last = *acked.rbegin();
    std::set<std::int64_t> stored;
    for (int i = 0; i < 300; ++i) {
        stored = Stored(client, base_t, last + 1);
        if (std::includes(stored.begin(), stored.end(), acked.begin(), acked.end())) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    std::vector<std::int64_t> lost;
    std::set_difference(
        acked.begin(), acked.end(), stored.begin(), stored.end(), std::back_inserter(lost)
    );
    // How many the broker handed over again after the restart (the publisher had stopped).
    const auto metrics = client.Get("/metrics").body;
    const std::string name = "\nrainmaker_mqtt_node_messages_total ";
    const auto at = metrics.find(name);
    std::cerr << "acknowledged " << acked.size() << ", stored " << stored.size()
              << ", handed over after the restart: "
              << (at == std::string::npos
                      ? std::string("?")
                      : metrics.substr(
                            at + name.size(), metrics.find('\n', at + 1) - at - name.size()
                        ))
              << "\n";
    EXPECT_TRUE(lost.empty()) << lost.size() << " of " << acked.size()
                              << " acknowledged messages lost, the first at t = base + "
                              << (lost.empty() ? 0 : lost.front() - base_t);
}

}  // namespace
}  // namespace rainmaker::testing
