"""Loading trusts nothing in a file: sizes are bounded by the file's real length before anything is read,
crafted headers and metadata are ValueErrors naming the file, and the checksum is verified before the
structure is decoded."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
CODES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "BOOL": "|b1", "U8": "|u1", "I16": "<i2"}


# --- building files by hand ---------------------------------------------------------------------------------
def raw_file(header: Any, data: bytes = b"") -> bytes:
    """A safetensors file from a header (a JSON-able object, or already-encoded bytes) and its data."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def checksum(structure: str, arrays: dict[str, np.ndarray]) -> str:
    """chainrule's checksum, written out from its definition (the format), not taken from the library."""
    h = hashlib.sha256(structure.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape or (1,)}\0".encode())  # 0-d counts as (1,)
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()


def chainrule_file(structure: Any, arrays: dict[str, np.ndarray], **meta: str) -> bytes:
    """A file as ``save`` writes it for ``structure`` (any JSON, however hostile), with a valid checksum."""
    text = structure if isinstance(structure, str) else json.dumps(structure)
    metadata = {"format_version": "1", "chainrule_version": cr.__version__, "structure": text}
    metadata["checksum"] = checksum(text, arrays)
    metadata.update(meta)
    header: dict[str, Any] = {"__metadata__": metadata}
    data, offset = b"", 0
    for name, a in arrays.items():
        code = next(c for c, d in CODES.items() if np.dtype(d) == a.dtype)
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        data += a.tobytes()
        offset += a.nbytes
    return raw_file(header, data)


def refused(path: Path, data: bytes, match: str = "") -> str:
    path.write_bytes(data)
    with pytest.raises(ValueError, match=match) as info:
        cr.load(path)
    assert str(path) in str(info.value)
    return str(info.value)


W = {"w": np.arange(4, dtype=np.float32)}


# --- sizes are bounded by the file's length -----------------------------------------------------------------
@pytest.mark.parametrize("minor, what", [(5, "zero"), (9, "urandom")])
def test_endless_devices_are_refused_at_once(tmp_path: Path, minor: int, what: str) -> None:
    """``/dev/zero``-like and ``/dev/urandom``-like files (made with mknod in a temporary folder): refused
    after at most the 8-byte prefix and a bounded header, never read to the end."""
    if not ROOT:
        pytest.skip("mknod of a character device needs root")
    node = tmp_path / what
    os.mknod(node, 0o444 | stat.S_IFCHR, os.makedev(1, minor))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not a valid safetensors file") as info:
        cr.load(node)
    assert str(node) in str(info.value) and time.perf_counter() - start < 2


def test_a_huge_junk_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A 4 GiB sparse file of junk: refused in well under a second, without allocating anything like it."""
    for prefix in (
        b"\x00" * 8,
        (1 << 40).to_bytes(8, "little"),
        (4 << 30).to_bytes(8, "little"),
        b"junkjunk",
    ):
        path = tmp_path / "junk.bin"
        with open(path, "wb") as f:
            f.write(prefix + b"{" + b"x" * 100)
            f.truncate(4 << 30)
        tracemalloc.start()
        start = time.perf_counter()
        with pytest.raises(ValueError, match="not a valid safetensors file") as info:
            cr.load(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        path.unlink()
        assert str(path) in str(info.value)
        assert seconds < 1 and peak < 16 << 20, (prefix, seconds, peak)


def test_a_header_longer_than_the_file_is_refused_before_reading(tmp_path: Path) -> None:
    data = raw_file({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)
    message = refused(tmp_path / "f.st", (len(data)).to_bytes(8, "little") + data[8:], "header claims")
    assert f"the file has {len(data) - 8}" in message


def test_tensor_data_beyond_the_file_is_refused_before_allocating(tmp_path: Path) -> None:
    huge = {"w": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 4 << 40]}}
    tracemalloc.start()
    refused(tmp_path / "f.st", raw_file(huge, b"\0" * 16), "describes 4398046511104 bytes")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20


def test_a_fifo_with_a_lying_header_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    huge = raw_file({"w": {"dtype": "U8", "shape": [1 << 40], "data_offsets": [0, 1 << 40]}}, b"\0" * 100)
    thread = threading.Thread(target=lambda: fifo.write_bytes(huge), daemon=True)
    thread.start()
    with pytest.raises(ValueError, match="holds 100") as info:
        cr.load(fifo)
    thread.join(10)
    assert str(fifo) in str(info.value)


# --- crafted safetensors headers ----------------------------------------------------------------------------
def entry(dtype: Any = "F32", shape: Any = (4,), offsets: Any = (0, 16)) -> dict[str, Any]:
    return {
        "dtype": dtype,
        "shape": list(shape) if isinstance(shape, tuple) else shape,
        "data_offsets": offsets,
    }


DATA16 = bytes(range(16))
CRAFTED_HEADERS = {
    "deeply nested header": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"", "JSON header is corrupted"),
    "deeply nested list": (b"[" * 100_000 + b"]" * 100_000, b"", "JSON header is corrupted"),
    "header is a list": ([1, 2], b"", "not a JSON object"),
    "header is a string": ("x", b"", "not a JSON object"),
    "entry is a list": ({"w": [1]}, DATA16, "lacks dtype"),
    "dtype is a number": ({"w": entry(dtype=5)}, DATA16, "dtype 5"),
    "dtype unknown": ({"w": entry(dtype="BF16", shape=(8,))}, DATA16, "dtype 'BF16'"),
    "shape is a dict": ({"w": entry(shape={"a": 1})}, DATA16, "invalid shape"),
    "shape negative": ({"w": entry(shape=(-4,))}, DATA16, "invalid shape"),
    "shape has a bool": ({"w": entry(shape=[True, 4])}, DATA16, "invalid shape"),
    "shape has a float": ({"w": entry(shape=[4.0])}, DATA16, "invalid shape"),
    "shape impossible": ({"w": entry(shape=(0, 1 << 62), offsets=[0, 0])}, b"", "impossible shape"),
    "offsets are strings": ({"w": entry(offsets=["0", "16"])}, DATA16, "invalid data_offsets"),
    "offsets are three": ({"w": entry(offsets=[0, 8, 16])}, DATA16, "invalid data_offsets"),
    "offsets huge": ({"w": entry(dtype="U8", shape=(1 << 60,), offsets=[0, 1 << 60])}, DATA16, "describes"),
    "dimension huge": ({"w": entry(shape=(1 << 68,), offsets=[0, 1 << 70])}, DATA16, "invalid shape"),
    "offsets reversed": ({"w": entry(offsets=[16, 0])}, DATA16, "do not match"),
    "offsets negative": ({"w": entry(offsets=[-16, 0])}, DATA16, "do not match"),
    "size does not match shape": ({"w": entry(shape=(3,))}, DATA16, "do not match"),
    "overlapping tensors": (
        {"a": entry(shape=(2,), offsets=[0, 8]), "b": entry(shape=(2,), offsets=[4, 12])},
        DATA16[:12],
        "overlap",
    ),
    "same range twice": (
        {"a": entry(shape=(2,), offsets=[0, 8]), "b": entry(shape=(2,), offsets=[0, 8])},
        DATA16[:8],
        "overlap",
    ),
    "gap between tensors": (
        {"a": entry(shape=(2,), offsets=[0, 8]), "b": entry(shape=(1,), offsets=[12, 16])},
        DATA16,
        "gap",
    ),
    "repeated tensor name": (
        b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
        b'"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
        DATA16,
        "repeats the key 'w'",
    ),
    "bool holding 2": (
        {"m": entry(dtype="BOOL", shape=(2,), offsets=[0, 2])},
        b"\x01\x02",
        "other than 0 and 1",
    ),
    "metadata is a list": ({"__metadata__": [1]}, b"", "__metadata__ is not a map of strings"),
    "metadata value is a number": ({"__metadata__": {"format_version": 1}}, b"", "map of strings"),
    "not UTF-8": (b'{"\xff":1}', b"", "JSON header is corrupted"),
    "trailing junk after the data": ({"w": entry()}, DATA16 + b"x", "holds 17"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED_HEADERS))
def test_crafted_headers_are_value_errors_naming_the_file(tmp_path: Path, case: str) -> None:
    header, data, match = CRAFTED_HEADERS[case]
    refused(tmp_path / "crafted.safetensors", raw_file(header, data), match)


# --- crafted chainrule metadata (with a valid checksum: anyone can compute one) -----------------------------
A = {"a": np.arange(3, dtype=np.float32)}
CRAFTED_STRUCTURES = {
    "deep nesting (JSON)": ("[" * 100_000 + "]" * 100_000, {}, "corrupted structure"),
    "deep nesting (decoded)": ("[" * 500 + "]" * 500, {}, "nested more than"),
    "deep dicts": ('{"dict":[["k",' * 200 + "1" + "]]}" * 200, {}, "nested more than"),
    "dict of a number": ({"dict": 5}, {}, "unknown node kind 'dict' holding int"),
    "dict with a list key": ({"dict": [[[1], 2]]}, {}, "not a \\[key, value\\] pair"),
    "dict with a short pair": ({"dict": [["k"]]}, {}, "not a \\[key, value\\] pair"),
    "tuple of a string": ({"tuple": "abc"}, {}, "unknown node kind 'tuple'"),
    "tensor named by a list": ({"tensor": ["a"]}, A, "tensor \\['a'\\] that the file does not hold"),
    "tensor not in the file": ({"tensor": "zz"}, A, "tensor 'zz' that the file does not hold"),
    "scalar of a vector": ({"scalar": "a"}, A, "scalar 'a' has shape \\(3,\\)"),
    "unknown kind": ({"pickle": "a"}, A, "unknown node kind 'pickle'"),
    "two keys": ({"tensor": "a", "tuple": []}, A, "node with keys"),
    "not JSON": ("{not json", {}, "corrupted structure"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED_STRUCTURES))
def test_crafted_structures_are_value_errors_naming_the_file(tmp_path: Path, case: str) -> None:
    structure, arrays, match = CRAFTED_STRUCTURES[case]
    refused(tmp_path / "crafted.safetensors", chainrule_file(structure, arrays), match)


@pytest.mark.parametrize(
    "meta, match",
    [
        ({"format_version": "1e3"}, "corrupted format_version '1e3'"),
        ({"format_version": "-1"}, "corrupted format_version"),
        ({"format_version": " 1"}, "corrupted format_version"),
        ({"format_version": "9" * 5000}, "corrupted format_version"),
        ({"checksum": "sha256:" + "0" * 64}, "checksum"),
    ],
)
def test_crafted_versions_and_checksums_are_refused(tmp_path: Path, meta: dict[str, str], match: str) -> None:
    refused(tmp_path / "crafted.safetensors", chainrule_file({"tensor": "a"}, A, **meta), match)


def test_a_chainrule_file_without_a_checksum_is_refused(tmp_path: Path) -> None:
    data = chainrule_file({"tensor": "a"}, A)
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    del header["__metadata__"]["checksum"]
    refused(tmp_path / "f.st", raw_file(header, A["a"].tobytes()), "no checksum")


def test_the_checksum_is_verified_before_the_structure_is_decoded(tmp_path: Path) -> None:
    """Structures that would fail to decode, in files whose checksum does not match: the checksum is what is
    reported, so nothing of an unverified structure was ever parsed."""
    wrong = "sha256:" + "0" * 64
    for structure in ("[" * 100_000, '{"dict": 5}', '{"tensor": "nope"}', "{not json"):
        refused(tmp_path / "f.st", chainrule_file(structure, A, checksum=wrong), "do not match the checksum")


# --- truncation and corruption, exhaustively and at random --------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "good.safetensors"
    cr.save({"w": cr.arange(6).reshape(2, 3), "b": cr.ones(2), "m": cr.tensor([True]), "epoch": 1}, path)
    return path.read_bytes()


def test_truncation_at_every_length_is_refused(tmp_path: Path, good: bytes) -> None:
    path = tmp_path / "cut.safetensors"
    for cut in range(len(good)):
        path.write_bytes(good[:cut])
        with pytest.raises(ValueError) as info:
            cr.load(path)
        assert str(path) in str(info.value), cut


EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
        st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 8)),
    ),
    min_size=1,
    max_size=4,
)


def edit(data: bytes, edits: list[tuple[str, int, Any]]) -> bytes:
    out = bytearray(data)
    for op, pos, arg in edits:
        pos %= max(len(out), 1)
        if op == "set" and out:
            out[pos] = arg
        elif op == "insert":
            out[pos:pos] = arg
        else:
            del out[pos : pos + arg]
    return bytes(out)


def check_corruption(path: Path, good: bytes, edits: list[tuple[str, int, Any]]) -> None:
    """A corrupted file raises ValueError naming it, or loads exactly what was saved."""
    path.write_bytes(edit(good, edits))
    try:
        back = cr.load(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        return
    assert back["epoch"] == 1 and back["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["b"].tolist() == [1, 1] and back["m"].tolist() == [True]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_corruptions_are_value_errors_or_load_the_same(tmp_path: Path, good: bytes, edits) -> None:
    check_corruption(tmp_path / "corrupt.safetensors", good, edits)


@pytest.mark.deep
@settings(max_examples=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_corruptions_deep(tmp_path: Path, good: bytes, edits) -> None:
    check_corruption(tmp_path / "corrupt.safetensors", good, edits)


# --- what stays loadable --------------------------------------------------------------------------------
ALL_DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "float16", "uint32", "int32", "float32", "uint64",
              "int64", "float64", "complex64"]  # fmt: skip


def test_every_dtype_round_trips_and_stays_readable_by_safetensors(tmp_path: Path, torch) -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file as np_load_file
    from safetensors.torch import load_file

    rng = np.random.default_rng(0)
    arrays = {d: (rng.standard_normal((2, 3)) * 50).astype(d) for d in ALL_DTYPES}
    arrays["empty"] = np.zeros((0, 4), np.float32)
    arrays["scalar"] = np.array(2.5)
    path = tmp_path / "all.safetensors"
    cr.save({k: cr.tensor(v) for k, v in arrays.items()}, path)
    back = cr.load(path)
    theirs = np_load_file(str(path))
    for key, expected in arrays.items():
        assert back[key].dtype == expected.dtype and back[key].shape == expected.shape
        np.testing.assert_array_equal(back[key].data, expected)
        np.testing.assert_array_equal(theirs[key], expected)
    torch_back = load_file(path)
    for key in ("float32", "int64", "bool", "float16", "empty", "scalar"):
        np.testing.assert_array_equal(torch_back[key].numpy(), arrays[key])
    with safe_open(str(path), framework="np") as f:
        assert f.metadata()["format_version"] == "1"
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    assert header_len % 8 == 0  # every tensor starts aligned, as safetensors' own writer does
    header = json.loads(path.read_bytes()[8 : 8 + header_len])
    for key, info in header.items():
        if key != "__metadata__":
            assert info["data_offsets"][0] % np.dtype(arrays[key].dtype).itemsize == 0, key


def test_torch_written_files_load_in_native_order(tmp_path: Path, torch) -> None:
    from safetensors.torch import save_file

    weights = {
        "w": torch.randn(3, 2),
        "i": torch.arange(5, dtype=torch.int16),
        "m": torch.tensor([True, False]),
    }
    save_file(weights, tmp_path / "t.safetensors")
    back = cr.load(tmp_path / "t.safetensors")
    for key, t in weights.items():
        assert back[key].data.dtype.isnative
        np.testing.assert_array_equal(back[key].data, t.numpy())
        back[key].data[...] = back[key].data  # writable
