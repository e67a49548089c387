"""``chainrule train``: train an MLP or a small CNN on a built-in data set, keeping the work of every epoch.

After every finished epoch (``--save-every N``: every N epochs, and always the last), the run folder
``--out`` gets ``model.safetensors`` (the model's plain state dict, loadable by torch),
``checkpoint.safetensors`` (optimizer, configuration, history, epoch: what ``--resume`` needs) and
``metrics.json``; ``curves.png`` is added when the last epoch is done. Each save is atomic, so Ctrl-C
keeps the last saved epoch and says which; see :mod:`chainrule.cli.train_checkpoint` for the layout.
A loss that becomes NaN or infinite stops the run with a one-line error, keeping the last good epoch.

The helpers :func:`load_data`, :func:`build_model` and :func:`evaluate` rebuild a trained model:

>>> import chainrule as cr  # doctest: +SKIP
>>> resume = read_checkpoint(Path("runs/digits-mlp/checkpoint.safetensors"))  # doctest: +SKIP
>>> data = load_data(resume.config)  # doctest: +SKIP
>>> model = build_model(resume.config, data)  # doctest: +SKIP
>>> model.load_state_dict(cr.load("runs/digits-mlp/model.safetensors"))  # doctest: +SKIP
>>> evaluate(model, data.x_test, data.y_test)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainrule._optional import missing_note
from chainrule.cli._common import (
    CLIError,
    check_writable_folder,
    nonnegative_int,
    positive_float,
    positive_int,
    progress,
    say,
)
from chainrule.cli._interrupt import Interrupted
from chainrule.cli.train_checkpoint import (
    CHECKPOINT,
    CURVES,
    METRICS,
    MODEL,
    Resume,
    RunFolder,
    read_checkpoint,
    resolve_checkpoint,
)
from chainrule.cli.train_config import (
    DATASETS,
    DEFAULT_LR,
    MODELS,
    OPTIMIZERS,
    TOY_DATASETS,
    History,
    TrainConfig,
    parse_dataset,
)

__all__ = [
    "DATASETS",
    "Data",
    "Diverged",
    "History",
    "TrainConfig",
    "add_parser",
    "build_model",
    "evaluate",
    "load_data",
    "read_checkpoint",
    "run",
    "train",
]

TOY_SAMPLES = 1000
TOY_OPTIONS: dict[str, dict[str, float]] = {
    "spiral": {"noise": 0.2},
    "moons": {"noise": 0.1},
    "circles": {"noise": 0.05, "factor": 0.5},
    "xor": {"noise": 0.0},
}


class Diverged(CLIError):
    """The loss (or the weights) became NaN or infinite: training cannot continue."""


# ---------------------------------------------------------------------------------------------- arguments
def resume_path(text: str) -> Path:
    """An argparse type: a checkpoint file or a run folder that exists (never an OSError from argparse)."""
    path = Path(text)
    try:
        path.stat()
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"no such file or folder: {_short(text)}") from None
    except OSError as error:  # a name too long, a folder we may not enter...
        raise argparse.ArgumentTypeError(f"cannot read {_short(text)}: {error.strerror}") from None
    if not (path.is_file() or path.is_dir()):
        raise argparse.ArgumentTypeError(f"not a file or a folder: {_short(text)}")
    return path


def _short(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else f"{text[: limit - 20]!r}… ({len(text)} characters)"


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "train",
        help="train an MLP or CNN; keeps model, checkpoint and metrics after every epoch",
        description="Train a classifier with chainrule.nn and chainrule.optim, showing a progress bar per "
        f"epoch. After every epoch, --out gets {MODEL} (torch-loadable state dict), {CHECKPOINT} (for "
        f"--resume) and {METRICS}, atomically; {CURVES} is drawn at the end. Ctrl-C keeps the last saved "
        "epoch.",
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
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default runs/DATASET-MODEL; when resuming, a new folder FOLDER-resumed next to "
        "the checkpoint's, so the source is never overwritten unless --out names it)",
    )
    p.add_argument(
        "--resume",
        type=resume_path,
        metavar="CKPT",
        help=f"continue a run: its folder or its {CHECKPOINT} (or an older run's {MODEL}); runs --epochs "
        "more epochs, counting on",
    )
    p.add_argument(
        "--save-every",
        type=positive_int,
        default=1,
        metavar="N",
        help="save the run every N epochs (default 1; the last epoch is always saved)",
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
    config = TrainConfig(**{**base.as_dict(), "epochs": args.epochs})
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
@contextlib.contextmanager
def _quiet_numpy() -> Iterator[None]:
    """No NumPy overflow/invalid warnings while training: ``train`` reports a non-finite loss itself."""
    import numpy as np  # noqa: PLC0415

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _epoch(model: Any, optimizer: Any, loader: Any, bar_update: Any, epoch: int) -> tuple[float, float]:
    import numpy as np  # noqa: PLC0415

    from chainrule.nn import functional as F  # noqa: PLC0415

    model.train()
    total_loss, hits, seen = 0.0, 0, 0
    for step, (xb, yb) in enumerate(loader, start=1):
        optimizer.zero_grad()
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        value = float(loss.item())
        if not math.isfinite(value):
            raise Diverged(f"the training loss became {value} at epoch {epoch}, step {step}")
        loss.backward()
        optimizer.step()
        b = xb.shape[0]
        seen += b
        total_loss += value * b
        hits += int(np.sum(np.argmax(logits.data, axis=1) == yb.data))
        bar_update(1, {"loss": f"{total_loss / seen:.4f}", "acc": f"{hits / seen:.3f}"})
    return total_loss / seen, hits / seen


def _check_finite(model: Any, test_loss: float, epoch: int) -> None:
    """The last step of an epoch may have broken the weights without any loss showing it yet."""
    import numpy as np  # noqa: PLC0415

    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            raise Diverged(f"weight {name!r} became NaN or infinite at the end of epoch {epoch}")
    if not math.isfinite(test_loss):
        raise Diverged(f"the test loss became {test_loss} after epoch {epoch}")


OnEpoch = Callable[[int, Any, Any, History, "Data"], None]


def train(
    config: TrainConfig,
    *,
    checkpoint: Resume | None = None,
    show_progress: bool = True,
    log: Any = say,
    on_epoch: OnEpoch | None = None,
) -> tuple[Any, Any, History, Data, float]:
    """Run ``config.epochs`` epochs (after the checkpoint's, when resuming).

    Returns ``(model, optimizer, history, data, seconds)``; calls ``on_epoch(epoch, model, optimizer,
    history, data)`` after each epoch (the run folder saves there). Each epoch reseeds chainrule's
    generator with ``(seed, epoch)``, so resuming from a checkpoint gives the same result as one
    uninterrupted run. Raises :class:`Diverged` as soon as a loss or a weight is NaN or infinite.
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
        checkpoint.apply(model, optimizer)
        for group in optimizer.param_groups:
            group["lr"] = config.lr
        first_epoch = checkpoint.epoch + 1
        history = checkpoint.history
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=config.batch_size, shuffle=True)
    batches = len(loader)
    last = first_epoch + config.epochs - 1
    with _quiet_numpy():
        for epoch in range(first_epoch, last + 1):
            cr.manual_seed(config.seed * 1_000_003 + epoch)
            t0 = time.perf_counter()
            with progress(batches, f"epoch {epoch}/{last}", enabled=show_progress) as update:
                train_loss, train_acc = _epoch(model, optimizer, loader, update, epoch)
            test_loss, test_acc = evaluate(model, data.x_test, data.y_test)
            _check_finite(model, test_loss, epoch)
            seconds = time.perf_counter() - t0
            history.append(
                epoch=epoch,
                train_loss=train_loss,
                train_accuracy=train_acc,
                test_loss=test_loss,
                test_accuracy=test_acc,
                seconds=seconds,
            )
            log(
                f"epoch {epoch:3d}/{last}  train loss {train_loss:.4f}  acc {train_acc:.3f}  |  "
                f"test loss {test_loss:.4f}  acc {test_acc:.3f}  ({seconds:.1f}s)"
            )
            if on_epoch is not None:
                on_epoch(epoch, model, optimizer, history, data)
    return model, optimizer, history, data, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- the verb
def _default_out(args: argparse.Namespace, config: TrainConfig, resume: Resume | None) -> Path:
    """``--out``; else runs/DATASET-MODEL; when resuming, the first free FOLDER-resumed[-k] beside FOLDER."""
    if args.out is not None:
        return args.out
    if resume is None:
        return Path("runs") / f"{config.dataset}-{config.model}"
    source = resume.path.parent
    if source.name in ("", ".", ".."):
        source = source.resolve()
    k = 1
    while (candidate := source.with_name(f"{source.name}-resumed{'' if k == 1 else f'-{k}'}")).exists():
        k += 1
    return candidate


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class _Saver:
    """The ``on_epoch`` hook of a run: saves every ``every`` epochs and the last, and knows where it is."""

    def __init__(self, folder: RunFolder, config: TrainConfig, first: int, last: int, every: int) -> None:
        self.folder, self.config, self.first, self.last, self.every = folder, config, first, last, every
        self.started = time.perf_counter()
        self.done = first - 1  # the last finished epoch
        self.between = False  # True from the end of an epoch until the next one starts

    def __call__(self, epoch: int, model: Any, optimizer: Any, history: History, data: Data) -> None:
        self.done, self.between = epoch, True
        run_so_far = epoch - self.first + 1
        if run_so_far % self.every == 0 or epoch == self.last:
            seconds = time.perf_counter() - self.started
            parts = {"config": self.config, "model": model, "optimizer": optimizer, "history": history,
                     "data": data, "seconds": seconds, "epochs_run": run_so_far}  # fmt: skip
            self.folder.save(parts, final=epoch == self.last)
        self.between = epoch == self.last  # otherwise the next epoch starts now

    def stopped(self) -> str:
        """Where an interruption found the run, in words."""
        return f"stopped after epoch {self.done}" if self.between else f"stopped at epoch {self.done + 1}"


def _announce(config: TrainConfig, resume: Resume | None, out: Path, every: int) -> None:
    what = (
        f"{config.model} on {config.dataset}, {config.optimizer} lr={config.lr:g}, batch {config.batch_size}"
    )
    if resume is not None:
        more = _plural(config.epochs, "more epoch")
        say(f"resuming {what} from {resume.path} (epoch {resume.epoch}), {more}")
    else:
        say(f"training {what}, {_plural(config.epochs, 'epoch')}, seed {config.seed}")
    say(
        f"saving into {out} "
        + ("after every epoch" if every == 1 else f"every {every} epochs and at the end")
    )
    if (note := missing_note("matplotlib", CURVES)) is not None:  # said before training, not after
        say(f"note: {note}")


def run(args: argparse.Namespace) -> int:
    """Train, saving into the run folder as it goes; Ctrl-C and divergence say what was kept."""
    resume = read_checkpoint(resolve_checkpoint(args.resume)) if args.resume is not None else None
    config = _config_from_args(args, resume.config if resume is not None else None)
    out = _default_out(args, config, resume)
    check_writable_folder(out)
    first = 1 if resume is None else resume.epoch + 1
    _announce(config, resume, out, args.save_every)
    folder = RunFolder(out)
    saver = _Saver(folder, config, first, first + config.epochs - 1, args.save_every)
    try:
        _, _, history, _, seconds = train(
            config, checkpoint=resume, show_progress=not args.no_progress, on_epoch=saver
        )
        say(f"test accuracy {history.test_accuracy[-1]:.4f} after epoch {history.epoch[-1]} ({seconds:.1f}s)")
        curves = f", {CURVES}" if (out / CURVES).is_file() else ""
        say(f"wrote {MODEL}, {CHECKPOINT}, {METRICS}{curves} in {out}")
    except KeyboardInterrupt:
        raise Interrupted(f"{saver.stopped()}; {folder.kept()}") from None
    except Diverged as error:
        raise Diverged(f"{error} (try a smaller --lr than {config.lr:g}); {folder.kept()}") from None
    except BaseException:
        if folder.saved_epoch is not None:  # say what is kept before the error's own line
            say(folder.kept())
        raise
    return 0
