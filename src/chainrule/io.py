"""``save``/``load``: state dicts and checkpoints as safetensors files, written atomically, never pickled.

Arrays become safetensors tensors; everything else (ints, floats, strings, lists, tuples, nested dicts with
str/int keys) is kept as JSON in the file's metadata, next to ``format_version`` and ``chainrule_version``.
A flat state dict keeps its own keys as tensor names, so ``safetensors.torch.load_file`` reads it directly.

>>> import os, tempfile
>>> import chainrule as cr
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> cr.save({"model": {"w": cr.ones(2, 2)}, "epoch": 3, "betas": (0.9, 0.999)}, path)
>>> ckpt = cr.load(path)
>>> ckpt["epoch"], ckpt["betas"], ckpt["model"]["w"].shape
(3, (0.9, 0.999), (2, 2))
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.tensor import Tensor, _new

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Bumped whenever the layout of the metadata changes; ``load`` refuses files from a newer chainrule.
FORMAT_VERSION = 1

_OWN_KEYS = ("format_version", "chainrule_version", "structure")  # always written together by save()
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
_KEYS = (str, int, float, bool, type(None))


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as st_numpy
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "chainrule.save/load need the safetensors package: pip install 'chainrule[io]'"
        ) from exc
    return st_numpy


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
        if not array.flags.c_contiguous:  # safetensors writes raw memory: it must be C-ordered
            array = array.copy(order="C")
        if array.dtype.kind not in "biufc":
            raise TypeError(f"cannot save an array of dtype {array.dtype} at {path or '<root>'!r}")
        name = self.name(path)
        self.arrays[name] = array
        return {kind: name}

    def encode(self, obj: Any, path: str) -> Any:
        if isinstance(obj, Tensor):
            return self.leaf("tensor", obj.data, path)
        if isinstance(obj, np.ndarray) or backend.is_cuda_array(obj):
            return self.leaf("ndarray", obj, path)
        if isinstance(obj, np.generic):
            return self.leaf("scalar", np.asarray(obj), path)
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            pairs = []
            for key, value in obj.items():
                if not isinstance(key, _KEYS):
                    raise TypeError(
                        f"cannot save a dict key of type {type(key).__name__} ({key!r}) at "
                        f"{path or '<root>'!r}: "
                        "keys must be str, int, float, bool or None"
                    )
                pairs.append([key, self.encode(value, f"{path}.{key}" if path else str(key))])
            return {"dict": pairs}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {"tuple": items}
        if _is_torch_tensor(obj):
            return self.leaf("tensor", obj.detach().cpu().numpy(), path)
        raise TypeError(
            f"cannot save a value of type {type(obj).__name__} at {path or '<root>'!r}: "
            "chainrule.save stores "
            "Tensors, arrays, numbers, strings, None, lists, tuples and dicts (it never pickles)"
        )


def _is_torch_tensor(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch") and all(
        hasattr(obj, a) for a in ("detach", "cpu", "numpy")
    )


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (a state dict, an optimizer state dict, a nested checkpoint, a Tensor...) to ``path``.

    The file is written to a temporary file in the same folder, flushed, fsynced and renamed over ``path``,
    so a failed save leaves any previous file untouched.
    """
    st_numpy = _safetensors_numpy()
    path = os.fspath(path)
    encoder = _Encoder()
    structure = encoder.encode(obj, "")
    from chainrule import __version__

    metadata = {
        "format_version": str(FORMAT_VERSION),
        "chainrule_version": __version__,
        "structure": json.dumps(structure, separators=(",", ":")),
    }
    metadata["checksum"] = _checksum(metadata["structure"], encoder.arrays)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    os.close(fd)
    try:
        mode = os.stat(path if os.path.exists(path) else tmp).st_mode & 0o7777
        st_numpy.save_file(encoder.arrays, tmp, metadata=metadata)
        os.chmod(tmp, mode)  # safetensors creates its files 0600; keep what open() would give
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _checksum(structure: str, arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the structure and every array's name, dtype, shape and bytes: safetensors has no checksum
    of its own, so without this a flipped bit in the tensor data would load silently."""
    h = hashlib.sha256(structure.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.view(np.uint8).reshape(-1) if a.size else b"")
    return "sha256:" + h.hexdigest()


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------- decoding
def _describe(head: bytes) -> str:
    if head[:1] == b"\x80":
        return " (it looks like a pickle, e.g. from torch.save; chainrule.load never unpickles)"
    if head[:2] == b"PK":
        return " (it looks like a zip archive, e.g. a torch.save checkpoint; chainrule.load never unpickles)"
    if head[:2] == b"\x1f\x8b":
        return " (it looks like a gzip file)"
    return ""


def _read_checked(path: str) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and its parsed header, after checking the safetensors layout end to end."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a safetensors file") from None
    size = len(data)
    bad = f"{path}: not a valid safetensors file"
    if size < 8:
        raise ValueError(f"{bad}: only {size} bytes (truncated or empty){_describe(data)}")
    n = int.from_bytes(data[:8], "little")
    if n > _MAX_HEADER or n > size - 8:
        raise ValueError(
            f"{bad}: the header claims {n} bytes but the file has {size - 8} after the length prefix "
            f"(truncated, corrupted or another format){_describe(data)}"
        )
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{bad}: its JSON header is corrupted ({exc}){_describe(data)}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{bad}: its header is not a JSON object")
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise ValueError(f"{bad}: tensor {name!r} has no valid data_offsets in the header")
        end = max(end, offsets[1])
    if end != size - 8 - n:
        raise ValueError(
            f"{bad}: the header describes {end} bytes of tensor data but the file holds {size - 8 - n} "
            "(truncated or corrupted)"
        )
    return data, header


def _decode(node: Any, arrays: dict[str, np.ndarray], make: Any, path: str) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays, make, path) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1:
        raise ValueError(f"{path}: corrupted structure metadata (node with keys {sorted(node)})")
    ((kind, value),) = node.items()
    if kind in ("tensor", "ndarray", "scalar"):
        if value not in arrays:
            raise ValueError(
                f"{path}: the structure refers to a tensor {value!r} that the file does not hold"
            )
        array = arrays[value]
        if kind == "tensor":
            return make(array)
        return array if kind == "ndarray" else array[()]
    if kind == "tuple":
        return tuple(_decode(v, arrays, make, path) for v in value)
    if kind == "dict":
        return {k: _decode(v, arrays, make, path) for k, v in value}
    raise ValueError(f"{path}: corrupted structure metadata (unknown node kind {kind!r})")


def load(path: str | os.PathLike[str], map_location: Any = None, *, device: Any = None) -> Any:
    """Read what ``save`` wrote (or any safetensors file: then a flat ``{name: Tensor}`` dict).

    ``map_location``/``device`` (``"cpu"``, ``"cuda"``) places the loaded Tensors. Truncated, corrupted and
    non-safetensors files (pickles, zips...) raise ``ValueError`` naming the path; nothing is ever unpickled.
    """
    st_numpy = _safetensors_numpy()
    path = os.fspath(path)
    data, header = _read_checked(path)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: not a valid safetensors file: __metadata__ is not an object")
    missing = [k for k in _OWN_KEYS if k not in metadata]
    if missing and len(missing) < len(_OWN_KEYS):  # a chainrule file that lost a key is not a plain one
        raise ValueError(f"{path}: corrupted chainrule metadata (no {', '.join(missing)})")
    version = metadata.get("format_version")
    if version is not None:
        try:
            version = int(version)
        except ValueError:
            raise ValueError(f"{path}: corrupted format_version {version!r}") from None
        if version > FORMAT_VERSION:
            from chainrule import __version__

            raise ValueError(
                f"{path}: written with checkpoint format_version {version} (chainrule "
                f"{metadata.get('chainrule_version', '?')}); this chainrule {__version__} reads "
                "format_version "
                f"<= {FORMAT_VERSION}: upgrade chainrule to load it"
            )
    try:
        arrays = st_numpy.load(data)
    except Exception as exc:  # safetensors raises its own error types for malformed headers/dtypes
        raise ValueError(f"{path}: not a valid safetensors file: {exc}") from None
    where = device if device is not None else map_location
    kind = backend.parse_device(where) if where is not None else "cpu"

    def make(array: np.ndarray) -> Tensor:
        return _new(backend.to_device(array, kind) if kind != "cpu" else array)

    if version is None or "structure" not in metadata:
        return {name: make(array) for name, array in arrays.items()}
    try:
        structure = json.loads(metadata["structure"])
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupted structure metadata ({exc})") from None
    obj = _decode(structure, arrays, make, path)
    expected = metadata.get("checksum")
    if expected is not None and _checksum(str(metadata["structure"]), arrays) != expected:
        raise ValueError(f"{path}: corrupted file: its contents do not match the checksum written by save()")
    return obj
