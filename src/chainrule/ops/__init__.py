"""Every differentiable op, one module per family. Each function here is also a Tensor method where listed."""

import sys

from chainrule.ops.elementwise import (
    abs,
    add,
    allclose,
    cast,
    clamp,
    clip,
    clone,
    cos,
    div,
    elu,
    eq,
    erf,
    exp,
    expm1,
    ge,
    gelu,
    gt,
    isfinite,
    isnan,
    le,
    leaky_relu,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    rdiv,
    relu,
    rpow,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    to_device,
    where,
)
from chainrule.ops.index import gather, getitem, index_select, inplace, masked_fill, setitem_
from chainrule.ops.linalg import dot, einsum, matmul, mm, outer
from chainrule.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    take_along_dim,
    var,
)
from chainrule.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    expand_as,
    flatten,
    flip,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    transpose,
    unbind,
    unsqueeze,
    view,
)
from chainrule.tensor import bind_ops

#: Ops that are also Tensor methods (``x.exp()``, ``x.sum(dim=0)``, ``x.reshape(2, 3)``...).
METHODS = (
    "abs", "clamp", "clip", "cos", "elu", "erf", "exp", "expm1", "gelu", "leaky_relu", "log", "log1p", "relu",
    "rsqrt", "sigmoid", "sign", "silu", "sin", "softplus", "sqrt", "square", "tan", "tanh", "maximum", "minimum",
    "isnan", "isfinite", "all", "any", "amax", "amin", "argmax", "argmin", "count_nonzero", "cumsum", "logsumexp",
    "max", "mean", "min", "norm", "prod", "std", "sum", "var", "broadcast_to", "chunk", "expand", "expand_as",
    "flatten", "flip", "permute", "repeat", "reshape", "split", "squeeze", "sum_to", "swapaxes", "transpose",
    "unbind", "unsqueeze", "view", "matmul", "dot", "outer", "gather", "index_select", "masked_fill",
    "take_along_dim", "add", "sub", "mul", "div", "pow", "neg",
)  # fmt: skip

bind_ops(sys.modules[__name__])

#: The op functions only: not the submodules (``shape``, ``index``...) nor ``sys``/``bind_ops``, which
#: ``from chainrule.ops import *`` in chainrule/__init__.py would otherwise export as ``chainrule.shape``...
__all__ = [
    name
    for name, value in sorted(globals().items())
    if not name.startswith("_") and name not in ("METHODS", "bind_ops") and not isinstance(value, type(sys))
]
