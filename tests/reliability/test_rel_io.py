"""Files: ``save`` is atomic, ``load`` returns exactly what was saved or raises ValueError (never unpickles),
checkpoints carry versions, and ``load_state_dict`` names every mismatch."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

pytest.importorskip("safetensors")


def checkpoint() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {
        "model": {"w": cr.tensor(rng.standard_normal((3, 4))), "b": cr.zeros(4, dtype="float64")},
        "steps": cr.tensor([1, 2, 3]),
        "epoch": 7,
        "name": "run-1",
        "betas": (0.9, 0.999),
        "history": [0.5, 0.25],
    }


def same(a: Any, b: Any) -> bool:
    """Structural equality, Tensors compared by dtype, shape and every element."""
    if isinstance(a, cr.Tensor) or isinstance(b, cr.Tensor):
        return (
            isinstance(a, cr.Tensor)
            and isinstance(b, cr.Tensor)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a.data, b.data)
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("io") / "good.safetensors"
    cr.save(checkpoint(), path)
    assert same(cr.load(path), checkpoint())
    return path.read_bytes()


# --- save is atomic ---------------------------------------------------------------------------------------
def _leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


@pytest.mark.parametrize(
    "exc", [OSError("disk full"), KeyboardInterrupt()], ids=["OSError", "KeyboardInterrupt"]
)
@pytest.mark.parametrize("stage", ["while writing", "at fsync", "at rename"])
def test_a_failed_save_leaves_the_old_file_intact_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str, exc: BaseException
) -> None:
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()
    real_write = cr.io._write_safetensors

    def partial_write(f: Any, head: bytes, arrays: list) -> None:
        real_write(f, head, arrays)
        f.truncate(20)  # the temp file now holds half a checkpoint...
        raise exc  # ...and the process "dies" here

    def boom(*args: Any, **kwargs: Any) -> None:
        raise exc

    if stage == "while writing":
        monkeypatch.setattr(cr.io, "_write_safetensors", partial_write)
    elif stage == "at fsync":
        monkeypatch.setattr(os, "fsync", boom)
    else:
        monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(type(exc)):
        cr.save(checkpoint(), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert same(cr.load(path), {"w": cr.ones(3)})
    assert _leftovers(tmp_path, path.name) == []


def test_unsaveable_objects_are_refused_before_touching_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.safetensors"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()
    for bad, what in [
        ({"f": lambda: 0}, "function"),
        ({"o": object()}, "object"),
        ({(1, 2): cr.ones(1)}, "tuple"),
    ]:
        with pytest.raises(TypeError, match=what):
            cr.save(bad, path)
    assert path.read_bytes() == before and _leftovers(tmp_path, path.name) == []


def test_saving_into_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        cr.save({"w": cr.ones(1)}, tmp_path / "no" / "such" / "dir" / "x.safetensors")


# --- load refuses damaged files ---------------------------------------------------------------------------
def test_every_truncation_is_refused(tmp_path: Path, good_bytes: bytes) -> None:
    path = tmp_path / "cut.safetensors"
    header_end = 8 + int.from_bytes(good_bytes[:8], "little")
    cuts = sorted({*range(0, len(good_bytes), 5), *range(header_end - 8, len(good_bytes))})  # all data cuts
    for cut in cuts:
        path.write_bytes(good_bytes[:cut])
        with pytest.raises(ValueError) as info:
            cr.load(path)
        assert str(path) in str(info.value)


@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
def test_corruption_never_loads_silently(
    tmp_path_factory: pytest.TempPathFactory, good_bytes: bytes, flips
) -> None:
    """Any byte changed anywhere: load raises ValueError, or returns exactly the saved checkpoint (a change
    that only touches, e.g., the recorded chainrule version string)."""
    data = bytearray(good_bytes)
    for pos, value in flips:
        data[pos % len(data)] = value
    path = tmp_path_factory.mktemp("flip") / "f.safetensors"
    path.write_bytes(bytes(data))
    try:
        loaded = cr.load(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        return
    assert same(loaded, checkpoint())


def test_a_flipped_bit_in_tensor_data_is_detected(tmp_path: Path, good_bytes: bytes) -> None:
    """safetensors has no checksum; chainrule's metadata does, so this is not silently a different weight."""
    path = tmp_path / "bit.safetensors"
    header_end = 8 + int.from_bytes(good_bytes[:8], "little")
    for pos in (header_end, header_end + 17, len(good_bytes) - 1):
        data = bytearray(good_bytes)
        data[pos] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(ValueError, match="checksum"):
            cr.load(path)


def test_pickles_are_refused_and_never_executed(tmp_path: Path, torch) -> None:
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(Evil()))
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    zipped = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, zipped)
    for path, hint in [(evil, "pickle"), (legacy, "pickle"), (zipped, "zip")]:
        with pytest.raises(ValueError, match=hint) as info:
            cr.load(path)
        assert "never unpickles" in str(info.value)
    assert not marker.exists()


def test_non_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="directory"):
        cr.load(tmp_path)
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match="truncated or empty"):
        cr.load(tmp_path / "empty")


# --- versions ---------------------------------------------------------------------------------------------
def test_checkpoints_carry_format_and_library_versions(tmp_path: Path) -> None:
    from safetensors import safe_open

    path = tmp_path / "v.safetensors"
    cr.save(checkpoint(), path)
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
    assert meta["chainrule_version"] == cr.__version__
    assert int(meta["format_version"]) == cr.io.FORMAT_VERSION >= 1
    assert meta["checksum"].startswith("sha256:")


def test_a_newer_format_is_a_clear_error(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "future.safetensors"
    newer = cr.io.FORMAT_VERSION + 1
    meta = {"format_version": str(newer), "chainrule_version": "99.0", "structure": '{"tensor":"w"}'}
    save_file({"w": np.ones(2, np.float32)}, str(path), metadata=meta)
    with pytest.raises(ValueError, match=rf"format_version {newer}.*upgrade chainrule"):
        cr.load(path)


def test_a_chainrule_file_missing_its_own_metadata_keys_is_refused(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "partial.safetensors"
    meta = {"format_version": "1", "chainrule_version": cr.__version__}  # "structure" lost
    save_file({"w": np.ones(2, np.float32)}, str(path), metadata=meta)
    with pytest.raises(ValueError, match="structure"):
        cr.load(path)
    plain = tmp_path / "plain.safetensors"  # a file no chainrule wrote is read as a flat dict
    save_file({"w": np.ones(2, np.float32)}, str(plain))
    assert same(cr.load(plain), {"w": cr.ones(2)})


# --- load_state_dict names every problem ------------------------------------------------------------------
@pytest.fixture
def net():
    nn = cr.nn
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_load_state_dict_names_missing_and_unexpected_keys(net) -> None:
    sd = {k: v.data.copy() for k, v in net.state_dict().items()}
    del sd["0.bias"], sd["2.weight"]
    sd["3.weight"] = np.zeros((2, 2), np.float32)
    sd["extra"] = np.zeros(1, np.float32)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    for key in ("0.bias", "2.weight", "3.weight", "extra"):
        assert f'"{key}"' in msg
    assert "Missing key(s)" in msg and "Unexpected key(s)" in msg
    result = net.load_state_dict(sd, strict=False)  # non-strict loads the rest and reports the keys
    assert sorted(result.missing_keys) == ["0.bias", "2.weight"]
    assert sorted(result.unexpected_keys) == ["3.weight", "extra"]


def test_load_state_dict_names_shape_mismatches_and_changes_nothing(net) -> None:
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    sd = {k: np.ones_like(v) for k, v in before.items()}
    sd["0.weight"] = np.ones((4, 5), np.float32)
    sd["1.running_mean"] = np.ones(3, np.float32)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "size mismatch for 0.weight" in msg and "(4, 5)" in msg and "(4, 3)" in msg
    assert "size mismatch for 1.running_mean" in msg
    for k, v in net.state_dict().items():  # all-or-nothing: no parameter was half-loaded
        np.testing.assert_array_equal(v.data, before[k])


def test_load_state_dict_names_lossy_dtype_mismatches(net) -> None:
    sd = {k: v.data.copy() for k, v in net.state_dict().items()}
    sd["0.weight"] = sd["0.weight"].astype(np.complex64)
    sd["1.num_batches_tracked"] = np.array(2.5)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "dtype mismatch for 0.weight" in msg and "complex64" in msg
    assert "dtype mismatch for 1.num_batches_tracked" in msg and "float64" in msg
    own = net.state_dict()
    sd = {k: v.data.astype(np.float64) if v.dtype.kind == "f" else v.data for k, v in own.items()}
    net.load_state_dict(sd)  # float64 -> float32 is a safe, same-kind cast (as torch does)
    assert net[0].weight.dtype == np.float32


def test_state_dict_round_trips_through_a_file(tmp_path: Path, net) -> None:
    path = tmp_path / "net.safetensors"
    cr.save(net.state_dict(), path)
    nn = cr.nn
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    other.load_state_dict(cr.load(path))
    assert same(dict(other.state_dict()), dict(net.state_dict()))
