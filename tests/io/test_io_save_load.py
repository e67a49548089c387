"""chainrule.save/load: safetensors round trips, torch interop, atomic writes, bad files refused."""

from __future__ import annotations

import json
import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import io as crio
from chainrule import optim


def state_dict():
    rng = np.random.default_rng(0)
    return {
        "fc1.weight": cr.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
        "fc1.bias": cr.zeros(4),
        "bn.running_var": cr.tensor(rng.random(4)),  # float64
        "bn.num_batches_tracked": cr.tensor(7),  # 0-d int64
        "mask": cr.tensor([True, False]),
        "empty": cr.zeros(0, 3),
        "transposed": cr.tensor(np.arange(6, dtype=np.float32).reshape(2, 3).T),  # not C-contiguous
    }


def assert_same_tensor(a, b):
    assert isinstance(a, cr.Tensor) and isinstance(b, cr.Tensor)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_round_trip(tmp_path):
    sd = state_dict()
    cr.save(sd, tmp_path / "m.safetensors")
    back = cr.load(str(tmp_path / "m.safetensors"))
    assert list(back) == list(sd)
    for key in sd:
        assert_same_tensor(back[key], sd[key])
    back["fc1.bias"].data[0] = 5.0  # loaded arrays are writable


def test_plain_state_dict_is_readable_by_safetensors_torch(tmp_path, torch):
    from safetensors.torch import load_file

    sd = state_dict()
    cr.save(sd, tmp_path / "m.safetensors")
    theirs = load_file(tmp_path / "m.safetensors")
    assert set(theirs) == set(sd)
    for key, t in theirs.items():
        np.testing.assert_array_equal(t.numpy(), sd[key].data)
        assert t.numpy().dtype == sd[key].dtype


def test_loads_files_written_by_other_safetensors_writers(tmp_path, torch):
    from safetensors.torch import save_file

    weights = {"layer.weight": torch.randn(3, 2), "layer.bias": torch.arange(3)}
    save_file(weights, tmp_path / "t.safetensors")
    back = cr.load(tmp_path / "t.safetensors")
    assert set(back) == set(weights)
    for key, t in weights.items():
        np.testing.assert_array_equal(back[key].data, t.numpy())


def test_torch_tensors_are_saved_as_tensors(tmp_path, torch):
    model = torch.nn.Linear(3, 2)
    cr.save(model.state_dict(), tmp_path / "torch.safetensors")
    back = cr.load(tmp_path / "torch.safetensors")
    np.testing.assert_array_equal(back["weight"].data, model.weight.detach().numpy())


def test_nested_checkpoint_round_trip(tmp_path):
    w = cr.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    w.grad = cr.ones(2, 3, dtype="float64")
    opt.step()
    ckpt = {
        "model": {"w": w.detach()},
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "history": [0.5, 0.25, float("inf"), float("nan")],
        "config": {"name": "mlp", "hidden": (64, 32), "dropout": None, "bias": True, 7: "int key"},
        "raw": np.arange(4, dtype=np.int16),
        "scalar": np.float32(1.5),
        "empty": {},
    }
    cr.save(ckpt, tmp_path / "ckpt.safetensors")
    back = cr.load(tmp_path / "ckpt.safetensors")
    assert back["epoch"] == 3 and isinstance(back["epoch"], int)
    assert back["history"][:3] == [0.5, 0.25, float("inf")] and math.isnan(back["history"][3])
    assert back["config"] == {"name": "mlp", "hidden": (64, 32), "dropout": None, "bias": True, 7: "int key"}
    assert isinstance(back["raw"], np.ndarray) and back["raw"].dtype == np.int16
    assert back["scalar"] == np.float32(1.5) and isinstance(back["scalar"], np.float32)
    assert back["empty"] == {}
    assert_same_tensor(back["model"]["w"], w.detach())
    sd = opt.state_dict()
    assert back["optimizer"]["param_groups"] == sd["param_groups"]  # betas stay a tuple
    assert list(back["optimizer"]["state"]) == [0]  # int keys stay ints
    assert back["optimizer"]["state"][0]["step"] == 1
    assert_same_tensor(back["optimizer"]["state"][0]["exp_avg"], sd["state"][0]["exp_avg"])


def test_names_are_unique_and_readable(tmp_path):
    from safetensors.numpy import load_file

    a, b, c = cr.ones(1), cr.zeros(1), cr.full((1,), 2.0)
    obj = {"a.b": a, "a": {"b": b}, "__metadata__": c, "list": [a, b]}
    cr.save(obj, tmp_path / "x.st")
    back = cr.load(tmp_path / "x.st")
    assert back["a.b"].item() == 1 and back["a"]["b"].item() == 0 and back["__metadata__"].item() == 2
    assert [t.item() for t in back["list"]] == [1, 0]
    names = set(load_file(tmp_path / "x.st"))
    assert {"a.b", "list.0", "list.1"} <= names and len(names) == 5
    cr.save(cr.arange(3), tmp_path / "t.st")
    assert cr.load(tmp_path / "t.st").tolist() == [0, 1, 2]


def test_metadata_has_versions(tmp_path):
    from safetensors import safe_open

    cr.save({"w": cr.ones(2)}, tmp_path / "m.st")
    with safe_open(tmp_path / "m.st", framework="np") as f:
        meta = f.metadata()
    assert meta["format_version"] == str(crio.FORMAT_VERSION) == "1"
    assert meta["chainrule_version"] == cr.__version__
    json.loads(meta["structure"])


def test_nesting_is_bounded_the_same_way_by_save_and_load(tmp_path):
    deep = cr.ones(1)
    for _ in range(crio._MAX_DEPTH - 1):
        deep = [deep]
    cr.save({"x": deep}, tmp_path / "deep.st")  # 100 containers (a dict, 99 lists): round trips
    back = cr.load(tmp_path / "deep.st")["x"]
    for _ in range(crio._MAX_DEPTH - 1):
        back = back[0]
    assert back.tolist() == [1]
    with pytest.raises(ValueError, match="nested more than"):
        cr.save({"x": [deep]}, tmp_path / "deeper.st")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        cr.save(loop, tmp_path / "loop.st")
    assert not (tmp_path / "deeper.st").exists() and not (tmp_path / "loop.st").exists()


CHAINRULE_0_1_FILE = (  # cr.save by chainrule 0.1.0 (before this module was rewritten)
    "qAIAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJzdHJ1Y3R1cmUiOiJ7XCJkaWN0XCI6W1tcIm1vZGVsXCIse1wiZGljdFwiOltbXCJ3"
    "XCIse1widGVuc29yXCI6XCJtb2RlbC53XCJ9XSxbXCJudW1fYmF0Y2hlc190cmFja2VkXCIse1widGVuc29yXCI6XCJtb2RlbC5u"
    "dW1fYmF0Y2hlc190cmFja2VkXCJ9XV19XSxbXCJzdGVwXCIse1wic2NhbGFyXCI6XCJzdGVwXCJ9XSxbXCJlcG9jaFwiLDNdLFtc"
    "ImJldGFzXCIse1widHVwbGVcIjpbMC45LDAuOTk5XX1dLFtcIm1hc2tcIix7XCJ0ZW5zb3JcIjpcIm1hc2tcIn1dXX0iLCJmb3Jt"
    "YXRfdmVyc2lvbiI6IjEiLCJjaGVja3N1bSI6InNoYTI1NjphYTcwZGZhMDdiMDYzMjE5YjMzYWVlZmI0NTAwNTVlMTY2NjE2NDg4"
    "OTUyNWI2MjJlNGFjNjA1MGZiODJjMTY2IiwiY2hhaW5ydWxlX3ZlcnNpb24iOiIwLjEuMCJ9LCJtb2RlbC5udW1fYmF0Y2hlc190"
    "cmFja2VkIjp7ImR0eXBlIjoiSTY0Iiwic2hhcGUiOltdLCJkYXRhX29mZnNldHMiOlswLDhdfSwibW9kZWwudyI6eyJkdHlwZSI6"
    "IkYzMiIsInNoYXBlIjpbMiwzXSwiZGF0YV9vZmZzZXRzIjpbOCwzMl19LCJzdGVwIjp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOltd"
    "LCJkYXRhX29mZnNldHMiOlszMiwzNl19LCJtYXNrIjp7ImR0eXBlIjoiQk9PTCIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6"
    "WzM2LDM4XX19ICAgIAcAAAAAAAAAAAAAAAAAgD8AAABAAABAQAAAgEAAAKBAAAAgQAEA"
)


def test_files_written_by_chainrule_0_1_still_load(tmp_path):
    """Its checksum hashed a 0-d array's shape as (1,); the checksum rule keeps that, so old checkpoints
    (a BatchNorm's num_batches_tracked is 0-d) still verify."""
    import base64

    path = tmp_path / "old.safetensors"
    path.write_bytes(base64.b64decode(CHAINRULE_0_1_FILE))
    back = cr.load(path)
    assert back["model"]["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and back["model"]["w"].dtype == np.float32
    assert (
        back["model"]["num_batches_tracked"].item() == 7 and back["model"]["num_batches_tracked"].shape == ()
    )
    assert back["step"] == np.float32(2.5) and back["epoch"] == 3 and back["betas"] == (0.9, 0.999)
    assert back["mask"].tolist() == [True, False]


def test_device_argument(tmp_path):
    cr.save({"w": cr.ones(2)}, tmp_path / "m.st")
    assert cr.load(tmp_path / "m.st", map_location="cpu")["w"].device == "cpu"
    assert cr.load(tmp_path / "m.st", device="cpu")["w"].device == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        cr.load(tmp_path / "m.st", device="tpu")


# ------------------------------------------------------------------------------------------- atomicity
def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if "chainrule-tmp" in p.name or p.name.endswith(".tmp"))


def test_unserialisable_value_leaves_old_file_intact(tmp_path):
    path = tmp_path / "m.st"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"type function at 'model\.act'"):
        cr.save({"model": {"w": cr.zeros(3), "act": lambda x: x}}, path)
    with pytest.raises(TypeError, match="dict key of type tuple"):
        cr.save({(1, 2): cr.zeros(1)}, path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []


def test_failure_midway_through_the_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.st"
    cr.save({"w": cr.ones(3)}, path)
    before = path.read_bytes()
    real_write = crio._write_safetensors

    def half_then_fail(f, head, arrays):
        real_write(f, head, arrays)
        f.truncate(len(head) // 2)
        raise OSError("disk full")

    monkeypatch.setattr(crio, "_write_safetensors", half_then_fail)
    with pytest.raises(OSError, match="disk full") as info:
        cr.save({"w": cr.zeros(1000)}, path)
    assert str(path) in str(info.value) and "chainrule-tmp" not in str(info.value)
    monkeypatch.setattr(crio, "_write_safetensors", real_write)

    def no_fsync(fd):
        raise OSError("fsync failed")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(OSError, match="fsync failed"):
        cr.save({"w": cr.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    assert cr.load(path)["w"].tolist() == [1, 1, 1]


def current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_save_replaces_and_keeps_permissions_sane(tmp_path):
    path = tmp_path / "m.st"
    cr.save({"w": cr.ones(3)}, path)
    cr.save({"w": cr.zeros(2)}, path)
    assert cr.load(path)["w"].tolist() == [0, 0]
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~current_umask()  # like any file open() creates
    os.chmod(path, 0o640)
    cr.save({"w": cr.zeros(1)}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640  # an existing file keeps its mode
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------ refusing bad files
class MakesMarker:
    """Unpickling this creates a file: loading must never get that far."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_is_refused_without_executing(tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": MakesMarker(str(marker))}, protocol=4))
    with pytest.raises(ValueError, match="pickle") as info:
        cr.load(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_torch_save_zip_is_refused(tmp_path, torch):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="zip") as info:
        cr.load(path)
    assert str(path) in str(info.value)
    other = tmp_path / "plain.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        cr.load(other)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "noise.st"
    path.write_bytes(rng.integers(0, 256, size=int(rng.integers(0, 4000)), dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="not a valid safetensors file") as info:
        cr.load(path)
    assert str(path) in str(info.value)


def test_truncated_files_are_refused(tmp_path):
    good = tmp_path / "good.st"
    cr.save({"model": state_dict(), "epoch": 1}, good)
    data = good.read_bytes()
    for cut in [0, 3, 8, 20, len(data) // 2, len(data) - 1]:
        bad = tmp_path / f"cut{cut}.st"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="not a valid safetensors file") as info:
            cr.load(bad)
        assert str(bad) in str(info.value)
    extra = tmp_path / "extra.st"
    extra.write_bytes(data + b"\x00" * 8)
    with pytest.raises(ValueError, match="holds"):
        cr.load(extra)


def test_corrupted_header_and_structure_are_refused(tmp_path):
    good = tmp_path / "good.st"
    cr.save({"w": cr.ones(2), "n": 1}, good)
    data = bytearray(good.read_bytes())
    broken = bytearray(data)
    broken[8] = ord("[")  # the JSON header no longer parses as an object
    (tmp_path / "h.st").write_bytes(bytes(broken))
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        cr.load(tmp_path / "h.st")
    text = bytes(data).replace(b'\\"tensor\\":\\"w\\"', b'\\"tensor\\":\\"q\\"')
    (tmp_path / "s.st").write_bytes(text)
    with pytest.raises(ValueError, match="checksum"):  # checked before the structure is even decoded
        cr.load(tmp_path / "s.st")


def test_newer_format_version_is_a_clear_error(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "future.st"
    meta = {"format_version": "2", "chainrule_version": "9.0.0", "structure": '{"tensor":"w"}'}
    save_file({"w": np.ones(2, np.float32)}, path, metadata=meta)
    with pytest.raises(
        ValueError, match=r"format_version 2 \(chainrule 9\.0\.0\).*upgrade chainrule"
    ) as info:
        cr.load(path)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "nope.st")
    with pytest.raises(ValueError, match="is a directory"):
        cr.load(tmp_path)
