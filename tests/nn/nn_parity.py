"""Torch-parity helpers for the nn tests: load a torch module's state dict into the chainrule twin, run
both in float64, and compare outputs, input gradients and every parameter gradient by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import chainrule as cr


def as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, cr.Tensor):
        return np.asarray(x.data)
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-9, what: str = "") -> None:
    a, e = as_numpy(actual), as_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def flatten(out: Any) -> list[Any]:
    """Nested tuples/lists of tensors -> a flat list (None entries dropped)."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten(o)]
    return [] if out is None else [out]


def state_dict_shapes(sd: Any) -> dict[str, tuple[int, ...]]:
    return {k: tuple(as_numpy(v).shape) for k, v in sd.items()}


def load_from_torch(cr_module: cr.nn.Module, torch_module: Any) -> None:
    cr_module.load_state_dict({k: v.detach().cpu().numpy() for k, v in torch_module.state_dict().items()})


def check_module_parity(
    torch,
    torch_module: Any,
    cr_module: cr.nn.Module,
    inputs: Sequence[np.ndarray],  # noqa: ANN001
    call: Callable[..., Any] | None = None,
    train: bool = True,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    seed: int = 0,
) -> None:
    """Same state dict, float64, same inputs: outputs, input grads and parameter grads must match torch."""
    call = call or (lambda m, *xs: m(*xs))
    torch_module.double()
    assert list(cr_module.state_dict()) == list(torch_module.state_dict()), (
        "state_dict keys differ from torch"
    )
    assert state_dict_shapes(cr_module.state_dict()) == state_dict_shapes(torch_module.state_dict())
    load_from_torch(cr_module, torch_module)
    cr_module.double()
    torch_module.train(train)
    cr_module.train(train)
    t_in = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    c_in = [cr.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    t_out = flatten(call(torch_module, *t_in))
    c_out = flatten(call(cr_module, *c_in))
    assert len(t_out) == len(c_out), f"{len(c_out)} outputs, torch has {len(t_out)}"
    for i, (c, t) in enumerate(zip(c_out, t_out)):
        assert_close(c, t, rtol, atol, f"output {i}")
    rng = np.random.default_rng(seed)
    pairs = [(c, t) for c, t in zip(c_out, t_out) if t.requires_grad]
    if not pairs:
        return
    seeds = [rng.standard_normal(t.shape) for _, t in pairs]
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(s) for s in seeds])
    cr.autograd_backward([c for c, _ in pairs], [cr.tensor(s) for s in seeds])
    for i, (c, t) in enumerate(zip(c_in, t_in)):
        if t.requires_grad and t.grad is not None:
            assert c.grad is not None, f"input {i} got no gradient"
            assert_close(c.grad, t.grad, rtol, atol, f"grad of input {i}")
    c_params = dict(cr_module.named_parameters())
    for name, tp in torch_module.named_parameters():
        if tp.grad is None:
            assert c_params[name].grad is None or not np.any(c_params[name].grad.data), (
                f"{name}: unexpected grad"
            )
            continue
        assert c_params[name].grad is not None, f"parameter {name} got no gradient"
        assert_close(c_params[name].grad, tp.grad, rtol, atol, f"grad of {name}")
    for name, tb in torch_module.named_buffers():
        assert_close(dict(cr_module.named_buffers())[name], tb, rtol, atol, f"buffer {name}")


def check_function_parity(
    torch,
    t_fn: Callable[..., Any],
    c_fn: Callable[..., Any],  # noqa: ANN001
    inputs: Sequence[np.ndarray],
    second_order: bool = False,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    seed: int = 0,
) -> None:
    """f(*inputs) against torch in float64: value, gradient, and optionally a second-order gradient."""
    t_in = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    c_in = [cr.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    t_out, c_out = t_fn(*t_in), c_fn(*c_in)
    assert_close(c_out, t_out, rtol, atol, "value")
    if not t_out.requires_grad:
        return
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(t_out.shape)
    t_diff = [t for t in t_in if t.requires_grad]
    c_diff = [c for c in c_in if c.requires_grad]
    t_grads = torch.autograd.grad(
        t_out, t_diff, torch.tensor(g), create_graph=second_order, allow_unused=True
    )
    c_grads = cr.grad(c_out, c_diff, cr.tensor(g), create_graph=second_order, allow_unused=True)
    for i, (c, t) in enumerate(zip(c_grads, t_grads)):
        if t is None:
            assert c is None or not np.any(c.data), f"gradient {i} should be zero"
            continue
        assert_close(c, t, rtol, atol, f"gradient of input {i}")
    if not second_order:
        return
    # a gradient that is constant in the inputs (say a bias gradient) may or may not carry a graph: skip it
    pairs = [
        (c, t) for c, t in zip(c_grads, t_grads) if t is not None and t.requires_grad and c.requires_grad
    ]
    seeds = [rng.standard_normal(t.shape) for _, t in pairs]
    t_gg = torch.autograd.grad(
        [t for _, t in pairs], t_diff, [torch.tensor(s) for s in seeds], allow_unused=True
    )
    c_gg = cr.grad([c for c, _ in pairs], c_diff, [cr.tensor(s) for s in seeds], allow_unused=True)
    for i, (c, t) in enumerate(zip(c_gg, t_gg)):
        expected = np.zeros(c_diff[i].shape) if t is None else as_numpy(t)
        actual = np.zeros(c_diff[i].shape) if c is None else as_numpy(c)
        assert_close(actual, expected, rtol, atol, f"second-order gradient of input {i}")
