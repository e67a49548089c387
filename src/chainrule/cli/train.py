"""``chainrule train``: train an MLP or a small CNN on a built-in data set, with checkpoints and curves.

The run writes three files into ``--out`` once training has finished, all or none of them (an interrupted
run writes nothing): ``model.safetensors`` (model and optimizer state, epoch, configuration and history,
resumable with ``--resume``), ``metrics.json`` (per-epoch losses and accuracies, the configuration,
timings) and ``curves.png`` (loss and accuracy curves; needs matplotlib).

The helpers :func:`load_data`, :func:`build_model` and :func:`evaluate` rebuild a trained model from its
checkpoint:

>>> import chainrule as cr  # doctest: +SKIP
>>> ckpt = cr.load("runs/digits-mlp/model.safetensors")  # doctest: +SKIP
>>> config = config_from_checkpoint(ckpt)  # doctest: +SKIP
>>> data = load_data(config)  # doctest: +SKIP
>>> model = build_model(config, data)  # doctest: +SKIP
>>> model.load_state_dict(ckpt["model"])  # doctest: +SKIP
>>> evaluate(model, data.x_test, data.y_test)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chainrule._optional import missing_note
from chainrule.cli._common import (
    AtomicWriter,
    CLIError,
    check_writable_folder,
    existing_file,
    nonnegative_int,
    positive_float,
    positive_int,
    progress,
    say,
)

__all__ = [
    "DATASETS",
    "Data",
    "TrainConfig",
    "add_parser",
    "build_model",
    "config_from_checkpoint",
    "evaluate",
    "load_data",
    "run",
    "train",
]

DATASETS = ("digits", "spiral", "moons", "circles", "xor", "mnist:PATH")
TOY_DATASETS = ("spiral", "moons", "circles", "xor")
IMAGE_DATASETS = ("digits", "mnist")
MODELS = ("mlp", "cnn")
OPTIMIZERS = ("sgd", "adam", "adamw")
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
TOY_SAMPLES = 1000
TOY_OPTIONS: dict[str, dict[str, float]] = {
    "spiral": {"noise": 0.2},
    "moons": {"noise": 0.1},
    "circles": {"noise": 0.05, "factor": 0.5},
    "xor": {"noise": 0.0},
}
HIDDEN = 64
CHECKPOINT = "model.safetensors"
METRICS = "metrics.json"
CURVES = "curves.png"


# ---------------------------------------------------------------------------------------------- config
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
        """Raise :class:`CLIError` for a value or a combination that cannot run."""
        for name, allowed in (
            ("dataset", ("digits", "mnist", *TOY_DATASETS)),
            ("model", MODELS),
            ("optimizer", OPTIMIZERS),
        ):
            if getattr(self, name) not in allowed:
                raise CLIError(f"unknown {name} {getattr(self, name)!r} (choose from {', '.join(allowed)})")
        for name in ("epochs", "batch_size", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise CLIError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise CLIError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.lr, (int, float)) or not math.isfinite(self.lr) or self.lr <= 0:
            raise CLIError(f"lr must be a positive finite number, got {self.lr!r}")
        if self.model == "cnn" and self.dataset not in IMAGE_DATASETS:
            raise CLIError(
                f"--model cnn needs an image data set (digits or mnist:PATH); {self.dataset!r} is 2-D "
                "points, use --model mlp"
            )


def parse_dataset(text: str) -> tuple[str, str | None]:
    """``digits`` → ``("digits", None)``; ``mnist:PATH`` → ``("mnist", PATH)``."""
    name, sep, path = text.partition(":")
    if name == "mnist":
        if not sep or not path:
            raise argparse.ArgumentTypeError(
                f"mnist needs the folder of its IDX files: --dataset mnist:PATH, got {text!r}"
            )
        if not Path(path).exists():
            raise argparse.ArgumentTypeError(f"MNIST folder not found: {path!r}")
        if not Path(path).is_dir():
            raise argparse.ArgumentTypeError(f"MNIST path is not a folder: {path!r}")
        return name, path
    if sep or name not in ("digits", *TOY_DATASETS):
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r} (choose from {', '.join(DATASETS)})")
    return name, None


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "train",
        help="train an MLP or CNN and save model, metrics and curves",
        description="Train a classifier with chainrule.nn and chainrule.optim, showing a progress bar per "
        f"epoch, then write {CHECKPOINT}, {METRICS} and {CURVES} into --out (all at once: an interrupted run "
        "writes nothing).",
        epilog="Example: chainrule train --dataset digits --model cnn --epochs 5 --out runs/digits-cnn",
    )
    p.add_argument(
        "--dataset",
        type=parse_dataset,
        metavar="NAME",
        help=f"one of {', '.join(DATASETS)} (default digits; the 2-D sets have {TOY_SAMPLES} points, 20%% "
        "held out for testing)",
    )
    p.add_argument("--model", choices=MODELS, help="mlp (default) or cnn (image data sets only)")
    p.add_argument("--epochs", type=positive_int, default=10, metavar="N", help="epochs to run (default 10)")
    p.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="B",
        help="mini-batch size (default 32, or the checkpoint's)",
    )
    p.add_argument(
        "--lr",
        type=positive_float,
        metavar="LR",
        help="learning rate (default 0.05 for sgd, 0.001 for adam/adamw, or the checkpoint's)",
    )
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="sgd (with momentum 0.9), adam (default) or adamw")
    p.add_argument(
        "--seed",
        type=nonnegative_int,
        metavar="S",
        help="random seed for the data split, weights and shuffling",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (default runs/DATASET-MODEL)")
    p.add_argument(
        "--resume",
        type=existing_file,
        metavar="CKPT",
        help="continue from a checkpoint written by an earlier run: --epochs more epochs, counting on",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar, one line per epoch")
    p.set_defaults(run=run)


def _config_from_args(args: argparse.Namespace, base: TrainConfig | None) -> TrainConfig:
    """Merge the command line with a resumed run's configuration (that fixes data, model, optimizer, seed)."""
    if base is None:
        dataset, mnist_path = args.dataset or ("digits", None)
        optimizer = args.optimizer or "adam"
        config = TrainConfig(
            dataset=dataset,
            mnist_path=mnist_path,
            model=args.model or "mlp",
            epochs=args.epochs,
            batch_size=args.batch_size or 32,
            lr=args.lr if args.lr is not None else DEFAULT_LR[optimizer],
            optimizer=optimizer,
            seed=0 if args.seed is None else args.seed,
        )
        config.check()
        return config
    given = {
        "--dataset": (args.dataset[0] if args.dataset else None, base.dataset),
        "--model": (args.model, base.model),
        "--optimizer": (args.optimizer, base.optimizer),
        "--seed": (args.seed, base.seed),
    }
    for flag, (value, stored) in given.items():
        if value is not None and value != stored:
            raise CLIError(
                f"{flag} {value} does not match the checkpoint, which was trained with {flag} {stored}"
            )
    config = TrainConfig(**{**asdict(base), "epochs": args.epochs})
    if args.batch_size is not None:
        config.batch_size = args.batch_size
    if args.dataset is not None and args.dataset[1] is not None:
        config.mnist_path = args.dataset[1]
    if args.lr is not None:
        config.lr = args.lr
    config.check()
    return config


# ---------------------------------------------------------------------------------------------- data, model
@dataclass
class Data:
    """Train and test tensors and what the model needs to know about them."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    num_classes: int
    image_shape: tuple[int, ...] | None = None  # (C, H, W) for image data sets

    @property
    def num_features(self) -> int:
        return math.prod(self.x_train.shape[1:])


def _split(x: Any, y: Any, seed: int, test_fraction: float = 0.2) -> tuple[Any, Any, Any, Any]:
    import numpy as np  # noqa: PLC0415

    import chainrule as cr  # noqa: PLC0415

    n = x.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(n * test_fraction))
    test, train = order[:n_test], order[n_test:]
    xs, ys = np.asarray(x.data if hasattr(x, "data") else x), np.asarray(y.data if hasattr(y, "data") else y)
    return (cr.tensor(xs[train]), cr.tensor(ys[train]), cr.tensor(xs[test]), cr.tensor(ys[test]))


def load_data(config: TrainConfig) -> Data:
    """The train/test split of ``config.dataset`` (deterministic given ``config.seed``)."""
    import numpy as np  # noqa: PLC0415

    from chainrule import datasets  # noqa: PLC0415

    image_shape = None
    if config.dataset == "digits":
        (x_train, y_train), (x_test, y_test) = datasets.load_digits(split=True, seed=config.seed)
        image_shape = (1, 8, 8)
    elif config.dataset == "mnist":
        if config.mnist_path is None:
            raise CLIError("mnist needs the folder of its IDX files: --dataset mnist:PATH")
        x_train, y_train = datasets.load_mnist(config.mnist_path, "train")
        x_test, y_test = datasets.load_mnist(config.mnist_path, "t10k")
        image_shape = tuple(int(d) for d in x_train.shape[1:])
    elif config.dataset in TOY_DATASETS:
        make = getattr(datasets, f"make_{config.dataset}")
        x, y = make(n_samples=TOY_SAMPLES, seed=config.seed, **TOY_OPTIONS[config.dataset])
        x_train, y_train, x_test, y_test = _split(x, y, config.seed)
    else:  # pragma: no cover - parse_dataset rejects it first
        raise CLIError(f"unknown dataset {config.dataset!r}")
    num_classes = int(max(np.max(y_train.data), np.max(y_test.data))) + 1
    data = Data(x_train, y_train, x_test, y_test, num_classes, image_shape)
    if config.model == "cnn":
        if image_shape is None:
            raise CLIError(
                f"--model cnn needs an image data set (digits or mnist:PATH), got {config.dataset!r}"
            )
        data.x_train = data.x_train.reshape(-1, *image_shape)
        data.x_test = data.x_test.reshape(-1, *image_shape)
    return data


def build_model(config: TrainConfig, data: Data) -> Any:
    """A fresh ``nn.Sequential`` for ``config.model`` sized for ``data`` (weights drawn after manual_seed)."""
    import chainrule as cr  # noqa: PLC0415
    from chainrule import nn  # noqa: PLC0415

    cr.manual_seed(config.seed)
    h = config.hidden
    if config.model == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(data.num_features, h),
            nn.ReLU(),
            nn.Linear(h, h),
            nn.ReLU(),
            nn.Linear(h, data.num_classes),
        )
    if data.image_shape is None:
        raise CLIError(f"--model cnn needs an image data set (digits or mnist:PATH), got {config.dataset!r}")
    channels, height, width = data.image_shape
    flat = 16 * (height // 4) * (width // 4)
    return nn.Sequential(
        nn.Conv2d(channels, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat, data.num_classes),
    )


def build_optimizer(config: TrainConfig, model: Any) -> Any:
    from chainrule import optim  # noqa: PLC0415

    params = list(model.parameters())
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, momentum=0.9)
    if config.optimizer == "adam":
        return optim.Adam(params, lr=config.lr)
    return optim.AdamW(params, lr=config.lr)


def evaluate(model: Any, x: Any, y: Any, batch_size: int = 1000) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``(x, y)``, without recording a graph."""
    import numpy as np  # noqa: PLC0415

    import chainrule as cr  # noqa: PLC0415
    from chainrule.nn import functional as F  # noqa: PLC0415

    was_training = getattr(model, "training", False)
    model.eval()
    n = x.shape[0]
    total_loss, hits = 0.0, 0
    with cr.no_grad():
        for start in range(0, n, batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            logits = model(xb)
            total_loss += float(F.cross_entropy(logits, yb, reduction="sum").item())
            hits += int(np.sum(np.argmax(logits.data, axis=1) == yb.data))
    model.train(was_training)
    return total_loss / n, hits / n


# ---------------------------------------------------------------------------------------------- training
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

    def curves(self) -> dict[str, list[float]]:
        """Loss and accuracy columns, as ``viz.plot_history`` draws them."""
        return {
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
        }


def _epoch(model: Any, optimizer: Any, loader: Any, bar_update: Any) -> tuple[float, float]:
    import numpy as np  # noqa: PLC0415

    from chainrule.nn import functional as F  # noqa: PLC0415

    model.train()
    total_loss, hits, seen = 0.0, 0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        b = xb.shape[0]
        seen += b
        total_loss += float(loss.item()) * b
        hits += int(np.sum(np.argmax(logits.data, axis=1) == yb.data))
        bar_update(1, {"loss": f"{total_loss / seen:.4f}", "acc": f"{hits / seen:.3f}"})
    return total_loss / seen, hits / seen


def train(
    config: TrainConfig,
    *,
    checkpoint: dict[str, Any] | None = None,
    show_progress: bool = True,
    log: Any = say,
) -> tuple[Any, Any, History, Data, float]:
    """Run ``config.epochs`` epochs (after the checkpoint's, when resuming).

    Returns ``(model, optimizer, history, data, seconds)``. Each epoch reseeds chainrule's generator with
    ``(seed, epoch)``, so resuming from a checkpoint gives the same result as one uninterrupted run.
    """
    import chainrule as cr  # noqa: PLC0415
    from chainrule.data import DataLoader, TensorDataset  # noqa: PLC0415

    started = time.perf_counter()
    data = load_data(config)
    model = build_model(config, data)
    optimizer = build_optimizer(config, model)
    history = History()
    first_epoch = 1
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        for group in optimizer.param_groups:
            group["lr"] = config.lr
        first_epoch = int(checkpoint.get("epoch", 0)) + 1
        history = _history_from_checkpoint(checkpoint)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=config.batch_size, shuffle=True)
    batches = len(loader)
    last = first_epoch + config.epochs - 1
    for epoch in range(first_epoch, last + 1):
        cr.manual_seed(config.seed * 1_000_003 + epoch)
        t0 = time.perf_counter()
        with progress(batches, f"epoch {epoch}/{last}", enabled=show_progress) as update:
            train_loss, train_acc = _epoch(model, optimizer, loader, update)
        test_loss, test_acc = evaluate(model, data.x_test, data.y_test)
        seconds = time.perf_counter() - t0
        for key, value in zip(
            ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"),
            (epoch, train_loss, train_acc, test_loss, test_acc, seconds),
        ):
            getattr(history, key).append(value)
        log(
            f"epoch {epoch:3d}/{last}  train loss {train_loss:.4f}  acc {train_acc:.3f}  |  "
            f"test loss {test_loss:.4f}  acc {test_acc:.3f}  ({seconds:.1f}s)"
        )
    return model, optimizer, history, data, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- files
def _history_from_checkpoint(checkpoint: dict[str, Any]) -> History:
    stored = checkpoint.get("history") or {}
    history = History()
    for key in asdict(history):
        values = stored.get(key)
        if values is None:
            continue
        values = values.tolist() if hasattr(values, "tolist") else list(values)
        getattr(history, key).extend(int(v) if key == "epoch" else float(v) for v in values)
    return history


def config_from_checkpoint(checkpoint: dict[str, Any]) -> TrainConfig:
    """The :class:`TrainConfig` stored in a checkpoint written by ``chainrule train``."""
    raw = checkpoint.get("config") if isinstance(checkpoint, dict) else None
    if raw is None or "model" not in checkpoint or "optimizer" not in checkpoint:
        raise CLIError("not a checkpoint written by 'chainrule train' (it needs model, optimizer and config)")
    if isinstance(raw, str):
        raw = json.loads(raw)
    if not isinstance(raw, dict):
        raise CLIError("the checkpoint's config is not a dictionary; was it written by 'chainrule train'?")
    known = set(TrainConfig.__dataclass_fields__)
    config = TrainConfig(**{k: v for k, v in raw.items() if k in known})
    config.check()
    return config


def _checkpoint(config: TrainConfig, model: Any, optimizer: Any, history: History) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": history.epoch[-1] if history.epoch else 0,
        "config": asdict(config),
        "history": history.as_dict(),
    }


def _metrics(config: TrainConfig, history: History, data: Data, seconds: float) -> dict[str, Any]:
    import chainrule as cr  # noqa: PLC0415

    return {
        "chainrule_version": cr.__version__,
        "config": asdict(config),
        "data": {
            "train_samples": int(data.x_train.shape[0]),
            "test_samples": int(data.x_test.shape[0]),
            "input_shape": list(data.x_train.shape[1:]),
            "num_classes": data.num_classes,
        },
        "history": history.as_dict(),
        "final": {
            "epoch": history.epoch[-1],
            "train_loss": history.train_loss[-1],
            "train_accuracy": history.train_accuracy[-1],
            "test_loss": history.test_loss[-1],
            "test_accuracy": history.test_accuracy[-1],
        },
        "timings": {
            "total_seconds": seconds,
            "epoch_seconds": history.seconds[-(config.epochs) :],
            "mean_epoch_seconds": sum(history.seconds[-config.epochs :]) / config.epochs,
        },
    }


def _can_plot() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("matplotlib") is not None


def write_results(
    out: Path, config: TrainConfig, model: Any, optimizer: Any, history: History, data: Data, seconds: float
) -> list[Path]:
    """Write checkpoint, metrics and curves into ``out``: all three appear together, or none does."""
    import chainrule as cr  # noqa: PLC0415
    from chainrule import viz  # noqa: PLC0415

    with AtomicWriter(out) as w:
        cr.save(_checkpoint(config, model, optimizer, history), w.path(CHECKPOINT))
        metrics = _metrics(config, history, data, seconds)
        w.path(METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        if _can_plot():
            viz.plot_history(history.curves(), w.path(CURVES), title=f"{config.model} on {config.dataset}")
        return w.commit()


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def run(args: argparse.Namespace) -> int:
    import chainrule as cr  # noqa: PLC0415

    checkpoint = None
    base = None
    if args.resume is not None:
        checkpoint = cr.load(args.resume)
        base = config_from_checkpoint(checkpoint)
    config = _config_from_args(args, base)
    out = args.out
    if out is None:
        out = (
            args.resume.parent
            if args.resume is not None
            else Path("runs") / f"{config.dataset}-{config.model}"
        )
    check_writable_folder(out)
    what = (
        f"{config.model} on {config.dataset}, {config.optimizer} lr={config.lr:g}, batch {config.batch_size}"
    )
    if checkpoint is not None:
        say(
            f"resuming {what} from {args.resume} (epoch {int(checkpoint.get('epoch', 0))}), "
            f"{_plural(config.epochs, 'more epoch')}"
        )
    else:
        say(f"training {what}, {_plural(config.epochs, 'epoch')}, seed {config.seed}")
    if (note := missing_note("matplotlib", CURVES)) is not None:  # said before training, not after
        say(f"note: {note}")
    model, optimizer, history, data, seconds = train(
        config, checkpoint=checkpoint, show_progress=not args.no_progress
    )
    written = write_results(out, config, model, optimizer, history, data, seconds)
    say(f"test accuracy {history.test_accuracy[-1]:.4f} after epoch {history.epoch[-1]} ({seconds:.1f}s)")
    say("wrote " + ", ".join(str(p) for p in written))
    return 0
