"""``one_hot`` and ``embedding`` (a row lookup whose backward scatter-adds into the weight)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor, _new, bump_version


def _indices(x: Any, op: str) -> np.ndarray:
    data = x.data if isinstance(x, Tensor) else backend.asarray(x, like=x)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer (int64) index tensor, got dtype {data.dtype}")
    return data


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (inferred as max + 1 when -1).

    >>> import chainrule as cr
    >>> cr.nn.functional.one_hot(cr.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    idx = _indices(tensor, "one_hot")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: cannot infer the number of classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got min {idx.min()} max {idx.max()}"
        )
    xp = backend.get_array_module(idx)
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)  # no put_along_axis: works on CuPy too
    return _new(out)


class _EmbeddingGrad(Function):
    """Scatter-add rows of ``gy`` into a zero weight gradient (the adjoint of the lookup)."""

    uses_inputs = False

    def __init__(self, idx: np.ndarray, num: int, padding_idx: int | None):
        self.idx, self.num, self.padding_idx = idx, num, padding_idx

    def forward(self, gy):
        flat = self.idx.reshape(-1)
        g2 = gy.reshape(flat.size, -1)
        gw = backend.zeros((self.num, g2.shape[1]), gy.dtype, gy)
        backend.scatter_add(gw, flat, g2)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw

    def backward(self, ggw):
        return _Lookup(self.idx, self.padding_idx)(ggw)


class _Lookup(Function):
    """weight[idx]: the embedding lookup."""

    uses_inputs = False

    def __init__(self, idx: np.ndarray, padding_idx: int | None, grad_scale: np.ndarray | None = None):
        self.idx, self.padding_idx, self.grad_scale = idx, padding_idx, grad_scale

    def forward(self, w):
        self.num = w.shape[0]
        return w[self.idx]

    def backward(self, gy):
        if self.grad_scale is not None:  # scale_grad_by_freq: each row's gradient / its count in the batch
            gy = gy * _new(self.grad_scale.astype(gy.dtype, copy=False))
        return _EmbeddingGrad(self.idx, self.num, self.padding_idx)(gy)


def _renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    rows = np.unique(idx)
    w = weight.data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        with no_grad():
            scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
            w[rows[big]] *= scale[:, None]
            bump_version(weight)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,  # noqa: A002
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row gets no gradient.

    ``sparse=True`` is accepted but the weight's gradient is dense (chainrule has no sparse tensors): the
    same numbers. With ``max_norm``, the rows looked up are first rescaled in place to norm at most
    ``max_norm`` (as torch).
    """
    idx = _indices(input, "embedding")
    w = as_tensor(weight, "embedding", "weight")
    if w.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {w.shape}"
        )
    n = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(
            f"embedding: index out of range: indices must be in [0, {n}), "
            f"got min {idx.min()}, max {idx.max()}"
        )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings ({n}), got {padding_idx}")
        padding_idx %= n
    if max_norm is not None:
        _renorm_(w, idx, max_norm, norm_type)
    scale = None
    if scale_grad_by_freq:
        host = backend.to_device(idx, "cpu").astype(np.int64, copy=False)
        counts = np.bincount(host.reshape(-1), minlength=n)
        scale = backend.to_device_of((1.0 / np.maximum(counts, 1))[host][..., None], w.data)
    return _Lookup(backend.to_device_of(idx.astype(np.int64, copy=False), w.data), padding_idx, scale)(w)
