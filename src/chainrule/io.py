"""``save``/``load``: state dicts and checkpoints as safetensors files, written safely, never pickled.

Arrays become safetensors tensors; everything else (ints, floats, strings, lists, tuples, nested dicts with
str/int keys) is kept as JSON in the file's metadata, next to ``format_version``, ``chainrule_version`` and
a sha256 ``checksum``. A flat state dict keeps its own keys as tensor names, so
``safetensors.torch.load_file`` reads it directly.

Writing never destroys what is at the path (see :mod:`chainrule._files`): a file is replaced atomically, a
symlink's target is replaced and the link kept, a FIFO or a device is written through. Reading trusts nothing:
every size in the file is checked against the file's real length before anything is read or allocated, the
checksum is verified before the structure is decoded, and any damage is a ``ValueError`` naming the file.

>>> import os, tempfile
>>> import chainrule as cr
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> cr.save({"model": {"w": cr.ones(2, 2)}, "epoch": 3, "betas": (0.9, 0.999)}, path)
>>> ckpt = cr.load(path)
>>> ckpt["epoch"], ckpt["betas"], ckpt["model"]["w"].shape
(3, (0.9, 0.999), (2, 2))
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import stat
from typing import IO, Any

import numpy as np

from chainrule import _files, backend
from chainrule.tensor import Tensor, _new

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Bumped whenever the layout of the metadata changes; ``load`` refuses files from a newer chainrule.
FORMAT_VERSION = 1

_OWN_KEYS = ("format_version", "chainrule_version", "structure")  # always written together by save()
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
_MAX_DEPTH = 100  # containers nested deeper than this are refused by save and by load alike
_KEYS = (str, int, float, bool, type(None))
_CHUNK = 1 << 24

# safetensors' dtype names and the (little-endian) NumPy dtypes they hold: the format is little-endian.
_DTYPES = {
    "BOOL": np.dtype("|b1"),
    "U8": np.dtype("|u1"),
    "I8": np.dtype("|i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
    "C64": np.dtype("<c8"),
}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}
_Entry = tuple[
    int, int, str, np.dtype, tuple[int, ...]
]  # one tensor of a file: begin, end, name, dtype, shape


# ---------------------------------------------------------------------------------------------- encoding
class _Encoder:
    """Walk an object: arrays go to ``arrays`` under readable unique names, the rest becomes a JSON tree."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def name(self, path: str) -> str:
        base = path or "tensor"
        name, k = base, 1
        while name in self.arrays or name == "__metadata__":
            name, k = f"{base}#{k}", k + 1
        return name

    def leaf(self, kind: str, array: Any, path: str) -> dict[str, str]:
        array = np.asarray(backend.to_device(array, "cpu"))
        # The file is little-endian: swap here, so the checksum is taken over the bytes actually written.
        array = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)
        if array.dtype not in _CODES:
            raise TypeError(
                f"cannot save an array of dtype {array.dtype.newbyteorder('=')} at {path or '<root>'!r}: "
                "safetensors stores bool, (u)int8-64, float16/32/64 and complex64"
            )
        name = self.name(path)
        self.arrays[name] = array
        return {kind: name}

    def encode(self, obj: Any, path: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError(
                f"cannot save: containers nested more than {_MAX_DEPTH} deep at {path[:60]!r}... (or a "
                "container that contains itself)"
            )
        if isinstance(obj, Tensor):
            return self.leaf("tensor", obj.data, path)
        if isinstance(obj, np.ndarray) or backend.is_cuda_array(obj):
            return self.leaf("ndarray", obj, path)
        if isinstance(obj, np.generic):
            return self.leaf("scalar", np.asarray(obj), path)
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            return {"dict": [self.pair(k, v, path, depth) for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(v, f"{path}.{i}" if path else str(i), depth + 1) for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {"tuple": items}
        if _is_torch_tensor(obj):
            return self.leaf("tensor", obj.detach().cpu().numpy(), path)
        raise TypeError(
            f"cannot save a value of type {type(obj).__name__} at {path or '<root>'!r}: "
            "chainrule.save stores "
            "Tensors, arrays, numbers, strings, None, lists, tuples and dicts (it never pickles)"
        )

    def pair(self, key: Any, value: Any, path: str, depth: int) -> list[Any]:
        if not isinstance(key, _KEYS):
            raise TypeError(
                f"cannot save a dict key of type {type(key).__name__} ({key!r}) at {path or '<root>'!r}: "
                "keys must be str, int, float, bool or None"
            )
        return [key, self.encode(value, f"{path}.{key}" if path else str(key), depth + 1)]


def _is_torch_tensor(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch") and all(
        hasattr(obj, a) for a in ("detach", "cpu", "numpy")
    )


def _layout(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> tuple[bytes, list[np.ndarray]]:
    """The safetensors header (length prefix + JSON padded to 8 bytes) and the arrays in file order.

    Like safetensors' own writer, wider dtypes come first, so every tensor starts aligned to its item size.
    """
    order = sorted(arrays, key=lambda name: (-arrays[name].dtype.itemsize, name))
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name in order:
        a = arrays[name]
        header[name] = {
            "dtype": _CODES[a.dtype],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text, [arrays[name] for name in order]


def _write_safetensors(f: IO[bytes], head: bytes, arrays: list[np.ndarray]) -> None:
    f.write(head)
    for a in arrays:
        if a.size:
            f.write(a.reshape(-1).view(np.uint8).data)


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (a state dict, an optimizer state dict, a nested checkpoint, a Tensor...) to ``path``.

    A file is written to a temporary file in the same folder, fsynced and renamed over ``path`` (over the
    file a symlink points to: the link stays), so a failed save leaves any previous file untouched and no
    temporary file behind; a FIFO or a device is written through. Errors are ``OSError``s naming ``path``.
    """
    path = os.fspath(path)
    encoder = _Encoder()
    structure = json.dumps(encoder.encode(obj, ""), separators=(",", ":"))
    from chainrule import __version__

    metadata = {
        "format_version": str(FORMAT_VERSION),
        "chainrule_version": __version__,
        "structure": structure,
    }
    metadata["checksum"] = _checksum(structure, encoder.arrays)
    head, arrays = _layout(encoder.arrays, metadata)
    if len(head) - 8 > _MAX_HEADER:
        raise ValueError(f"cannot save to {path}: the metadata would exceed safetensors' 100 MB header limit")
    _files.write_file(path, lambda f: _write_safetensors(f, head, arrays))


def _checksum(structure: str, arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the structure and every array's name, dtype, shape and (little-endian) bytes: safetensors
    has no checksum of its own, so without this a flipped bit in the tensor data would load silently."""
    h = hashlib.sha256(structure.encode())
    for name in sorted(arrays):
        a = arrays[name]
        shape = a.shape or (1,)  # chainrule 0.1 hashed 0-d arrays as shape (1,): kept, so its files verify
        h.update(f"\0{name}\0{a.dtype.str}\0{shape}\0".encode())
        h.update(a.reshape(-1).view(np.uint8) if a.size else b"")
    return "sha256:" + h.hexdigest()


# ----------------------------------------------------------------------------------------- reading a file
def _describe(head: bytes) -> str:
    if head[:1] == b"\x80":
        return " (it looks like a pickle, e.g. from torch.save; chainrule.load never unpickles)"
    if head[:2] == b"PK":
        return " (it looks like a zip archive, e.g. a torch.save checkpoint; chainrule.load never unpickles)"
    if head[:2] == b"\x1f\x8b":
        return " (it looks like a gzip file)"
    return ""


class _Bad(ValueError):
    """A damaged or foreign file; ``load`` adds the path and 'not a valid safetensors file'."""


def _read_exactly(f: IO[bytes], n: int) -> bytes:
    """``n`` bytes, or fewer where the file ends; read in chunks, so a lying ``n`` allocates nothing."""
    chunks, left = [], n
    while left > 0:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Bad(f"its header repeats the key {next(k for k in keys if keys.count(k) > 1)!r}")
    return dict(pairs)


def _read_header(f: IO[bytes], size: int | None) -> dict[str, Any]:
    """The JSON header, its length checked against the file's size before it is read."""
    prefix = _read_exactly(f, 8)
    if len(prefix) < 8:
        raise _Bad(f"only {len(prefix)} bytes (truncated or empty){_describe(prefix)}")
    n = int.from_bytes(prefix, "little")
    room = _MAX_HEADER if size is None else min(_MAX_HEADER, size - 8)
    if n > room:
        held = "" if size is None else f" but the file has {size - 8} after the length prefix"
        raise _Bad(
            f"the header claims {n} bytes{held} (truncated, corrupted or another format){_describe(prefix)}"
        )
    text = _read_exactly(f, n)
    if len(text) < n:
        raise _Bad(f"the header claims {n} bytes but the file ends after {len(text)} (truncated)")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _Bad:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Bad(f"its JSON header is corrupted ({exc}){_describe(prefix)}") from None
    if not isinstance(header, dict):
        raise _Bad("its header is not a JSON object")
    return header


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entry(name: str, info: Any) -> _Entry:
    """``(begin, end, name, dtype, shape)`` of one tensor, every field checked."""
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise _Bad(f"tensor {name!r} lacks dtype, shape or data_offsets in the header")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _Bad(
            f"tensor {name!r} has dtype {dtype!r}, which chainrule cannot read "
            f"(supported: {', '.join(_DTYPES)})"
        )
    if not (isinstance(shape, list) and all(_is_int(d) and 0 <= d < 2**63 for d in shape)):
        raise _Bad(f"tensor {name!r} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
        raise _Bad(f"tensor {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end or end - begin != math.prod(shape) * _DTYPES[dtype].itemsize:
        raise _Bad(
            f"tensor {name!r}: data_offsets {offsets} do not match its dtype {dtype} and shape {shape}"
        )
    return begin, end, name, _DTYPES[dtype], tuple(shape)


def _layout_of(header: dict[str, Any]) -> tuple[list[_Entry], int]:
    """The tensors sorted by position, checked to tile the data with no gap or overlap; the data's size."""
    entries = sorted(_entry(name, info) for name, info in header.items() if name != "__metadata__")
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            raise _Bad(f"tensor {name!r} starts at byte {begin} of the data, expected {end} (overlap or gap)")
        end = stop
    return entries, end


def _fill(f: IO[bytes], array: np.ndarray) -> bool:
    """Read ``array.nbytes`` bytes into ``array``; False if the file ends first."""
    if not array.size:
        return True
    view = memoryview(array.reshape(-1).view(np.uint8))
    while view:
        n = f.readinto(view)
        if not n:
            return False
        view = view[n:]
    return True


def _read_arrays(f: IO[bytes], entries: list[_Entry]) -> dict[str, np.ndarray]:
    arrays = {}
    for _, _, name, dtype, shape in entries:
        try:  # its size is already bounded by the file's: only a shape NumPy cannot represent fails here
            array = np.empty(shape, dtype)
        except (ValueError, OverflowError):
            raise _Bad(f"tensor {name!r} has an impossible shape {list(shape)}") from None
        if not _fill(f, array):
            raise _Bad(f"the file ends inside tensor {name!r} (truncated)")
        if dtype.kind == "b" and array.size and array.view(np.uint8).max() > 1:
            raise _Bad(f"BOOL tensor {name!r} holds bytes other than 0 and 1")
        arrays[name] = array
    return arrays


def _read(f: IO[bytes], size: int | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Header and arrays of an open file of ``size`` bytes (None: a pipe or a device, size unknown)."""
    header = _read_header(f, size)
    entries, total = _layout_of(header)
    if size is None:  # a stream: take what it holds (never more than the header asks for, plus one byte)
        rest = _read_exactly(f, total + 1)
        f, held = io.BytesIO(rest), len(rest)
    else:
        held = size - f.tell()
    if held != total:
        raise _Bad(
            f"the header describes {total} bytes of tensor data but the file holds {held} "
            "(truncated or corrupted)"
        )
    return header, _read_arrays(f, entries)


def _read_file(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            return _read(f, st.st_size if stat.S_ISREG(st.st_mode) else None)
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a safetensors file") from None
    except _Bad as exc:
        raise ValueError(f"{path}: not a valid safetensors file: {exc}") from None


# --------------------------------------------------------------------------------------- chainrule's layer
def _metadata(header: dict[str, Any], path: str) -> dict[str, str]:
    metadata = header.get("__metadata__")
    if metadata is None:
        return {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise ValueError(f"{path}: not a valid safetensors file: __metadata__ is not a map of strings")
    return metadata


def _check_version(metadata: dict[str, str], path: str) -> None:
    missing = [k for k in _OWN_KEYS if k not in metadata]
    if missing:  # a chainrule file that lost a key is not a plain one
        raise ValueError(f"{path}: corrupted chainrule metadata (no {', '.join(missing)})")
    version = metadata["format_version"]
    if not re.fullmatch(r"[0-9]{1,6}", version):
        raise ValueError(f"{path}: corrupted format_version {version!r}")
    if int(version) > FORMAT_VERSION:
        from chainrule import __version__

        raise ValueError(
            f"{path}: written with checkpoint format_version {version} (chainrule "
            f"{metadata['chainrule_version']}); this chainrule {__version__} reads format_version "
            f"<= {FORMAT_VERSION}: upgrade chainrule to load it"
        )


def _verify(metadata: dict[str, str], arrays: dict[str, np.ndarray], path: str) -> None:
    """Compare the checksum before anything of the structure is decoded."""
    expected = metadata.get("checksum")
    if expected is None:
        raise ValueError(f"{path}: corrupted chainrule metadata (no checksum)")
    if _checksum(metadata["structure"], arrays) != expected:
        raise ValueError(f"{path}: corrupted file: its contents do not match the checksum written by save()")


class _Decoder:
    """Rebuild what ``save`` encoded, checking every node (a crafted file can carry a valid checksum too)."""

    def __init__(self, arrays: dict[str, np.ndarray], make: Any, path: str) -> None:
        self.arrays, self.make, self.path = arrays, make, path

    def bad(self, what: str) -> ValueError:
        return ValueError(f"{self.path}: corrupted structure metadata ({what})")

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise self.bad(f"nested more than {_MAX_DEPTH} deep")
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            raise self.bad(f"node with keys {sorted(node)}")
        ((kind, value),) = node.items()
        if kind in ("tensor", "ndarray", "scalar"):
            return self.leaf(kind, value)
        if kind == "tuple" and isinstance(value, list):
            return tuple(self.decode(v, depth + 1) for v in value)
        if kind == "dict" and isinstance(value, list):
            return dict(self.pair(p, depth) for p in value)
        raise self.bad(f"unknown node kind {kind!r} holding {type(value).__name__}")

    def pair(self, pair: Any, depth: int) -> tuple[Any, Any]:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], _KEYS)):
            raise self.bad(f"a dict entry {str(pair)[:60]!r} is not a [key, value] pair")
        return pair[0], self.decode(pair[1], depth + 1)

    def leaf(self, kind: str, name: Any) -> Any:
        if not isinstance(name, str) or name not in self.arrays:
            raise ValueError(
                f"{self.path}: the structure refers to a tensor {name!r} that the file does not hold"
            )
        array = self.arrays[name]
        if kind == "tensor":
            return self.make(array)
        if kind == "scalar":
            if array.ndim:
                raise self.bad(f"scalar {name!r} has shape {array.shape}")
            return array[()]
        return array


def _native(array: np.ndarray) -> np.ndarray:
    """The file's little-endian arrays in this machine's byte order (a no-op on little-endian machines)."""
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def load(path: str | os.PathLike[str], map_location: Any = None, *, device: Any = None) -> Any:
    """Read what ``save`` wrote (or any safetensors file: then a flat ``{name: Tensor}`` dict).

    ``map_location``/``device`` (``"cpu"``, ``"cuda"``) places the loaded Tensors. Truncated, corrupted,
    crafted and non-safetensors files (pickles, zips...) raise ``ValueError`` naming the path; nothing is
    ever unpickled, and no size written in the file is trusted before it is checked against the file's length.
    """
    path = os.fspath(path)
    where = device if device is not None else map_location
    kind = backend.parse_device(where) if where is not None else "cpu"

    def make(array: np.ndarray) -> Tensor:
        return _new(backend.to_device(array, kind) if kind != "cpu" else array)

    header, arrays = _read_file(path)
    metadata = _metadata(header, path)
    if not any(k in metadata for k in _OWN_KEYS):  # a plain safetensors file, from any writer
        return {name: make(_native(a)) for name, a in arrays.items()}
    _check_version(metadata, path)
    _verify(metadata, arrays, path)
    try:
        structure = json.loads(metadata["structure"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: corrupted structure metadata ({exc})") from None
    return _Decoder({n: _native(a) for n, a in arrays.items()}, make, path).decode(structure)
