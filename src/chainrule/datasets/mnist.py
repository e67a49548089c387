"""IDX files (the MNIST / Fashion-MNIST format), raw or gzipped, with checks that name what is wrong.

An IDX file is: two zero bytes, a dtype code, the number of dimensions ``d``; ``d`` big-endian uint32 sizes;
then the data, big-endian, C order.
"""

from __future__ import annotations

import gzip
import os
import zlib
from typing import Any

import numpy as np

from chainrule.tensor import Tensor, _new

__all__ = ["load_mnist", "read_idx", "write_idx"]

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupted or truncated gzip file ({exc})") from None
    return raw


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a native-endian NumPy array of its stored dtype and shape."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(
            f"{path}: not an IDX file (only {len(raw)} bytes, need at least a 4-byte magic number)"
        )
    magic = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: bad magic number 0x{magic:08X}: an IDX file starts with two zero bytes")
    if code not in _DTYPES:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08X}: unknown IDX dtype code 0x{code:02X} "
            f"(expected one of {', '.join(f'0x{c:02X}' for c in _DTYPES)})"
        )
    if ndim == 0:
        raise ValueError(f"{path}: bad magic number 0x{magic:08X}: the number of dimensions is 0")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, found {len(raw)}"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise ValueError(
            f"{path}: truncated IDX file: shape {shape} of {dtype.newbyteorder('=')} needs {expected} "
            "data bytes, "
            f"found {found}"
        )
    if found > expected:
        raise ValueError(
            f"{path}: corrupted IDX file: {found - expected} unexpected trailing bytes after {expected} "
            "data bytes "
            f"for shape {shape}"
        )
    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return data.astype(dtype.newbyteorder("=")).reshape(shape)


def write_idx(array: Any, path: str | os.PathLike[str]) -> None:
    """Write an array as an IDX file (gzipped if ``path`` ends with ``.gz``): the inverse of ``read_idx``."""
    array = np.asarray(array.data if isinstance(array, Tensor) else array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(
            f"IDX cannot store dtype {array.dtype}: use uint8, int8, int16, int32, float32 or float64"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


def _find(folder: str, kind: str, what: str, dims: int) -> str:
    names = [f"{kind}-{what}-idx{dims}-ubyte", f"{kind}-{what}.idx{dims}-ubyte"]
    tried = []
    for name in names:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            tried.append(candidate)
            if os.path.isfile(path):
                return path
    raise FileNotFoundError(
        f"no MNIST {what} file for kind={kind!r} in {folder}: looked for {', '.join(tried)}"
    )


def load_mnist(
    folder: str | os.PathLike[str], kind: str = "train", *, flatten: bool = False
) -> tuple[Tensor, Tensor]:
    """Load ``{kind}-images-idx3-ubyte[.gz]`` and ``{kind}-labels-idx1-ubyte[.gz]`` from ``folder``.

    ``kind`` is ``"train"`` or ``"t10k"`` (``"test"`` is accepted for ``"t10k"``). Returns images as float32
    in [0, 1], shaped ``(N, 1, H, W)`` (or ``(N, H*W)`` with ``flatten=True``), and int64 labels ``(N,)``.
    """
    folder = os.fspath(folder)
    if kind == "test":
        kind = "t10k"
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")
    images_path = _find(folder, kind, "images", 3)
    labels_path = _find(folder, kind, "labels", 1)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected 3 dimensions (N, H, W), got shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected 1 dimension (N,), got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x /= 255.0
    x = x.reshape(len(x), -1) if flatten else x[:, None]
    return _new(x), _new(labels.astype(np.int64))
