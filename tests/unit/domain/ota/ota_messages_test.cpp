// The §6 payloads (domain/ota/ota_messages): otafetch and otastatus as stock firmware sends them
// accepted, every other shape refused; the status a report moves a node to; the otaurl.
#include "domain/ota/ota_messages.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "core/json.hpp"

namespace rainmaker::domain::ota {
namespace {

boost::json::object Object(const std::string& text) {
    return boost::json::parse(text).as_object();
}

TEST(OtaMessages, FetchAsFirmwareSendsIt) {
    EXPECT_EQ(
        ParseOtaFetch("N1", Object(R"({"node_id":"N1","fw_version":"1.2.3"})")).fw_version, "1.2.3"
    );
    EXPECT_EQ(
        ParseOtaFetch("N1", Object(R"({"node_id":"N1","fw_version":"1","network_id":"x"})"))
            .fw_version,
        "1"
    );
    EXPECT_EQ(ParseOtaFetch("N1", Object("{}")).fw_version, "");
    EXPECT_EQ(ParseOtaFetch("N1", Object(R"({"fw_version":null,"extra":[1]})")).fw_version, "");
    for (const auto* bad :
         {R"({"node_id":"N2"})",
          R"({"node_id":7})",
          R"({"fw_version":1.5})",
          R"({"network_id":{}})"}) {
        EXPECT_THROW(ParseOtaFetch("N1", Object(bad)), std::invalid_argument) << bad;
    }
    EXPECT_THROW(
        ParseOtaFetch("N1", boost::json::object{{"fw_version", std::string(65, '1')}}),
        std::invalid_argument
    );
}

TEST(OtaMessages, StatusAsFirmwareSendsIt) {
    const auto r = ParseOtaStatus(Object(
        R"({"ota_job_id":"J1","status":"in-progress","additional_info":"Downloaded 10% Firmware Image","ts":1700000000})"
    ));
    EXPECT_EQ(r.ota_job_id, "J1");
    EXPECT_EQ(r.status, "in-progress");
    EXPECT_EQ(r.additional_info, "Downloaded 10% Firmware Image");
    for (const auto* status : {"in-progress", "success", "failed", "delayed", "rejected"}) {
        EXPECT_EQ(
            ParseOtaStatus(boost::json::object{{"ota_job_id", "J"}, {"status", status}}).status,
            status
        );
    }
    EXPECT_EQ(
        ParseOtaStatus(Object(R"({"ota_job_id":"J","status":"success","ts":1.5,"network_id":"n"})"))
            .additional_info,
        ""
    );
    for (const auto* bad :
         {R"({"status":"success"})",
          R"({"ota_job_id":"","status":"success"})",
          R"({"ota_job_id":1,"status":"success"})",
          R"({"ota_job_id":"J"})",
          R"({"ota_job_id":"J","status":"in_progress"})",
          R"({"ota_job_id":"J","status":"Success"})",
          R"({"ota_job_id":"J","status":"cancelled"})",
          R"({"ota_job_id":"J","status":"success","additional_info":[]})",
          R"({"ota_job_id":"J","status":"success","ts":"1"})"}) {
        EXPECT_THROW(ParseOtaStatus(Object(bad)), std::invalid_argument) << bad;
    }
    EXPECT_THROW(
        ParseOtaStatus(boost::json::object{
            {"ota_job_id", std::string(65, 'j')}, {"status", "success"}}),
        std::invalid_argument
    );
    EXPECT_THROW(
        ParseOtaStatus(boost::json::object{
            {"ota_job_id", "J"},
            {"status", "failed"},
            {"additional_info", std::string(kMaxAdditionalInfoBytes + 1, 'x')}}),
        std::invalid_argument
    );
    EXPECT_NO_THROW(ParseOtaStatus(boost::json::object{
        {"ota_job_id", std::string(kMaxJobIdLength, 'j')},
        {"status", "failed"},
        {"additional_info", std::string(kMaxAdditionalInfoBytes, 'x')}}));
}

TEST(OtaMessages, StatusMovesTheNode) {
    EXPECT_EQ(NodeStatusAfter(kNodeTriggered, "in-progress"), kNodeStarted);
    EXPECT_EQ(NodeStatusAfter(kNodePending, "in-progress"), kNodeStarted);
    EXPECT_EQ(NodeStatusAfter(kNodeStarted, "in-progress"), kNodeInProgress);
    EXPECT_EQ(NodeStatusAfter(kNodeInProgress, "in-progress"), kNodeInProgress);
    EXPECT_EQ(NodeStatusAfter(kNodeDelayed, "in-progress"), kNodeStarted);
    EXPECT_EQ(NodeStatusAfter(kNodeInProgress, "success"), kNodeSuccess);
    EXPECT_EQ(NodeStatusAfter(kNodeTriggered, "failed"), kNodeFailed);
    EXPECT_EQ(NodeStatusAfter(kNodeTriggered, "delayed"), kNodeDelayed);
    EXPECT_EQ(NodeStatusAfter(kNodeTriggered, "rejected"), kNodeRejected);
    for (const auto s : {kNodeSuccess, kNodeFailed, kNodeRejected, kNodeTimedOut}) {
        EXPECT_TRUE(IsTerminal(s)) << s;
    }
    for (const auto s :
         {kNodePending, kNodeTriggered, kNodeStarted, kNodeInProgress, kNodeDelayed}) {
        EXPECT_FALSE(IsTerminal(s)) << s;
    }
}

TEST(OtaMessages, OtaUrlCarriesWhatTheFirmwareReads) {
    OtaUrl m;
    m.ota_job_id = "J1";
    m.url = "https://h/fw.bin?a=1&b=\"2\"";
    m.file_size = 1048576;
    m.file_md5 = "0123456789abcdef0123456789abcdef";
    m.fw_version = "2.0.0";
    auto parsed = boost::json::parse(SerializeOtaUrl(m)).as_object();
    EXPECT_EQ(parsed.at("ota_job_id"), "J1");
    EXPECT_EQ(parsed.at("url"), "https://h/fw.bin?a=1&b=\"2\"");
    EXPECT_EQ(parsed.at("file_size"), 1048576);
    EXPECT_EQ(parsed.at("file_md5"), "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(parsed.at("fw_version"), "2.0.0");
    EXPECT_FALSE(parsed.contains("metadata"));
    m.metadata = Object(R"({"validity":{"start":1,"end":2}})");
    parsed = boost::json::parse(SerializeOtaUrl(m)).as_object();
    EXPECT_EQ(parsed.at("metadata"), boost::json::parse(R"({"validity":{"start":1,"end":2}})"));
}

}  // namespace
}  // namespace rainmaker::domain::ota
