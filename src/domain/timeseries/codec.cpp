// Bit writer and reader, and the encodings of times and of each value type.
#include "domain/timeseries/codec.hpp"

#include <bit>
#include <cstring>

namespace rainmaker::domain::timeseries {

namespace {

constexpr std::uint8_t kVersion = 1;

class BitWriter {
public:
    // The low `bits` (0..64) of `value`, most significant first, a byte at a time.
    void Write(std::uint64_t value, int bits) {
        while (bits > 0) {
            if (used_ == 0) {
                out_.push_back('\0');
            }
            const int room = 8 - used_;
            const int take = bits < room ? bits : room;
            const auto part = static_cast<unsigned>((value >> (bits - take)) & ((1U << take) - 1));
            out_.back() = static_cast<char>(
                static_cast<unsigned char>(out_.back()) | (part << (room - take))
            );
            used_ = (used_ + take) % 8;
            bits -= take;
        }
    }

    void WriteBit(bool bit) {
        if (used_ == 0) {
            out_.push_back('\0');
        }
        if (bit) {
            out_.back() = static_cast<char>(
                static_cast<unsigned char>(out_.back()) | (0x80U >> static_cast<unsigned>(used_))
            );
        }
        used_ = (used_ + 1) % 8;
    }

    std::string Take() { return std::move(out_); }

private:
    std::string out_;
    int used_ = 0;  // bits used of the last byte
};

class BitReader {
public:
    explicit BitReader(std::string_view in) : in_(in) {}

    // The next `bits` (0..64), most significant first, a byte at a time.
    std::uint64_t Read(int bits) {
        if (position_ + static_cast<std::size_t>(bits) > in_.size() * 8) {
            throw CorruptChunk("time series chunk ends early");
        }
        std::uint64_t value = 0;
        while (bits > 0) {
            const auto byte = static_cast<unsigned char>(in_[position_ / 8]);
            const int room = 8 - static_cast<int>(position_ % 8);
            const int take = bits < room ? bits : room;
            value = (value << take) | ((byte >> (room - take)) & ((1U << take) - 1));
            position_ += static_cast<std::size_t>(take);
            bits -= take;
        }
        return value;
    }

    bool ReadBit() {
        if (position_ >= in_.size() * 8) {
            throw CorruptChunk("time series chunk ends early");
        }
        const auto byte = static_cast<unsigned char>(in_[position_ / 8]);
        const bool bit = ((byte >> (7 - position_ % 8)) & 1U) != 0;
        ++position_;
        return bit;
    }

private:
    std::string_view in_;
    std::size_t position_ = 0;
};

std::uint64_t ZigZag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t UnZigZag(std::uint64_t z) {
    return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1U);
}

// A signed integer in a prefix-coded bucket: '0' for 0, then 7, 9 and 12 bits, else 64.
void WriteVar(BitWriter& w, std::int64_t v) {
    const std::uint64_t z = ZigZag(v);
    if (z == 0) {
        w.WriteBit(false);
    } else if (z < (1U << 7)) {
        w.Write(0b10, 2);
        w.Write(z, 7);
    } else if (z < (1U << 9)) {
        w.Write(0b110, 3);
        w.Write(z, 9);
    } else if (z < (1U << 12)) {
        w.Write(0b1110, 4);
        w.Write(z, 12);
    } else {
        w.Write(0b1111, 4);
        w.Write(z, 64);
    }
}

std::int64_t ReadVar(BitReader& r) {
    if (!r.ReadBit()) {
        return 0;
    }
    if (!r.ReadBit()) {
        return UnZigZag(r.Read(7));
    }
    if (!r.ReadBit()) {
        return UnZigZag(r.Read(9));
    }
    if (!r.ReadBit()) {
        return UnZigZag(r.Read(12));
    }
    return UnZigZag(r.Read(64));
}

// Wrapping arithmetic: deltas of extreme values must not overflow (the decoder wraps back).
std::int64_t Minus(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

std::int64_t Plus(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

// Delta-of-deltas of a sequence (times, or integer values).
class DeltaEncoder {
public:
    void Put(BitWriter& w, std::int64_t v) {
        const std::int64_t delta = Minus(v, last_);
        WriteVar(w, Minus(delta, delta_));
        delta_ = delta;
        last_ = v;
    }

    std::int64_t Get(BitReader& r) {
        delta_ = Plus(delta_, ReadVar(r));
        last_ = Plus(last_, delta_);
        return last_;
    }

    void Start(std::int64_t first) { last_ = first; }

private:
    std::int64_t last_ = 0;
    std::int64_t delta_ = 0;
};

// Gorilla's XOR encoding of doubles.
class XorEncoder {
public:
    void Start(std::uint64_t first) { last_ = first; }

    void Put(BitWriter& w, std::uint64_t bits) {
        const std::uint64_t x = bits ^ last_;
        last_ = bits;
        if (x == 0) {
            w.WriteBit(false);
            return;
        }
        w.WriteBit(true);
        int leading = std::countl_zero(x);
        const int trailing = std::countr_zero(x);
        leading = leading > 31 ? 31 : leading;  // 5 bits
        if (window_ && leading >= leading_ && trailing >= trailing_) {
            w.WriteBit(false);
            w.Write(x >> trailing_, 64 - leading_ - trailing_);
            return;
        }
        w.WriteBit(true);
        const int significant = 64 - leading - trailing;  // 1..64
        w.Write(static_cast<std::uint64_t>(leading), 5);
        w.Write(static_cast<std::uint64_t>(significant - 1), 6);
        w.Write(x >> trailing, significant);
        window_ = true;
        leading_ = leading;
        trailing_ = trailing;
    }

    std::uint64_t Get(BitReader& r) {
        if (!r.ReadBit()) {
            return last_;
        }
        if (r.ReadBit()) {
            leading_ = static_cast<int>(r.Read(5));
            const int significant = static_cast<int>(r.Read(6)) + 1;
            trailing_ = 64 - leading_ - significant;
            if (trailing_ < 0) {
                throw CorruptChunk("time series chunk has a bad XOR window");
            }
            window_ = true;
        } else if (!window_) {
            throw CorruptChunk("time series chunk reuses a window it never set");
        }
        last_ ^= r.Read(64 - leading_ - trailing_) << trailing_;
        return last_;
    }

private:
    std::uint64_t last_ = 0;
    bool window_ = false;
    int leading_ = 0;
    int trailing_ = 0;
};

std::uint64_t DoubleBits(double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof(bits));
    return bits;
}

double BitsDouble(std::uint64_t bits) {
    double d = 0;
    std::memcpy(&d, &bits, sizeof(d));
    return d;
}

void WriteString(BitWriter& w, const std::string& s) {
    WriteVar(w, static_cast<std::int64_t>(s.size()));
    for (const char c : s) {
        w.Write(static_cast<unsigned char>(c), 8);
    }
}

std::string ReadString(BitReader& r, std::size_t limit) {
    const std::int64_t size = ReadVar(r);
    if (size < 0 || static_cast<std::uint64_t>(size) > limit) {
        throw CorruptChunk("time series chunk has a bad string length");
    }
    std::string s(static_cast<std::size_t>(size), '\0');
    for (auto& c : s) {
        c = static_cast<char>(r.Read(8));
    }
    return s;
}

}  // namespace

std::string EncodeChunk(TsType type, const std::vector<TsPoint>& points) {
    BitWriter w;
    w.Write(kVersion, 8);
    w.Write(static_cast<std::uint64_t>(type), 8);
    w.Write(points.size(), 32);
    if (points.empty()) {
        return w.Take();
    }
    w.Write(static_cast<std::uint64_t>(points.front().t), 64);
    DeltaEncoder times;
    times.Start(points.front().t);
    DeltaEncoder ints;
    XorEncoder floats;
    const std::string* last_text = nullptr;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        if (i > 0) {
            times.Put(w, p.t);
        }
        switch (type) {
            case TsType::kFloat: {
                const auto bits = DoubleBits(std::get<double>(p.value));
                if (i == 0) {
                    w.Write(bits, 64);
                    floats.Start(bits);
                } else {
                    floats.Put(w, bits);
                }
                break;
            }
            case TsType::kInt: {
                const auto v = std::get<std::int64_t>(p.value);
                if (i == 0) {
                    w.Write(static_cast<std::uint64_t>(v), 64);
                    ints.Start(v);
                } else {
                    ints.Put(w, v);
                }
                break;
            }
            case TsType::kBool:
                w.WriteBit(std::get<bool>(p.value));
                break;
            case TsType::kString:
            case TsType::kObject:
            case TsType::kArray: {
                const auto& text = std::get<std::string>(p.value);
                if (last_text != nullptr && *last_text == text) {
                    w.WriteBit(false);  // the same as the one before
                } else {
                    w.WriteBit(true);
                    WriteString(w, text);
                }
                last_text = &text;
                break;
            }
        }
    }
    return w.Take();
}

std::vector<TsPoint> DecodeChunk(TsType type, std::string_view chunk) {
    BitReader r(chunk);
    if (r.Read(8) != kVersion || r.Read(8) != static_cast<std::uint64_t>(type)) {
        throw CorruptChunk("time series chunk of another version or type");
    }
    const std::uint64_t count = r.Read(32);
    // Every point takes at least one bit after the first: a count the bytes cannot hold is a
    // damaged chunk, not a reason to allocate.
    if (count > chunk.size() * 8) {
        throw CorruptChunk("time series chunk count exceeds its size");
    }
    std::vector<TsPoint> points;
    points.reserve(static_cast<std::size_t>(count));
    if (count == 0) {
        return points;
    }
    DeltaEncoder times;
    const auto first = static_cast<std::int64_t>(r.Read(64));
    times.Start(first);
    DeltaEncoder ints;
    XorEncoder floats;
    std::string last_text;
    for (std::uint64_t i = 0; i < count; ++i) {
        TsPoint p;
        p.t = i == 0 ? first : times.Get(r);
        switch (type) {
            case TsType::kFloat:
                if (i == 0) {
                    const auto bits = r.Read(64);
                    floats.Start(bits);
                    p.value = BitsDouble(bits);
                } else {
                    p.value = BitsDouble(floats.Get(r));
                }
                break;
            case TsType::kInt:
                if (i == 0) {
                    const auto v = static_cast<std::int64_t>(r.Read(64));
                    ints.Start(v);
                    p.value = v;
                } else {
                    p.value = ints.Get(r);
                }
                break;
            case TsType::kBool:
                p.value = r.ReadBit();
                break;
            case TsType::kString:
            case TsType::kObject:
            case TsType::kArray:
                if (r.ReadBit()) {
                    last_text = ReadString(r, chunk.size());
                } else if (i == 0) {
                    throw CorruptChunk("time series chunk starts with a repeat");
                }
                p.value = last_text;
                break;
        }
        points.push_back(std::move(p));
    }
    return points;
}

}  // namespace rainmaker::domain::timeseries
