"""Where ``chainrule train`` keeps its work, and what ``--resume`` checks before it builds anything.

A run folder (``--out``) holds, after every finished epoch (or every ``--save-every`` epochs):

* ``model.safetensors``: the model's state dict, plain (keys such as ``1.weight``), so it loads into the
  same network in torch with ``safetensors.torch.load_file`` and ``load_state_dict``;
* ``checkpoint.safetensors``: the rest of what ``--resume`` needs (optimizer state, configuration,
  history, epoch) and a sha256 of the model's tensors, so a model from another epoch is never paired with it;
* ``metrics.json``: per-epoch numbers, configuration, timings, and the list of files written with it;
* ``curves.png``: loss and accuracy curves, drawn once the last epoch is done (needs matplotlib).

Each save is one commit: the files are written to temporary names and renamed together, checkpoint last,
with Ctrl-C held until the renames are done. Older runs kept everything in one ``model.safetensors``
(model and optimizer under prefixed keys); ``--resume`` still reads those.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainrule._files import deferred_interrupts
from chainrule._optional import available
from chainrule.cli._common import AtomicWriter, CLIError
from chainrule.cli.train_config import MAX_EPOCHS, History, TrainConfig

__all__ = ["CHECKPOINT", "CURVES", "LAYOUT", "METRICS", "MODEL", "Resume", "RunFolder", "read_checkpoint"]

MODEL = "model.safetensors"
CHECKPOINT = "checkpoint.safetensors"
METRICS = "metrics.json"
CURVES = "curves.png"
LAYOUT = "chainrule-train/2"  # recorded in checkpoint.safetensors; the old one-file layout has none
# The per-parameter state each optimizer of ``chainrule train`` keeps once it has taken a step.
STATE_NAMES = {
    "sgd": {"momentum_buffer"},
    "adam": {"step", "exp_avg", "exp_avg_sq"},
    "adamw": {"step", "exp_avg", "exp_avg_sq"},
}


# ---------------------------------------------------------------------------------------------- writing
def model_sha256(state: dict[str, Any]) -> str:
    """A fingerprint of a state dict: names, dtypes, shapes and bytes of every tensor."""
    import numpy as np  # noqa: PLC0415

    digest = hashlib.sha256()
    for name in sorted(state):
        array = np.ascontiguousarray(_host(state[name]))
        digest.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _host(value: Any) -> Any:
    import numpy as np  # noqa: PLC0415

    from chainrule import backend  # noqa: PLC0415

    return np.asarray(backend.to_device(getattr(value, "data", value), "cpu"))


class RunFolder:
    """The ``--out`` folder of a run: :meth:`save` writes one epoch's files there, all or none of them.

    Remembers the last epoch it saved (``saved_epoch``), so an interruption can say what is on disk.
    Folders it had to create are removed again if its first save fails, so no empty ``--out`` is left.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.saved_epoch: int | None = None
        self._created = [p for p in (self.path, *self.path.parents) if not p.exists()]

    def kept(self) -> str:
        """What an interrupted or failed run leaves behind, in words."""
        if self.saved_epoch is None:
            return "nothing was written"
        return (
            f"kept epoch {self.saved_epoch} in {self.path} "
            f"(continue with: chainrule train --resume {self.path / CHECKPOINT})"
        )

    def save(self, parts: dict[str, Any], final: bool) -> list[Path]:
        """Write model, metrics, curves (when ``final``) and checkpoint; Ctrl-C waits until they are in place.

        ``parts``: ``config``, ``model``, ``optimizer``, ``history``, ``data``, ``seconds``, ``epochs_run``.
        """
        with deferred_interrupts():
            try:
                written = self._write(parts, final)
            except BaseException:
                if self.saved_epoch is None:
                    self._remove_created_folders()
                raise
            self.saved_epoch = parts["history"].epoch[-1]
        return written

    def _write(self, parts: dict[str, Any], final: bool) -> list[Path]:
        import chainrule as cr  # noqa: PLC0415

        config, history = parts["config"], parts["history"]
        draw = final and available("matplotlib")
        files = [MODEL, METRICS, *([CURVES] if draw else []), CHECKPOINT]
        state = parts["model"].state_dict()
        with AtomicWriter(self.path) as w:
            cr.save(state, w.path(MODEL))
            metrics = _metrics(parts, files, complete=final)
            w.path(METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
            if draw:
                from chainrule import viz  # noqa: PLC0415

                title = f"{config.model} on {config.dataset}"
                viz.plot_history(history.curves(), w.path(CURVES), title=title)
            checkpoint = {
                "layout": LAYOUT,
                "epoch": history.epoch[-1],
                "config": config.as_dict(),
                "history": history.as_dict(),
                "optimizer": parts["optimizer"].state_dict(),
                "model_sha256": model_sha256(state),
            }
            cr.save(checkpoint, w.path(CHECKPOINT))
            if not draw:  # curves of an earlier run would not match this epoch's model
                stale = self.path / CURVES
                if stale.is_file() and not stale.is_symlink():
                    stale.unlink()
            return w.commit()

    def _remove_created_folders(self) -> None:
        for folder in self._created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty


def _metrics(parts: dict[str, Any], files: list[str], complete: bool) -> dict[str, Any]:
    import chainrule as cr  # noqa: PLC0415

    config, history, data, n = parts["config"], parts["history"], parts["data"], parts["epochs_run"]
    return {
        "chainrule_version": cr.__version__,
        "config": config.as_dict(),
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
            "total_seconds": parts["seconds"],
            "epoch_seconds": history.seconds[-n:],
            "mean_epoch_seconds": sum(history.seconds[-n:]) / n,
        },
        "complete": complete,  # False: a checkpoint taken before the last requested epoch
        "files": files,
    }


# ---------------------------------------------------------------------------------------------- reading
@dataclass
class Resume:
    """A checked checkpoint: everything needed to continue, not yet applied to a model."""

    path: Path
    config: TrainConfig
    epoch: int
    history: History
    model: dict[str, Any]
    optimizer: dict[str, Any]

    def apply(self, model: Any, optimizer: Any) -> None:
        """Load the weights and optimizer state after checking them against the freshly built pair."""
        _check_model_state(self.model, model.state_dict(), self.path)
        _check_optimizer_state(self.optimizer, optimizer, STATE_NAMES[self.config.optimizer], self.path)
        try:
            model.load_state_dict(self.model)
            optimizer.load_state_dict(self.optimizer)
        except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as error:
            raise CLIError(f"cannot resume from {self.path}: {error}") from None


def resolve_checkpoint(path: Path) -> Path:
    """The file ``--resume PATH`` means: a run folder's checkpoint (an old run's model file), or PATH."""
    if path.is_dir():
        for name in (CHECKPOINT, MODEL):
            if (path / name).is_file():
                return path / name
        raise CLIError(f"no {CHECKPOINT} in folder '{path}'; was it written by 'chainrule train'?")
    return path


def read_checkpoint(path: str | Path) -> Resume:
    """Load ``path`` (new or old layout) and check its layout, epoch, configuration and history.

    Raises :class:`CLIError` naming the file and the first thing that is wrong; builds nothing.
    """
    import chainrule as cr  # noqa: PLC0415

    path = Path(path)
    raw = cr.load(path)
    if isinstance(raw, dict) and raw.get("layout") == LAYOUT:
        model = _read_model_next_to(path, raw)
    elif isinstance(raw, dict) and "layout" in raw:
        raise CLIError(f"{path} has layout {_short(raw['layout'])}; this chainrule reads {LAYOUT}")
    elif isinstance(raw, dict) and {"model", "optimizer", "config"} <= raw.keys():
        model = raw["model"]  # the old one-file layout
    elif isinstance(raw, dict) and raw and all(hasattr(v, "shape") for v in raw.values()):
        hint = path.parent / CHECKPOINT
        where = f"; resume from {hint}" if hint.is_file() else ""
        raise CLIError(f"{path} is a model state dict, not a checkpoint of 'chainrule train'{where}")
    else:
        raise CLIError(
            f"{path} is not a checkpoint written by 'chainrule train' (no model, optimizer, config)"
        )
    epoch = raw.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= MAX_EPOCHS:
        raise CLIError(f"{path}: epoch must be an integer from 1 to {MAX_EPOCHS}, got {_short(epoch)}")
    config = _config(raw.get("config"), path)
    history = _history(raw.get("history"), epoch, path)
    if not isinstance(raw.get("optimizer"), dict):
        raise CLIError(f"{path}: the optimizer state must be a dictionary, got {_kind(raw.get('optimizer'))}")
    if not isinstance(model, dict):
        raise CLIError(f"{path}: the model state must be a dictionary, got {_kind(model)}")
    return Resume(path, config, epoch, history, model, raw["optimizer"])


def _read_model_next_to(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    import chainrule as cr  # noqa: PLC0415

    model_path = path.parent / MODEL
    if not model_path.is_file():
        raise CLIError(f"{path} needs {MODEL} next to it, and '{model_path}' is missing")
    model = cr.load(model_path)
    if not isinstance(model, dict) or not all(hasattr(v, "shape") for v in model.values()):
        raise CLIError(f"{model_path} is not a model state dict")
    if raw.get("model_sha256") != model_sha256(model):
        raise CLIError(
            f"{model_path} is not the model saved with {path} (epoch {_short(raw.get('epoch'))}): "
            "their fingerprints differ"
        )
    return model


def _config(raw: Any, path: Path) -> TrainConfig:
    if isinstance(raw, str):  # very early checkpoints stored the configuration as JSON text
        try:
            raw = json.loads(raw)
        except ValueError:
            raise CLIError(f"{path}: the configuration is not valid JSON") from None
    if not isinstance(raw, dict):
        raise CLIError(f"{path}: the configuration must be a dictionary, got {_kind(raw)}")
    known = set(TrainConfig.__dataclass_fields__)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise CLIError(f"{path}: unknown configuration key {_short(unknown[0])}")
    config = TrainConfig(**raw)
    try:
        config.check()
    except CLIError as error:
        raise CLIError(f"{path}: {error}") from None
    return config


def _history(raw: Any, epoch: int, path: Path) -> History:
    if not isinstance(raw, dict):
        raise CLIError(f"{path}: the history must be a dictionary of per-epoch lists, got {_kind(raw)}")
    history = History()
    for key in history.as_dict():
        values = raw.get(key)
        if hasattr(values, "tolist"):
            values = values.tolist()
        if not isinstance(values, (list, tuple)) or len(values) != epoch:
            raise CLIError(f"{path}: history[{key!r}] must list {epoch} numbers (one per epoch)")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise CLIError(f"{path}: history[{key!r}] holds {_short(v)}, not a finite number")
        getattr(history, key).extend(int(v) if key == "epoch" else float(v) for v in values)
    if history.epoch != list(range(1, epoch + 1)):
        raise CLIError(f"{path}: history['epoch'] must count 1 to {epoch}")
    return history


def _check_model_state(saved: dict[str, Any], fresh: dict[str, Any], path: Path) -> None:
    import numpy as np  # noqa: PLC0415

    missing = [k for k in fresh if k not in saved]
    unexpected = [str(k) for k in saved if k not in fresh]
    if missing or unexpected:
        raise CLIError(
            f"{path}: the model's weights do not fit its configuration (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    for key, value in fresh.items():
        array = _host(saved[key])
        if tuple(array.shape) != tuple(value.shape) or array.dtype.kind != "f":
            raise CLIError(
                f"{path}: weight {key!r} is {array.dtype} {tuple(array.shape)}, expected a float "
                f"tensor of shape {tuple(value.shape)}"
            )
        if not np.isfinite(array).all():
            raise CLIError(f"{path}: weight {key!r} holds NaN or infinite values")


def _check_optimizer_state(saved: dict[str, Any], optimizer: Any, names: set[str], path: Path) -> None:
    """The saved state must have the fresh optimizer's shape: one group over every parameter, numbers
    of the same kinds, and per-parameter buffers of each parameter's shape."""
    import numpy as np  # noqa: PLC0415

    params = [p for g in optimizer.param_groups for p in g["params"]]
    groups, state = saved.get("param_groups"), saved.get("state")
    if not isinstance(groups, (list, tuple)) or len(groups) != len(optimizer.param_groups):
        raise CLIError(f"{path}: the optimizer must have {len(optimizer.param_groups)} parameter group(s)")
    for saved_group, group in zip(groups, optimizer.param_groups):
        if not isinstance(saved_group, dict) or sorted(map(str, saved_group)) != sorted(group):
            raise CLIError(f"{path}: an optimizer parameter group must have the keys {sorted(group)}")
        indices = saved_group["params"]
        if not isinstance(indices, (list, tuple)) or list(indices) != list(range(len(params))):
            raise CLIError(
                f"{path}: the optimizer's parameter group must list parameters 0 to {len(params) - 1}"
            )
        for key, fresh in group.items():
            if key != "params" and not (
                _same_kind(saved_group[key], fresh) and _in_range(key, saved_group[key])
            ):
                raise CLIError(f"{path}: optimizer setting {key!r} is {_short(saved_group[key])}")
    if not isinstance(state, dict):
        raise CLIError(f"{path}: the optimizer state must be a dictionary, got {_kind(state)}")
    for key, entry in state.items():
        index = int(key) if isinstance(key, str) and key.isdigit() else key
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(params):
            raise CLIError(f"{path}: optimizer state for unknown parameter {_short(key)}")
        if not isinstance(entry, dict):
            raise CLIError(f"{path}: optimizer state {index} must be a dictionary, got {_kind(entry)}")
        if entry and set(map(str, entry)) != names:
            raise CLIError(
                f"{path}: optimizer state {index} must hold {sorted(names)}, got {sorted(map(str, entry))}"
            )
        for name, value in entry.items():
            if name == "step":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e15:
                    raise CLIError(f"{path}: optimizer state {index} has step {_short(value)}")
                continue
            if not hasattr(value, "shape"):
                raise CLIError(f"{path}: optimizer state {index}[{name!r}] is {_kind(value)}, not a tensor")
            array = _host(value)
            if tuple(array.shape) != tuple(params[index].shape) or array.dtype.kind != "f":
                raise CLIError(
                    f"{path}: optimizer state {index}[{name!r}] has shape {tuple(array.shape)}, "
                    f"expected {tuple(params[index].shape)}"
                )
            if not np.isfinite(array).all():
                raise CLIError(f"{path}: optimizer state {index}[{name!r}] holds NaN or infinite values")


def _same_kind(value: Any, fresh: Any) -> bool:
    """Whether a saved hyper-parameter can stand where the fresh one does (booleans, finite numbers...)."""
    if isinstance(fresh, bool) or fresh is None:
        return value is fresh or (isinstance(value, bool) and isinstance(fresh, bool))
    if isinstance(fresh, (int, float)):
        return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if isinstance(fresh, (tuple, list)):
        return (
            isinstance(value, (tuple, list))
            and len(value) == len(fresh)
            and all(_same_kind(v, f) for v, f in zip(value, fresh))
        )
    return type(value) is type(fresh)


def _in_range(key: str, value: Any) -> bool:
    """Hyper-parameters torch's constructors would refuse: betas outside [0, 1), negative numbers."""
    if key == "betas":
        return all(0 <= b < 1 for b in value)
    return not isinstance(value, (int, float)) or isinstance(value, bool) or value >= 0


def _kind(value: Any) -> str:
    return f"a {type(value).__name__}" if value is not None else "nothing"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
