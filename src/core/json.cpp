// Untrusted JSON read (the finite-number check over a parsed document, without recursion), and
// the one writer of the JSON the server sends.
#include "core/json.hpp"

#include <charconv>
#include <cmath>
#include <vector>

#include "core/utf8.hpp"

namespace rainmaker::core {

namespace {

bool AllNumbersFinite(const boost::json::value& root) {
    std::vector<const boost::json::value*> pending{&root};
    while (!pending.empty()) {
        const boost::json::value* value = pending.back();
        pending.pop_back();
        switch (value->kind()) {
            case boost::json::kind::double_:
                if (!std::isfinite(value->get_double())) {
                    return false;
                }
                break;
            case boost::json::kind::array:
                for (const auto& item : value->get_array()) {
                    pending.push_back(&item);
                }
                break;
            case boost::json::kind::object:
                for (const auto& member : value->get_object()) {
                    pending.push_back(&member.value());
                }
                break;
            default:
                break;
        }
    }
    return true;
}

void WriteString(std::string_view text, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t plain = 0;  // the start of the run not yet copied
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            // Valid UTF-8 is copied; a malformed byte becomes U+FFFD, so that what is written
            // is always JSON a strict reader takes (text from a query string may be anything).
            if (core::NextCodePoint(text, i)) {
                continue;
            }
            out.append(text.data() + plain, i - plain);
            out += "\\ufffd";
            plain = ++i;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        out.append(text.data() + plain, i - plain);
        plain = ++i;
        out.push_back('\\');
        switch (c) {
            case '"':
                out.push_back('"');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case '\n':
                out.push_back('n');
                break;
            case '\r':
                out.push_back('r');
                break;
            case '\t':
                out.push_back('t');
                break;
            case '\b':
                out.push_back('b');
                break;
            case '\f':
                out.push_back('f');
                break;
            default:
                out += "u00";
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xF]);
        }
    }
    out.append(text.data() + plain, text.size() - plain);
    out.push_back('"');
}

void WriteDouble(double d, std::string& out) {
    if (!std::isfinite(d)) {
        out += "null";
        return;
    }
    char buffer[64];
    const double magnitude = std::fabs(d);
    // Plain decimals where JavaScript writes them too; the shortest form with an exponent
    // beyond (a plain 1e-300 would be 300 digits long).
    const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21);
    const auto result =
        plain ? std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::fixed)
              : std::to_chars(buffer, buffer + sizeof(buffer), d);
    const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) {
        out += ".0";  // stays a double when read back
    }
}

void Write(const boost::json::value& value, std::string& out);

void WriteObject(const boost::json::object& object, std::string& out) {
    out.push_back('{');
    bool first = true;
    for (const auto& member : object) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        WriteString(member.key(), out);
        out.push_back(':');
        Write(member.value(), out);
    }
    out.push_back('}');
}

void WriteArray(const boost::json::array& array, std::string& out) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : array) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        Write(item, out);
    }
    out.push_back(']');
}

void Write(const boost::json::value& value, std::string& out) {
    char buffer[24];
    switch (value.kind()) {
        case boost::json::kind::object:
            WriteObject(value.get_object(), out);
            return;
        case boost::json::kind::array:
            WriteArray(value.get_array(), out);
            return;
        case boost::json::kind::string:
            WriteString(value.get_string(), out);
            return;
        case boost::json::kind::double_:
            WriteDouble(value.get_double(), out);
            return;
        case boost::json::kind::int64: {
            const auto r = std::to_chars(buffer, buffer + sizeof(buffer), value.get_int64());
            out.append(buffer, r.ptr);
            return;
        }
        case boost::json::kind::uint64: {
            const auto r = std::to_chars(buffer, buffer + sizeof(buffer), value.get_uint64());
            out.append(buffer, r.ptr);
            return;
        }
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            return;
        case boost::json::kind::null:
            out += "null";
            return;
    }
}

}  // namespace

std::string Serialize(const boost::json::value& value) {
    std::string out;
    Write(value, out);
    return out;
}

std::string Serialize(const boost::json::object& object) {
    std::string out;
    WriteObject(object, out);
    return out;
}

std::string Serialize(const boost::json::array& array) {
    std::string out;
    WriteArray(array, out);
    return out;
}

std::string Serialize(boost::json::string_view text) {
    std::string out;
    WriteString(text, out);
    return out;
}

std::optional<std::int64_t> IntegerOf(const boost::json::value& value) {
    if (value.is_int64()) {
        return value.as_int64();
    }
    if (value.is_uint64() && value.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(value.as_uint64());
    }
    return std::nullopt;
}

std::optional<boost::json::value> ParseUntrustedJson(std::string_view text, std::size_t max_depth) {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::value value = boost::json::parse(text, ec, {}, options);
    if (ec || !AllNumbersFinite(value)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace rainmaker::core
