// MailboxSender: one complete, safely named file per message, also under concurrent sends.
#include "outbound/mailbox_sender.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace rainmaker::outbound {
namespace {

namespace fs = std::filesystem;
using domain::users::OutgoingMessage;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "rm_mailbox_test_XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }

    const fs::path& Path() const { return path_; }

private:
    fs::path path_;
};

std::vector<fs::path> FilesIn(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        files.push_back(entry.path());
    }
    return files;
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::int64_t NowMs() {
    const core::SystemClock clock;
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
        .count();
}

TEST(MailboxSender, WritesOneFileNamedByTimeSequenceAndRecipientWithTheMessage) {
    TempDir temp;
    const fs::path dir = temp.Path() / "data" / "mailbox";  // parents do not exist yet
    MailboxSender sender(dir);

    const std::int64_t before = NowMs();
    sender.Send(OutgoingMessage{
        .to = "user@example.com",
        .sms = false,
        .subject = "Your verification code",
        .text = "Your code is 123456"});
    const std::int64_t after = NowMs();

    const std::vector<fs::path> files = FilesIn(dir);
    ASSERT_EQ(files.size(), 1U);
    const std::string name = files.front().filename().string();
    std::smatch match;
    ASSERT_TRUE(std::regex_match(name, match, std::regex(R"((\d+)-(\d{6})-user@example\.com\.txt)"))
    ) << name;
    const std::int64_t stamp = std::stoll(match[1].str());
    EXPECT_GE(stamp, before);
    EXPECT_LE(stamp, after);
    EXPECT_EQ(
        ReadFile(files.front()),
        "To: user@example.com\nChannel: email\nSubject: Your verification code\n\n"
        "Your code is 123456\n"
    );
}

TEST(MailboxSender, MarksSmsMessagesWithTheSmsChannel) {
    TempDir temp;
    MailboxSender sender(temp.Path());

    sender.Send(OutgoingMessage{.to = "+15551234567", .sms = true, .subject = "", .text = "123456"}
    );

    const std::vector<fs::path> files = FilesIn(temp.Path());
    ASSERT_EQ(files.size(), 1U);
    EXPECT_TRUE(files.front().filename().string().ends_with("-+15551234567.txt"));
    EXPECT_EQ(ReadFile(files.front()), "To: +15551234567\nChannel: sms\nSubject: \n\n123456\n");
}

TEST(MailboxSender, ConcurrentSendsMakeDistinctCompleteFiles) {
    TempDir temp;
    MailboxSender sender(temp.Path());
    constexpr int kThreads = 8;
    constexpr int kPerThread = 25;

    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&sender, t] {
            for (int i = 0; i < kPerThread; ++i) {
                sender.Send(OutgoingMessage{
                    .to = "same@example.com",
                    .sms = false,
                    .subject = "s",
                    .text = std::to_string(t) + ":" + std::to_string(i)});
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }

    const std::vector<fs::path> files = FilesIn(temp.Path());
    ASSERT_EQ(files.size(), static_cast<std::size_t>(kThreads * kPerThread));
    std::set<std::string> texts;
    for (const auto& file : files) {
        EXPECT_EQ(file.extension(), ".txt") << file;  // no temporary file left behind
        const std::string content = ReadFile(file);
        const auto body = content.find("\n\n");
        ASSERT_NE(body, std::string::npos);
        texts.insert(content.substr(body + 2));
    }
    EXPECT_EQ(texts.size(), files.size());  // every message landed in its own file
}

TEST(MailboxSender, SanitisesTheRecipientSoTheFileStaysInTheMailbox) {
    TempDir temp;
    const fs::path dir = temp.Path() / "mailbox";
    MailboxSender sender(dir);
    const std::string hostile = "../evil/ name\n+1@x.com";

    sender.Send(OutgoingMessage{.to = hostile, .sms = false, .subject = "s", .text = "t"});

    const std::vector<fs::path> files = FilesIn(dir);
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(FilesIn(temp.Path()).size(), 1U);  // only the mailbox itself; nothing escaped
    EXPECT_TRUE(files.front().filename().string().ends_with("-.._evil__name_+1@x.com.txt"))
        << files.front();
    EXPECT_EQ(ReadFile(files.front()).rfind("To: " + hostile + "\n", 0), 0U);
}

TEST(MailboxSender, ThrowsWhenTheMailboxCannotBeCreated) {
    TempDir temp;
    const fs::path blocker = temp.Path() / "not-a-directory";
    std::ofstream(blocker) << "x";
    MailboxSender sender(blocker / "mailbox");

    EXPECT_THROW(
        sender.Send(OutgoingMessage{.to = "a@b.c", .sms = false, .subject = "s", .text = "t"}),
        std::runtime_error
    );
}

}  // namespace
}  // namespace rainmaker::outbound
