"""``ctc_loss``: connectionist temporal classification, torch's forward and torch's gradient.

One ``Function``, ``CTCLoss``, gives each sample's negative log-likelihood ``-log p(target | log_probs)``.
Its forward runs the alpha recursion in log-space over the extended label sequence (a blank before, between
and after the labels), vectorised over the batch and the extended labels with a loop over time only; its
backward runs the beta recursion the same way and returns torch's gradient with respect to ``log_probs``::

    grad[t, n, c] = g[n] · (exp(lp[t, n, c]) - exp(log Σ_{s: l'(s) = c} α_t(s)·β_t(s) + nll[n] - lp[t, n, c]))

for ``t < input_lengths[n]`` (0 after), with α and β both counting the emission at ``t``. The ``exp(lp)``
term is the one torch's kernel has: it is the gradient through a ``log_softmax`` that produced ``log_probs``
(then the softmax's own backward cancels it), not the derivative of the loss in free ``log_probs``; so for
un-normalised inputs this matches torch, not central differences. The rule computes with arrays: with
``create_graph=True`` the gradient is recorded by ``CTCLossBackward``, which, as torch's
``_ctc_loss_backward``, cannot be differentiated again (a RuntimeError when one tries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.nn.functional._utils import as_tensor, check_reduction
from chainrule.tensor import Tensor, _new

_NEG_INF = -np.inf


def _lse(*xs: np.ndarray) -> np.ndarray:
    """Elementwise log(Σ exp(x)) of arrays of one shape; -inf where every term is -inf (no NaN)."""
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    safe = np.where(np.isneginf(m), 0.0, m)
    with np.errstate(divide="ignore"):
        return np.log(sum(np.exp(x - safe) for x in xs)) + safe


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` moved ``k`` places along the last axis (k > 0: to higher s), padded with -inf."""
    out = np.full_like(a, _NEG_INF)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class CTCLoss(Function):
    """Per-sample CTC negative log-likelihood of (T, N, C) ``log_probs`` (a (N,) result).

    ``ext`` (N, S) is each sample's extended label sequence (S = 2·max target length + 1), ``input_lengths``
    and ``target_lengths`` (N,) ints; ``zero_infinity`` zeroes the gradient of samples whose loss is inf.
    """

    def __init__(
        self, ext: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray, zero_infinity: bool
    ):
        self.ext, self.il, self.tl, self.zero_infinity = ext, input_lengths, target_lengths, zero_infinity

    def _emissions(self, lp: np.ndarray) -> np.ndarray:
        """(T, N, S): lp[t, n, ext[n, s]], in float64."""
        t = lp.shape[0]
        idx = np.broadcast_to(self.ext[None], (t, *self.ext.shape))
        return np.take_along_axis(lp.astype(np.float64), idx, axis=2)

    def forward(self, log_probs):
        lp = np.asarray(backend.to_device(log_probs, "cpu"))
        n_t, n = lp.shape[0], lp.shape[1]
        s = self.ext.shape[1]
        em = self._emissions(lp)
        pos = np.arange(s)
        valid = pos[None, :] < (2 * self.tl + 1)[:, None]  # (N, S)
        skip = np.zeros((n, s), dtype=bool)  # s may be reached from s - 2: a label unlike the one before
        if s > 2:
            skip[:, 2:] = (pos[2:] % 2 == 1)[None, :] & (self.ext[:, 2:] != self.ext[:, :-2])
        la = np.full((n_t, n, s), _NEG_INF)
        la[0, :, 0] = em[0, :, 0]
        if s > 1:
            la[0, :, 1] = np.where(self.tl > 0, em[0, :, 1], _NEG_INF)
        for t in range(1, n_t):
            prev = la[t - 1]
            two = np.where(skip, _shift(prev, 2), _NEG_INF)
            la[t] = np.where(valid, em[t] + _lse(prev, _shift(prev, 1), two), _NEG_INF)
        rows = np.arange(n)
        last = np.maximum(self.il - 1, 0)
        end = la[last, rows, 2 * self.tl]
        before = np.where(self.tl > 0, la[last, rows, np.maximum(2 * self.tl - 1, 0)], _NEG_INF)
        nll = -_lse(end, before)
        nll = np.where(self.il == 0, np.where(self.tl == 0, 0.0, np.inf), nll)
        self.em, self.skip, self.la, self.nll = em, skip, la, nll
        return backend.to_device_of(nll.astype(lp.dtype), log_probs)

    def _grad(self, gy: np.ndarray) -> np.ndarray:
        """torch's gradient for the upstream (N,) ``gy``, as a (T, N, C) array of the input's dtype."""
        x = self.inputs[0]
        lp = np.asarray(backend.to_device(x.data, "cpu"))
        g = np.asarray(backend.to_device(gy, "cpu")).astype(np.float64)
        n_t, n, c = lp.shape
        em, skip, la, nll = self.em, self.skip, self.la, self.nll
        s = em.shape[2]
        ends = np.zeros((n, s), dtype=bool)  # where beta starts, at t = input_length - 1
        rows = np.arange(n)
        ends[rows, 2 * self.tl] = True
        ends[rows[self.tl > 0], 2 * self.tl[self.tl > 0] - 1] = True
        lb = np.full((n_t, n, s), _NEG_INF)
        nxt = np.full((n, s), _NEG_INF)
        skip_next = _shift(skip, -2) if s > 2 else np.zeros_like(skip)  # s + 2 reachable from s
        for t in range(n_t - 1, -1, -1):
            two = np.where(skip_next, _shift(nxt, -2), _NEG_INF)
            inner = em[t] + _lse(nxt, _shift(nxt, -1), two)
            start = np.where(ends, em[t], _NEG_INF)
            here = (t < self.il - 1)[:, None]
            at_end = (t == self.il - 1)[:, None]
            lb[t] = np.where(here, inner, np.where(at_end, start, _NEG_INF))
            nxt = lb[t]
        lcab = la + lb  # (T, N, S)
        m = lcab.max(axis=2, initial=_NEG_INF) if s else np.full((n_t, n), _NEG_INF)
        finite = ~np.isneginf(m)
        onehot = np.zeros((n, s, c))
        onehot[rows[:, None], np.arange(s)[None, :], self.ext] = 1.0
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            acc = np.einsum("tns,nsc->tnc", np.exp(lcab - np.where(finite, m, 0.0)[..., None]), onehot)
            res = np.where(acc > 0, np.log(acc) + m[..., None], _NEG_INF)
            res = np.where(finite[..., None], res, _NEG_INF)
            lp64 = lp.astype(np.float64)
            grad = (np.exp(lp64) - np.exp(res + nll[None, :, None] - lp64)) * g[None, :, None]
        grad = np.where((np.arange(n_t)[:, None] < self.il[None, :])[..., None], grad, 0.0)
        if self.zero_infinity:
            grad = np.where(np.isinf(nll)[None, :, None], 0.0, grad)
        return backend.to_device_of(grad.astype(lp.dtype), x.data)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            if _grad_state.grad_enabled:  # create_graph: recorded, and refusing to be differentiated again
                return CTCLossBackward(self)(gy, self.inputs[0])
            return _new(self._grad(gy.data))
        return self._grad(gy)


class CTCLossBackward(Function):
    """The gradient of ``CTCLoss`` recorded under ``create_graph``; as torch's ``_ctc_loss_backward`` it has
    no derivative itself."""

    uses_inputs = False

    def __init__(self, loss: CTCLoss):
        self.loss = loss

    def forward(self, gy, log_probs):
        return self.loss._grad(gy)

    def backward(self, gg):
        raise RuntimeError("derivative for ctc_loss_backward is not implemented (torch has none either)")


def _lengths(value: Any, name: str) -> np.ndarray:
    """A Tensor, list or tuple of lengths as a 1-D int64 array, or torch's error."""
    if isinstance(value, Tensor):
        arr = np.asarray(backend.to_device(value.data, "cpu"))
        if arr.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral, got dtype {arr.dtype}")
        return arr.reshape(-1).astype(np.int64)
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            raise TypeError(f"ctc_loss(): {name} must be a Tensor or a sequence of ints, got {value!r}")
        return np.asarray(value, dtype=np.int64).reshape(-1)
    raise TypeError(f"ctc_loss(): {name} must be a Tensor or a sequence of ints, not {type(value).__name__}")


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of (T, N, C) (or unbatched (T, C)) ``log_probs`` for ``targets`` padded (N, S) or
    concatenated (sum(target_lengths),); ``reduction='mean'`` divides each loss by its target length
    (at least 1) then averages over the batch. An impossible alignment gives inf (0 with ``zero_infinity``,
    which zeroes its gradient too). torch's gradient (see the module docstring); no second order."""
    x = as_tensor(log_probs, "ctc_loss", "log_probs")
    check_reduction(reduction, "ctc_loss")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError(
            "ctc_loss(): input_lengths and target_lengths must both be Tensors or both sequences of ints, "
            "got "
            f"{type(input_lengths).__name__} and {type(target_lengths).__name__}"
        )
    if x.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for {x.dtype} (float32 or float64 only)')
    if x.data.size == 0:
        raise RuntimeError(f"log_probs tensor must not be empty, got shape {x.shape}")
    batched = x.ndim == 3
    lp = x if batched else x.unsqueeze(1)
    tg = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    tg = np.asarray(backend.to_device(tg, "cpu"))  # unbatched too: 1-D concatenated, 2-D padded (torch's)
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    if lp.ndim != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {lp.ndim}-dimensional tensor for argument #1 'log_probs'"
        )
    n_t, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError(f"blank must be in label range, got blank={blank} for {c} classes")
    if il.size != n:
        raise RuntimeError(f"input_lengths must be of size batch_size ({n}), got {il.size}")
    if tl.size != n:
        raise RuntimeError(f"target_lengths must be of size batch_size ({n}), got {tl.size}")
    if tg.dtype.kind not in "iubf":
        raise TypeError(f"ctc_loss(): targets must hold integer class indices, got dtype {tg.dtype}")
    tg = tg.astype(np.int64)
    if tg.ndim not in (1, 2):
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor for argument #2 'targets'"
        )
    for name, lens in (("input_lengths", il), ("target_lengths", tl)):
        if lens.size and lens.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {lens.min()}")
    if il.size and il.max() > n_t:
        raise RuntimeError(f"Expected input_lengths to have value at most {n_t}, but got value {il.max()}")
    l_max = int(tl.max()) if tl.size else 0
    if tg.ndim == 1:
        if tg.shape[0] != tl.sum():
            raise RuntimeError(
                f"Expected tensor to have size {tl.sum()} at dimension 0, but got size {tg.shape[0]} for "
                "argument #2 'targets'"
            )
        offsets = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        cols = offsets[:, None] + np.arange(l_max)[None, :]
        used = np.arange(l_max)[None, :] < tl[:, None]
        padded = np.where(used, tg[np.where(used, cols, 0)] if tg.size else 0, blank)
    else:
        if tg.shape[1] < l_max:
            raise RuntimeError(
                f"Expected tensor to have size at least {l_max} at dimension 1, but got size {tg.shape[1]} "
                "for argument #2 'targets'"
            )
        if tg.shape[0] < n:
            raise RuntimeError(f"ctc_loss: targets has {tg.shape[0]} rows for a batch of {n}")
        used = np.arange(l_max)[None, :] < tl[:, None]
        padded = np.where(used, tg[:n, :l_max], blank)
    bad = used & ((padded < 0) | (padded >= c))
    if bad.any():
        raise IndexError(f"ctc_loss: target index out of range [0, {c}): got {padded[bad].tolist()}")
    ext = np.full((n, 2 * l_max + 1), blank, dtype=np.int64)
    ext[:, 1::2] = padded
    loss = CTCLoss(ext, il, tl, zero_infinity)(lp)
    if zero_infinity:
        loss = ops.where(_new(backend.to_device_of(np.isinf(loss.data), loss.data)), 0.0, loss)
    if reduction == "mean":
        div = backend.to_device_of(np.maximum(tl, 1).astype(loss.dtype), loss.data)
        return (loss / _new(div)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.reshape(())
