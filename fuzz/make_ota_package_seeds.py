#!/usr/bin/env python3
"""Writes the seed corpus of ota_package_fuzz (fuzz/corpus/ota_package_fuzz/): OTA firmware
packages as admins upload them (a .zip with one <project_name>.bin, an optional bootloader.bin
and other files; deflated or stored) and a few refused shapes (two firmwares, none, not a zip).
The firmware images come from make_esp_image_seeds.py. Run it again after changing it; the
files are committed.

    python3 fuzz/make_ota_package_seeds.py
"""
import importlib.util
import io
import pathlib
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "ota_package_fuzz"

spec = importlib.util.spec_from_file_location("esp", HERE / "make_esp_image_seeds.py")
esp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(esp)


def firmware(version="1.0.0", project="led_light"):
    return esp.image([(0x3F400020, esp.app_desc(version, project) + b"\x11" * 64)], hashed=True)


def package(entries, method=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, method)
    return out.getvalue()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    fw = firmware()
    seeds = {
        "valid_deflated": package([("led_light.bin", fw), ("bootloader.bin", b"boot")]),
        "valid_stored": package([("led_light.bin", fw)], zipfile.ZIP_STORED),
        "valid_folders": package(
            [("build/", b""), ("build/led_light.bin", fw), ("build/bootloader/bootloader.bin", b"b"),
             ("partition_table/partitions.csv", b"nvs,data,nvs,,24K\n")]
        ),
        "bad_two_firmwares": package([("led_light.bin", fw), ("other.bin", fw)]),
        "bad_no_firmware": package([("bootloader.bin", b"boot"), ("notes.txt", b"x")]),
        "bad_not_an_image": package([("led_light.bin", b"not an image")]),
        "bad_not_a_zip": b"PK\x03\x04 but nothing after",
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
