"""Hostile .keras files, built here from small real models (nothing is downloaded).

    python -m harness.hostile FOLDER    # writes each file to FOLDER, to try against a running server

Each builder returns the bytes a visitor could upload. The attacks are the ones a hostile visitor
tried against the server (issue 21): a config that declares a huge layer over small weights,
weights that exist only as an HDF5 fill value, members Keras would unpack to disk, thousands of
layers, a huge input, 100,000 members, and models valid for Keras but unusual for Digit Lab.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import h5py
import keras
from keras import layers
from PIL import Image


def keras_file(model: keras.Model) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def small_mlp() -> keras.Model:
    return keras.Sequential(
        [keras.Input((28, 28)), layers.Flatten(), layers.Dense(16), layers.Dense(10, activation="softmax")]
    )


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def archive_of(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def config_bomb() -> bytes:
    """A valid small MLP whose config says the first Dense has 1,000,000 units; its weights stay small."""
    entries = members(keras_file(small_mlp()))
    config = json.loads(entries["config.json"])
    first, second = config["config"]["layers"][2], config["config"]["layers"][3]
    first["config"]["units"] = 1_000_000
    second["build_config"]["input_shape"] = [None, 1_000_000]
    entries["config.json"] = json.dumps(config).encode()
    return archive_of(entries)


def shape_bomb() -> bytes:
    """A 784x200,000 Dense whose weights are chunked, compressed datasets holding only their fill value."""
    entries = members(keras_file(small_mlp()))
    config = json.loads(entries["config.json"])
    config["config"]["layers"][2]["config"]["units"] = 200_000
    config["config"]["layers"][3]["build_config"]["input_shape"] = [None, 200_000]
    entries["config.json"] = json.dumps(config).encode()
    declared = {"dense/vars/0": (784, 200_000), "dense/vars/1": (200_000,), "dense_1/vars/0": (200_000, 10)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "weights.h5"
        path.write_bytes(entries["model.weights.h5"])
        with h5py.File(path, "r+") as weights:
            for name, shape in declared.items():
                full_name = next(key for key in _datasets(weights) if key.endswith(name))
                del weights[full_name]
                chunks = tuple(min(side, 1000) for side in shape)
                weights.create_dataset(full_name, shape=shape, dtype="float32", chunks=chunks, compression="gzip")
        entries["model.weights.h5"] = path.read_bytes()
    return archive_of(entries)


def _datasets(group: h5py.Group) -> list[str]:
    names: list[str] = []
    group.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return names


def bad_checksum() -> bytes:
    """A real model whose weights member has a wrong CRC-32."""
    return _wrong_crc(keras_file(small_mlp()), "model.weights.h5")


def _wrong_crc(data: bytes, name: str) -> bytes:
    """The archive with `name`'s CRC-32 changed in its local header and in the central directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    data, wrong = bytearray(data), (info.CRC ^ 0xFFFF).to_bytes(4, "little")
    data[info.header_offset + 14 : info.header_offset + 18] = wrong
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        (length,) = struct.unpack("<H", data[entry + 28 : entry + 30])
        if data[entry + 46 : entry + 46 + length] == name.encode():
            data[entry + 16 : entry + 20] = wrong
        entry = data.find(b"PK\x01\x02", entry + 46)
    return bytes(data)


def disk_leak() -> bytes:
    """A real model plus a 79 MiB asset and a member whose CRC is wrong: Keras would unpack it and keep it."""
    entries = members(keras_file(small_mlp()))
    entries["assets/big.bin"] = b"\0" * (79 * 2**20)
    entries["assets/bad.bin"] = b"digit lab" * 100
    return _wrong_crc(archive_of(entries), "assets/bad.bin")


def many_layers(count: int = 3000) -> bytes:
    """A Sequential config with thousands of layers (the weights file of a small model)."""
    entries = members(keras_file(small_mlp()))
    config = json.loads(entries["config.json"])
    activation = {
        "module": "keras.layers",
        "class_name": "Activation",
        "config": {"name": "relu", "activation": "relu", "trainable": True},
    }
    extra = [json.loads(json.dumps(activation)) for _ in range(count)]
    for index, layer in enumerate(extra):
        layer["config"]["name"] = f"relu_{index}"
    config["config"]["layers"][3:3] = extra
    entries["config.json"] = json.dumps(config).encode()
    return archive_of(entries)


def huge_input() -> bytes:
    """A model declaring a 100,000 x 100,000 input."""
    entries = members(keras_file(small_mlp()))
    config = json.loads(entries["config.json"])
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, 100_000, 100_000]
    entries["config.json"] = json.dumps(config).encode()
    return archive_of(entries)


def many_members(count: int = 100_000) -> bytes:
    """An archive of 100,000 tiny members."""
    entries = members(keras_file(small_mlp()))
    entries |= {f"m/{index}": b"" for index in range(count)}
    return archive_of(entries, compression=zipfile.ZIP_STORED)


def conv1d_over_rows() -> bytes:
    """Valid for Keras: a Conv1D that reads each row of the digit as a sequence."""
    return keras_file(
        keras.Sequential(
            [
                keras.Input((28, 28)),
                layers.Conv1D(8, 3, activation="relu"),
                layers.Flatten(),
                layers.Dense(10, activation="softmax"),
            ]
        )
    )


def dense_on_last_axis() -> bytes:
    """Valid for Keras: a Dense applied to every row, then pooled."""
    return keras_file(
        keras.Sequential(
            [
                keras.Input((28, 28)),
                layers.Dense(16, activation="relu"),
                layers.GlobalAveragePooling1D(),
                layers.Dense(10, activation="softmax"),
            ]
        )
    )


REFUSED = {  # name -> builder; each must be refused at upload
    "config bomb": config_bomb,
    "shape bomb": shape_bomb,
    "disk leak": disk_leak,
    "bad checksum": bad_checksum,
    "3,000 layers": many_layers,
    "100,000 x 100,000 input": huge_input,
    "100,000 members": many_members,
}
UNUSUAL = {"Conv1D over rows": conv1d_over_rows, "Dense on the last axis": dense_on_last_axis}  # must work everywhere


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in (REFUSED | UNUSUAL).items():
        path = folder / (name.replace(" ", "_").replace(",", "") + ".keras")
        path.write_bytes(build())
        print(f"{path}  {path.stat().st_size:,} bytes")


def picture_bomb(side: int = 11_000) -> bytes:
    """A PNG of `side` x `side` black pixels: well under a megabyte on the wire, side² x 4 bytes once decoded."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def canvas_value_with(png: bytes, *, objects: int = 1) -> str:
    """A canvas value as the component sends it, holding `png` and `objects` strokes."""
    path = {"type": "Path", "path": [["M", 10, 10], ["L", 20, 20]], "stroke": "#ffffff", "strokeWidth": 24}
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    return json.dumps({"drawing": {"raw": {"version": "7.4.0", "objects": [path] * objects}, "data": data}})


def compute_heavy() -> keras.Model:
    """Wide convolutions at full resolution: within every count limit, but many times the default CNN's arithmetic."""
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(128, 5, padding="same", activation="relu"),
            layers.Conv2D(128, 5, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def memory_heavy() -> keras.Model:
    """About 0.9 M activations per digit (the limit is 1 M) for little arithmetic: a lot of memory per digit."""
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(280, 1, activation="relu"),
            layers.Activation("sigmoid"),
            layers.Activation("tanh"),
            layers.Activation("relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def write_then_hang() -> None:
    """A check that unpacks a file and never ends (here: the child imports only this module to run it)."""
    Path(tempfile.mkdtemp(), "unpacked.bin").write_bytes(b"\0" * 2**20)
    time.sleep(30)


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, followed by a tiny compressed stream."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    data = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
