"""``chainrule train`` never loses work and never lies: Ctrl-C at chosen moments, hostile checkpoints,
diverging runs, failed saves.

Ctrl-C is injected deterministically: a small driver patches one function of the command line so that it
sends a real SIGINT to its own process at that point, then runs ``chainrule.cli.main`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.cli.train_checkpoint import model_sha256

QUIET = ("--no-progress",)
FINAL_NAMES = ("model.safetensors", "metrics.json", "curves.png", "checkpoint.safetensors")

DRIVER = r"""
import os, signal, sys

point, argv = sys.argv[1], sys.argv[2:]


def interrupt():
    os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: Python raises it at the next instruction


import chainrule.cli as cli
from chainrule.cli import train

if point == "parse":
    build = cli.build_parser
    cli.build_parser = lambda: (interrupt(), build())[1]
elif point == "data":
    load = train.load_data
    train.load_data = lambda config: (interrupt(), load(config))[1]
elif point.startswith("epoch:"):
    when, epoch = int(point.split(":")[1]), train._epoch

    def patched(model, optimizer, loader, update, e):
        if e == when:
            interrupt()
        return epoch(model, optimizer, loader, update, e)

    train._epoch = patched
elif point.startswith("rename:"):  # after the k-th rename of a run file into its final name
    k, replace, seen = int(point.split(":")[1]), os.replace, []

    def patched(src, dst, *args, **kwargs):
        replace(src, dst, *args, **kwargs)
        if os.path.basename(os.fspath(dst)) in FINAL_NAMES:
            seen.append(dst)
            if len(seen) == k:
                interrupt()

    os.replace = patched
elif point == "end":
    say = train.say
    train.say = lambda text="": (say(text), text.startswith("wrote") and interrupt())
sys.exit(cli.main(argv))
""".replace("FINAL_NAMES", repr(FINAL_NAMES))


def _interrupted(tmp_path: Path, point: str, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
    env.pop("CHAINRULE_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, point, "train", "--dataset", "xor", *QUIET, *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 130, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: interrupted"), result.stderr
    return result, lines[0]


def _consistent_epoch(run: Path) -> int:
    """The epoch a run folder holds, after checking that all its files describe that same epoch."""
    ckpt = cr.load(run / "checkpoint.safetensors")
    metrics = json.loads((run / "metrics.json").read_text())
    assert ckpt["model_sha256"] == model_sha256(cr.load(run / "model.safetensors"))
    assert metrics["final"]["epoch"] == ckpt["epoch"] == len(ckpt["history"]["epoch"])
    assert sorted(metrics["files"]) == sorted(p.name for p in run.iterdir())  # no stray or missing file
    return ckpt["epoch"]


@pytest.mark.parametrize("point", ["parse", "data", "epoch:1"])
def test_ctrl_c_before_the_first_epoch_ends_writes_nothing(tmp_path, point):
    _, line = _interrupted(tmp_path, point, "--epochs", "3", "--out", "deep/run")
    assert line == "chainrule: interrupted" if point == "parse" else "nothing was written" in line
    assert not (tmp_path / "deep").exists()  # not even an empty --out (or its parent)


def test_ctrl_c_keeps_the_last_finished_epoch_and_says_so(tmp_path):
    _, line = _interrupted(tmp_path, "epoch:3", "--epochs", "5", "--out", "run")
    assert "stopped at epoch 3; kept epoch 2 in run" in line
    assert "--resume run/checkpoint.safetensors" in line
    assert _consistent_epoch(tmp_path / "run") == 2
    resumed = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--resume", "run", "--epochs", "1", *QUIET],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch   3/3" in resumed.stdout


@pytest.mark.parametrize("k", [1, 4, 5])
def test_ctrl_c_between_the_renames_of_a_save_finishes_that_save(tmp_path, k):
    """Renames 1-3 commit epoch 1, 4-6 epoch 2: a Ctrl-C after any of them still leaves a matching set."""
    _, line = _interrupted(tmp_path, f"rename:{k}", "--epochs", "3", "--out", "run")
    saved = 1 if k <= 3 else 2
    assert f"stopped after epoch {saved}; kept epoch {saved} in run" in line
    assert _consistent_epoch(tmp_path / "run") == saved
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]  # no temporary file


def test_ctrl_c_after_the_last_save(tmp_path):
    _, line = _interrupted(tmp_path, "end", "--epochs", "2", "--out", "run")
    assert "stopped after epoch 2; kept epoch 2 in run" in line
    assert _consistent_epoch(tmp_path / "run") == 2


# ------------------------------------------------------------------------------------------- hostile files
def _good_run(tmp_path: Path) -> Path:
    from chainrule.cli import main

    assert main(["train", "--dataset", "xor", "--epochs", "2", "--out", str(tmp_path / "good"), *QUIET]) == 0
    return tmp_path / "good"


def _edit(ckpt: dict, path: tuple, value: object) -> dict:
    node = ckpt
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return ckpt


HOSTILE = [
    (("history",), [1, 2, 3], "history"),
    (("history", "train_loss"), [0.5], "train_loss"),
    (("history", "test_loss"), [0.5, float("nan")], "nan"),
    (("history", "epoch"), [2, 1], "epoch"),
    (("config",), [1, 2], "configuration"),
    (("config", "hidden"), 30_000_000, "hidden"),  # would allocate terabytes
    (("config", "hidden"), "64", "hidden"),
    (("config", "lr"), "fast", "lr"),
    (("config", "batch_size"), -5, "batch_size"),
    (("config", "dataset"), "cifar", "cifar"),
    (("config", "colour"), "red", "colour"),
    (("epoch",), -1, "epoch"),
    (("epoch",), True, "epoch"),
    (("epoch",), "2", "epoch"),
    (("epoch",), KeyError, "epoch"),
    (("optimizer", "param_groups"), [{"lr": 0.1}], "parameter group"),
    (("optimizer", "param_groups"), [], "parameter group"),
    (("optimizer", "param_groups", 0, "params"), [0, 1], "parameters 0 to 5"),
    (("optimizer", "param_groups", 0, "params"), 7, "parameters 0 to 5"),
    (("optimizer", "param_groups", 0, "betas"), "x", "betas"),
    (("optimizer", "param_groups", 0, "eps"), float("nan"), "eps"),
    (("optimizer", "param_groups", 0, "betas"), (2.0, 0.999), "betas"),
    (("optimizer", "param_groups", 0, "weight_decay"), -1.0, "weight_decay"),
    (("optimizer", "state"), [1], "state"),
    (("optimizer", "state", 0, "exp_avg"), np.zeros((3, 3), np.float32), "shape"),
    (("optimizer", "state", 0, "exp_avg"), KeyError, "exp_avg"),
    (("optimizer", "state", 0, "step"), "many", "step"),
    (("optimizer", "state", 99), {}, "99"),
    (("optimizer",), "adam", "optimizer"),
    (("layout",), "chainrule-train/9", "layout"),
]


def test_hostile_checkpoints_are_one_line_errors_and_build_nothing(tmp_path, cli_many, user_errors):
    good = _good_run(tmp_path)
    cases, commands = [], []
    for k, (path, value, needle) in enumerate(HOSTILE):
        folder = tmp_path / f"bad{k}"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes((good / "model.safetensors").read_bytes())
        cr.save(
            _edit(cr.load(good / "checkpoint.safetensors"), path, value), folder / "checkpoint.safetensors"
        )
        commands.append(["train", "--resume", f"bad{k}", "--epochs", "1", "--out", f"out{k}", *QUIET])
        cases.append((commands[-1], [f"bad{k}", needle]))
    user_errors(cases, cli_many(commands, timeout=120))
    assert not list(tmp_path.glob("out*"))  # nothing was trained, nothing written


def test_hostile_model_files(tmp_path, cli_many, user_errors):
    good = _good_run(tmp_path)
    model = cr.load(good / "model.safetensors")
    variants = {
        "nan": {**model, "1.weight": cr.full((64, 2), float("nan"))},
        "shape": {**model, "1.weight": cr.zeros(3, 3)},
        "extra": {**model, "9.weight": cr.zeros(1)},
        "ints": {**model, "1.bias": cr.zeros(64, dtype=cr.int64)},
    }
    cases, commands = [], []
    for name, state in variants.items():
        folder = tmp_path / name
        folder.mkdir()
        cr.save(state, folder / "model.safetensors")
        ckpt = cr.load(good / "checkpoint.safetensors")
        ckpt["model_sha256"] = model_sha256(state)  # a self-consistent but hostile pair
        cr.save(ckpt, folder / "checkpoint.safetensors")
        commands.append(["train", "--resume", name, "--epochs", "1", "--out", f"out-{name}", *QUIET])
        cases.append((commands[-1], [name]))
    # A model file from another epoch (what a kill between two renames could leave) is refused too.
    other = tmp_path / "other"
    other.mkdir()
    (other / "checkpoint.safetensors").write_bytes((good / "checkpoint.safetensors").read_bytes())
    cr.save({k: v * 2 for k, v in model.items()}, other / "model.safetensors")
    commands.append(["train", "--resume", "other", "--epochs", "1", "--out", "out-other", *QUIET])
    cases.append((commands[-1], ["other", "fingerprints differ"]))
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "checkpoint.safetensors").write_bytes((good / "checkpoint.safetensors").read_bytes())
    commands.append(["train", "--resume", "lonely", "--epochs", "1", "--out", "out-lonely", *QUIET])
    cases.append((commands[-1], ["lonely", "model.safetensors", "missing"]))
    commands.append(["train", "--resume", "good/model.safetensors", "--epochs", "1", *QUIET])
    cases.append((commands[-1], ["model state dict", "good/checkpoint.safetensors"]))
    user_errors(cases, cli_many(commands, timeout=120))
    assert not list(tmp_path.glob("out*")) and not (tmp_path / "good-resumed").exists()


def test_an_unreadable_resume_path_is_one_line(tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    target = tmp_path / "locked" / "checkpoint.safetensors"
    original = Path.stat

    def stat(self: Path, *args: object, **kwargs: object) -> os.stat_result:
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(SystemExit) as exit_:  # argparse's own exit, as for every bad argument
        main(["train", "--resume", str(target), "--epochs", "1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainrule: error: ") and "Permission denied" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_checkpoint_without_read_permission(tmp_path, cli, user_error):
    good = _good_run(tmp_path)
    (good / "checkpoint.safetensors").chmod(0)
    user_error(cli("train", "--resume", "good", "--epochs", "1"), "checkpoint.safetensors")


# ------------------------------------------------------------------------------------------- diverging runs
def test_a_non_finite_loss_stops_with_one_line_and_writes_nothing(cli, user_error, tmp_path):
    result = cli("train", "--dataset", "xor", "--epochs", "3", "--lr", "1e308", "--out", "big", *QUIET)
    user_error(result, "epoch 1, step 2", "nan", "--lr", "nothing was written")
    assert "RuntimeWarning" not in result.stderr + result.stdout
    assert not (tmp_path / "big").exists()


def test_a_diverging_resume_keeps_the_last_good_checkpoint(cli, user_error, tmp_path):
    good = _good_run(tmp_path)
    before = {p.name: p.read_bytes() for p in good.iterdir()}
    result = cli("train", "--resume", "good", "--epochs", "2", "--lr", "1e308", "--out", "good", *QUIET)
    user_error(result, "epoch 3", "nan")
    assert "RuntimeWarning" not in result.stderr + result.stdout
    assert {p.name: p.read_bytes() for p in good.iterdir()} == before


def test_a_diverging_run_says_which_epoch_it_kept(tmp_path, monkeypatch, capsys):
    """Weights broken by the last step of epoch 2: training stops there, epoch 1 stays on disk."""
    from chainrule.cli import main, train

    original = train._epoch

    def breaking(model, optimizer, loader, update, epoch):
        result = original(model, optimizer, loader, update, epoch)
        if epoch == 2:
            next(iter(model.parameters())).data[0] = np.inf
        return result

    monkeypatch.setattr(train, "_epoch", breaking)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "4", "--out", "run", *QUIET]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("chainrule: error: weight '1.weight' became NaN or infinite") and "\n" not in err
    assert "end of epoch 2" in err and "kept epoch 1 in run" in err
    assert _consistent_epoch(tmp_path / "run") == 1


# ------------------------------------------------------------------------------------------- failed saves
def test_a_failed_first_save_leaves_no_empty_folder(tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    def full_disk(obj: object, path: object) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(cr, "save", full_disk)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "2", "--out", "a/b/run", *QUIET]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: No space left on device") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_failed_later_save_says_what_is_kept(tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    calls = []
    save = cr.save

    def fails_on_second_epoch(obj: object, path: object) -> None:
        calls.append(path)
        if len(calls) > 2:  # two files per save: model, checkpoint
            raise OSError(28, "No space left on device", str(path))
        save(obj, path)

    monkeypatch.setattr(cr, "save", fails_on_second_epoch)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "3", "--out", "run", *QUIET]) == 2
    out, err = capsys.readouterr()
    assert "kept epoch 1 in run" in out and err.count("\n") == 1
    assert _consistent_epoch(tmp_path / "run") == 1


# ------------------------------------------------------------------------------------------- fuzzed files
def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


_HOSTILE_VALUES = st.sampled_from(
    [
        None,
        True,
        -1,
        0,
        1,
        2,
        10**12,
        -(10**30),
        1e308,
        float("nan"),
        float("-inf"),
        "x",
        "",
        [],
        [1],
        [1.0, 2.0],
        {},
        {"a": 1},
        {"lr": 0.1},
        (0.9,),
        "chainrule-train/2",
    ]
) | st.builds(lambda shape: np.zeros(shape, np.float32), st.sampled_from([(), (2,), (64, 2), (2, 64)]))


def _resume_mutated(tmp: Path, good: Path, edits: list[tuple[int, object, bool]]) -> None:
    from chainrule.cli import main

    ckpt = cr.load(good / "checkpoint.safetensors")
    paths = _paths(ckpt)
    for index, value, delete in edits:
        path = paths[index % len(paths)]
        node = ckpt
        try:
            for key in path[:-1]:
                node = node[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this branch
        if isinstance(node, dict) and delete:
            node.pop(path[-1], None)
        elif isinstance(node, (dict, list)) and (isinstance(node, dict) or path[-1] < len(node)):
            node[path[-1]] = value
    folder = tmp / "mutated"
    folder.mkdir(exist_ok=True)
    try:
        cr.save(ckpt, folder / "checkpoint.safetensors")
    except (TypeError, ValueError):
        return  # not even saveable
    (folder / "model.safetensors").write_bytes((good / "model.safetensors").read_bytes())
    code = main(["train", "--resume", str(folder), "--epochs", "1", "--out", str(tmp / "out"), *QUIET])
    assert code in (0, 2)  # anything else (a traceback) escapes main and fails the test


_EDITS = st.lists(st.tuples(st.integers(0, 10**6), _HOSTILE_VALUES, st.booleans()), min_size=1, max_size=3)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _good_run(tmp_path_factory.mktemp("good-run"))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_mutated_checkpoints_resume_or_fail_on_one_line(tmp_path, good_run, capsys, edits):
    _resume_mutated(tmp_path, good_run, edits)
    err = capsys.readouterr().err
    assert err == "" or (err.startswith("chainrule: error: ") and err.count("\n") == 1), err


@pytest.mark.deep
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_mutated_checkpoints_deep(tmp_path, good_run, capsys, edits):
    _resume_mutated(tmp_path, good_run, edits)
    err = capsys.readouterr().err
    assert err == "" or (err.startswith("chainrule: error: ") and err.count("\n") == 1), err
