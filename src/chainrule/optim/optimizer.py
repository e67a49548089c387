"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``/``step`` and torch-shaped state dicts.

Subclasses implement ``_update(group, params)``, which changes each parameter's ``.data`` in place (NumPy
in-place ops, under ``no_grad``), keeping the parameter's dtype.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.tensor import Tensor, _new, bump_version


class _Required:
    """Marks a hyper-parameter with no default (every group must give it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _as_param_groups(params: Any) -> list[dict[str, Any]]:
    if isinstance(params, Tensor):
        raise TypeError(
            "params argument given to the optimizer should be an iterable of Tensors or dicts, "
            "but got a Tensor"
        )
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the ordering of "
            "tensors in sets will change between runs. Please use a list instead."
        )
    try:
        items = list(params)
    except TypeError:
        raise TypeError(
            "params argument given to the optimizer should be an iterable of Tensors or dicts, "
            f"but got {type(params).__name__}"
        ) from None
    if not items:
        raise ValueError("optimizer got an empty parameter list")
    if isinstance(items[0], dict):
        return items
    return [{"params": items}]


def _scalar(value: Any) -> Any:
    """Hyper-parameters given as 1-element tensors/arrays become Python numbers."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (np.ndarray, np.generic)) or backend.is_cuda_array(value):
        if value.size != 1:
            raise ValueError(
                f"a hyper-parameter given as an array must have 1 element, got shape {value.shape}"
            )
        return value.reshape(()).item()
    return value


def _real(value: Any, name: str) -> Any:
    """``value`` if it is a real number, else a TypeError naming the hyper-parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return value


class Optimizer:
    """Base class of every optimizer (same structure as ``torch.optim.Optimizer``).

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.8, 1.6], requires_grad=True)
    """

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        for group in _as_param_groups(params):
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``params`` and optional per-group hyper-parameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)
        for name in ("lr", "weight_decay", "momentum", "eps"):
            if name in group:
                group[name] = _scalar(group[name])
        self._check_group(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's hyper-parameters (subclasses extend this)."""
        lr = group.get("lr")
        if lr is not None and lr is not required and not _real(lr, "lr") >= 0.0:  # `not >=` also refuses nan
            raise ValueError(f"Invalid learning rate: {lr}")
        for name in ("weight_decay", "momentum", "eps"):
            value = group.get(name)
            if value is not None and not _real(value, name) >= 0.0:
                raise ValueError(f"Invalid {name} value: {value}")

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.creator is not None or g.requires_grad or not _writeable(g.data):
                        xp = backend.get_array_module(g.data)
                        p.grad = _new(xp.zeros_like(g.data))
                    else:
                        g.data[...] = 0
                        bump_version(g)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` (re-evaluated) when given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(group, params)
                    for p in params:
                        bump_version(p)
        return loss

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ state helpers
    @staticmethod
    def _grad(p: Tensor, maximize: bool = False) -> np.ndarray:
        """The gradient as an array (negated for ``maximize``), never aliased with ``p.grad`` when negated."""
        g = p.grad.data  # type: ignore[union-attr]
        if g.shape != p.data.shape:
            raise RuntimeError(
                f"gradient of shape {g.shape} does not match its parameter of shape {p.data.shape}"
            )
        return -g if maximize else g

    @staticmethod
    def _decayed_grad(p: Tensor, maximize: bool, weight_decay: float) -> np.ndarray:
        """``_grad`` plus the L2 term ``weight_decay * p`` (torch's coupled weight decay)."""
        g = Optimizer._grad(p, maximize)
        if weight_decay != 0:
            g = g + weight_decay * p.data
        return g

    @staticmethod
    def _buffer(p: Tensor, fill: float = 0.0) -> Tensor:
        """A state Tensor shaped and typed like ``p``."""
        xp = backend.get_array_module(p.data)
        return _new(xp.full_like(p.data, fill))

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as in torch.

        State tensors are returned by reference (save or copy them to keep a snapshot).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load hyper-parameters and state from ``state_dict()`` (copied, cast to each param's dtype)."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("an optimizer state dict needs the keys 'state' and 'param_groups'")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                f"than the optimizer ({len(self.param_groups)})"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({i}) that doesn't match the size of "
                    f"optimizer's group: {len(s['params'])} saved vs {len(g['params'])} parameters"
                )
        id_map: dict[Any, Tensor] = {}
        for g, s in zip(self.param_groups, saved_groups):
            for key, p in zip(s["params"], g["params"]):
                id_map[_state_key(key)] = p
        self.state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            p = id_map.get(_state_key(key))
            if p is None:
                continue
            self.state[p] = {name: _cast_state(p, name, v) for name, v in value.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            s = {k: (tuple(v) if k == "betas" and isinstance(v, list) else v) for k, v in s.items()}
            s["params"] = g["params"]
            new_groups.append(s)
        self.param_groups = new_groups

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _writeable(array: Any) -> bool:
    return bool(getattr(array.flags, "writeable", True))


def _state_key(key: Any) -> Any:
    """Index keys may come back as strings (e.g. from JSON); compare them as ints."""
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    if isinstance(key, (np.integer, Tensor)):
        return int(key)
    return key


def _cast_state(p: Tensor, name: str, value: Any) -> Any:
    """Deep-copy one state entry: arrays become Tensors on ``p``'s device (floats in ``p``'s dtype)."""
    if name == "step":
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, (np.ndarray, np.generic)):
            value = value.reshape(()).item()
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, (Tensor, np.ndarray)) or backend.is_cuda_array(value):
        array = value.data if isinstance(value, Tensor) else value
        array = backend.to_device(array, p.device)
        if array.dtype.kind == "f" and p.data.dtype.kind == "f":
            array = array.astype(p.data.dtype)
        else:
            array = array.copy()
        if array.shape != p.data.shape:
            raise ValueError(
                f"optimizer state {name!r} has shape {tuple(array.shape)}, but its parameter has shape "
                f"{p.shape}"
            )
        return _new(array)
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # a torch tensor
        return _cast_state(p, name, value.detach().cpu().numpy())
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    return copy.deepcopy(value)
