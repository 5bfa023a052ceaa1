#!/usr/bin/env python3
"""Writes the seed corpus of esp_image_fuzz (fuzz/corpus/esp_image_fuzz/): small ESP app images
laid out as ESP-IDF's "App Image Format" documents them (image header, segments, checksum byte
ending a 16-byte block, optional appended SHA-256, esp_app_desc_t at the start of the first
segment), valid ones and a few spoiled ones. Run it again after changing it; the files are
committed.

    python3 fuzz/make_esp_image_seeds.py
"""
import hashlib
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "esp_image_fuzz"


def text(value, size):
    data = value.encode()[:size]
    return data + b"\0" * (size - len(data))


def app_desc(version, project, idf="v5.1.2", secure_version=0):
    desc = struct.pack("<II", 0xABCD5432, secure_version) + b"\0" * 8
    desc += text(version, 32) + text(project, 32) + text("12:00:00", 16)
    desc += text("Dec  1 2026", 16) + text(idf, 32) + bytes(range(1, 33))
    return desc + b"\0" * (256 - len(desc))


def image(segments, hashed=False, segment_count=None):
    count = len(segments) if segment_count is None else segment_count
    header = bytes([0xE9, count, 2, 0x20]) + struct.pack("<I", 0x40081000)
    header += bytes([0xEE, 0, 0, 0]) + struct.pack("<HBHH", 0, 0, 0, 399)
    header += b"\0" * 4 + bytes([1 if hashed else 0])
    assert len(header) == 24
    body = bytearray(header)
    checksum = 0xEF
    for load, data in segments:
        body += struct.pack("<II", load, len(data)) + data
        for b in data:
            checksum ^= b
    while len(body) % 16 != 15:
        body.append(0)
    body.append(checksum)
    if hashed:
        body += hashlib.sha256(bytes(body)).digest()
    return bytes(body)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    code = bytes((i * 13) & 0xFF for i in range(48))
    first = app_desc("1.0.0", "led_light") + code
    seeds = {
        "valid_two_segments": image([(0x3F400020, first), (0x3FFB0000, code)]),
        "valid_hashed": image([(0x3F400020, first), (0x3FFB0000, code)], hashed=True),
        "valid_one_segment": image([(0x3F400020, app_desc("2.4.1-rc1", "switch", secure_version=3))]),
        "valid_empty_segments": image(
            [(0x3F400020, first), (0x3FF80000, b""), (0x3FFB0000, b""), (0x40080000, code)]
        ),
        "valid_utf8_version": image([(0x3F400020, app_desc("1.0-\u00e9t\u00e9", "lampe"))], hashed=True),
        "valid_with_trailer": image([(0x3F400020, first)], hashed=True) + b"\xE7\x02" + b"\xFF" * 62,
    }
    good = seeds["valid_two_segments"]
    seeds["bad_checksum"] = good[:-1] + bytes([good[-1] ^ 1])
    seeds["bad_truncated"] = good[:-1]
    seeds["bad_magic"] = b"\xE8" + good[1:]
    seeds["bad_segment_count"] = image([(0x3F400020, first)], segment_count=17)
    hashed = seeds["valid_hashed"]
    seeds["bad_hash"] = hashed[:-1] + bytes([hashed[-1] ^ 0x80])
    no_desc = b"\0" * 256 + code
    seeds["bad_no_app_desc"] = image([(0x3F400020, no_desc)])
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
