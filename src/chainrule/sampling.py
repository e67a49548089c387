"""Random sampling: ``bernoulli``, ``multinomial``, ``normal`` and the in-place ``Tensor.uniform_``,
``normal_``, ``exponential_``, ``cauchy_``, ``geometric_``, ``log_normal_``, ``bernoulli_``.

Draws come from chainrule's global generator (``manual_seed``), so values differ from torch's; the
distributions are torch's. ``generator=`` is not supported (a torch.Generator): passing one raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.random import generator as _rng
from chainrule.tensor import Tensor, _new


def _no_generator(generator: Any, op: str) -> None:
    if generator is not None:
        raise NotImplementedError(f"{op}: generator= is not supported; seed with chainrule.manual_seed")


def _host(a: Any) -> np.ndarray:
    return np.asarray(backend.to_device(a, "cpu"))


def _like(x: Tensor, values: np.ndarray) -> np.ndarray:
    """Draws (float64 on the CPU) in ``x``'s dtype and on its device."""
    return backend.to_device_of(values.astype(x.dtype, copy=False), x.data)


class _Sampled(Function):
    """A draw whose value does not depend smoothly on its input (bernoulli): the gradient is zero."""

    rule_takes_arrays = True
    uses_inputs = False

    def __init__(self, values: np.ndarray):
        self.values = values

    def forward(self, x):
        return self.values

    def backward(self, gy):
        return gy * 0


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """``bernoulli(input, p=None)``: 1 with probability ``input`` (or ``p``) elementwise, else 0, in
    ``input``'s dtype; the gradient is zero, as in torch."""
    _no_generator(generator, "bernoulli")
    probs = np.asarray(_host(input.data) if p is None else p, dtype=np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("bernoulli: the probabilities must be in [0, 1]")
    draws = _rng().random(input.shape) < probs
    return _Sampled(_like(input, draws))(input)


def multinomial(
    input: Tensor,  # noqa: A002
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Any = None,
) -> Tensor:
    """Indices drawn from the categorical distributions in the rows of ``input`` (non-negative weights,
    1-D or 2-D), ``num_samples`` per row, int64; without ``replacement`` each index appears at most once."""
    _no_generator(generator, "multinomial")
    w = np.asarray(_host(input.data), dtype=np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim} dims")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any() or (rows.sum(-1) <= 0).any():
        raise RuntimeError("multinomial: probabilities must be finite, non-negative and not all zero")
    if not replacement and num_samples > rows.shape[-1]:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample={num_samples} > prob_dist.size(-1)={rows.shape[-1]} "
            "samples without replacement"
        )
    if not replacement and num_samples > (rows > 0).sum(-1).min():
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (with replacement=False, not enough "
            "non-negative category to sample)"
        )
    g = _rng()
    out = np.stack([g.choice(r.size, num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    out = out.astype(np.int64).reshape(*w.shape[:-1], num_samples)
    return Tensor(backend.to_device_of(out, input.data))


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``normal(mean, std, size=None)``: samples of N(mean, std**2). ``mean`` and/or ``std`` may be tensors
    (broadcast together; differentiable: d/dmean = 1, d/dstd = the standard draw), or both numbers with
    ``size`` (float32 unless ``dtype`` is given)."""
    from chainrule.creation import randn  # noqa: PLC0415

    _no_generator(generator, "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    std_values = _host(std.data) if isinstance(std, Tensor) else np.asarray(std)
    if (std_values < 0).any():
        raise RuntimeError(f"normal expects all elements of std >= 0.0, got {std_values.min()}")
    if not tensors:
        if size is None:
            raise TypeError("normal(): with number mean and std, size must be given")
        out = randn(size, dtype=dtype, device=device) * std + mean
        return out.requires_grad_() if requires_grad else out
    if size is not None:
        raise TypeError("normal(): size is only taken with number mean and std")
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    eps = _new(_like(tensors[0], _rng().standard_normal(shape)))
    return eps * std + mean


# ---------------------------------------------------------------------------- in-place Tensor methods
def _fill_random(x: Tensor, values: np.ndarray, op: str) -> Tensor:
    """Overwrite ``x`` with ``values`` as ``copy_`` does (version bump, leaf checks, no gradient through)."""
    if x.dtype.kind not in "fc" and op not in ("bernoulli_", "geometric_"):
        raise TypeError(f"{op}: expects a floating-point tensor, got {x.dtype}")
    x.copy_(_new(_like(x, np.asarray(values).reshape(x.shape))))
    return x


def uniform_(x: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Any = None, **kw: Any) -> Tensor:
    """``x.uniform_(from_=0, to=1)``: fill with U(from_, to) samples."""
    _no_generator(generator, "uniform_")
    from_ = kw.pop("from", from_)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    return _fill_random(x, _rng().uniform(from_, to, x.shape), "uniform_")


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """``x.normal_(mean=0, std=1)``: fill with N(mean, std**2) samples."""
    _no_generator(generator, "normal_")
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    return _fill_random(x, _rng().normal(mean, std, x.shape), "normal_")


def exponential_(x: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """``x.exponential_(lambd=1)``: fill with samples of density ``lambd * exp(-lambd * x)``."""
    _no_generator(generator, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_random(x, _rng().exponential(1.0 / lambd, x.shape), "exponential_")


def cauchy_(x: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    """``x.cauchy_(median=0, sigma=1)``: fill with Cauchy samples."""
    _no_generator(generator, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill_random(x, median + sigma * _rng().standard_cauchy(x.shape), "cauchy_")


def geometric_(x: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """``x.geometric_(p)``: fill with the number of Bernoulli(p) trials up to the first success (1, 2...)."""
    _no_generator(generator, "geometric_")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill_random(x, _rng().geometric(p, x.shape), "geometric_")


def log_normal_(x: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """``x.log_normal_(mean=1, std=2)``: fill with ``exp`` of N(mean, std**2) samples."""
    _no_generator(generator, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill_random(x, _rng().lognormal(mean, std, x.shape), "log_normal_")


def bernoulli_(x: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """``x.bernoulli_(p=0.5)``: fill with 1 with probability ``p`` (a number or a broadcastable tensor)."""
    _no_generator(generator, "bernoulli_")
    probs = _host(p.data) if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("bernoulli_: the probabilities must be in [0, 1]")
    return _fill_random(x, _rng().random(x.shape) < probs, "bernoulli_")


#: Bound as Tensor methods (``x.bernoulli()``, ``x.normal_(0, 2)``...) by chainrule/__init__.py.
METHODS = (
    "bernoulli",
    "multinomial",
    "uniform_",
    "normal_",
    "exponential_",
    "cauchy_",
    "geometric_",
    "log_normal_",
    "bernoulli_",
)

for _name in METHODS:
    setattr(Tensor, _name, globals()[_name])
