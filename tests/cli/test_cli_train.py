"""``chainrule train``: artifacts, checkpoints that reproduce their numbers, resuming, Ctrl-C, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.train import build_model, config_from_checkpoint, load_data

PNG = b"\x89PNG\r\n\x1a\n"
QUIET = ("--no-progress",)


def _reload_accuracy(run: Path) -> tuple[float, dict]:
    """Rebuild the model from its checkpoint alone and measure its test accuracy independently."""
    ckpt = cr.load(run / "model.safetensors")
    config = config_from_checkpoint(ckpt)
    data = load_data(config)
    model = build_model(config, data)
    model.load_state_dict(ckpt["model"])
    model.eval()
    with cr.no_grad():
        logits = model(data.x_test).numpy()
    return float(np.mean(np.argmax(logits, axis=1) == data.y_test.numpy())), ckpt


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
    assert sorted(p.name for p in run.iterdir()) == ["curves.png", "metrics.json", "model.safetensors"]
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
    assert ckpt["model"]["1.weight"].dtype == np.float32


def test_resume_continues_like_one_run(cli, tmp_path, monkeypatch, capsys):
    from chainrule.cli import main

    common = ("train", "--dataset", "moons", "--optimizer", "sgd", "--batch-size", "50", *QUIET)
    monkeypatch.chdir(tmp_path)
    assert main([*common, "--epochs", "2", "--out", "whole"]) == 0  # the reference run, in this process
    assert cli(*common, "--epochs", "1", "--out", "part").returncode == 0
    resumed = cli("train", "--resume", "part/model.safetensors", "--epochs", "1", *QUIET)  # into part/
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch   2/2" in resumed.stdout

    whole, part = cr.load(tmp_path / "whole/model.safetensors"), cr.load(tmp_path / "part/model.safetensors")
    assert part["epoch"] == whole["epoch"] == 2
    assert part["config"]["batch_size"] == 50  # taken from the checkpoint
    for key, value in whole["model"].items():  # same weights as the uninterrupted run, bit for bit
        np.testing.assert_array_equal(part["model"][key].numpy(), value.numpy())
    metrics = json.loads((tmp_path / "part/metrics.json").read_text())
    assert metrics["history"]["epoch"] == [1, 2]
    whole_metrics = json.loads((tmp_path / "whole/metrics.json").read_text())
    assert metrics["history"]["test_accuracy"] == whole_metrics["history"]["test_accuracy"]
    assert _reload_accuracy(tmp_path / "part")[0] == metrics["final"]["test_accuracy"]


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
    accuracy, ckpt = _reload_accuracy(tmp_path / "m")
    assert accuracy == metrics["final"]["test_accuracy"]
    assert ckpt["model"]["0.weight"].shape == (8, 1, 3, 3)  # Conv2d(1, 8, 3), torch's layout


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
    (["--resume", "weights.safetensors"], ["checkpoint"]),
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
    user_error(cli("train", "--resume", "x/model.safetensors", "--dataset", "moons"), "moons", "xor")


def test_ctrl_c_writes_nothing(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chainrule",
            "train",
            "--dataset",
            "spiral",
            "--epochs",
            "100000",
            "--out",
            "run",
            *QUIET,
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        line = proc.stdout.readline()
        while "epoch" not in line or "train loss" not in line:  # wait until training is under way
            assert time.monotonic() < deadline and line, "training never started"
            line = proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["chainrule: interrupted; nothing was written"]
    assert not (tmp_path / "run").exists()
