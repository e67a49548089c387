"""``chainrule train``: the run folder's files, checkpoints that reproduce their numbers, resuming, errors.

Ctrl-C, hostile checkpoints and diverging runs are in ``test_cli_train_safety.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.train import build_model, load_data, read_checkpoint

PNG = b"\x89PNG\r\n\x1a\n"
QUIET = ("--no-progress",)
RUN_FILES = ["checkpoint.safetensors", "curves.png", "metrics.json", "model.safetensors"]


def _reload_accuracy(run: Path) -> tuple[float, dict]:
    """Rebuild the model from the run folder alone and measure its test accuracy independently."""
    resume = read_checkpoint(run / "checkpoint.safetensors")
    data = load_data(resume.config)
    model = build_model(resume.config, data)
    model.load_state_dict(cr.load(run / "model.safetensors"))
    model.eval()
    with cr.no_grad():
        logits = model(data.x_test).numpy()
    return float(np.mean(np.argmax(logits, axis=1) == data.y_test.numpy())), cr.load(
        run / "checkpoint.safetensors"
    )


def test_train_digits_artifacts(cli, tmp_path):
    result = cli(
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--lr",
        "0.005",
        "--seed",
        "3",
        "--out",
        "run",
        *QUIET,
    )
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == RUN_FILES
    assert (run / "curves.png").read_bytes().startswith(PNG)

    metrics = json.loads((run / "metrics.json").read_text())
    assert {"config", "history", "final", "timings", "data"} <= metrics.keys()
    history = metrics["history"]
    assert history["epoch"] == [1, 2]
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"):
        assert len(history[key]) == 2 and all(np.isfinite(history[key]))
    assert metrics["config"] == {
        **metrics["config"],
        "dataset": "digits",
        "model": "mlp",
        "epochs": 2,
        "batch_size": 64,
        "lr": 0.005,
        "optimizer": "adam",
        "seed": 3,
    }
    assert metrics["data"]["input_shape"] == [64] and metrics["data"]["num_classes"] == 10
    assert metrics["timings"]["total_seconds"] > 0

    accuracy, ckpt = _reload_accuracy(run)
    assert accuracy == metrics["final"]["test_accuracy"] == history["test_accuracy"][-1]
    assert accuracy > 0.5  # ten classes: far above chance after two epochs
    assert f"{accuracy:.4f}" in result.stdout
    assert ckpt["epoch"] == 2 and set(ckpt["optimizer"]) == {"state", "param_groups"}
    assert (
        "model" not in ckpt
        and metrics["complete"] is True
        and metrics["files"]
        == [
            "model.safetensors",
            "metrics.json",
            "curves.png",
            "checkpoint.safetensors",
        ]
    )


def test_model_file_is_a_plain_state_dict_that_torch_loads(cli, tmp_path, torch):
    """model.safetensors loads into the same network built in torch, which then gives chainrule's logits."""
    from safetensors.torch import load_file

    result = cli("train", "--dataset", "digits", "--epochs", "1", "--out", "run", *QUIET)
    assert result.returncode == 0, result.stderr
    state = load_file(str(tmp_path / "run/model.safetensors"))
    twin = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    twin.load_state_dict(state)  # strict: exactly the model's keys, nothing prefixed, nothing extra
    resume = read_checkpoint(tmp_path / "run/checkpoint.safetensors")
    data = load_data(resume.config)
    model = build_model(resume.config, data)
    model.load_state_dict(cr.load(tmp_path / "run/model.safetensors"))
    with cr.no_grad(), torch.no_grad():
        ours = model(data.x_test).numpy()
        theirs = twin(torch.from_numpy(data.x_test.numpy())).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_a_checkpoint_after_every_epoch_and_save_every(tmp_path, monkeypatch, capsys):
    """Every finished epoch (or every N with --save-every) is committed; curves come with the last one."""
    from chainrule.cli import main, train_checkpoint

    saves = []
    original = train_checkpoint.RunFolder._write
    monkeypatch.setattr(
        train_checkpoint.RunFolder,
        "_write",
        lambda self, parts, final: (
            saves.append((parts["history"].epoch[-1], final)) or original(self, parts, final)
        ),
    )
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "3", "--out", "a", *QUIET]) == 0
    assert saves == [(1, False), (2, False), (3, True)]
    saves.clear()
    assert (
        main(["train", "--dataset", "xor", "--epochs", "5", "--save-every", "2", "--out", "b", *QUIET]) == 0
    )
    assert saves == [(2, False), (4, False), (5, True)]
    assert "saving into b every 2 epochs" in capsys.readouterr().out


def test_resume_continues_like_one_run(cli, tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    common = ("train", "--dataset", "moons", "--optimizer", "sgd", "--batch-size", "50", *QUIET)
    monkeypatch.chdir(tmp_path)
    assert main([*common, "--epochs", "2", "--out", "whole"]) == 0  # the reference run, in this process
    assert cli(*common, "--epochs", "1", "--out", "part").returncode == 0
    resumed = cli(
        "train", "--resume", "part/checkpoint.safetensors", "--epochs", "1", "--out", "part", *QUIET
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch   2/2" in resumed.stdout

    whole, part = (
        cr.load(tmp_path / "whole/checkpoint.safetensors"),
        cr.load(tmp_path / "part/checkpoint.safetensors"),
    )
    assert part["epoch"] == whole["epoch"] == 2
    assert part["config"]["batch_size"] == 50  # taken from the checkpoint
    whole_model, part_model = (
        cr.load(tmp_path / "whole/model.safetensors"),
        cr.load(tmp_path / "part/model.safetensors"),
    )
    for key, value in whole_model.items():  # same weights as the uninterrupted run, bit for bit
        np.testing.assert_array_equal(part_model[key].numpy(), value.numpy())
    metrics = json.loads((tmp_path / "part/metrics.json").read_text())
    assert metrics["history"]["epoch"] == [1, 2]
    whole_metrics = json.loads((tmp_path / "whole/metrics.json").read_text())
    assert metrics["history"]["test_accuracy"] == whole_metrics["history"]["test_accuracy"]
    assert _reload_accuracy(tmp_path / "part")[0] == metrics["final"]["test_accuracy"]


def test_resume_writes_a_new_folder_unless_out_names_the_source(tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", "runs/x", *QUIET]) == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "runs/x").iterdir()}
    assert main(["train", "--resume", "runs/x", "--epochs", "1", *QUIET]) == 0  # the folder is accepted too
    assert main(["train", "--resume", "runs/x/checkpoint.safetensors", "--epochs", "1", *QUIET]) == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "runs/x").iterdir()} == before  # source untouched
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["x", "x-resumed", "x-resumed-2"]
    assert cr.load(tmp_path / "runs/x-resumed-2/checkpoint.safetensors")["epoch"] == 2
    assert "saving into runs/x-resumed-2" in capsys.readouterr().out


def test_resume_reads_the_old_one_file_layout(tmp_path, monkeypatch, capsys):
    """Runs written before the split kept model and optimizer in one model.safetensors; they still resume."""
    from chainrule.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", "new", *QUIET]) == 0
    ckpt = cr.load(tmp_path / "new/checkpoint.safetensors")
    old = {key: ckpt[key] for key in ("optimizer", "epoch", "config", "history")}
    old["model"] = cr.load(tmp_path / "new/model.safetensors")
    (tmp_path / "old").mkdir()
    cr.save(old, tmp_path / "old/model.safetensors")
    assert main(["train", "--resume", "old/model.safetensors", "--epochs", "1", "--out", "cont", *QUIET]) == 0
    assert main(["train", "--resume", "new", "--epochs", "1", "--out", "ref", *QUIET]) == 0
    ours, ref = cr.load(tmp_path / "cont/model.safetensors"), cr.load(tmp_path / "ref/model.safetensors")
    for key, value in ref.items():
        np.testing.assert_array_equal(ours[key].numpy(), value.numpy())


def test_cnn_sees_digits_as_images():
    """``--model cnn`` reshapes the digits to 1x8x8 and builds a network that accepts them."""
    from chainrule.cli.train import TrainConfig

    config = TrainConfig(dataset="digits", model="cnn")
    data = load_data(config)
    assert data.x_train.shape[1:] == (1, 8, 8) and data.x_test.shape[1:] == (1, 8, 8)
    model = build_model(config, data)
    with cr.no_grad():
        assert model(data.x_test[:5]).shape == (5, 10)


def test_cnn_on_mnist_folder(cli, tmp_path):
    from chainrule.datasets import write_idx

    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for kind, n in (("train", 40), ("t10k", 20)):
        write_idx(
            rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), folder / f"{kind}-images-idx3-ubyte"
        )
        write_idx((np.arange(n) % 10).astype(np.uint8), folder / f"{kind}-labels-idx1-ubyte")
    result = cli(
        "train",
        "--dataset",
        f"mnist:{folder}",
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--optimizer",
        "adamw",
        "--out",
        "m",
        *QUIET,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "m/metrics.json").read_text())
    assert metrics["data"]["input_shape"] == [1, 28, 28] and metrics["data"]["test_samples"] == 20
    assert metrics["config"]["mnist_path"] == str(folder)
    accuracy, _ = _reload_accuracy(tmp_path / "m")
    assert accuracy == metrics["final"]["test_accuracy"]
    assert cr.load(tmp_path / "m/model.safetensors")["0.weight"].shape == (8, 1, 3, 3)  # torch's layout


def test_spiral_points(cli, tmp_path):
    result = cli("train", "--dataset", "spiral", "--epochs", "1", "--batch-size", "100", "--out", "t", *QUIET)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "t/metrics.json").read_text())
    assert metrics["data"] == {
        **metrics["data"],
        "train_samples": 800,
        "test_samples": 200,
        "input_shape": [2],
    }
    assert metrics["data"]["num_classes"] == 3


@pytest.mark.parametrize("dataset", ["moons", "circles", "xor"])
def test_two_class_point_sets(dataset):
    from chainrule.cli.train import TrainConfig

    data = load_data(TrainConfig(dataset=dataset, seed=1))
    assert data.x_train.shape == (800, 2) and data.x_test.shape == (200, 2) and data.num_classes == 2
    again = load_data(TrainConfig(dataset=dataset, seed=1))
    np.testing.assert_array_equal(again.x_test.numpy(), data.x_test.numpy())  # deterministic by seed


TRAIN_ERRORS = [
    (["--epochs", "0"], ["--epochs", "'0'"]),
    (["--epochs", "-3"], ["'-3'"]),
    (["--epochs", "two"], ["'two'"]),
    (["--batch-size", "0"], ["--batch-size", "'0'"]),
    (["--lr", "0"], ["--lr", "'0'"]),
    (["--lr", "-0.1"], ["'-0.1'"]),
    (["--lr", "fast"], ["'fast'"]),
    (["--lr", "inf"], ["'inf'"]),
    (["--seed", "-1"], ["--seed", "'-1'"]),
    (["--dataset", "cifar"], ["'cifar'"]),
    (["--dataset", "mnist"], ["mnist:PATH"]),
    (["--dataset", "mnist:no/such/folder"], ["no/such/folder"]),
    (["--dataset", "mnist:empty"], ["MNIST", "empty"]),
    (["--dataset", "spiral", "--model", "cnn"], ["cnn", "'spiral'"]),
    (["--model", "rnn"], ["'rnn'"]),
    (["--optimizer", "lbfgs"], ["'lbfgs'"]),
    (["--resume", "missing.safetensors"], ["missing.safetensors"]),
    (["--resume", "notes.txt"], ["notes.txt"]),
    (["--resume", "weights.safetensors"], ["weights.safetensors", "not a checkpoint"]),
    (["--resume", "a" * 1800], ["File name too long", "1800 characters"]),
    (["--out", "b" * 1800], ["File name too long"]),
    (["--dataset", "mnist:" + "c" * 1800], ["File name too long"]),
    (["--resume", "empty"], ["no checkpoint.safetensors", "empty"]),
    (["--save-every", "0"], ["--save-every", "'0'"]),
    (["--seed", str(2**64)], ["seed", "18446744073709551615"]),
    (["--out", "notes.txt/run"], ["notes.txt"]),
]


def test_train_errors(cli_many, user_errors, tmp_path):
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    (tmp_path / "empty").mkdir()
    cr.save({"w": cr.ones(2)}, tmp_path / "weights.safetensors")
    before = sorted(p.name for p in tmp_path.iterdir())
    commands = [
        ["train", *args] if "--epochs" in args else ["train", "--epochs", "1", *args]
        for args in (case[0] for case in TRAIN_ERRORS)
    ]
    user_errors(TRAIN_ERRORS, cli_many(commands))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_resume_with_other_dataset_is_refused(cli, user_error, tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", "x", *QUIET]) == 0
    user_error(cli("train", "--resume", "x/checkpoint.safetensors", "--dataset", "moons"), "moons", "xor")
