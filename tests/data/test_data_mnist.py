"""IDX reading on small files the tests write byte by byte (raw and gzipped); load_mnist's file finding."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from chainrule.datasets import load_mnist, read_idx, write_idx


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + payload


def write(path, data: bytes, gz: bool = False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_dtypes_and_byte_order(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    got = read_idx(write(tmp_path / "u8", idx_bytes(0x08, (2, 3, 4), images.tobytes()), gz))
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, images)

    values = [1.5, -2.25, 1e30]
    got = read_idx(write(tmp_path / "f4", idx_bytes(0x0D, (3,), struct.pack(">3f", *values)), gz))
    assert got.dtype == np.float32 and got.dtype.byteorder in "=|<"
    np.testing.assert_array_equal(got, np.array(values, dtype=np.float32))

    got = read_idx(write(tmp_path / "i4", idx_bytes(0x0C, (2, 1), struct.pack(">2i", -7, 65536)), gz))
    assert got.dtype == np.int32 and got.tolist() == [[-7], [65536]]
    got = read_idx(write(tmp_path / "f8", idx_bytes(0x0E, (1,), struct.pack(">d", np.pi)), gz))
    assert got.dtype == np.float64 and got[0] == np.pi
    got = read_idx(write(tmp_path / "i2", idx_bytes(0x0B, (2,), struct.pack(">2h", -2, 300)), gz))
    assert got.tolist() == [-2, 300]
    got = read_idx(write(tmp_path / "i1", idx_bytes(0x09, (2,), struct.pack(">2b", -2, 100)), gz))
    assert got.tolist() == [-2, 100]


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_write_idx_round_trip(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == "uint8":
        a = np.abs(a)
    for name in ("a.idx", "a.idx.gz"):
        write_idx(a, tmp_path / name)
        np.testing.assert_array_equal(read_idx(tmp_path / name), a)
    with pytest.raises(TypeError, match="int64"):
        write_idx(np.zeros(2, np.int64), tmp_path / "bad")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "not an IDX file.*0 bytes"),
        (b"\x00\x00", "not an IDX file.*2 bytes"),
        (b"\x01\x02\x08\x01" + b"\x00" * 8, "bad magic number 0x01020801"),
        (idx_bytes(0x07, (2,), b"\x00\x00"), "unknown IDX dtype code 0x07"),
        (b"\x00\x00\x08\x00", "number of dimensions is 0"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header: 3 dimensions need 16 bytes, found 8"),
        (
            idx_bytes(0x08, (2, 28, 28), b"\x00" * 1000),
            r"truncated IDX file: shape \(2, 28, 28\).*1568.*found 1000",
        ),
        (idx_bytes(0x0D, (4,), b"\x00" * 15), "truncated.*needs 16 data bytes, found 15"),
        (idx_bytes(0x08, (3,), b"\x00" * 5), "2 unexpected trailing bytes"),
    ],
)
def test_corrupt_idx_files_raise_clear_errors(tmp_path, data, match):
    path = write(tmp_path / "bad-idx", data)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path):
    full = gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))
    path = tmp_path / "x.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def make_mnist(folder, kind, n, images_name, labels_name, gz_images=False, gz_labels=False, n_labels=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_labels or n, dtype=np.uint8)
    write(folder / images_name, idx_bytes(0x08, images.shape, images.tobytes()), gz_images)
    write(folder / labels_name, idx_bytes(0x08, labels.shape, labels.tobytes()), gz_labels)
    return images, labels


def test_load_mnist_finds_standard_names(tmp_path):
    images, labels = make_mnist(
        tmp_path, "train", 5, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", gz_images=True
    )
    x, y = load_mnist(tmp_path, "train")
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x.data[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y.data, labels)
    assert 0 <= x.data.min() and x.data.max() <= 1

    test_images, _ = make_mnist(
        tmp_path, "t10k", 3, "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte.gz", gz_labels=True
    )
    x, y = load_mnist(tmp_path, "test", flatten=True)
    assert x.shape == (3, 784) and y.shape == (3,)
    np.testing.assert_allclose(x.data, test_images.reshape(3, -1) / 255.0, rtol=1e-6)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind must be 'train' or 't10k'"):
        load_mnist(tmp_path, "val")
    make_mnist(tmp_path, "train", 4, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", n_labels=3)
    with pytest.raises(ValueError, match=r"has 4 images but .* has 3 labels"):
        load_mnist(tmp_path)
