"""What defines a ``chainrule train`` run (:class:`TrainConfig`) and what it records (:class:`History`).

Both are plain data: they go into ``checkpoint.safetensors`` and ``metrics.json``.
:meth:`TrainConfig.check` is the one place that says which values can run (the command line and
``--resume`` both go through it).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chainrule.cli._common import CLIError

__all__ = ["DATASETS", "DEFAULT_LR", "History", "TrainConfig", "parse_dataset"]

DATASETS = ("digits", "spiral", "moons", "circles", "xor", "mnist:PATH")
TOY_DATASETS = ("spiral", "moons", "circles", "xor")
IMAGE_DATASETS = ("digits", "mnist")
MODELS = ("mlp", "cnn")
OPTIMIZERS = ("sgd", "adam", "adamw")
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
HIDDEN = 64
# Bounds on what a checkpoint may ask for: a hostile ``hidden`` must not allocate terabytes.
MAX_HIDDEN = 4096
MAX_EPOCHS = 10_000_000
MAX_BATCH = 100_000_000
MAX_SEED = 2**64 - 1


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint and in metrics.json)."""

    dataset: str = "digits"
    mnist_path: str | None = None
    model: str = "mlp"
    epochs: int = 10
    batch_size: int = 32
    lr: float = DEFAULT_LR["adam"]
    optimizer: str = "adam"
    seed: int = 0
    hidden: int = HIDDEN

    def check(self) -> None:
        """Raise :class:`CLIError` for a value, a type or a combination that cannot run."""
        for name, allowed in (
            ("dataset", ("digits", "mnist", *TOY_DATASETS)),
            ("model", MODELS),
            ("optimizer", OPTIMIZERS),
        ):
            if getattr(self, name) not in allowed:
                raise CLIError(f"unknown {name} {getattr(self, name)!r} (choose from {', '.join(allowed)})")
        if self.mnist_path is not None and not isinstance(self.mnist_path, str):
            raise CLIError(f"mnist_path must be a folder name, got {self.mnist_path!r}")
        for name, low, high in (
            ("epochs", 1, MAX_EPOCHS),
            ("batch_size", 1, MAX_BATCH),
            ("hidden", 1, MAX_HIDDEN),
            ("seed", 0, MAX_SEED),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CLIError(f"{name} must be an integer from {low} to {high}, got {_short(value)}")
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
            raise CLIError(f"lr must be a positive finite number, got {_short(lr)}")
        if self.model == "cnn" and self.dataset not in IMAGE_DATASETS:
            raise CLIError(
                f"--model cnn needs an image data set (digits or mnist:PATH); {self.dataset!r} is 2-D "
                "points, use --model mlp"
            )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class History:
    """Per-epoch numbers, as lists (the layout of ``metrics.json['history']``)."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return asdict(self)

    def append(self, **row: float) -> None:
        """Add one epoch's numbers (one keyword per column)."""
        for key, value in row.items():
            getattr(self, key).append(value)

    def curves(self) -> dict[str, list[float]]:
        """Loss and accuracy columns, as ``viz.plot_history`` draws them."""
        return {
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
        }


def parse_dataset(text: str) -> tuple[str, str | None]:
    """``digits`` → ``("digits", None)``; ``mnist:PATH`` → ``("mnist", PATH)``."""
    name, sep, path = text.partition(":")
    if name == "mnist":
        if not sep or not path:
            raise argparse.ArgumentTypeError(
                f"mnist needs the folder of its IDX files: --dataset mnist:PATH, got {text!r}"
            )
        try:
            found, folder = Path(path).exists(), Path(path).is_dir()
        except OSError as error:  # a name too long, a folder we may not enter
            raise argparse.ArgumentTypeError(
                f"cannot use MNIST folder {_short(path)}: {error.strerror}"
            ) from None
        if not found:
            raise argparse.ArgumentTypeError(f"MNIST folder not found: {path!r}")
        if not folder:
            raise argparse.ArgumentTypeError(f"MNIST path is not a folder: {path!r}")
        return name, path
    if sep or name not in ("digits", *TOY_DATASETS):
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r} (choose from {', '.join(DATASETS)})")
    return name, None
