// The raw baseline of `bench/webhooks.sh`: what libcurl alone can post to the bench's webhook
// receiver on this machine. N threads, each with one kept-alive easy handle (as each of the
// server's delivery workers has), post for D seconds bodies shaped and sized like real
// deliveries, with the same headers and an HMAC-SHA256 signature computed per post; nothing is
// read from or written to a store. Each thread plays one node, with increasing event ids, so
// the receiver's duplicate and order checks hold for it too.
//
// Usage: webhook_post_baseline --url URL --secret S [--threads 8] [--duration 10]
//                              [--body-bytes 0] [--webhook-name post-baseline]
// --body-bytes pads each body to that size (0: the unpadded shape, about 230 bytes).
// Prints `result threads= seconds= posts= errors= posts_per_s= body_bytes= cpu_s=` (body_bytes:
// the mean size of the bodies posted; cpu_s: this process's user + system CPU-seconds).

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <system_error>
#include <thread>
#include <vector>

#include <curl/curl.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string url;
    std::string secret;
    std::string webhook_name = "post-baseline";
    int threads = 8;
    int duration_s = 10;
    int body_bytes = 0;
};

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(
        EVP_sha256(),
        key.data(),
        static_cast<int>(key.size()),
        reinterpret_cast<const unsigned char*>(data.data()),
        data.size(),
        mac,
        &size
    );
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[mac[i] >> 4];
        out += kHex[mac[i] & 0xF];
    }
    return out;
}

// The shape the server posts for rmaker.event.node_params_changed, padded inside `data` to
// `size` bytes when that is larger.
std::string BodyOf(
    const Options& o, std::int64_t event_id, const std::string& node, int brightness
) {
    const auto timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()
    )
                               .count();
    const std::string head =
        R"({"event_id":)" + std::to_string(event_id) +
        R"(,"event_type":"rmaker.event.node_params_changed","webhook_name":")" + o.webhook_name +
        R"(","node_id":")" + node + R"(","user_id":"","timestamp":)" + std::to_string(timestamp) +
        R"(,"data":{"node_id":")" + node + R"(","params":{"Light":{"Brightness":)" +
        std::to_string(brightness) + "}}";
    std::string body = head + "}}";
    constexpr std::string_view kPad = R"(,"pad":"")";
    const auto wanted = static_cast<std::size_t>(o.body_bytes);
    if (wanted >= body.size() + kPad.size()) {
        body = head + R"(,"pad":")" + std::string(wanted - body.size() - kPad.size(), 'x') + "\"}}";
    }
    return body;
}

std::size_t Drop(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/) {
    return size * count;
}

struct CurlEasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};

struct CurlSlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct ThreadResult {
    std::uint64_t posts = 0;
    std::uint64_t errors = 0;
    std::uint64_t body_bytes = 0;  // of the posts answered 2xx
    std::string first_error;
};

std::atomic<std::int64_t> g_next_event_id{1};

// One worker: one handle set up once, then post after post on its connection until `end`.
void Run(const Options& o, int index, Clock::time_point end, ThreadResult& out) {
    std::unique_ptr<CURL, CurlEasyDeleter> curl(curl_easy_init());
    if (!curl) {
        out.errors = 1;
        out.first_error = "curl_easy_init failed";
        return;
    }
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_URL, o.url.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Drop);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    const std::string node = "baseline-node-" + std::to_string(index);
    int brightness = 0;
    while (Clock::now() < end) {
        const std::int64_t event_id = g_next_event_id.fetch_add(1);
        const std::string body = BodyOf(o, event_id, node, brightness);
        brightness = (brightness + 1) % 101;
        // The headers the server sends, built per post as it does (the signature changes).
        std::unique_ptr<curl_slist, CurlSlistDeleter> headers;
        const auto add = [&headers](const std::string& line) {
            headers.reset(curl_slist_append(headers.release(), line.c_str()));
        };
        add("Content-Type: application/json");
        add("User-Agent: rainmaker-server");
        add("X-Rainmaker-Event: rmaker.event.node_params_changed");
        add("X-Rainmaker-Delivery: " + std::to_string(event_id));
        add("X-Rainmaker-Signature: sha256=" + HmacSha256Hex(o.secret, body));
        add("Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        const CURLcode code = curl_easy_perform(h);
        long status = 0;
        if (code == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        }
        if (code != CURLE_OK || status < 200 || status >= 300) {
            ++out.errors;
            if (out.first_error.empty()) {
                out.first_error =
                    code != CURLE_OK ? curl_easy_strerror(code) : "HTTP " + std::to_string(status);
            }
            continue;
        }
        ++out.posts;
        out.body_bytes += body.size();
    }
}

bool ParseInt(std::string_view text, int min, int max, int& out) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return false;
    }
    out = value;
    return true;
}

std::optional<Options> ParseOptions(int argc, char** argv) {
    Options o;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i + 1 >= args.size()) {
            return std::nullopt;
        }
        const auto name = args[i];
        const auto value = args[++i];
        bool ok = true;
        if (name == "--url") {
            o.url = value;
        } else if (name == "--secret") {
            o.secret = value;
        } else if (name == "--webhook-name") {
            o.webhook_name = value;
        } else if (name == "--threads") {
            ok = ParseInt(value, 1, 64, o.threads);
        } else if (name == "--duration") {
            ok = ParseInt(value, 1, 600, o.duration_s);
        } else if (name == "--body-bytes") {
            ok = ParseInt(value, 0, 1 << 20, o.body_bytes);
        } else {
            ok = false;
        }
        if (!ok) {
            return std::nullopt;
        }
    }
    if (o.url.empty() || o.secret.empty() || o.webhook_name.empty()) {
        return std::nullopt;
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = ParseOptions(argc, argv);
    if (!options) {
        std::cerr << "usage: webhook_post_baseline --url URL --secret S [--threads 8] "
                     "[--duration 10] [--body-bytes 0] [--webhook-name post-baseline]\n";
        return EXIT_FAILURE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        std::cerr << "webhook_post_baseline: curl_global_init failed\n";
        return EXIT_FAILURE;
    }
    const auto start = Clock::now();
    const auto end = start + std::chrono::seconds(options->duration_s);
    std::vector<ThreadResult> results(static_cast<std::size_t>(options->threads));
    std::vector<std::thread> threads;
    threads.reserve(results.size());
    for (int i = 0; i < options->threads; ++i) {
        threads.emplace_back([&, i] { Run(*options, i, end, results[static_cast<std::size_t>(i)]); }
        );
    }
    for (auto& t : threads) {
        t.join();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto cpu_s = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    std::uint64_t posts = 0;
    std::uint64_t errors = 0;
    std::uint64_t body_bytes = 0;
    for (const auto& r : results) {
        posts += r.posts;
        errors += r.errors;
        body_bytes += r.body_bytes;
        if (!r.first_error.empty()) {
            std::cerr << "webhook_post_baseline: " << r.first_error << '\n';
        }
    }
    std::printf(
        "result threads=%d seconds=%.2f posts=%llu errors=%llu posts_per_s=%.0f body_bytes=%.0f "
        "cpu_s=%.2f\n",
        options->threads,
        seconds,
        static_cast<unsigned long long>(posts),
        static_cast<unsigned long long>(errors),
        seconds > 0 ? static_cast<double>(posts) / seconds : 0.0,
        posts > 0 ? static_cast<double>(body_bytes) / static_cast<double>(posts) : 0.0,
        cpu_s(usage.ru_utime) + cpu_s(usage.ru_stime)
    );
    curl_global_cleanup();
    return errors == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
