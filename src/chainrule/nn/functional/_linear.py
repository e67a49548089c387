"""``linear``: x @ W.T + b as ONE Function (one GEMM forward, two backward), any number of leading dims."""

from __future__ import annotations

from chainrule.autograd.function import Function
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor


class Linear(Function):
    """y = x @ W.T (+ b). Backward: gx = gy @ W, gW = gy.T @ x, gb = Σ gy (on arrays or Tensors)."""

    rule_takes_arrays = True

    def forward(self, x, w, b=None):
        if x.ndim == 2:
            y = x @ w.T
        else:
            y = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(*x.shape[:-1], w.shape[0])
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs_like(gy)[:2]
        need = self.needs_input_grad
        gx = gy @ w if need[0] else None
        g2 = gy if gy.ndim == 2 else gy.reshape(-1, gy.shape[-1])
        gw = None
        if need[1]:
            x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
            gw = g2.T @ x2
        gb = g2.sum(0) if len(need) > 2 and need[2] else None
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = input @ weight.T + bias (``torch.nn.functional.linear``).

    >>> import chainrule as cr
    >>> F = cr.nn.functional
    >>> F.linear(cr.ones(2, 3), cr.ones(4, 3), cr.zeros(4)).shape
    (2, 4)
    """
    x = as_tensor(input, "linear")
    w = as_tensor(weight, "linear", "weight")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {w.shape} "
            f"(expected last dim {w.shape[1]})"
        )
    if x.dtype != w.dtype and x.dtype.kind in "biu":
        x = x.to(w.dtype)
    if bias is None:
        return Linear()(x, w)
    b = as_tensor(bias, "linear", "bias")
    if b.shape not in ((w.shape[0],), ()):
        raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {b.shape}")
    return Linear()(x, w, b)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1 · W_k · x2 + b_k (``torch.nn.functional.bilinear``)."""
    from chainrule.ops import einsum  # noqa: PLC0415

    x1, x2 = as_tensor(input1, "bilinear"), as_tensor(input2, "bilinear")
    lead = x1.shape[:-1]
    y = einsum("ni,kij,nj->nk", x1.reshape(-1, x1.shape[-1]), weight, x2.reshape(-1, x2.shape[-1]))
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, weight.shape[0]) if len(lead) != 1 else y
