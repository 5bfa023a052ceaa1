// Sends e-mail codes through an operator's SMTP relay, using libcurl's SMTP client.
#include "outbound/smtp_sender.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "net/curl_easy.hpp"

namespace rainmaker::outbound {

namespace {

// RFC 2047: an encoded-word is at most 75 characters; 45 bytes of text become 60 of base64,
// which with the 12 characters of "=?UTF-8?B?" and "?=" stays below that.
constexpr std::size_t kMaxEncodedWordBytes = 45;
// RFC 5322 allows 998 characters per line; longer bodies go out as base64.
constexpr std::size_t kMaxLineChars = 998;
constexpr std::size_t kBase64LineChars = 76;

// "Name <a@b>" -> "a@b"; a bare address is returned unchanged.
std::string BareAddress(std::string_view mailbox) {
    const auto open = mailbox.rfind('<');
    const auto close = mailbox.rfind('>');
    if (open != std::string_view::npos && close != std::string_view::npos && open < close) {
        return std::string(mailbox.substr(open + 1, close - open - 1));
    }
    return std::string(mailbox);
}

// Envelope addresses go into SMTP commands verbatim, so they must not break the command line.
bool IsUsableAddress(std::string_view address) {
    if (address.empty()) {
        return false;
    }
    return std::none_of(address.begin(), address.end(), [](char c) {
        return c == '\r' || c == '\n' || c == '<' || c == '>' || c == ' ' || c == '\0';
    });
}

// Header values must stay on one line, or a user could inject headers.
std::string OneLine(std::string_view value) {
    std::string out(value);
    std::replace_if(
        out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' '
    );
    return out;
}

bool IsAscii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80;
    });
}

std::string Base64(std::string_view data) {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(data[i]) << 16) |
                           (static_cast<unsigned char>(data[i + 1]) << 8) |
                           static_cast<unsigned char>(data[i + 2]);
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(kAlphabet[(n >> 6) & 63]);
        out.push_back(kAlphabet[n & 63]);
    }
    if (i < data.size()) {
        unsigned n = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) {
            n |= static_cast<unsigned char>(data[i + 1]) << 8;
        }
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

// A Subject value: plain when ASCII, else RFC 2047 encoded-words split on UTF-8 character
// boundaries and folded onto continuation lines.
std::string EncodeSubject(std::string_view subject) {
    if (IsAscii(subject)) {
        return std::string(subject);
    }
    std::string out;
    std::size_t start = 0;
    while (start < subject.size()) {
        std::size_t end = std::min(start + kMaxEncodedWordBytes, subject.size());
        // Step back over continuation bytes (10xxxxxx) so no character is split across words.
        while (end < subject.size() && end > start + 1 &&
               (static_cast<unsigned char>(subject[end]) & 0xC0) == 0x80) {
            --end;
        }
        if (!out.empty()) {
            out += "\r\n ";
        }
        out += "=?UTF-8?B?" + Base64(subject.substr(start, end - start)) + "?=";
        start = end;
    }
    return out;
}

// Any of CRLF, LF or CR becomes CRLF, as SMTP requires.
std::string ToCrlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16 + 2);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') {
                ++i;
            }
        } else if (text[i] == '\n') {
            out += "\r\n";
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

bool HasLongLine(std::string_view crlf_text) {
    std::size_t start = 0;
    while (start <= crlf_text.size()) {
        auto end = crlf_text.find("\r\n", start);
        if (end == std::string_view::npos) {
            end = crlf_text.size();
        }
        if (end - start > kMaxLineChars) {
            return true;
        }
        start = end + 2;
    }
    return false;
}

// RFC 5322 date in UTC, e.g. "Tue, 02 Jan 2024 03:04:05 +0000", without locale dependence.
std::string RfcDate(std::chrono::system_clock::time_point now) {
    static constexpr std::array<const char*, 7> kDays = {
        "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 64> buffer{};
    std::snprintf(
        buffer.data(),
        buffer.size(),
        "%s, %02d %s %04d %02d:%02d:%02d +0000",
        kDays.at(static_cast<std::size_t>(utc.tm_wday)),
        utc.tm_mday,
        kMonths.at(static_cast<std::size_t>(utc.tm_mon)),
        utc.tm_year + 1900,
        utc.tm_hour,
        utc.tm_min,
        utc.tm_sec
    );
    return buffer.data();
}

std::string DomainOf(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at + 1 == address.size()) {
        return "localhost";
    }
    return std::string(address.substr(at + 1));
}

// The full RFC 5322 message, CRLF line endings; libcurl adds the dot-stuffing and the final ".".
std::string BuildMessage(
    const SmtpConfig& config,
    const std::string& envelope_from,
    const domain::users::OutgoingMessage& message
) {
    const std::string body = ToCrlf(message.text);
    const bool plain = IsAscii(body) && !HasLongLine(body);

    std::string out;
    out += "Date: " + RfcDate(core::SystemClock().Now()) + "\r\n";
    out += "From: " + OneLine(config.from) + "\r\n";
    out += "To: " + OneLine(message.to) + "\r\n";
    out += "Subject: " + EncodeSubject(OneLine(message.subject)) + "\r\n";
    out += "Message-ID: <" + core::RandomHex(16) + "@" + DomainOf(envelope_from) + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    if (plain) {
        out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
        out += body;
    } else {
        // base64 survives relays without 8BITMIME and has no line-length limit to break.
        out += "Content-Transfer-Encoding: base64\r\n\r\n";
        const std::string encoded = Base64(body);
        for (std::size_t i = 0; i < encoded.size(); i += kBase64LineChars) {
            out += encoded.substr(i, kBase64LineChars);
            out += "\r\n";
        }
    }
    if (!out.ends_with("\r\n")) {
        out += "\r\n";
    }
    return out;
}

// The upload cursor that CURLOPT_READFUNCTION drains.
struct Upload {
    std::string_view remaining;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t count, void* user_data) {
    auto* upload = static_cast<Upload*>(user_data);
    const std::size_t n = std::min(size * count, upload->remaining.size());
    std::memcpy(buffer, upload->remaining.data(), n);
    upload->remaining.remove_prefix(n);
    return n;  // 0 tells curl the message is complete
}

}  // namespace

SmtpSender::SmtpSender(SmtpConfig config) : config_(std::move(config)) {
    if (config_.host.empty()) {
        throw std::invalid_argument("SMTP host is empty");
    }
    if (config_.port <= 0 || config_.port > 65535) {
        throw std::invalid_argument("SMTP port is out of range: " + std::to_string(config_.port));
    }
    // curl reads a zero timeout as "wait forever", which a code request must never do.
    if (config_.timeout.count() <= 0) {
        throw std::invalid_argument("SMTP timeout must be positive");
    }
    envelope_from_ = BareAddress(config_.from);
    if (!IsUsableAddress(envelope_from_)) {
        throw std::invalid_argument("SMTP from address is empty or malformed");
    }
    // IPv6 literals need brackets in a URL.
    const bool ipv6 = config_.host.find(':') != std::string::npos && config_.host.front() != '[';
    const std::string host = ipv6 ? "[" + config_.host + "]" : config_.host;
    url_ = (config_.tls ? "smtps://" : "smtp://") + host + ":" + std::to_string(config_.port);
}

void SmtpSender::Send(const domain::users::OutgoingMessage& message) {
    if (!IsUsableAddress(message.to)) {
        throw std::runtime_error("cannot send e-mail: malformed recipient address");
    }
    const std::string data = BuildMessage(config_, envelope_from_, message);
    Upload upload{data};

    net::CurlEasy curl = net::MakeCurlEasy();
    CURL* h = curl.get();
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data()), "CURLOPT_ERRORBUFFER"
    );
    net::ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_URL, url_.c_str()), "CURLOPT_URL");
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps"), "CURLOPT_PROTOCOLS_STR"
    );
    if (config_.tls || config_.starttls) {
        net::ThrowIfCurlFailed(
            curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)),
            "CURLOPT_USE_SSL"
        );
    }
    if (!config_.user.empty()) {
        net::ThrowIfCurlFailed(
            curl_easy_setopt(h, CURLOPT_USERNAME, config_.user.c_str()), "CURLOPT_USERNAME"
        );
        net::ThrowIfCurlFailed(
            curl_easy_setopt(h, CURLOPT_PASSWORD, config_.password.c_str()), "CURLOPT_PASSWORD"
        );
    }
    const std::string mail_from = "<" + envelope_from_ + ">";
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str()), "CURLOPT_MAIL_FROM"
    );
    net::CurlSlist recipients;
    net::AppendToSlist(recipients, "<" + message.to + ">");
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get()), "CURLOPT_MAIL_RCPT"
    );
    net::ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_UPLOAD, 1L), "CURLOPT_UPLOAD");
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadUpload), "CURLOPT_READFUNCTION"
    );
    net::ThrowIfCurlFailed(curl_easy_setopt(h, CURLOPT_READDATA, &upload), "CURLOPT_READDATA");
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size())),
        "CURLOPT_INFILESIZE_LARGE"
    );
    const long timeout_seconds = static_cast<long>(config_.timeout.count());
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_seconds), "CURLOPT_TIMEOUT"
    );
    net::ThrowIfCurlFailed(
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_seconds), "CURLOPT_CONNECTTIMEOUT"
    );

    const CURLcode result = curl_easy_perform(h);
    if (result != CURLE_OK) {
        throw std::runtime_error(
            "SMTP delivery to " + message.to + " via " + url_ +
            " failed: " + net::CurlErrorText(result, error_buffer.data())
        );
    }
}

}  // namespace rainmaker::outbound
