"""Hand models to PyTorch and back: ``to_torch(module)`` and ``from_torch(torch_module)``.

Layers are matched by class name (``Linear`` ↔ ``torch.nn.Linear``...), rebuilt from their constructor
arguments (read from same-named attributes, as both libraries store them), and the weights are copied through
``state_dict``. torch is imported only when these functions run.

>>> import chainrule as cr
>>> from chainrule import nn
>>> from chainrule.interop import to_torch, from_torch
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> twin = from_torch(to_torch(model))
>>> x = cr.randn(3, 4)
>>> bool(abs(twin(x) - model(x)).max() < 1e-6)
True
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

#: Layer classes that exist under the same name in chainrule.nn and torch.nn.
SUPPORTED = (
    "Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "Conv1d", "Conv2d", "ConvTranspose2d",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "MultiheadAttention", "ReLU", "Sigmoid", "Tanh", "GELU",
    "SiLU", "Softplus", "LeakyReLU", "ELU", "Softmax", "LogSoftmax",
)  # fmt: skip

# Constructor arguments stored under another name (or not at all) by one of the libraries.
_SKIP_ARGS = {"device", "dtype", "inplace", "_freeze", "kdim", "vdim", "proj_size"}


def _torch() -> Any:
    try:
        import torch  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - torch is a dev dependency
        raise ImportError("chainrule.interop needs PyTorch: pip install 'chainrule[torch]'") from exc
    return torch


def _named_params(cls: type) -> dict[str, inspect.Parameter]:
    params = inspect.signature(cls.__init__).parameters
    named = {
        k: p for k, p in params.items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    return named


def _constructor_kwargs(source: Any, target_cls: type) -> dict[str, Any]:
    """Arguments for ``target_cls(...)`` read from ``source``'s attributes of the same names."""
    kwargs: dict[str, Any] = {}
    params = _named_params(target_cls) or _named_params(
        type(source)
    )  # torch's RNNs take only *args, **kwargs
    for name in params:
        if name in _SKIP_ARGS:
            continue
        if name == "bias":  # a Parameter (or None) on most layers, a bool on recurrent ones
            value = getattr(source, "in_proj_bias", getattr(source, "bias", None))
            kwargs[name] = value if isinstance(value, bool) else value is not None
            continue
        if name == "elementwise_affine":
            kwargs[name] = getattr(source, "weight", None) is not None
            continue
        if not hasattr(source, name):
            continue
        value = getattr(source, name)
        if isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    if kwargs.get("bidirectional"):
        raise NotImplementedError(
            f"{type(source).__name__}: bidirectional recurrent layers are not supported"
        )
    return kwargs


def _unsupported(module: Any, path: str, target: str) -> NotImplementedError:
    """The error for a layer with no conversion, naming it, where it sits and what to do instead."""
    name = type(module).__name__
    where = f"layer '{path}' ({name})" if path else f"layer {name}"
    other = "torch.nn" if target == "torch" else "chainrule.nn"
    source = "chainrule.nn" if target == "torch" else "torch.nn"
    if type(module).__module__.startswith(source) and _exists_in(name, target):
        why = f"{other}.{name} exists but chainrule.interop does not convert it yet"
    elif type(module).__module__.startswith(source):
        why = f"{other} has no {name}"
    else:
        why = "it is a custom module"
    return NotImplementedError(
        f"cannot convert {where} to {target}: {why}; supported layers are {', '.join(SUPPORTED)} "
        f"(rebuild the model on the {target} side from those parts and copy the state dict)"
    )


def _exists_in(name: str, target: str) -> bool:
    if target == "torch":
        return hasattr(_torch().nn, name)
    from chainrule import nn  # noqa: PLC0415

    return hasattr(nn, name)


def _convert(module: Any, target_ns: Any, target: str, path: str = "") -> Any:
    name = type(module).__name__
    if name not in SUPPORTED:
        raise _unsupported(module, path, target)
    if name not in ("Sequential", "ModuleList", "ModuleDict"):
        cls = getattr(target_ns, name)
        return cls(**_constructor_kwargs(module, cls))
    converted = [
        (key, _convert(m, target_ns, target, f"{path}.{key}" if path else key))
        for key, m in module.named_children()
    ]
    if name == "Sequential":
        return target_ns.Sequential(*[m for _, m in converted])
    if name == "ModuleList":
        return target_ns.ModuleList([m for _, m in converted])
    return target_ns.ModuleDict(dict(converted))


def from_torch(torch_module: Any) -> Any:
    """A chainrule module equal to ``torch_module`` (same layers, same weights, same train/eval mode)."""
    from chainrule import nn  # noqa: PLC0415

    model = _convert(torch_module, nn, "chainrule")
    state = {k: v.detach().cpu().numpy().copy() for k, v in torch_module.state_dict().items()}
    model.load_state_dict(state)
    model.train(torch_module.training)
    return model


def to_torch(module: Any) -> Any:
    """A ``torch.nn.Module`` equal to the chainrule ``module`` (float32 weights as stored)."""
    torch = _torch()
    model = _convert(module, torch.nn, "torch")
    state = {k: torch.from_numpy(np.array(_array(v))) for k, v in module.state_dict().items()}
    model.load_state_dict(state)
    model.train(module.training)
    return model


def _array(value: Any) -> np.ndarray:
    data = getattr(value, "data", value)
    if hasattr(data, "get"):  # a CuPy array
        data = data.get()
    return np.asarray(data)


def tensor_to_torch(t: Any) -> Any:
    """A torch tensor with the same values (and ``requires_grad``) as a chainrule Tensor."""
    torch = _torch()
    out = torch.from_numpy(np.array(_array(t)))
    return out.requires_grad_(bool(getattr(t, "requires_grad", False)) and out.is_floating_point())


def tensor_from_torch(t: Any) -> Any:
    """A chainrule Tensor with the same values (and ``requires_grad``) as a torch tensor."""
    import chainrule as cr  # noqa: PLC0415

    return cr.tensor(t.detach().cpu().numpy(), requires_grad=bool(t.requires_grad))
