"""PyTorch parity for every public differentiable tensor op, driven by one registry.

Each ``OpSpec`` names an op, gives its chainrule and torch forms, the input domain, and a hypothesis
strategy for shapes and arguments (broadcasting, tuple and negative dims, size-1 and empty dims). For every
spec, hypothesis-drawn cases compare with torch 2.13.0 (CPU, float64):

* the values (and integer outputs such as ``max(dim).indices``, exactly);
* first gradients for a random upstream gradient (``grad(outputs, inputs, v, create_graph=True)``);
* second gradients: the gradient of ``Σ grad·w`` for a random ``w``;
* dtypes in float32: outputs and gradients keep the dtype torch gives (float32 stays float32, also with
  Python-number operands);

and ``chainrule.gradcheck`` checks each op against central differences in float64.
``covered_ops()`` lists what is covered (``python tests/parity/list_ops.py`` prints it as Markdown).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

try:  # the registry is importable without torch (list_ops.py); the tests skip without it
    import torch
except ImportError:  # pragma: no cover
    torch = None

Shapes = tuple[tuple[int, ...], ...]
Draw = Callable[[Any], tuple[Shapes, dict[str, Any]]]


@dataclass(frozen=True)
class OpSpec:
    """One op under test. ``cr``/``th`` take the input tensors then ``**params`` (keys starting with ``_``
    are chainrule-only switches, such as method vs function form, and are not passed to torch)."""

    name: str
    cr: Callable[..., Any]
    th: Callable[..., Any]
    draw: Draw
    domain: str | tuple[str, ...] = "real"  # per input: real, positive, nonzero, unit, log1p, ties, zeros
    broadcasts: bool = False
    axes: bool = False
    second_order: bool = True
    gradcheck: bool = True
    aliases: tuple[str, ...] = ()


def _budget(divisor: int) -> int:
    """Examples per test: the loaded profile's count (ci 12, deep 300) divided by ``divisor``."""
    return max(2, settings.default.max_examples // divisor)


# ---------------------------------------------------------------------------- strategies
def _shape(data: Any, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3) -> tuple:
    return data.draw(
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side),
        label="shape",
    )


def _dim(data: Any, ndim: int, extra: int = 0) -> int:
    """One dim, negative allowed (a 0-d tensor accepts 0 and -1, as in torch)."""
    n = max(ndim + extra, 1)
    return data.draw(st.integers(-n, n - 1), label="dim")


def _dims(data: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    """None, an int, or a tuple of distinct dims, each maybe negative."""
    kinds = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple and ndim else [])
    kind = data.draw(st.sampled_from(kinds), label="dim kind")
    if kind == "none":
        return None
    if kind == "int":
        return _dim(data, ndim)
    axes = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True), label="dims")
    return tuple(a - ndim if data.draw(st.booleans()) else a for a in axes)


def _group(shape: tuple[int, ...], dim: Any) -> int:
    axes = range(len(shape)) if dim is None else ([dim] if isinstance(dim, int) else dim)
    return math.prod(shape[a] for a in axes) if shape else 1


def unary(min_side: int = 0, min_dims: int = 0, **choices: Any) -> Draw:
    """One input of any shape; ``choices`` maps a parameter to a list of values to draw from."""

    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
        params["_method"] = data.draw(st.booleans(), label="method form")
        return (_shape(data, min_dims=min_dims, min_side=min_side),), params

    return draw


def broadcast(num: int = 2, min_side: int = 0, **choices: Any) -> Draw:
    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        shapes = data.draw(
            hnp.mutually_broadcastable_shapes(
                num_shapes=num, min_dims=0, max_dims=3, min_side=min_side, max_side=3
            ),
            label="shapes",
        ).input_shapes
        params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
        params["_method"] = data.draw(st.booleans(), label="operator form")
        return tuple(shapes), params

    return draw


def reduction(
    min_side: int = 0,
    min_dims: int = 0,
    allow_tuple: bool = True,
    allow_none: bool = True,
    keepdim: bool = True,
    **choices: Any,
) -> Draw:
    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        shape = _shape(data, min_dims=min_dims, min_side=min_side)
        params = {"dim": _dims(data, len(shape), allow_none, allow_tuple)}
        if keepdim:
            params["keepdim"] = data.draw(st.booleans(), label="keepdim")
        params.update({k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()})
        params["_alias"] = data.draw(st.booleans(), label="axis/keepdims spelling")
        return (shape,), params

    return draw


# ---------------------------------------------------------------------------- call helpers
def _method_or_function(name: str) -> Callable[..., Any]:
    """``x.name(**p)`` or ``cr.name(x, **p)``, as the drawn ``_method`` says."""

    def call(*xs: Any, _method: bool = False, **p: Any) -> Any:
        if _method:
            return getattr(xs[0], name)(*xs[1:], **p)
        return getattr(cr, name)(*xs, **p)

    return call


def _reduce(name: str) -> Callable[..., Any]:
    """chainrule reduction called as ``cr.f(x, dim=, keepdim=)`` or ``x.f(axis=, keepdims=)``."""

    def call(x: Any, dim: Any = None, keepdim: bool = False, _alias: bool = False, **p: Any) -> Any:
        if _alias:
            return getattr(x, name)(axis=dim, keepdims=keepdim, **p)
        return getattr(cr, name)(x, dim=dim, keepdim=keepdim, **p)

    return call


def _all_dims(x: Any, dim: Any) -> Any:
    return tuple(range(x.ndim)) if dim is None else dim


def _th_prod(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    if dim is None:
        y = torch.prod(x)
        return y.reshape((1,) * x.ndim) if keepdim else y
    axes = sorted((a % max(x.ndim, 1) for a in ((dim,) if isinstance(dim, int) else dim)), reverse=True)
    y = x
    for a in axes:
        y = torch.prod(y, dim=a, keepdim=True)
    return y if keepdim else y.reshape([s for i, s in enumerate(x.shape) if i not in axes])


def _binary(op: str) -> Callable[..., Any]:
    """``a op b`` (operator form) or ``cr.add(a, b)`` etc."""
    symbols = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__", "pow": "__pow__"}

    def call(a: Any, b: Any, _method: bool = False) -> Any:
        return getattr(a, symbols[op])(b) if _method else getattr(cr, op)(a, b)

    return call


_TORCH_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "pow": "pow"}


def _scalar_op(op: str, reflected: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(chainrule, torch) for ``x op c`` or ``c op x`` with a Python number ``c``."""
    import operator  # noqa: PLC0415

    fn = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "div": operator.truediv,
        "pow": operator.pow,
    }[op]

    def call(x: Any, c: Any) -> Any:
        return fn(c, x) if reflected else fn(x, c)

    return call, call


def _ndarray_op(op: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """An ndarray operand on either side: ``arr op x`` / ``x op arr``."""
    import operator  # noqa: PLC0415

    fn = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "div": operator.truediv,
        "pow": operator.pow,
        "matmul": operator.matmul,
    }[op]

    def crf(x: Any, arr: np.ndarray, left: bool) -> Any:
        return fn(arr, x) if left else fn(x, arr)

    def thf(x: Any, arr: np.ndarray, left: bool) -> Any:
        t = torch.from_numpy(np.array(arr))
        return fn(t, x) if left else fn(x, t)

    return crf, thf


def _ndarray_draw(op: str) -> Draw:
    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        if op == "matmul":
            n, k, p = (data.draw(st.integers(1, 3)) for _ in range(3))
            left = data.draw(st.booleans(), label="ndarray on the left")
            x_shape, a_shape = ((k, p), (n, k)) if left else ((n, k), (k, p))
        else:
            x_shape, a_shape = data.draw(
                hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3)
            ).input_shapes
            left = data.draw(st.booleans(), label="ndarray on the left")
        seed = data.draw(st.integers(0, 2**16), label="array seed")
        arr = np.random.default_rng(seed).uniform(0.5, 2.0, a_shape)
        return (x_shape,), {"arr": arr, "left": left}

    return draw


# ---------------------------------------------------------------------------- drawing shape-op cases
def _reshape_target(data: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    sizes = list(data.draw(st.permutations(list(shape)), label="sizes"))
    for _ in range(data.draw(st.integers(0, 2), label="extra ones")):
        sizes.insert(data.draw(st.integers(0, len(sizes))), 1)
    if sizes and math.prod(shape) and data.draw(st.booleans(), label="use -1"):
        sizes[data.draw(st.integers(0, len(sizes) - 1))] = -1
    return tuple(sizes)


def draw_reshape(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    return (shape,), {
        "shape": _reshape_target(data, shape),
        "_method": data.draw(st.sampled_from(["reshape", "view"])),
    }


def draw_flatten(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    a, b = sorted([_dim(data, len(shape)) % len(shape), _dim(data, len(shape)) % len(shape)])
    neg = data.draw(st.booleans())
    return (shape,), {"start_dim": a - len(shape) if neg else a, "end_dim": b}


def draw_permute(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    perm = data.draw(st.permutations(list(range(len(shape)))))
    perm = tuple(p - len(shape) if data.draw(st.booleans()) else p for p in perm)
    return (shape,), {"dims": perm}


def draw_transpose(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    return (shape,), {
        "dim0": _dim(data, len(shape)),
        "dim1": _dim(data, len(shape)),
        "_alias": data.draw(st.booleans(), label="swapaxes"),
    }


def draw_squeeze(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    kind = data.draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or not shape:
        return (shape,), {"dim": None}
    if kind == "int":
        return (shape,), {"dim": _dim(data, len(shape))}
    return (shape,), {
        "dim": tuple(data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    }


def draw_unsqueeze(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    return (shape,), {"dim": _dim(data, len(shape), extra=1)}


def draw_expand(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    lead = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2)))
    sizes = []
    for s in shape:
        if s == 1:
            sizes.append(data.draw(st.sampled_from([-1, 1, 2, 3])))
        else:
            sizes.append(data.draw(st.sampled_from([-1, s])))
    return (shape,), {"sizes": lead + tuple(sizes)}


def draw_broadcast_to(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape, target = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=3)
    )
    return (shape[0],), {"shape": target}


def draw_sum_to(data: Any) -> tuple[Shapes, dict[str, Any]]:
    target, shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=3)
    )
    return (shape,), {"shape": target[0]}


def draw_expand_as(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (shape,), target = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=3)
    )
    return (shape, target), {}


def draw_cat(data: Any) -> tuple[Shapes, dict[str, Any]]:
    base = list(_shape(data, min_dims=1))
    d = _dim(data, len(base))
    shapes = []
    for _ in range(data.draw(st.integers(1, 3), label="how many")):
        s = list(base)
        s[d] = data.draw(st.integers(0, 3))
        shapes.append(tuple(s))
    return tuple(shapes), {"dim": d, "_alias": data.draw(st.sampled_from(["cat", "concat", "concatenate"]))}


def draw_stack(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    k = data.draw(st.integers(1, 3), label="how many")
    return (shape,) * k, {"dim": _dim(data, len(shape), extra=1)}


def draw_split(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    d = _dim(data, len(shape))
    n = shape[d]
    if n and data.draw(st.booleans(), label="sizes list"):
        cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
        return (shape,), {"split_size_or_sections": sizes, "dim": d}
    return (shape,), {"split_size_or_sections": data.draw(st.integers(1, 3)), "dim": d}


def draw_chunk(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    return (shape,), {"chunks": data.draw(st.integers(1, 4)), "dim": _dim(data, len(shape))}


def draw_unbind(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    return (shape,), {"dim": _dim(data, len(shape))}


def draw_flip(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    dims = _dims(data, len(shape), allow_none=False)
    return (shape,), {"dims": dims}


def draw_pad(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    k = data.draw(st.integers(1, len(shape)), label="padded dims")
    pad = data.draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k), label="pad")
    return (shape,), {"pad": tuple(pad), "value": data.draw(st.sampled_from([0.0, 1.5, -2.0]))}


def draw_repeat(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, max_dims=2)
    extra = data.draw(st.integers(0, 2), label="extra dims")
    reps = tuple(
        data.draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra, max_size=len(shape) + extra))
    )
    return (shape,), {"sizes": reps}


def draw_max_dim(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_side=1)
    return (shape,), {
        "dim": _dim(data, len(shape)),
        "keepdim": data.draw(st.booleans()),
        "_alias": data.draw(st.booleans()),
    }


def draw_cumsum(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    return (shape,), {"dim": _dim(data, len(shape)), "_alias": data.draw(st.booleans())}


def draw_var(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=2)
    dim = _dims(data, len(shape))
    params: dict[str, Any] = {"dim": dim, "keepdim": data.draw(st.booleans())}
    how = data.draw(st.sampled_from(["default", "correction", "unbiased"]), label="correction spelling")
    if how == "correction":
        params["correction"] = data.draw(st.sampled_from([0, 1]))
    elif how == "unbiased":
        params["unbiased"] = data.draw(st.booleans())
    params["_alias"] = data.draw(st.booleans())
    return (shape,), params


# ---------------------------------------------------------------------------- indexing cases
def _basic_key(data: Any, shape: tuple[int, ...]) -> Any:
    items: list[Any] = []
    indexed = data.draw(st.integers(0, len(shape)), label="indexed dims")
    for n in shape[:indexed]:
        kind = data.draw(st.sampled_from(["int", "slice", "full"] if n else ["slice", "full"]))
        if kind == "int":
            items.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            items.append(slice(data.draw(bound), data.draw(bound), data.draw(st.none() | st.integers(1, 3))))
        else:
            items.append(slice(None))
    if data.draw(st.booleans(), label="insert None"):
        items.insert(data.draw(st.integers(0, len(items))), None)
    if data.draw(st.booleans(), label="insert Ellipsis"):  # anywhere when it stands for no dims, else last
        items.insert(data.draw(st.integers(0, len(items))) if indexed == len(shape) else len(items), Ellipsis)
    if len(items) == 1 and data.draw(st.booleans(), label="bare key"):
        return items[0]
    return tuple(items)


def draw_getitem_basic(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    return (shape,), {"key": _basic_key(data, shape)}


def _int_index(data: Any, n: int, unique: bool = False) -> np.ndarray:
    idx_shape = data.draw(
        hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=3), label="index shape"
    )
    if unique:
        count = math.prod(idx_shape)
        if count > n:
            idx_shape = (n,)
            count = n
        values = data.draw(st.permutations(list(range(n))))[:count]
        return np.array(values, dtype=np.int64).reshape(idx_shape)
    return np.array(
        data.draw(
            st.lists(st.integers(-n, n - 1), min_size=math.prod(idx_shape), max_size=math.prod(idx_shape))
        ),
        dtype=np.int64,
    ).reshape(idx_shape)


def _advanced_key(data: Any, shape: tuple[int, ...], unique: bool = False) -> Any:
    where = data.draw(
        st.sampled_from(["first", "second", "pair", "with slice"] if len(shape) >= 2 else ["first"])
    )
    if where == "first":
        return _int_index(data, shape[0], unique)
    if where == "second":
        return (slice(None), _int_index(data, shape[1], unique))
    if where == "with slice":
        return (_int_index(data, shape[0], unique), slice(1, None))
    a = _int_index(data, shape[0], unique)
    b = np.array(
        data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=a.size, max_size=a.size)), np.int64
    )
    return (a, b.reshape(a.shape)) if not unique else (a, np.zeros_like(a))


def draw_getitem_int_array(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    return (shape,), {"key": _advanced_key(data, shape), "_tensor_key": data.draw(st.booleans())}


def _mask(data: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(
        data.draw(st.lists(st.booleans(), min_size=math.prod(shape), max_size=math.prod(shape))), dtype=bool
    ).reshape(shape)


def draw_getitem_bool(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    k = data.draw(st.integers(1, len(shape)), label="mask dims")
    return (shape,), {"key": _mask(data, shape[:k]), "_tensor_key": data.draw(st.booleans())}


def draw_setitem(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    kind = data.draw(st.sampled_from(["basic", "int array", "mask"]))
    if kind == "basic":
        key = _basic_key(data, shape)
    elif kind == "mask":
        key = _mask(data, shape)
    else:
        key = _int_index(data, shape[0], unique=True)
    value_shape = np.empty(shape)[key].shape
    return (shape, value_shape), {"key": key}


def _along_index(data: Any, shape: tuple[int, ...], dim: int, broadcast: bool = False) -> np.ndarray:
    d = dim % len(shape)
    idx_shape = list(shape)
    idx_shape[d] = data.draw(st.integers(0, 3), label="index length")
    if broadcast:
        idx_shape = [1 if i != d and data.draw(st.booleans()) else s for i, s in enumerate(idx_shape)]
    count = math.prod(idx_shape)
    values = data.draw(st.lists(st.integers(0, shape[d] - 1), min_size=count, max_size=count), label="index")
    return np.array(values, dtype=np.int64).reshape(idx_shape)


def draw_gather(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    return (shape,), {"dim": d, "index": _along_index(data, shape, d)}


def draw_take_along_dim(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    return (shape,), {"dim": d, "indices": _along_index(data, shape, d, broadcast=True)}


def draw_index_select(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    n = shape[d]
    index = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=4)), dtype=np.int64)
    return (shape,), {"dim": d, "index": index}


def draw_masked_fill(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (mask_shape,), shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=3)
    )
    return (shape,), {"mask": _mask(data, mask_shape), "value": data.draw(st.sampled_from([0.0, -1.5, 3.0]))}


def draw_clamp_tensor(data: Any) -> tuple[Shapes, dict[str, Any]]:
    """torch.clamp broadcasts the bounds to the input's shape (not the other way round)."""
    shape = _shape(data)
    lo, hi = (_broadcasts_to(data, shape) for _ in "lh")
    return (shape, lo, hi), {"sides": data.draw(st.sampled_from(["min max", "min", "max"]), label="bounds")}


def _broadcasts_to(data: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape``: a suffix of it with some sizes replaced by 1."""
    k = data.draw(st.integers(0, len(shape)), label="trailing dims")
    return tuple(1 if data.draw(st.booleans()) else s for s in shape[len(shape) - k :])


def draw_where(data: Any) -> tuple[Shapes, dict[str, Any]]:
    cond_shape, a_shape, b_shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)
    ).input_shapes
    return (a_shape, b_shape), {"condition": _mask(data, cond_shape)}


def draw_where_scalar(data: Any) -> tuple[Shapes, dict[str, Any]]:
    cond_shape, shape = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=3)).input_shapes
    return (shape,), {
        "condition": _mask(data, cond_shape),
        "other": data.draw(st.sampled_from([0.0, 2.5])),
        "left": data.draw(st.booleans()),
    }


# ---------------------------------------------------------------------------- linear algebra cases
def draw_matmul(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, k, p = (data.draw(st.integers(0, 3), label=c) for c in "nkp")
    kinds = data.draw(
        st.tuples(st.sampled_from(["1d", "2d", "batched"]), st.sampled_from(["1d", "2d", "batched"]))
    )
    batch_a, batch_b = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2, min_side=1, max_side=3)
    ).input_shapes
    a = (k,) if kinds[0] == "1d" else ((n, k) if kinds[0] == "2d" else (*batch_a, n, k))
    b = (k,) if kinds[1] == "1d" else ((k, p) if kinds[1] == "2d" else (*batch_b, k, p))
    aliases = ["matmul", "@", "method"] + (["mm"] if kinds == ("2d", "2d") else [])  # torch.mm: matrices only
    return (a, b), {"_alias": data.draw(st.sampled_from(aliases))}


def draw_dot(data: Any) -> tuple[Shapes, dict[str, Any]]:
    k = data.draw(st.integers(0, 4))
    return ((k,), (k,)), {}


def draw_bmm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    bt, n, k, p = (data.draw(st.integers(0, 3), label=c) for c in "bnkp")
    return ((bt, n, k), (bt, k, p)), {}


def draw_outer(data: Any) -> tuple[Shapes, dict[str, Any]]:
    return ((data.draw(st.integers(0, 3)),), (data.draw(st.integers(0, 3)),)), {}


_EINSUM = [
    "ij,jk->ik",
    "i,i->",
    "i,j->ij",
    "bij,bjk->bik",
    "ij->ji",
    "ij->",
    "ij->j",
    "ii->i",
    "ii->",
    "iij->j",
    "ij,ij->i",
    "ijk,ik->j",
    "i,ij,j->",
    "ij,jk",
    "ii",
    "ij,kj->ik",
    "iji->j",
    "ab,ab->",
]


def draw_einsum(data: Any) -> tuple[Shapes, dict[str, Any]]:
    eq = data.draw(st.sampled_from(_EINSUM), label="equation")
    letters = sorted(set(eq) - set(",->"))
    size = {c: data.draw(st.integers(0, 3), label=f"size {c}") for c in letters}
    lhs = eq.split("->")[0]
    return tuple(tuple(size[c] for c in s) for s in lhs.split(",")), {"equation": eq}


# ---------------------------------------------------------------------------- torch-side helpers
def _t(a: Any) -> Any:
    return torch.as_tensor(a) if isinstance(a, np.ndarray) else a


def _tkey(key: Any) -> Any:
    return tuple(_t(k) for k in key) if isinstance(key, tuple) else _t(key)


def _crkey(key: Any, tensor_key: bool) -> Any:
    if not tensor_key:
        return key
    return (
        tuple(cr.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
        if isinstance(key, tuple)
        else cr.tensor(key)
    )


def _cr_setitem(x: Any, v: Any, key: Any) -> Any:
    y = x.clone()
    y[key] = v
    return y


def _th_setitem(x: Any, v: Any, key: Any) -> Any:
    y = x.clone()
    y[_tkey(key)] = v
    return y


def _cr_matmul(a: Any, b: Any, _alias: str = "matmul") -> Any:
    if _alias == "@":
        return a @ b
    if _alias == "method":
        return a.matmul(b)
    if _alias == "mm":
        return cr.mm(a, b)
    return cr.matmul(a, b)


def _th_logsumexp(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    dims = _all_dims(x, dim)
    return torch.logsumexp(x, dim=dims if dims != () else 0, keepdim=keepdim)


def _th_norm(x: Any, p: float = 2, dim: Any = None, keepdim: bool = False) -> Any:
    return torch.linalg.vector_norm(x, ord=p, dim=dim, keepdim=keepdim)


def _cr_norm(x: Any, p: float = 2, dim: Any = None, keepdim: bool = False, _alias: bool = False) -> Any:
    return x.norm(p, dim, keepdim) if _alias else cr.norm(x, p=p, dim=dim, keepdim=keepdim)


def _cr_var(name: str) -> Callable[..., Any]:
    def call(x: Any, dim: Any = None, keepdim: bool = False, _alias: bool = False, **p: Any) -> Any:
        if _alias:
            return getattr(x, name)(axis=dim, keepdims=keepdim, **p)
        return getattr(cr, name)(x, dim=dim, keepdim=keepdim, **p)

    return call


def _th_var(name: str) -> Callable[..., Any]:
    def call(
        x: Any, dim: Any = None, keepdim: bool = False, correction: Any = None, unbiased: Any = None
    ) -> Any:
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return getattr(torch, name)(
            x, dim=dim, keepdim=keepdim, correction=1 if correction is None else correction
        )

    return call


def _max_dim(name: str) -> Callable[..., Any]:
    def call(x: Any, dim: int, keepdim: bool, _alias: bool = False) -> Any:
        if _alias:
            return getattr(x, name)(axis=dim, keepdims=keepdim)
        return getattr(cr, name)(x, dim, keepdim)

    return call


def draw_sort(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_side=1)
    return (shape,), {"dim": _dim(data, len(shape)), "descending": data.draw(st.booleans())}


def draw_topk(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    k = data.draw(st.integers(0, shape[d]), label="k")
    return (shape,), {"k": k, "dim": d, "largest": data.draw(st.booleans())}


def draw_index_put(data: Any) -> tuple[Shapes, dict[str, Any]]:
    """x (n, ...) and values (len(index), ...); repeated indices only with accumulate (torch's rule)."""
    shape = _shape(data, min_dims=1, min_side=1)
    accumulate = data.draw(st.booleans(), label="accumulate")
    n = shape[0]
    if accumulate:
        index = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=4)), dtype=np.int64)
    else:
        index = np.array(data.draw(st.permutations(list(range(n))))[: data.draw(st.integers(0, n))])
    return (shape, (len(index), *shape[1:])), {"index": index.astype(np.int64), "accumulate": accumulate}


def draw_index_add(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    n = shape[d]
    index = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=4)), dtype=np.int64)
    source = list(shape)
    source[d] = len(index)
    return (shape, tuple(source)), {"dim": d, "index": index, "alpha": data.draw(st.sampled_from([1, 2.5]))}


# ---- indexing, scatter and search draws (issue 14)
def _scatter_index(data: Any, shape: tuple[int, ...], d: int, unique: bool) -> np.ndarray:
    """A scatter/gather index: at most ``shape`` in the other dims, any length (<= 3) along ``d``; with
    ``unique``, no position written twice (plain ``scatter`` is nondeterministic on repeats)."""
    idx_shape = [data.draw(st.integers(1, s), label="index side") for s in shape]
    top = shape[d] if unique else 3
    idx_shape[d] = data.draw(st.integers(0, top), label="index length")
    rng = data.draw(st.randoms(use_true_random=False), label="rng")
    out = np.zeros(idx_shape, dtype=np.int64)
    for col in np.ndindex(*[s for i, s in enumerate(idx_shape) if i != d]):
        pos = list(col)
        pos.insert(d, slice(None))
        n = idx_shape[d]
        picks = rng.sample(range(shape[d]), n) if unique else [rng.randrange(shape[d]) for _ in range(n)]
        out[tuple(pos)] = picks
    return out


def draw_scatter(data: Any, unique: bool = True, **choices: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    index = _scatter_index(data, shape, d % len(shape), unique)
    params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
    # src has the index's shape: torch's backward fails for a larger src (its src gradient is index-sized)
    return (shape, index.shape), {"dim": d, "index": index, **params}


def draw_scatter_value(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    value = data.draw(st.sampled_from([0.0, -1.5, 2.0]), label="value")
    return (shape,), {"dim": d, "index": _scatter_index(data, shape, d % len(shape), True), "value": value}


def _index_along(data: Any, n: int, unique: bool) -> np.ndarray:
    if unique:
        return np.array(data.draw(st.permutations(list(range(n))))[: data.draw(st.integers(0, n))], np.int64)
    return np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=4)), dtype=np.int64)


def draw_index_along(data: Any, unique: bool = True, **choices: Any) -> tuple[Shapes, dict[str, Any]]:
    """index_copy/index_reduce: a 1-d index along ``dim`` and a source with that many slices."""
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    index = _index_along(data, shape[d], unique)
    source = list(shape)
    source[d] = len(index)
    params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
    return (shape, tuple(source)), {"dim": d, "index": index, **params}


def draw_index_fill(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=0, min_side=1)
    d = _dim(data, len(shape))
    index = _index_along(data, shape[d] if shape else 1, False)
    return (shape,), {
        "dim": d,
        "index": index,
        "value": data.draw(st.sampled_from([0.0, -2.5]), label="value"),
    }


def draw_masked_select(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (mask_shape,), shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=3)
    )
    return (shape,), {"mask": _mask(data, mask_shape)}


def draw_masked_scatter(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    mask = _mask(data, _broadcasts_to(data, shape))
    return (shape, shape), {"mask": mask}


def draw_take(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_side=1)
    n = math.prod(shape)
    index_shape = _shape(data, max_dims=2)
    count = math.prod(index_shape)
    values = data.draw(st.lists(st.integers(-n, n - 1), min_size=count, max_size=count), label="index")
    return (shape,), {"index": np.array(values, dtype=np.int64).reshape(index_shape)}


def draw_put(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_side=1)
    accumulate = data.draw(st.booleans(), label="accumulate")
    n = math.prod(shape)
    index = _index_along(data, n, unique=not accumulate)
    return (shape, (len(index),)), {"index": index, "accumulate": accumulate}


# ---- pooling, resampling, fold, dropouts (issue 14): draws
_INTERP_MODES = {
    "nearest": 0,
    "nearest-exact": 0,
    "area": 0,
    "linear": 1,
    "bilinear": 2,
    "bicubic": 2,
    "trilinear": 3,
}


def draw_interpolate(data: Any) -> tuple[Shapes, dict[str, Any]]:
    mode = data.draw(st.sampled_from(sorted(_INTERP_MODES)), label="mode")
    nd = _INTERP_MODES[mode] or data.draw(st.integers(1, 3), label="nd")
    spatial = tuple(data.draw(st.integers(1, 5), label="side") for _ in range(nd))
    params: dict[str, Any] = {"mode": mode}
    if data.draw(st.booleans(), label="by size"):
        params["size"] = tuple(data.draw(st.integers(1, 7), label="out") for _ in range(nd))
    else:
        params["scale_factor"] = data.draw(st.sampled_from([0.6, 1.0, 1.7, 2.0, 2.5]), label="scale")
        if min(spatial) * params["scale_factor"] < 1:
            params["scale_factor"] = 2.0
        params["recompute_scale_factor"] = data.draw(st.sampled_from([None, True, False]), label="recompute")
    if _INTERP_MODES[mode]:
        params["align_corners"] = data.draw(st.booleans(), label="align_corners")
    return ((2, 2, *spatial),), params


def draw_unfold(data: Any) -> tuple[Shapes, dict[str, Any]]:
    k = (data.draw(st.integers(1, 3), label="kh"), data.draw(st.integers(1, 3), label="kw"))
    d = data.draw(st.integers(1, 2), label="dilation")
    p = data.draw(st.integers(0, 1), label="padding")
    s = data.draw(st.integers(1, 2), label="stride")
    h = data.draw(st.integers(max(1, d * (k[0] - 1) + 1 - 2 * p), 5), label="h")
    w = data.draw(st.integers(max(1, d * (k[1] - 1) + 1 - 2 * p), 5), label="w")
    batch = data.draw(st.sampled_from([(), (2,)]), label="batch")
    return ((*batch, 2, h, w),), {"kernel_size": k, "dilation": d, "padding": p, "stride": s}


def draw_fold(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (shape,), params = draw_unfold(data)
    h, w = shape[-2:]
    kh, kw = params["kernel_size"]
    d, p, s = params["dilation"], params["padding"], params["stride"]
    blocks = ((h + 2 * p - d * (kh - 1) - 1) // s + 1) * ((w + 2 * p - d * (kw - 1) - 1) // s + 1)
    return ((*shape[:-3], 2 * kh * kw, blocks),), {**params, "output_size": (h, w)}


def draw_pixel_shuffle(data: Any) -> tuple[Shapes, dict[str, Any]]:
    r = data.draw(st.integers(1, 3), label="r")
    lead = data.draw(st.sampled_from([(), (2,), (1, 2)]), label="lead")
    return ((*lead, 2 * r * r, 2, 3),), {"upscale_factor": r}


def draw_pixel_unshuffle(data: Any) -> tuple[Shapes, dict[str, Any]]:
    r = data.draw(st.integers(1, 3), label="r")
    lead = data.draw(st.sampled_from([(), (2,)]), label="lead")
    return ((*lead, 2, 2 * r, r),), {"downscale_factor": r}


def draw_channel_shuffle(data: Any) -> tuple[Shapes, dict[str, Any]]:
    g = data.draw(st.integers(1, 3), label="groups")
    rest = data.draw(st.sampled_from([(3,), (2, 3), (1, 2, 2)]), label="spatial")
    return ((2, 2 * g, *rest),), {"groups": g}


def draw_adaptive_pool(nd: int) -> Draw:
    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        spatial = tuple(data.draw(st.integers(1, 6), label="side") for _ in range(nd))
        out = tuple(data.draw(st.integers(1, 4), label="out") for _ in range(nd))
        batch = data.draw(st.sampled_from([(), (2,)]), label="batch")
        return ((*batch, 2, *spatial),), {"output_size": out}

    return draw


def draw_max_unpool2d(data: Any) -> tuple[Shapes, dict[str, Any]]:
    h, w = data.draw(st.integers(1, 3), label="h"), data.draw(st.integers(1, 3), label="w")
    k = 2
    out = (h * k, w * k)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="index seed"))
    idx = np.stack([rng.permutation(out[0] * out[1])[: h * w] for _ in range(4)]).reshape(2, 2, h, w)
    return ((2, 2, h, w),), {"indices": idx.astype(np.int64), "kernel_size": k}


def draw_conv_transpose3d(data: Any) -> tuple[Shapes, dict[str, Any]]:
    groups = data.draw(st.integers(1, 2), label="groups")
    k = tuple(data.draw(st.integers(1, 2), label="k") for _ in range(3))
    stride = data.draw(st.integers(1, 2), label="stride")
    spatial = tuple(data.draw(st.integers(1, 3), label="side") for _ in range(3))
    return ((1, 2 * groups, *spatial), (2 * groups, 1, *k)), {"stride": stride, "groups": groups}


def draw_embedding_bag(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, d = data.draw(st.integers(1, 5), label="rows"), data.draw(st.integers(1, 3), label="dim")
    size = data.draw(st.integers(1, 6), label="indices")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="index seed"))
    idx = rng.integers(0, n, size).astype(np.int64)
    offsets = np.unique(np.concatenate([[0], rng.integers(0, size + 1, 2)])).astype(np.int64)
    mode = data.draw(st.sampled_from(["sum", "mean", "max"]), label="mode")
    return ((n, d),), {"idx": idx, "offsets": offsets, "mode": mode}


# ---- elementwise math (issue 14): helpers
def _mf(name: str, pre: Callable[[Any], Any] = lambda x: x) -> Callable[..., Any]:
    """``x.name(**p)`` or ``cr.name(x, **p)`` on ``pre(x)`` (maps a drawn domain into the op's)."""

    def call(x: Any, *rest: Any, _method: bool = False, **p: Any) -> Any:
        x = pre(x)
        return getattr(x, name)(*rest, **p) if _method else getattr(cr, name)(x, *rest, **p)

    return call


def _fn(cr_fn: Callable[..., Any]) -> Callable[..., Any]:
    """A chainrule call that ignores the drawn ``_method`` switch."""

    def call(*xs: Any, _method: bool = False, **p: Any) -> Any:
        return cr_fn(*xs, **p)

    return call


def _eu(name: str, th: Callable[..., Any], domain: str = "real", pre: Callable[[Any], Any] = lambda x: x,
        aliases: tuple[str, ...] = (), **choices: Any) -> OpSpec:  # fmt: skip
    return OpSpec(name, _mf(name, pre), lambda x, **p: th(pre(x), **p), unary(**choices), domain=domain,
                  aliases=aliases)  # fmt: skip


def _eb(name: str, th: Callable[..., Any], domain: Any = "real", num: int = 2, aliases: tuple[str, ...] = (),
        **choices: Any) -> OpSpec:  # fmt: skip
    draw = broadcast(num, **choices)
    return OpSpec(name, _fn(getattr(cr, name)), th, draw, domain=domain, broadcasts=True, aliases=aliases)


def _sp(
    name: str, th: Callable[..., Any], domain: str = "real", pre: Callable[[Any], Any] = lambda x: x
) -> OpSpec:
    return OpSpec(f"special.{name}", _fn(lambda x: getattr(cr.special, name)(pre(x))), lambda x: th(pre(x)),
                  unary(), domain=domain)  # fmt: skip


def _into_unit(x: Any) -> Any:
    return x * 0.8  # from the "unit" domain [-1.2, 1.2] into (-1, 1)


# ---------------------------------------------------------------------------- the registry
def _unary(name: str, th: Callable[..., Any], domain: str = "real", **choices: Any) -> OpSpec:
    return OpSpec(name, _method_or_function(name), th, unary(**choices), domain=domain)


def _F() -> Any:  # noqa: N802
    return torch.nn.functional


# ---- linear algebra (issue 14): draws and helpers
def _side(data: Any, label: str, lo: int = 0, hi: int = 3) -> int:
    return data.draw(st.integers(lo, hi), label=label)


def _batch(data: Any) -> tuple[int, ...]:
    return data.draw(st.sampled_from([(), (2,), (1, 2)]), label="batch")


def draw_addmm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, k, p = (_side(data, c) for c in "nkp")
    inp = data.draw(st.sampled_from([(n, p), (p,), (1, p), ()]), label="input shape")
    return (inp, (n, k), (k, p)), _scales(data)


def _scales(data: Any) -> dict[str, Any]:
    return {
        "beta": data.draw(st.sampled_from([1, 0.5, 0]), label="beta"),
        "alpha": data.draw(st.sampled_from([1, -2.0]), label="alpha"),
        "_method": data.draw(st.booleans(), label="method"),
    }


def draw_addmv(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, k = _side(data, "n"), _side(data, "k")
    inp = data.draw(st.sampled_from([(n,), ()])) if n else (n,)  # torch gives shape () for () and n == 0
    return (inp, (n, k), (k,)), _scales(data)


def draw_addbmm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    b, n, k, p = (_side(data, c) for c in "bnkp")
    return ((n, p), (b, n, k), (b, k, p)), _scales(data)


def draw_baddbmm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    b, n, k, p = (_side(data, c) for c in "bnkp")
    return (data.draw(st.sampled_from([(b, n, p), (n, p)])), (b, n, k), (b, k, p)), _scales(data)


def draw_addr(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, m = _side(data, "n"), _side(data, "m")
    return ((n, m), (n,), (m,)), _scales(data)


def draw_mv(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, k = _side(data, "n"), _side(data, "k")
    return ((n, k), (k,)), {}


def draw_vdot(data: Any) -> tuple[Shapes, dict[str, Any]]:
    k = _side(data, "k", 0, 4)
    return ((k,), (k,)), {}


def draw_cross(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = [_side(data, "a", 1), _side(data, "b", 1)]
    d = data.draw(st.integers(0, 2), label="dim")
    shape.insert(d, 3)
    return (tuple(shape), tuple(shape)), {"dim": d - 3 if data.draw(st.booleans()) else d}


def draw_square(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n = _side(data, "n", 1)
    return ((*_batch(data), n, n),), {}


def draw_matrix(data: Any) -> tuple[Shapes, dict[str, Any]]:
    m, n = _side(data, "m", 1), _side(data, "n", 1)
    return ((*_batch(data), m, n),), {}


def draw_square_power(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shapes, _ = draw_square(data)
    return shapes, {"n": data.draw(st.integers(-2, 3), label="power")}


def draw_square_rhs(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, k = _side(data, "n", 1), _side(data, "k", 1)
    batch = _batch(data)
    return ((*batch, n, n), (*batch, n, k)), {"upper": data.draw(st.booleans(), label="upper")}


def draw_triangular_solve(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, k = _side(data, "n", 1), _side(data, "k", 1)
    flags = {c: data.draw(st.booleans(), label=c) for c in ("upper", "transpose", "unitriangular")}
    return ((n, k), (n, n)), flags


def draw_upper(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shapes, _ = draw_square(data)
    return shapes, {"upper": data.draw(st.booleans(), label="upper")}


def draw_qr(data: Any) -> tuple[Shapes, dict[str, Any]]:
    m, n = _side(data, "m", 1), _side(data, "n", 1)
    return ((m, n),), {"some": m > n or data.draw(st.booleans(), label="some")}


def draw_vector_norm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    ord_ = data.draw(st.sampled_from([2, 1, 3, 0.5, float("inf"), -float("inf")]), label="ord")
    return (shape,), {"ord": ord_, "dim": _dims(data, len(shape)), "keepdim": data.draw(st.booleans())}


def draw_matrix_norm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shapes, _ = draw_matrix(data)
    ord_ = data.draw(st.sampled_from(["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")]), label="ord")
    return shapes, {"ord": ord_, "keepdim": data.draw(st.booleans())}


def draw_multi_dot(data: Any) -> tuple[Shapes, dict[str, Any]]:
    sides = [_side(data, f"s{i}", 1) for i in range(4)]
    shapes = [(sides[i], sides[i + 1]) for i in range(3)]
    if data.draw(st.booleans(), label="row first"):
        shapes[0] = (sides[1],)
    return tuple(shapes), {}


def draw_vander(data: Any) -> tuple[Shapes, dict[str, Any]]:
    return ((*_batch(data), _side(data, "n", 2)),), {"N": data.draw(st.sampled_from([None, 2, 4]))}


def _spd(lib: Any, a: Any) -> Any:
    """A well-conditioned symmetric positive-definite matrix made from ``a`` (differentiably)."""
    n = a.shape[-1]
    return (
        a @ a.mT
        + lib.eye(n, dtype=lib.float64 if a.dtype in (np.float64, torch.float64) else lib.float32) * n
    )


def _well(lib: Any, a: Any) -> Any:
    """``a`` plus 3 I: far from singular for the small gaussian matrices drawn here."""
    n = a.shape[-1]
    return a + lib.eye(n, dtype=lib.float64 if a.dtype in (np.float64, torch.float64) else lib.float32) * 3


def _fused(name: str) -> Callable[..., Any]:
    def call(x: Any, a: Any, b: Any, beta: Any, alpha: Any, _method: bool = False) -> Any:
        if _method:
            return getattr(x, name)(a, b, beta=beta, alpha=alpha)
        return getattr(cr, name)(x, a, b, beta=beta, alpha=alpha)

    return call


# ---- nn.functional activations, distances, losses, norms (issue 14): draws and call helpers
def _crF() -> Any:  # noqa: N802
    return cr.nn.functional


def _signs(data: Any, shape: tuple[int, ...], label: str = "target") -> np.ndarray:
    seed = data.draw(st.integers(0, 2**16), label=label)
    return np.random.default_rng(seed).choice([-1.0, 1.0], shape)


def draw_glu(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = list(_shape(data, min_dims=1, min_side=1))
    dim = _dim(data, len(shape))
    shape[dim] *= 2
    return (tuple(shape),), {"dim": dim}


def draw_prelu(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=2, min_side=1)
    per_channel = data.draw(st.booleans(), label="per channel")
    return (shape, (shape[1],) if per_channel else (1,)), {}


def draw_rows(data: Any, num: int = 2, **choices: Any) -> tuple[Shapes, dict[str, Any]]:
    n, d = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 4), label="cols")
    params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
    return ((n, d),) * num, params


def _rows(num: int = 2, **choices: Any) -> Draw:
    return lambda data: draw_rows(data, num, **choices)


def draw_pdist(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, m = data.draw(st.integers(2, 5), label="rows"), data.draw(st.integers(1, 4), label="cols")
    return ((n, m),), {"p": data.draw(st.sampled_from([2.0, 1.0, 3.0]), label="p")}


def draw_cdist(data: Any) -> tuple[Shapes, dict[str, Any]]:
    b, pr, r, m = (data.draw(st.integers(1, 3), label=k) for k in ("batch", "P", "R", "M"))
    p = data.draw(st.sampled_from([2.0, 1.0, 3.0]), label="p")
    return ((b, pr, m), (b, r, m)), {"p": p}


def draw_signed_target(data: Any, **choices: Any) -> tuple[Shapes, dict[str, Any]]:
    """One input and a ±1 target of its shape (hinge, soft-margin, margin-ranking losses)."""
    shape = _shape(data, min_dims=1, min_side=1)
    params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
    return (shape,), {"target": _signs(data, shape), **params}


def _signed(**choices: Any) -> Draw:
    return lambda data: draw_signed_target(data, **choices)


def draw_margin_ranking(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    margin = data.draw(st.sampled_from([0.0, 0.5]), label="margin")
    return (shape, shape), {"target": _signs(data, shape), "margin": margin, "reduction": "sum"}


def draw_cosine_embedding(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, d = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 4), label="cols")
    margin = data.draw(st.sampled_from([0.0, 0.3]), label="margin")
    red = data.draw(st.sampled_from(["mean", "none"]), label="reduction")
    return ((n, d), (n, d)), {"target": _signs(data, (n,)), "margin": margin, "reduction": red}


def draw_multilabel(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, c = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 5), label="classes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="target"))
    return ((n, c),), {"target": rng.integers(0, 2, (n, c)).astype(np.float64)}


def draw_multilabel_margin(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, c = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 5), label="classes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="target"))
    t = np.full((n, c), -1, dtype=np.int64)
    for row in t:
        k = rng.integers(0, c + 1)
        row[:k] = rng.permutation(c)[:k]
    return ((n, c),), {"target": t}


def draw_multi_margin(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n, c = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 5), label="classes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="target"))
    p = data.draw(st.sampled_from([1, 2]), label="p")
    margin = data.draw(st.sampled_from([1.0, 0.5]), label="margin")
    return ((n, c),), {"target": rng.integers(0, c, n), "p": p, "margin": margin}


def draw_poisson(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="target"))
    full = data.draw(st.booleans(), label="full")
    return (shape,), {"target": rng.integers(0, 5, shape).astype(np.float64), "full": full}


def draw_gaussian(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    homoscedastic = data.draw(st.booleans(), label="var without last dim")
    full = data.draw(st.booleans(), label="full")
    return (shape, shape, shape[:-1] if homoscedastic else shape), {"full": full}


def draw_rms_norm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    k = data.draw(st.integers(1, len(shape)), label="normalized dims")
    eps = data.draw(st.sampled_from([None, 1e-5]), label="eps")
    return (shape, shape[len(shape) - k :]), {"normalized_shape": shape[len(shape) - k :], "eps": eps}


def draw_lrn(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=3, max_dims=4, min_side=1)
    size = data.draw(st.integers(1, 4), label="size")
    return (shape,), {"size": size, "alpha": 0.5, "beta": 0.75, "k": 1.0}


def _with_target(name: str, torch_side: bool) -> Callable[..., Any]:
    """``F.name(*xs, target, **p)`` with the drawn target array as a tensor."""

    def call(*xs: Any, target: np.ndarray, **p: Any) -> Any:
        if torch_side:
            return getattr(_F(), name)(*xs, torch.as_tensor(target), **p)
        return getattr(_crF(), name)(*xs, cr.tensor(target), **p)

    return call


def _th_fused(name: str) -> Callable[..., Any]:
    return lambda x, a, b, beta, alpha: getattr(torch, name)(x, a, b, beta=beta, alpha=alpha)


def _svd_invariants(lib: Any) -> Callable[..., Any]:
    """torch.svd's outputs up to the singular vectors' signs (LAPACK builds pick them differently)."""

    def call(a: Any, some: bool = True) -> Any:
        U, S, V = lib.svd(a, some=some)
        k = S.shape[-1]
        return U[..., :k].abs(), S, V[..., :k].abs()

    return call


def draw_cholesky_solve(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (a, b), params = draw_square_rhs(data)
    return (b, a), params


def draw_solve(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (a, b), params = draw_square_rhs(data)
    left = params["upper"]
    return (a, b if left else (*b[:-2], b[-1], b[-2])), {"left": left}


# ---- shape and layout ops (issue 14): draws
def _draw_dim_op(min_dims: int = 1, min_side: int = 0, **extra: Callable[[Any, tuple, int], Any]) -> Draw:
    """One input and a dim; ``extra`` draws more parameters from (data, shape, normalised dim)."""

    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        shape = _shape(data, min_dims=min_dims, min_side=min_side)
        dim = _dim(data, len(shape))
        params = {"dim": dim, **{k: f(data, shape, dim % max(len(shape), 1)) for k, f in extra.items()}}
        return (shape,), params

    return draw


def _draw_shape_only(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, **choices: Any) -> Draw:
    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        params = {k: data.draw(st.sampled_from(v), label=k) for k, v in choices.items()}
        return (_shape(data, min_dims=min_dims, max_dims=max_dims, min_side=min_side),), params

    return draw


def _draw_many(num: tuple[int, int], same: bool, min_dims: int = 0, max_dims: int = 3) -> Draw:
    """Several inputs: all of one shape (``same``) or of free shapes."""

    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        n = data.draw(st.integers(*num), label="count")
        if same:
            shape = _shape(data, min_dims=min_dims, max_dims=max_dims)
            return (shape,) * n, {}
        return tuple(_shape(data, min_dims=min_dims, max_dims=max_dims) for _ in range(n)), {}

    return draw


def _draw_stack_like(kind: str) -> Draw:
    """Inputs hstack/vstack/dstack/column_stack accept: one shape except along the joined dim."""

    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        n = data.draw(st.integers(1, 3), label="count")
        ndim = data.draw(st.integers(0, 3), label="ndim")
        base = list(_shape(data, min_dims=ndim, max_dims=ndim, min_side=1))
        join = {"hstack": 0 if ndim == 1 else 1, "vstack": 0, "dstack": 2, "column_stack": 1}[kind]
        one_d = ndim == 1 and kind in ("hstack", "column_stack", "vstack")
        if ndim == 0 or one_d or join >= ndim:
            return (tuple(base),) * n, {}
        shapes = []
        for _ in range(n):
            s = list(base)
            s[join] = data.draw(st.integers(1, 3), label="joined size")
            shapes.append(tuple(s))
        return tuple(shapes), {}

    return draw


def _draw_narrow(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    d = _dim(data, len(shape))
    n = shape[d]
    start = data.draw(st.integers(-n, n) if n else st.just(0), label="start")
    s = start + n if start < 0 else start
    return (shape,), {"dim": d, "start": start, "length": data.draw(st.integers(0, n - s), label="length")}


def _draw_select(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    d = _dim(data, len(shape))
    return (shape,), {"dim": d, "index": data.draw(st.integers(-shape[d], shape[d] - 1), label="index")}


def _draw_unflatten(data: Any) -> tuple[Shapes, dict[str, Any]]:
    a, b = data.draw(st.integers(1, 3), label="a"), data.draw(st.integers(0, 3), label="b")
    shape = list(_shape(data, max_dims=2))
    d = data.draw(st.integers(0, len(shape)), label="at")
    shape.insert(d, a * b)
    sizes = (a, b) if data.draw(st.booleans(), label="explicit") or b == 0 else (a, -1)
    return (tuple(shape),), {"dim": d - len(shape) if data.draw(st.booleans()) else d, "sizes": sizes}


def _draw_movedim(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    nd = len(shape)
    k = data.draw(st.integers(1, nd), label="moved")
    src = data.draw(st.lists(st.integers(0, nd - 1), min_size=k, max_size=k, unique=True), label="source")
    dst = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=k, max_size=k, unique_by=lambda v: v % nd))
    return (shape,), {"source": tuple(src), "destination": tuple(dst)}


def _draw_roll(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    if data.draw(st.booleans(), label="flat"):
        return (shape,), {"shifts": data.draw(st.integers(-5, 5)), "dims": None}
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return (shape,), {"shifts": tuple(data.draw(st.integers(-4, 4)) for _ in dims), "dims": tuple(dims)}


def _draw_rot90(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=2)
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2, unique=True))
    return (shape,), {"k": data.draw(st.integers(-5, 5), label="k"), "dims": tuple(dims)}


def _draw_repeat_interleave(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=0)
    dim = None if not shape or data.draw(st.booleans(), label="flat") else _dim(data, len(shape))
    n = math.prod(shape) if dim is None else shape[dim]
    if data.draw(st.booleans(), label="int repeats"):
        return (shape,), {"repeats": data.draw(st.integers(0, 3)), "dim": dim}
    reps = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    return (shape,), {"repeats": reps, "dim": dim}


def _draw_diagonal(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=2)
    d1, d2 = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2, unique=True))
    return (shape,), {"offset": data.draw(st.integers(-3, 3)), "dim1": d1, "dim2": d2 - len(shape)}


def _draw_diag_embed(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    n = len(shape) + 1
    d1, d2 = data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    return (shape,), {"offset": data.draw(st.integers(-2, 2)), "dim1": d1, "dim2": d2}


def _draw_tensor_split(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    d = _dim(data, len(shape))
    if data.draw(st.booleans(), label="sections"):
        return (shape,), {"indices_or_sections": data.draw(st.integers(1, 4)), "dim": d}
    idx = data.draw(st.lists(st.integers(-4, 5), max_size=3), label="indices")
    return (shape,), {"indices_or_sections": tuple(idx), "dim": d}


def _draw_kron(data: Any) -> tuple[Shapes, dict[str, Any]]:
    return (_shape(data, max_dims=3), _shape(data, max_dims=3)), {}


def _draw_tensordot(data: Any) -> tuple[Shapes, dict[str, Any]]:
    k = data.draw(st.integers(0, 2), label="contracted")
    shared = _shape(data, min_dims=k, max_dims=k)
    fa, fb = _shape(data, max_dims=2), _shape(data, max_dims=2)
    if data.draw(st.booleans(), label="int dims"):
        return (fa + shared, shared + fb), {"dims": k}
    perm = data.draw(st.permutations(range(k)), label="order")
    da = list(range(len(fa), len(fa) + k))
    db = [perm[i] for i in range(k)]
    b_shape = tuple(shared[perm.index(j)] for j in range(k)) + fb
    return (fa + shared, b_shape), {"dims": (da, [perm.index(i) for i in range(k)] if k else db)}


def _draw_inner(data: Any) -> tuple[Shapes, dict[str, Any]]:
    if data.draw(st.booleans(), label="scalar"):
        return ((), _shape(data, max_dims=2)), {}
    last = data.draw(st.integers(0, 3), label="last")
    return ((*_shape(data, max_dims=2), last), (*_shape(data, max_dims=2), last)), {}


def _draw_block_diag(data: Any) -> tuple[Shapes, dict[str, Any]]:
    n = data.draw(st.integers(1, 3), label="count")
    # no 1-d empty tensors: torch's backward misplaces the blocks after one (its forward is right)
    return tuple(s if s != (0,) else (1,) for s in (_shape(data, max_dims=2) for _ in range(n))), {}


def _draw_unfold(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    d = _dim(data, len(shape))
    size = data.draw(st.integers(0, shape[d]), label="size")
    return (shape,), {"dimension": d, "size": size, "step": data.draw(st.integers(1, 3), label="step")}


def _draw_scatter(kind: str) -> Draw:
    def draw(data: Any) -> tuple[Shapes, dict[str, Any]]:
        if kind == "diagonal":
            (shape,), params = _draw_diagonal(data)
            src = np.empty(shape).diagonal(params["offset"], params["dim1"], params["dim2"]).shape
            return (shape, src), params
        if kind == "select":
            (shape,), params = _draw_select(data)
            return (shape, _selected(shape, params)), params
        shape = _shape(data, min_dims=1)
        d = _dim(data, len(shape))
        start = data.draw(st.one_of(st.none(), st.integers(0, 3)), label="start")
        end = data.draw(st.one_of(st.none(), st.integers(0, 4)), label="end")
        step = data.draw(st.integers(1, 2), label="step")
        key = (slice(None),) * (d % len(shape)) + (slice(start, end, step),)
        return (shape, np.empty(shape)[key].shape), {"dim": d, "start": start, "end": end, "step": step}

    return draw


def _selected(shape: tuple[int, ...], params: dict[str, Any]) -> tuple[int, ...]:
    d = params["dim"] % len(shape)
    return shape[:d] + shape[d + 1 :]


def _draw_pad_crop(data: Any) -> tuple[Shapes, dict[str, Any]]:
    """F.pad with negative (cropping) and positive widths, in every mode."""
    shape = _shape(data, min_dims=2, max_dims=4, min_side=3, max_side=4)
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]), label="mode")
    k = len(shape) - 1 if mode != "constant" else data.draw(st.integers(1, len(shape)), label="padded dims")
    lo = -1 if mode == "circular" else -2
    pad = data.draw(st.lists(st.integers(lo, 2), min_size=2 * k, max_size=2 * k), label="pad")
    return (shape,), {"pad": tuple(pad), "mode": mode}


def _draw_constant_pad_nd(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=2)
    k = data.draw(st.integers(1, len(shape)), label="padded dims")
    pad = data.draw(st.lists(st.integers(-1, 2), min_size=2 * k, max_size=2 * k), label="pad")
    return (shape,), {"pad": tuple(pad), "value": data.draw(st.sampled_from([0.0, -1.5]), label="value")}


def _with_method(draw: Draw) -> Draw:
    """``draw`` plus a drawn ``_method`` switch (Tensor method or function form)."""

    def wrapped(data: Any) -> tuple[Shapes, dict[str, Any]]:
        shapes, params = draw(data)
        return shapes, {**params, "_method": data.draw(st.booleans(), label="method form")}

    return wrapped


def _draw_matrix(data: Any) -> tuple[Shapes, dict[str, Any]]:
    return (_shape(data, min_dims=2, max_dims=2),), {"_method": data.draw(st.booleans(), label="method form")}


def _reversed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(reversed(shape))


def _draw_tile(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data)
    n = data.draw(st.integers(0, len(shape) + 1), label="count of reps")
    return (shape,), {"dims": tuple(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))}


def _draw_split_sizes(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    d = _dim(data, len(shape))
    cuts = sorted(data.draw(st.lists(st.integers(0, shape[d]), min_size=1, max_size=3), label="cuts"))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, shape[d]])]
    return (shape,), {"split_sizes": sizes, "dim": d}


#: ``*_copy`` ops called the same way on chainrule (``m=cr``) and torch (``m=torch``).
_COPIES: dict[str, Callable[[Any, Any], Any]] = {
    "alias_copy": lambda m, x: m.alias_copy(x),
    "expand_copy": lambda m, x: m.expand_copy(x, (2, *x.shape)),
    "permute_copy": lambda m, x: m.permute_copy(x, tuple(range(x.ndim))[::-1]),
    "t_copy": lambda m, x: m.t_copy(x),
    "transpose_copy": lambda m, x: m.transpose_copy(x, 0, -1),
    "unsqueeze_copy": lambda m, x: m.unsqueeze_copy(x, 0),
    "squeeze_copy": lambda m, x: m.squeeze_copy(x),
    "view_copy": lambda m, x: m.view_copy(x, (-1,)),
    "unbind_copy": lambda m, x: m.unbind_copy(x, 0),
}


def _draw_copy(data: Any) -> tuple[Shapes, dict[str, Any]]:
    return (_shape(data, min_dims=1, max_dims=2),), {"fn": data.draw(st.sampled_from(sorted(_COPIES)))}


# ---- reductions, order statistics, scans (issue 14): draws
def draw_dim1(data: Any) -> tuple[Shapes, dict[str, Any]]:
    """One non-empty input and one dim, keepdim drawn."""
    shape = _shape(data, min_dims=1, min_side=1)
    return (shape,), {"dim": _dim(data, len(shape)), "keepdim": data.draw(st.booleans(), label="keepdim")}


def draw_kthvalue(data: Any) -> tuple[Shapes, dict[str, Any]]:
    (shape,), params = draw_dim1(data)
    return (shape,), {**params, "k": data.draw(st.integers(1, shape[params["dim"]]), label="k")}


def draw_quantile(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="dim")
    how = data.draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]), label="how")
    q = data.draw(st.floats(0, 1), label="q")
    return (shape,), {"q": q, "dim": dim, "keepdim": data.draw(st.booleans()), "interpolation": how}


def draw_scan(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1)
    return (shape,), {"dim": _dim(data, len(shape))}


def draw_diff(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=1, max_side=4)
    return (shape,), {"n": data.draw(st.integers(0, 2), label="n"), "dim": _dim(data, len(shape))}


def draw_var_mean(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, min_side=2)
    return (shape,), {"dim": _dim(data, len(shape)), "keepdim": data.draw(st.booleans(), label="keepdim")}


def draw_cov(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=1, max_dims=2, min_side=3, max_side=4)
    return (shape,), {"correction": data.draw(st.sampled_from([0, 1]), label="correction")}


def draw_renorm(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shape = _shape(data, min_dims=2, min_side=1)
    p = data.draw(st.sampled_from([1, 2, 3]), label="p")
    return (shape,), {
        "p": p,
        "dim": _dim(data, len(shape)),
        "maxnorm": data.draw(st.sampled_from([0.5, 1.0])),
    }


def draw_dist(data: Any) -> tuple[Shapes, dict[str, Any]]:
    shapes, params = broadcast(p=[1, 2, 3])(data)
    return shapes, {"p": params["p"]}


# ---- h-ctc: ctc_loss draws (padded or concatenated targets, repeats, infeasible ones with zero_infinity)
def draw_ctc(data: Any) -> tuple[Shapes, dict[str, Any]]:
    t, n, c = (
        data.draw(st.integers(1, 6), label="T"),
        data.draw(st.integers(1, 3), label="N"),
        data.draw(st.integers(2, 5), label="C"),
    )
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="targets"))
    blank = data.draw(st.integers(0, c - 1), label="blank")
    zero_infinity = data.draw(st.booleans(), label="zero_infinity")
    labels = [k for k in range(c) if k != blank]
    il = rng.integers(0, t + 1, n)
    tl = rng.integers(0, t + 2 if zero_infinity else 1 + t // 2, n)  # t // 2 labels always fit, even "aa"
    tl = np.minimum(tl, il) if not zero_infinity else tl
    width = int(tl.max()) + data.draw(st.integers(0, 1), label="padding")
    targets = rng.choice(labels, (n, width)) if width else np.zeros((n, 0), np.int64)
    if data.draw(st.booleans(), label="concatenated"):
        targets = np.concatenate([targets[i, : tl[i]] for i in range(n)]).astype(np.int64)
    params = {"targets": targets, "il": il, "tl": tl, "blank": blank, "zero_infinity": zero_infinity}
    params["reduction"] = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return ((t, n, c),), params


def _ctc(lib: Any, F: Any) -> Callable[..., Any]:
    """``ctc_loss(log_softmax(x), ...)``: torch's ctc gradient is the one through a log_softmax."""

    def call(x: Any, targets: np.ndarray, il: np.ndarray, tl: np.ndarray, **p: Any) -> Any:
        return F().ctc_loss(F().log_softmax(x, 2), lib.tensor(targets), lib.tensor(il), lib.tensor(tl), **p)

    return call


REGISTRY: list[OpSpec] = [
    # elementwise, one input
    _unary("neg", lambda x: torch.neg(x)),
    _unary("abs", lambda x: torch.abs(x), "ties"),
    _unary("sign", lambda x: torch.sign(x), "ties"),
    _unary("exp", lambda x: torch.exp(x)),
    _unary("expm1", lambda x: torch.expm1(x)),
    _unary("log", lambda x: torch.log(x), "positive"),
    _unary("log1p", lambda x: torch.log1p(x), "log1p"),
    _unary("sqrt", lambda x: torch.sqrt(x), "positive"),
    _unary("rsqrt", lambda x: torch.rsqrt(x), "positive"),
    _unary("square", lambda x: torch.square(x)),
    _unary("sin", lambda x: torch.sin(x)),
    _unary("cos", lambda x: torch.cos(x)),
    _unary("tan", lambda x: torch.tan(x), "unit"),
    _unary("tanh", lambda x: torch.tanh(x)),
    _unary("sigmoid", lambda x: torch.sigmoid(x)),
    _unary("erf", lambda x: torch.erf(x)),
    _unary("relu", lambda x: torch.relu(x), "ties"),
    _unary("round", lambda x: torch.round(x)),
    _unary(
        "leaky_relu",
        lambda x, negative_slope: _F().leaky_relu(x, negative_slope),
        "ties",
        negative_slope=[0.01, 0.2, -0.5],
    ),
    _unary("elu", lambda x, alpha: _F().elu(x, alpha), "ties", alpha=[1.0, 0.5, 2.0]),
    _unary(
        "gelu", lambda x, approximate: _F().gelu(x, approximate=approximate), approximate=["none", "tanh"]
    ),
    _unary("silu", lambda x: _F().silu(x)),
    _unary(
        "softplus",
        lambda x, beta, threshold: _F().softplus(x, beta, threshold),
        beta=[1.0, 2.0],
        threshold=[20.0, 1.0],
    ),
    OpSpec(
        "clamp",
        lambda x, min, max, _method=False: x.clamp(min, max) if _method else cr.clip(x, min, max),
        lambda x, min, max: torch.clamp(x, min, max),
        unary(min=[None, -0.5, 0.0], max=[0.5, 1.0]),
        domain="ties",
        aliases=("clip",),
    ),
    OpSpec(
        "clamp[tensor bounds]",
        lambda x, lo, hi, sides: cr.clamp(x, lo if "min" in sides else None, hi if "max" in sides else None),
        lambda x, lo, hi, sides: torch.clamp(
            x, lo if "min" in sides else None, hi if "max" in sides else None
        ),
        draw_clamp_tensor,
        domain="ties",
        broadcasts=True,
    ),
    OpSpec(
        "clone", lambda x, _method=False: x.clone() if _method else cr.clone(x), lambda x: x.clone(), unary()
    ),
    OpSpec(
        "cast",
        lambda x, _method=False: (x.float() if _method else cr.cast(x, np.float32)) * 1.0,
        lambda x: x.float() * 1.0,
        unary(),
        second_order=False,
        gradcheck=False,
    ),
    # elementwise, two tensors (broadcasting)
    OpSpec("add", _binary("add"), lambda a, b: a + b, broadcast(), broadcasts=True),
    OpSpec("sub", _binary("sub"), lambda a, b: a - b, broadcast(), broadcasts=True),
    OpSpec(
        "rsub",
        lambda a, b, _method=False: cr.rsub(a, b),
        lambda a, b: torch.rsub(a, b),
        broadcast(),
        broadcasts=True,
    ),
    OpSpec("mul", _binary("mul"), lambda a, b: a * b, broadcast(), broadcasts=True),
    OpSpec(
        "div", _binary("div"), lambda a, b: a / b, broadcast(), domain=("real", "nonzero"), broadcasts=True
    ),
    OpSpec(
        "rdiv",
        lambda a, b, _method=False: cr.rdiv(a, b),
        lambda a, b: b / a,
        broadcast(),
        domain=("nonzero", "real"),
        broadcasts=True,
    ),
    OpSpec(
        "pow", _binary("pow"), lambda a, b: a**b, broadcast(), domain=("positive", "real"), broadcasts=True
    ),
    OpSpec(
        "rpow",
        lambda a, b, _method=False: cr.rpow(a, b),
        lambda a, b: b**a,
        broadcast(),
        domain=("real", "positive"),
        broadcasts=True,
    ),
    OpSpec(
        "remainder",
        _method_or_function("remainder"),
        lambda a, b: torch.remainder(a, b),
        broadcast(),
        domain=("real", "nonzero"),
        broadcasts=True,
    ),
    OpSpec(
        "maximum",
        _method_or_function("maximum"),
        lambda a, b: torch.maximum(a, b),
        broadcast(),
        domain="ties",
        broadcasts=True,
    ),
    OpSpec(
        "minimum",
        _method_or_function("minimum"),
        lambda a, b: torch.minimum(a, b),
        broadcast(),
        domain="ties",
        broadcasts=True,
    ),
    OpSpec(
        "where",
        lambda a, b, condition: cr.where(cr.tensor(condition), a, b),
        lambda a, b, condition: torch.where(torch.as_tensor(condition), a, b),
        draw_where,
        broadcasts=True,
    ),
    OpSpec(
        "where[number]",
        lambda x, condition, other, left: (
            cr.where(condition, x, other) if left else cr.where(condition, other, x)
        ),
        lambda x, condition, other, left: (
            torch.where(torch.as_tensor(condition), x, other)
            if left
            else torch.where(torch.as_tensor(condition), other, x)
        ),
        draw_where_scalar,
        broadcasts=True,
    ),
    OpSpec(
        "maximum[number]",
        lambda x, c: cr.maximum(x, c),
        lambda x, c: torch.maximum(x, torch.tensor(c, dtype=x.dtype)),
        lambda data: ((_shape(data),), {"c": data.draw(st.sampled_from([0.0, 0.5]))}),
        domain="ties",
    ),
    # a Python number on either side
    *[
        OpSpec(
            f"{op}[number{', reflected' if refl else ''}]",
            *_scalar_op(op, refl),
            lambda data: ((_shape(data),), {"c": data.draw(st.sampled_from([2, -1.5, 0.5, 3.0]))}),
            domain="nonzero" if (op == "div" and refl) else "real",
        )
        for op in ("add", "sub", "mul", "div")
        for refl in (False, True)
    ],
    OpSpec(
        "pow[integer exponent]",
        *_scalar_op("pow", False),
        lambda data: ((_shape(data),), {"c": data.draw(st.sampled_from([0, 1, 2, 3, 2.0]))}),
    ),
    OpSpec(
        "pow[real exponent]",
        *_scalar_op("pow", False),
        lambda data: ((_shape(data),), {"c": data.draw(st.sampled_from([0.5, -1.0, -2.5, 1.7]))}),
        domain="positive",
    ),
    OpSpec(
        "rpow[number]",
        *_scalar_op("pow", True),
        lambda data: ((_shape(data),), {"c": data.draw(st.sampled_from([2.0, 0.5, 3]))}),
    ),
    # an ndarray operand on either side
    *[
        OpSpec(
            f"{op}[ndarray]",
            *_ndarray_op(op),
            _ndarray_draw(op),
            domain="positive" if op in ("div", "pow") else "real",
            broadcasts=op != "matmul",
        )
        for op in ("add", "sub", "mul", "div", "pow", "matmul")
    ],
    # reductions
    OpSpec(
        "sum",
        _reduce("sum"),
        lambda x, dim, keepdim: torch.sum(x, dim=dim, keepdim=keepdim),
        reduction(),
        axes=True,
    ),
    OpSpec(
        "mean",
        _reduce("mean"),
        lambda x, dim, keepdim: torch.mean(x, dim=dim, keepdim=keepdim),
        reduction(min_side=1),
        axes=True,
    ),
    OpSpec("var", _cr_var("var"), _th_var("var"), draw_var, axes=True),
    OpSpec("std", _cr_var("std"), _th_var("std"), draw_var, axes=True),
    OpSpec(
        "amax",
        _reduce("amax"),
        lambda x, dim, keepdim: torch.amax(x, dim=_all_dims(x, dim), keepdim=keepdim),
        reduction(min_side=1),
        domain="ties",
        axes=True,
    ),
    OpSpec(
        "amin",
        _reduce("amin"),
        lambda x, dim, keepdim: torch.amin(x, dim=_all_dims(x, dim), keepdim=keepdim),
        reduction(min_side=1),
        domain="ties",
        axes=True,
    ),
    OpSpec(
        "max[all]",
        lambda x, _method=False: x.max() if _method else cr.max(x),
        lambda x: x.max(),
        unary(min_side=1),
        domain="ties",
    ),
    OpSpec(
        "min[all]",
        lambda x, _method=False: x.min() if _method else cr.min(x),
        lambda x: x.min(),
        unary(min_side=1),
        domain="ties",
    ),
    OpSpec(
        "max[dim]",
        _max_dim("max"),
        lambda x, dim, keepdim: torch.max(x, dim, keepdim),
        draw_max_dim,
        axes=True,
    ),
    OpSpec(
        "min[dim]",
        _max_dim("min"),
        lambda x, dim, keepdim: torch.min(x, dim, keepdim),
        draw_max_dim,
        axes=True,
    ),
    OpSpec("logsumexp", _reduce("logsumexp"), _th_logsumexp, reduction(min_side=1), axes=True),
    OpSpec("prod", _reduce("prod"), _th_prod, reduction(), axes=True),
    OpSpec("prod[with zeros]", _reduce("prod"), _th_prod, reduction(), domain="zeros", axes=True),
    OpSpec(
        "cumsum",
        lambda x, dim, _alias=False: x.cumsum(axis=dim) if _alias else cr.cumsum(x, dim),
        lambda x, dim: torch.cumsum(x, dim),
        draw_cumsum,
        axes=True,
    ),
    OpSpec("norm", _cr_norm, _th_norm, reduction(min_side=1, p=[2, 1, 3, float("inf")]), axes=True),
    # shape
    OpSpec(
        "reshape",
        lambda x, shape, _method: getattr(x, _method)(shape),
        lambda x, shape: x.reshape(shape),
        draw_reshape,
        aliases=("view",),
    ),
    OpSpec("flatten", lambda x, **p: cr.flatten(x, **p), lambda x, **p: torch.flatten(x, **p), draw_flatten),
    OpSpec("permute", lambda x, dims: x.permute(*dims), lambda x, dims: x.permute(dims), draw_permute),
    OpSpec(
        "transpose",
        lambda x, dim0, dim1, _alias: (cr.swapaxes if _alias else cr.transpose)(x, dim0, dim1),
        lambda x, dim0, dim1: torch.transpose(x, dim0, dim1),
        draw_transpose,
        aliases=("swapaxes",),
    ),
    OpSpec(
        "T",
        lambda x: x.T,
        lambda x: x.permute(tuple(reversed(range(x.ndim)))),
        lambda data: ((_shape(data),), {}),
    ),
    OpSpec("mT", lambda x: x.mT, lambda x: x.mT, lambda data: ((_shape(data, min_dims=2),), {})),
    OpSpec(
        "squeeze",
        lambda x, dim: cr.squeeze(x, dim),
        lambda x, dim: x.squeeze() if dim is None else x.squeeze(dim),
        draw_squeeze,
    ),
    OpSpec("unsqueeze", lambda x, dim: x.unsqueeze(dim), lambda x, dim: x.unsqueeze(dim), draw_unsqueeze),
    OpSpec(
        "expand",
        lambda x, sizes: x.expand(*sizes),
        lambda x, sizes: x.expand(sizes),
        draw_expand,
        broadcasts=True,
    ),
    OpSpec(
        "expand_as", lambda x, y: x.expand_as(y), lambda x, y: x.expand_as(y), draw_expand_as, broadcasts=True
    ),
    OpSpec(
        "broadcast_to",
        lambda x, shape: cr.broadcast_to(x, shape),
        lambda x, shape: torch.broadcast_to(x, shape),
        draw_broadcast_to,
        broadcasts=True,
    ),
    OpSpec(
        "sum_to",
        lambda x, shape: x.sum_to(shape),
        lambda x, shape: x.sum_to_size(shape),
        draw_sum_to,
        broadcasts=True,
    ),
    OpSpec(
        "cat",
        lambda *xs, dim, _alias: getattr(cr, _alias)(list(xs), dim),
        lambda *xs, dim: torch.cat(xs, dim),
        draw_cat,
        aliases=("concat", "concatenate"),
    ),
    OpSpec("stack", lambda *xs, dim: cr.stack(xs, dim), lambda *xs, dim: torch.stack(xs, dim), draw_stack),
    OpSpec("split", lambda x, **p: cr.split(x, **p), lambda x, **p: torch.split(x, **p), draw_split),
    OpSpec(
        "split[some outputs unused]",
        lambda x, **p: cr.split(x, **p)[::2],
        lambda x, **p: torch.split(x, **p)[::2],
        draw_split,
    ),
    OpSpec(
        "chunk",
        lambda x, chunks, dim: x.chunk(chunks, dim),
        lambda x, chunks, dim: torch.chunk(x, chunks, dim),
        draw_chunk,
    ),
    OpSpec("unbind", lambda x, dim: x.unbind(dim), lambda x, dim: torch.unbind(x, dim), draw_unbind),
    OpSpec(
        "flip",
        lambda x, dims: cr.flip(x, dims),
        lambda x, dims: torch.flip(x, (dims,) if isinstance(dims, int) else dims),
        draw_flip,
    ),
    OpSpec(
        "pad",
        lambda x, pad, value: cr.pad(x, pad, value=value),
        lambda x, pad, value: _F().pad(x, pad, value=value),
        draw_pad,
    ),
    OpSpec("repeat", lambda x, sizes: x.repeat(*sizes), lambda x, sizes: x.repeat(sizes), draw_repeat),
    # indexing
    OpSpec("getitem[basic]", lambda x, key: x[key], lambda x, key: x[key], draw_getitem_basic),
    OpSpec(
        "getitem[int array]",
        lambda x, key, _tensor_key: x[_crkey(key, _tensor_key)],
        lambda x, key: x[_tkey(key)],
        draw_getitem_int_array,
    ),
    OpSpec(
        "getitem[bool mask]",
        lambda x, key, _tensor_key: x[_crkey(key, _tensor_key)],
        lambda x, key: x[_tkey(key)],
        draw_getitem_bool,
    ),
    OpSpec("setitem", _cr_setitem, _th_setitem, draw_setitem),
    OpSpec(
        "gather",
        lambda x, dim, index: cr.gather(x, dim, index),
        lambda x, dim, index: torch.gather(x, dim, _t(index)),
        draw_gather,
    ),
    OpSpec(
        "take_along_dim",
        lambda x, dim, indices: cr.take_along_dim(x, cr.tensor(indices), dim),
        lambda x, dim, indices: torch.take_along_dim(x, _t(indices), dim),
        draw_take_along_dim,
    ),
    OpSpec(
        "index_select",
        lambda x, dim, index: x.index_select(dim, index),
        lambda x, dim, index: torch.index_select(x, dim, _t(index)),
        draw_index_select,
    ),
    OpSpec(
        "sort",
        lambda x, dim, descending: cr.sort(x, dim, descending),
        lambda x, dim, descending: torch.sort(x, dim=dim, descending=descending, stable=True),
        draw_sort,
    ),
    OpSpec(
        "topk",
        lambda x, k, dim, largest: x.topk(k, dim, largest),
        lambda x, k, dim, largest: torch.topk(x, k, dim, largest),
        draw_topk,
    ),
    OpSpec(
        "index_put",
        lambda x, v, index, accumulate: cr.index_put(x, (cr.tensor(index),), v, accumulate),
        lambda x, v, index, accumulate: x.index_put((_t(index),), v, accumulate),
        draw_index_put,
    ),
    OpSpec(
        "index_add",
        lambda x, src, dim, index, alpha: x.index_add(dim, cr.tensor(index), src, alpha=alpha),
        lambda x, src, dim, index, alpha: x.index_add(dim, _t(index), src, alpha=alpha),
        draw_index_add,
    ),
    OpSpec(
        "masked_fill",
        lambda x, mask, value: x.masked_fill(cr.tensor(mask), value),
        lambda x, mask, value: x.masked_fill(_t(mask), value),
        draw_masked_fill,
        broadcasts=True,
    ),
    # linear algebra
    OpSpec(
        "matmul", _cr_matmul, lambda a, b: torch.matmul(a, b), draw_matmul, broadcasts=True, aliases=("mm",)
    ),
    OpSpec("dot", lambda a, b: cr.dot(a, b), lambda a, b: torch.dot(a, b), draw_dot),
    OpSpec("outer", lambda a, b: a.outer(b), lambda a, b: torch.outer(a, b), draw_outer),
    OpSpec("bmm", lambda a, b: a.bmm(b), lambda a, b: torch.bmm(a, b), draw_bmm),
    OpSpec(
        "einsum",
        lambda *xs, equation: cr.einsum(equation, *xs),
        lambda *xs, equation: torch.einsum(equation, *xs),
        draw_einsum,
    ),
    # ---- linear algebra (issue 14)
    OpSpec("addmm", _fused("addmm"), _th_fused("addmm"), draw_addmm),
    OpSpec("addmv", _fused("addmv"), _th_fused("addmv"), draw_addmv),
    OpSpec("addbmm", _fused("addbmm"), _th_fused("addbmm"), draw_addbmm),
    OpSpec("baddbmm", _fused("baddbmm"), _th_fused("baddbmm"), draw_baddbmm),
    OpSpec("addr", _fused("addr"), _th_fused("addr"), draw_addr),
    OpSpec("mv", lambda a, b: a.mv(b), lambda a, b: torch.mv(a, b), draw_mv),
    OpSpec("vdot", lambda a, b: cr.vdot(a, b), lambda a, b: torch.vdot(a, b), draw_vdot),
    OpSpec(
        "cross",
        lambda a, b, dim: cr.cross(a, b, dim=dim),
        lambda a, b, dim: torch.cross(a, b, dim=dim),
        draw_cross,
        aliases=("linalg.cross",),
    ),
    OpSpec("det", lambda a: a.det(), lambda a: torch.det(a), draw_square),
    OpSpec(
        "inverse", lambda a: cr.inverse(_well(cr, a)), lambda a: torch.inverse(_well(torch, a)), draw_square
    ),
    OpSpec("logdet", lambda a: cr.logdet(_spd(cr, a)), lambda a: torch.logdet(_spd(torch, a)), draw_square),
    OpSpec(
        "slogdet", lambda a: cr.slogdet(_well(cr, a)), lambda a: torch.slogdet(_well(torch, a)), draw_square
    ),
    OpSpec(
        "matrix_power",
        lambda a, n: cr.matrix_power(_well(cr, a), n),
        lambda a, n: torch.matrix_power(_well(torch, a), n),
        draw_square_power,
    ),
    OpSpec("matrix_exp", lambda a: a.matrix_exp(), lambda a: torch.matrix_exp(a), draw_square),
    OpSpec(
        "cholesky",
        lambda a, upper: cr.cholesky(_spd(cr, a), upper),
        lambda a, upper: torch.linalg.cholesky(_spd(torch, a), upper=upper),
        draw_upper,
    ),
    OpSpec(
        "cholesky_solve",
        lambda b, a, upper: cr.cholesky_solve(b, cr.linalg.cholesky(_spd(cr, a), upper=upper), upper),
        lambda b, a, upper: torch.cholesky_solve(
            b, torch.linalg.cholesky(_spd(torch, a), upper=upper), upper
        ),
        draw_cholesky_solve,
    ),
    OpSpec(
        "cholesky_inverse",
        lambda a, upper: cr.cholesky_inverse(cr.linalg.cholesky(_spd(cr, a), upper=upper), upper),
        lambda a, upper: torch.cholesky_inverse(torch.linalg.cholesky(_spd(torch, a), upper=upper), upper),
        draw_upper,
    ),
    OpSpec(
        "triangular_solve",
        lambda b, a, **kw: cr.triangular_solve(b, _well(cr, a), **kw),
        lambda b, a, **kw: torch.triangular_solve(b, _well(torch, a), **kw),
        draw_triangular_solve,
    ),
    OpSpec("pinverse", lambda a: a.pinverse(), lambda a: torch.pinverse(a), draw_matrix),
    OpSpec(
        "qr",
        lambda a, some: cr.qr(a, some),
        lambda a, some: torch.linalg.qr(a, "reduced" if some else "complete"),
        draw_qr,
    ),
    OpSpec("svd", _svd_invariants(cr), _svd_invariants(torch), draw_qr),
    OpSpec(
        "linalg.solve",
        lambda a, b, left: cr.linalg.solve(_well(cr, a), b, left=left),
        lambda a, b, left: torch.linalg.solve(_well(torch, a), b, left=left),
        draw_solve,
    ),
    OpSpec(
        "linalg.eigvalsh",
        lambda a: cr.linalg.eigvalsh(a + a.mT),
        lambda a: torch.linalg.eigvalsh(a + a.mT),
        draw_square,
    ),
    OpSpec("linalg.svdvals", lambda a: cr.linalg.svdvals(a), lambda a: torch.linalg.svdvals(a), draw_matrix),
    OpSpec(
        "linalg.vector_norm",
        lambda x, **kw: cr.linalg.vector_norm(x, **kw),
        lambda x, **kw: torch.linalg.vector_norm(x, **kw),
        draw_vector_norm,
        domain="nonzero",
    ),
    OpSpec(
        "linalg.matrix_norm",
        lambda x, **kw: cr.linalg.matrix_norm(x, **kw),
        lambda x, **kw: torch.linalg.matrix_norm(x, **kw),
        draw_matrix_norm,
    ),
    OpSpec(
        "linalg.multi_dot",
        lambda *xs: cr.linalg.multi_dot(xs),
        lambda *xs: torch.linalg.multi_dot(xs),
        draw_multi_dot,
    ),
    OpSpec(
        "linalg.vander",
        lambda x, N: cr.linalg.vander(x, N=N),
        lambda x, N: torch.linalg.vander(x, N=N),
        draw_vander,
    ),
    OpSpec("lu", lambda a: a.lu(), lambda a: torch.linalg.lu_factor(a), draw_matrix),
    OpSpec(
        "lu_solve",
        lambda b, a, upper: cr.lu_solve(b, *cr.lu(_well(cr, a))),
        lambda b, a, upper: torch.linalg.lu_solve(*torch.linalg.lu_factor(_well(torch, a)), b),
        draw_cholesky_solve,
    ),
    OpSpec(
        "lu_unpack",
        lambda a: cr.lu_unpack(*cr.lu(a)),
        lambda a: torch.lu_unpack(*torch.linalg.lu_factor(a)),
        draw_matrix,
    ),
    # ---- indexing, scatter and search (issue 14)
    OpSpec(
        "scatter",
        lambda x, src, dim, index: x.scatter(dim, cr.tensor(index), src),
        lambda x, src, dim, index: x.scatter(dim, _t(index), src),
        draw_scatter,
    ),
    OpSpec(
        "scatter[value]",
        lambda x, dim, index, value: cr.scatter(x, dim, cr.tensor(index), value=value),
        lambda x, dim, index, value: torch.scatter(x, dim, _t(index), value=value),
        draw_scatter_value,
    ),
    OpSpec(
        "scatter_add",
        lambda x, src, dim, index: cr.scatter_add(x, dim, cr.tensor(index), src),
        lambda x, src, dim, index: torch.scatter_add(x, dim, _t(index), src),
        lambda data: draw_scatter(data, unique=False),
    ),
    OpSpec(
        "scatter_reduce",
        lambda x, src, dim, index, reduce, include_self: x.scatter_reduce(
            dim, cr.tensor(index), src, reduce, include_self=include_self
        ),
        lambda x, src, dim, index, reduce, include_self: x.scatter_reduce(
            dim, _t(index), src, reduce, include_self=include_self
        ),
        lambda data: draw_scatter(
            data, unique=False, reduce=["sum", "prod", "mean", "amax", "amin"], include_self=[True, False]
        ),
    ),
    OpSpec(  # ties: torch splits the gradient evenly among equal maxima (not smooth: no gradcheck)
        "scatter_reduce[ties]",
        lambda x, src, dim, index, reduce, include_self: cr.scatter_reduce(
            x, dim, cr.tensor(index), src, reduce, include_self=include_self
        ),
        lambda x, src, dim, index, reduce, include_self: torch.scatter_reduce(
            x, dim, _t(index), src, reduce, include_self=include_self
        ),
        lambda data: draw_scatter(data, unique=False, reduce=["amax", "amin"], include_self=[True, False]),
        domain=("ties", "ties"),
        gradcheck=False,
    ),
    OpSpec(  # zeros: the exact leave-one-out products (torch refuses double backward with 2 zeros in a group)
        "scatter_reduce[prod zeros]",
        lambda x, src, dim, index, include_self: cr.scatter_reduce(
            x, dim, cr.tensor(index), src, "prod", include_self=include_self
        ),
        lambda x, src, dim, index, include_self: torch.scatter_reduce(
            x, dim, _t(index), src, "prod", include_self=include_self
        ),
        lambda data: draw_scatter(data, unique=False, include_self=[True, False]),
        domain=("zeros", "zeros"),
        second_order=False,
    ),
    OpSpec(
        "index_copy",
        lambda x, src, dim, index: x.index_copy(dim, cr.tensor(index), src),
        lambda x, src, dim, index: x.index_copy(dim, _t(index), src),
        draw_index_along,
    ),
    OpSpec(
        "index_reduce",
        lambda x, src, dim, index, reduce, include_self: x.index_reduce(
            dim, cr.tensor(index), src, reduce, include_self=include_self
        ),
        lambda x, src, dim, index, reduce, include_self: x.index_reduce(
            dim, _t(index), src, reduce, include_self=include_self
        ),
        lambda data: draw_index_along(
            data, unique=False, reduce=["prod", "mean", "amax", "amin"], include_self=[True, False]
        ),
    ),
    OpSpec(
        "index_fill",
        lambda x, dim, index, value: x.index_fill(dim, cr.tensor(index), value),
        lambda x, dim, index, value: x.index_fill(dim, _t(index), value),
        draw_index_fill,
    ),
    OpSpec(
        "masked_select",
        lambda x, mask: x.masked_select(cr.tensor(mask)),
        lambda x, mask: x.masked_select(_t(mask)),
        draw_masked_select,
        broadcasts=True,
    ),
    OpSpec(
        "masked_scatter",
        lambda x, src, mask: x.masked_scatter(cr.tensor(mask), src),
        lambda x, src, mask: x.masked_scatter(_t(mask), src),
        draw_masked_scatter,
    ),
    OpSpec(
        "take",
        lambda x, index: cr.take(x, cr.tensor(index)),
        lambda x, index: torch.take(x, _t(index)),
        draw_take,
    ),
    OpSpec(
        "put",
        lambda x, src, index, accumulate: x.put(cr.tensor(index), src, accumulate),
        lambda x, src, index, accumulate: x.put(_t(index), src, accumulate),
        draw_put,
    ),
    # ---- pooling, resampling, fold, dropouts (issue 14)
    OpSpec(
        "interpolate",
        lambda x, **kw: cr.nn.functional.interpolate(x, **kw),
        lambda x, **kw: _F().interpolate(x, **kw),
        draw_interpolate,
    ),
    OpSpec(
        "unfold[F]",
        lambda x, **kw: cr.nn.functional.unfold(x, **kw),
        lambda x, **kw: _F().unfold(x, **kw),
        draw_unfold,
    ),
    OpSpec(
        "fold", lambda x, **kw: cr.nn.functional.fold(x, **kw), lambda x, **kw: _F().fold(x, **kw), draw_fold
    ),
    OpSpec(
        "pixel_shuffle",
        lambda x, upscale_factor: cr.nn.functional.pixel_shuffle(x, upscale_factor),
        lambda x, upscale_factor: _F().pixel_shuffle(x, upscale_factor),
        draw_pixel_shuffle,
    ),
    OpSpec(
        "pixel_unshuffle",
        lambda x, downscale_factor: cr.nn.functional.pixel_unshuffle(x, downscale_factor),
        lambda x, downscale_factor: _F().pixel_unshuffle(x, downscale_factor),
        draw_pixel_unshuffle,
    ),
    OpSpec(
        "channel_shuffle",
        lambda x, groups: cr.nn.functional.channel_shuffle(x, groups),
        lambda x, groups: _F().channel_shuffle(x, groups),
        draw_channel_shuffle,
    ),
    OpSpec(
        "adaptive_max_pool2d",
        lambda x, output_size: cr.nn.functional.adaptive_max_pool2d(x, output_size),
        lambda x, output_size: _F().adaptive_max_pool2d(x, output_size),
        draw_adaptive_pool(2),
    ),
    OpSpec(
        "adaptive_max_pool1d",
        lambda x, output_size: cr.nn.functional.adaptive_max_pool1d(x, output_size, return_indices=True),
        lambda x, output_size: _F().adaptive_max_pool1d(x, output_size, return_indices=True),
        draw_adaptive_pool(1),
    ),
    OpSpec(
        "adaptive_avg_pool3d",
        lambda x, output_size: cr.nn.functional.adaptive_avg_pool3d(x, output_size),
        lambda x, output_size: _F().adaptive_avg_pool3d(x, output_size),
        draw_adaptive_pool(3),
    ),
    OpSpec(
        "max_unpool2d",
        lambda x, indices, kernel_size: cr.nn.functional.max_unpool2d(x, cr.tensor(indices), kernel_size),
        lambda x, indices, kernel_size: _F().max_unpool2d(x, _t(indices), kernel_size),
        draw_max_unpool2d,
    ),
    OpSpec(
        "conv_transpose3d",
        lambda x, w, **kw: cr.nn.functional.conv_transpose3d(x, w, **kw),
        lambda x, w, **kw: _F().conv_transpose3d(x, w, **kw),
        draw_conv_transpose3d,
    ),
    OpSpec(
        "embedding_bag",
        lambda w, idx, offsets, mode: cr.nn.functional.embedding_bag(
            cr.tensor(idx), w, cr.tensor(offsets), mode=mode
        ),
        lambda w, idx, offsets, mode: _F().embedding_bag(_t(idx), w, _t(offsets), mode=mode),
        draw_embedding_bag,
    ),
    # ---- nn.functional activations, distances, losses, norms (issue 14)
    OpSpec("glu", lambda x, dim: _crF().glu(x, dim), lambda x, dim: _F().glu(x, dim), draw_glu),
    OpSpec("prelu", lambda x, w: _crF().prelu(x, w), lambda x, w: _F().prelu(x, w), draw_prelu),
    OpSpec(
        "threshold",
        lambda x, threshold, value, _method=False: _crF().threshold(x, threshold, value),
        lambda x, threshold, value: _F().threshold(x, threshold, value),
        unary(threshold=[0.0, 0.5], value=[-1.0, 2.0]),
        "ties",
    ),
    OpSpec(
        "hardshrink",
        lambda x, lambd, _method=False: _crF().hardshrink(x, lambd),
        lambda x, lambd: _F().hardshrink(x, lambd),
        unary(lambd=[0.5, 1.0]),
        "ties",
    ),
    OpSpec(
        "softshrink",
        lambda x, lambd, _method=False: _crF().softshrink(x, lambd),
        lambda x, lambd: _F().softshrink(x, lambd),
        unary(lambd=[0.5, 1.0]),
        "ties",
    ),
    OpSpec(
        "tanhshrink", lambda x, _method=False: _crF().tanhshrink(x), lambda x: _F().tanhshrink(x), unary()
    ),
    OpSpec(
        "rrelu[eval]",
        lambda x, lower, _method=False: _crF().rrelu(x, lower, 0.4),
        lambda x, lower: _F().rrelu(x, lower, 0.4),
        unary(lower=[0.1, 0.3]),
        "ties",
    ),
    OpSpec(
        "pairwise_distance",
        lambda a, b, p, keepdim: _crF().pairwise_distance(a, b, p, keepdim=keepdim),
        lambda a, b, p, keepdim: _F().pairwise_distance(a, b, p, keepdim=keepdim),
        _rows(p=[2.0, 1.0, 3.0], keepdim=[False, True]),
    ),
    OpSpec(
        "pdist",
        lambda x, p: _crF().pdist(x, p),
        lambda x, p: _F().pdist(x, p),
        draw_pdist,
        second_order=False,
    ),
    OpSpec(
        "cdist",
        lambda a, b, p: cr.cdist(a, b, p),
        lambda a, b, p: torch.cdist(a, b, p),
        draw_cdist,
        second_order=False,
    ),
    OpSpec(
        "cosine_similarity",
        lambda a, b: _crF().cosine_similarity(a, b),
        lambda a, b: _F().cosine_similarity(a, b),
        _rows(),
    ),
    OpSpec(
        "margin_ranking_loss",
        _with_target("margin_ranking_loss", False),
        _with_target("margin_ranking_loss", True),
        draw_margin_ranking,
    ),
    OpSpec(
        "hinge_embedding_loss",
        _with_target("hinge_embedding_loss", False),
        _with_target("hinge_embedding_loss", True),
        _signed(margin=[1.0, 0.5], reduction=["mean", "none"]),
    ),
    OpSpec(
        "soft_margin_loss",
        _with_target("soft_margin_loss", False),
        _with_target("soft_margin_loss", True),
        _signed(reduction=["mean", "none"]),
    ),
    OpSpec(
        "multilabel_soft_margin_loss",
        _with_target("multilabel_soft_margin_loss", False),
        _with_target("multilabel_soft_margin_loss", True),
        draw_multilabel,
    ),
    OpSpec(
        "multilabel_margin_loss",
        _with_target("multilabel_margin_loss", False),
        _with_target("multilabel_margin_loss", True),
        draw_multilabel_margin,
        second_order=False,  # torch: derivative for multilabel_margin_loss_backward is not implemented
    ),
    OpSpec(
        "multi_margin_loss",
        _with_target("multi_margin_loss", False),
        _with_target("multi_margin_loss", True),
        draw_multi_margin,
        second_order=False,  # torch: derivative for multi_margin_loss_backward is not implemented
    ),
    OpSpec(
        "cosine_embedding_loss",
        _with_target("cosine_embedding_loss", False),
        _with_target("cosine_embedding_loss", True),
        draw_cosine_embedding,
    ),
    OpSpec(
        "triplet_margin_loss",
        lambda a, p, n, margin, swap: _crF().triplet_margin_loss(a, p, n, margin, swap=swap),
        lambda a, p, n, margin, swap: _F().triplet_margin_loss(a, p, n, margin, swap=swap),
        _rows(3, margin=[1.0, 0.5], swap=[False, True]),
    ),
    OpSpec(
        "triplet_margin_with_distance_loss",
        lambda a, p, n, swap: _crF().triplet_margin_with_distance_loss(a, p, n, swap=swap),
        lambda a, p, n, swap: _F().triplet_margin_with_distance_loss(a, p, n, swap=swap),
        _rows(3, swap=[False, True]),
    ),
    OpSpec(
        "poisson_nll_loss",
        _with_target("poisson_nll_loss", False),
        _with_target("poisson_nll_loss", True),
        draw_poisson,
    ),
    OpSpec(
        "gaussian_nll_loss",
        lambda x, t, v, full: _crF().gaussian_nll_loss(x, t, v, full=full),
        lambda x, t, v, full: _F().gaussian_nll_loss(x, t, v, full=full),
        draw_gaussian,
        ("real", "real", "positive"),
    ),
    OpSpec(
        "rms_norm",
        lambda x, w, normalized_shape, eps: _crF().rms_norm(x, normalized_shape, w, eps),
        lambda x, w, normalized_shape, eps: _F().rms_norm(x, normalized_shape, w, eps),
        draw_rms_norm,
    ),
    OpSpec(
        "local_response_norm",
        lambda x, **p: _crF().local_response_norm(x, **p),
        lambda x, **p: _F().local_response_norm(x, **p),
        draw_lrn,
    ),
    # ---- shape and layout ops (issue 14)
    OpSpec(
        "narrow",
        _method_or_function("narrow"),
        lambda x, dim, start, length: torch.narrow(x, dim, start, length),
        _with_method(_draw_narrow),
        aliases=("narrow_copy",),  # torch's narrow_copy has no gradient; chainrule's is narrow's
    ),
    OpSpec(
        "select",
        _method_or_function("select"),
        lambda x, **p: torch.select(x, **p),
        _with_method(_draw_select),
    ),
    OpSpec(
        "unflatten",
        _method_or_function("unflatten"),
        lambda x, **p: torch.unflatten(x, **p),
        _with_method(_draw_unflatten),
    ),
    OpSpec(
        "movedim",
        _method_or_function("movedim"),
        lambda x, **p: torch.movedim(x, **p),
        _with_method(_draw_movedim),
        aliases=("moveaxis",),
    ),
    OpSpec("roll", _method_or_function("roll"), lambda x, **p: torch.roll(x, **p), _with_method(_draw_roll)),
    OpSpec(
        "rot90", _method_or_function("rot90"), lambda x, **p: torch.rot90(x, **p), _with_method(_draw_rot90)
    ),
    OpSpec(
        "tile",
        lambda x, dims, _method=False: x.tile(dims) if _method else cr.tile(x, dims),
        lambda x, dims: torch.tile(x, dims),
        _with_method(_draw_tile),
    ),
    OpSpec(
        "repeat_interleave",
        lambda x, repeats, dim, _method=False: (
            x.repeat_interleave if _method else partial(cr.repeat_interleave, x)
        )(cr.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats, dim),
        lambda x, repeats, dim: torch.repeat_interleave(
            x, torch.as_tensor(repeats) if isinstance(repeats, np.ndarray) else repeats, dim
        ),
        _with_method(_draw_repeat_interleave),
    ),
    OpSpec(
        "tril",
        _method_or_function("tril"),
        lambda x, diagonal: torch.tril(x, diagonal),
        unary(min_dims=2, diagonal=[-2, 0, 1, 3]),
        aliases=("tril_",),
    ),
    OpSpec(
        "triu",
        _method_or_function("triu"),
        lambda x, diagonal: torch.triu(x, diagonal),
        unary(min_dims=2, diagonal=[-3, -1, 0, 2]),
        aliases=("triu_",),
    ),
    OpSpec(
        "diagonal",
        _method_or_function("diagonal"),
        lambda x, **p: torch.diagonal(x, **p),
        _with_method(_draw_diagonal),
        aliases=("diagonal_copy",),
    ),
    OpSpec(
        "diag_embed",
        _method_or_function("diag_embed"),
        lambda x, **p: torch.diag_embed(x, **p),
        _with_method(_draw_diag_embed),
    ),
    OpSpec(
        "diag",
        lambda x, _method=False, **p: x.diag(**p) if _method else cr.diag(x, **p),
        lambda x, **p: torch.diag(x, **p),
        lambda data: (
            (_shape(data, min_dims=1, max_dims=2),),
            {"diagonal": data.draw(st.integers(-2, 2)), "_method": data.draw(st.booleans())},
        ),
    ),
    OpSpec(
        "diagflat",
        _method_or_function("diagflat"),
        lambda x, offset: torch.diagflat(x, offset),
        unary(offset=[-1, 0, 2]),
    ),
    OpSpec("trace", _method_or_function("trace"), lambda x: torch.trace(x), _draw_matrix),
    OpSpec("ravel", _method_or_function("ravel"), lambda x: torch.ravel(x), unary()),
    OpSpec(
        "view_as",
        lambda x, _method=False: (x.view_as if _method else partial(cr.view_as, x))(
            cr.zeros(_reversed(x.shape))
        ),
        lambda x: x.view_as(torch.zeros(_reversed(x.shape))),
        unary(),
        aliases=("reshape_as",),
    ),
    OpSpec(
        "tensor_split",
        _method_or_function("tensor_split"),
        lambda x, indices_or_sections, dim: torch.tensor_split(x, indices_or_sections, dim),
        _with_method(_draw_tensor_split),
        aliases=("hsplit", "vsplit", "dsplit"),
    ),
    OpSpec(
        "split_with_sizes",
        lambda x, **p: cr.split_with_sizes(x, **p),
        lambda x, **p: torch.split_with_sizes(x, **p),
        _draw_split_sizes,
        aliases=("split_with_sizes_copy", "unsafe_split", "unsafe_chunk"),
    ),
    OpSpec("hstack", lambda *xs: cr.hstack(xs), lambda *xs: torch.hstack(xs), _draw_stack_like("hstack")),
    OpSpec(
        "vstack",
        lambda *xs: cr.vstack(xs),
        lambda *xs: torch.vstack(xs),
        _draw_stack_like("vstack"),
        aliases=("row_stack",),
    ),
    OpSpec("dstack", lambda *xs: cr.dstack(xs), lambda *xs: torch.dstack(xs), _draw_stack_like("dstack")),
    OpSpec(
        "column_stack",
        lambda *xs: cr.column_stack(xs),
        lambda *xs: torch.column_stack(xs),
        _draw_stack_like("column_stack"),
    ),
    OpSpec(
        "atleast_1d",
        lambda *xs: (cr.atleast_1d(*xs), cr.atleast_2d(*xs), cr.atleast_3d(*xs)),
        lambda *xs: (torch.atleast_1d(*xs), torch.atleast_2d(*xs), torch.atleast_3d(*xs)),
        _draw_many((1, 1), False),
        aliases=("atleast_2d", "atleast_3d"),
    ),
    OpSpec(
        "meshgrid",
        lambda *xs, indexing: cr.meshgrid(*xs, indexing=indexing),
        lambda *xs, indexing: torch.meshgrid(*xs, indexing=indexing),
        lambda data: (
            _draw_many((1, 3), False, max_dims=1)(data)[0],
            {"indexing": data.draw(st.sampled_from(["ij", "xy"]))},
        ),
    ),
    OpSpec(
        "cartesian_prod",
        lambda *xs: cr.cartesian_prod(*xs),
        lambda *xs: torch.cartesian_prod(*xs),
        _draw_many((1, 3), False, min_dims=1, max_dims=1),
    ),
    OpSpec(
        "broadcast_tensors",
        lambda *xs, _method=False: cr.broadcast_tensors(*xs),
        lambda *xs: torch.broadcast_tensors(*xs),
        broadcast(3),
    ),
    OpSpec(
        "fliplr",
        _method_or_function("fliplr"),
        lambda x: torch.fliplr(x),
        unary(min_dims=2),
        aliases=("flipud",),
    ),
    OpSpec("kron", lambda a, b: cr.kron(a, b), lambda a, b: torch.kron(a, b), _draw_kron),
    OpSpec(
        "tensordot",
        lambda a, b, dims: cr.tensordot(a, b, dims),
        lambda a, b, dims: torch.tensordot(a, b, dims),
        _draw_tensordot,
    ),
    OpSpec("inner", lambda a, b: cr.inner(a, b), lambda a, b: torch.inner(a, b), _draw_inner),
    OpSpec("block_diag", lambda *xs: cr.block_diag(*xs), lambda *xs: torch.block_diag(*xs), _draw_block_diag),
    OpSpec(
        "combinations",
        lambda x, **p: cr.combinations(x, **p),
        lambda x, **p: torch.combinations(x, **p),
        lambda data: (
            (_shape(data, min_dims=1, max_dims=1),),
            {"r": data.draw(st.integers(0, 3)), "with_replacement": data.draw(st.booleans())},
        ),
    ),
    OpSpec(
        "Tensor.unfold",
        lambda x, **p: x.unfold(**p),
        lambda x, **p: x.unfold(**p),
        _draw_unfold,
        aliases=("unfold_copy",),
    ),
    OpSpec(
        "diagonal_scatter",
        lambda x, s, **p: cr.diagonal_scatter(x, s, **p),
        lambda x, s, **p: torch.diagonal_scatter(x, s, **p),
        _draw_scatter("diagonal"),
    ),
    OpSpec(
        "select_scatter",
        lambda x, s, **p: cr.select_scatter(x, s, **p),
        lambda x, s, **p: torch.select_scatter(x, s, **p),
        _draw_scatter("select"),
    ),
    OpSpec(
        "slice_scatter",
        lambda x, s, **p: cr.slice_scatter(x, s, **p),
        lambda x, s, **p: torch.slice_scatter(x, s, **p),
        _draw_scatter("slice"),
    ),
    OpSpec(
        "constant_pad_nd",
        lambda x, pad, value: cr.constant_pad_nd(x, pad, value),
        lambda x, pad, value: torch.constant_pad_nd(x, pad, value),
        _draw_constant_pad_nd,
    ),
    OpSpec(
        "pad[negative, every mode]",
        lambda x, pad, mode: cr.nn.functional.pad(x, pad, mode=mode),
        lambda x, pad, mode: _F().pad(x, pad, mode=mode),
        _draw_pad_crop,
    ),
    OpSpec(
        "alias_copy",  # and the other copying variants of views, one drawn per example
        lambda x, fn: _COPIES[fn](cr, x),
        lambda x, fn: _COPIES[fn](torch, x),
        _draw_copy,
        aliases=tuple(name for name in _COPIES if name != "alias_copy"),
    ),
    # ---- reductions, order statistics, scans (issue 14)
    OpSpec(
        "kthvalue",
        lambda x, k, dim, keepdim: x.kthvalue(k, dim, keepdim),
        lambda x, k, dim, keepdim: torch.kthvalue(x, k, dim, keepdim),
        draw_kthvalue,
    ),
    OpSpec("median", lambda x, dim, keepdim: cr.median(x, dim, keepdim), torch.median, draw_dim1),
    OpSpec("median[all]", lambda x, **kw: cr.median(x), lambda x, **kw: torch.median(x), unary(min_side=1)),
    OpSpec("nanmedian", lambda x, dim, keepdim: x.nanmedian(dim, keepdim), torch.nanmedian, draw_dim1),
    OpSpec(
        "mode",
        lambda x, dim, keepdim: x.mode(dim, keepdim),
        torch.mode,
        draw_dim1,
        domain="ties",
        gradcheck=False,
    ),
    OpSpec(
        "quantile",
        lambda x, **kw: cr.quantile(x, **kw),
        lambda x, **kw: torch.quantile(x, **kw),
        draw_quantile,
    ),
    OpSpec(
        "nanquantile",
        lambda x, **kw: x.nanquantile(**kw),
        lambda x, **kw: torch.nanquantile(x, **kw),
        draw_quantile,
    ),
    OpSpec("msort", lambda x, **kw: cr.msort(x), lambda x, **kw: torch.msort(x), unary(min_dims=1)),
    OpSpec("cumprod", lambda x, dim: cr.cumprod(x, dim), torch.cumprod, draw_scan),
    OpSpec(
        "cumprod[with zeros]",
        lambda x, dim: x.cumprod(dim),
        torch.cumprod,
        draw_scan,
        domain="zeros",
        gradcheck=False,
    ),
    OpSpec("cummax", lambda x, dim: cr.cummax(x, dim), torch.cummax, draw_scan),
    OpSpec("cummin", lambda x, dim: x.cummin(dim), torch.cummin, draw_scan),
    OpSpec("logcumsumexp", lambda x, dim: x.logcumsumexp(dim), torch.logcumsumexp, draw_scan),
    OpSpec(
        "nansum",
        lambda x, dim, keepdim, **kw: cr.nansum(x, dim, keepdim),
        lambda x, dim, keepdim: torch.nansum(x, dim, keepdim),
        reduction(),
    ),
    OpSpec(
        "nanmean",
        lambda x, dim, keepdim, **kw: x.nanmean(dim, keepdim),
        lambda x, dim, keepdim: torch.nanmean(x, dim, keepdim),
        reduction(min_side=1),
    ),
    OpSpec(
        "var_mean",
        lambda x, dim, keepdim: cr.var_mean(x, dim, keepdim=keepdim),
        lambda x, dim, keepdim: torch.var_mean(x, dim, keepdim=keepdim),
        draw_var_mean,
    ),
    OpSpec(
        "std_mean",
        lambda x, dim, keepdim: cr.std_mean(x, dim, keepdim=keepdim),
        lambda x, dim, keepdim: torch.std_mean(x, dim, keepdim=keepdim),
        draw_var_mean,
    ),
    OpSpec(
        "aminmax",
        lambda x, dim, keepdim: x.aminmax(dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: torch.aminmax(x, dim=dim, keepdim=keepdim),
        draw_dim1,
    ),
    OpSpec("diff", lambda x, n, dim: x.diff(n, dim), lambda x, n, dim: torch.diff(x, n, dim), draw_diff),
    OpSpec(
        "trapezoid",
        lambda y, dim: cr.trapezoid(y, dim=dim),
        lambda y, dim: torch.trapezoid(y, dim=dim),
        draw_scan,
        aliases=("trapz",),
    ),
    OpSpec(
        "cumulative_trapezoid",
        lambda y, dim: cr.cumulative_trapezoid(y, dx=0.5, dim=dim),
        lambda y, dim: torch.cumulative_trapezoid(y, dx=0.5, dim=dim),
        draw_scan,
    ),
    OpSpec(
        "cov",
        lambda x, correction: x.cov(correction=correction),
        lambda x, correction: torch.cov(x, correction=correction),
        draw_cov,
    ),
    OpSpec("corrcoef", lambda x, correction: x.corrcoef(), lambda x, correction: torch.corrcoef(x), draw_cov),
    OpSpec(
        "dist", lambda a, b, p: a.dist(b, p), lambda a, b, p: torch.dist(a, b, p), draw_dist, broadcasts=True
    ),
    OpSpec(
        "renorm",
        lambda x, p, dim, maxnorm: x.renorm(p, dim, maxnorm),
        torch.renorm,
        draw_renorm,
        gradcheck=False,
    ),
    # ---- creation, random and elementwise keyword fixes (issue 14)
    OpSpec(
        "add.alpha",
        lambda a, b, alpha, _method=False: a.add(b, alpha=alpha) if _method else cr.add(a, b, alpha=alpha),
        lambda a, b, alpha: torch.add(a, b, alpha=alpha),
        broadcast(alpha=[2, -0.5, 3.0]),
        broadcasts=True,
    ),
    OpSpec(
        "sub.alpha",
        lambda a, b, alpha, _method=False: a.sub(b, alpha=alpha) if _method else cr.sub(a, b, alpha=alpha),
        lambda a, b, alpha: torch.sub(a, b, alpha=alpha),
        broadcast(alpha=[2, -0.5, 3.0]),
        broadcasts=True,
    ),
    OpSpec(
        "rsub.alpha",
        lambda a, b, alpha, _method=False: cr.rsub(a, b, alpha=alpha),
        lambda a, b, alpha: torch.rsub(a, b, alpha=alpha),
        broadcast(alpha=[2, -0.5]),
        broadcasts=True,
    ),
    OpSpec(
        "div.rounding_mode",
        lambda a, b, rounding_mode, _method=False: (
            a.div(b, rounding_mode=rounding_mode) if _method else cr.div(a, b, rounding_mode=rounding_mode)
        ),
        lambda a, b, rounding_mode: torch.div(a, b, rounding_mode=rounding_mode),
        broadcast(rounding_mode=["trunc", "floor"]),
        domain=("real", "nonzero"),
        broadcasts=True,
        gradcheck=False,  # piecewise constant: finite differences jump where the quotient crosses an integer
    ),
    OpSpec(
        "fill",
        lambda x, value, _method=False: cr.fill(x, value),
        lambda x, value: torch.fill(x, value),
        unary(value=[0.5, -2.0, 3]),
    ),
    # ---- elementwise math (issue 14)
    _eu("reciprocal", torch.reciprocal, "nonzero"),
    _eu("floor", torch.floor),
    _eu("ceil", torch.ceil),
    _eu("trunc", torch.trunc, aliases=("fix",)),
    _eu("frac", torch.frac),
    _eu("sinh", torch.sinh),
    _eu("cosh", torch.cosh),
    _eu("asin", torch.asin, "unit", _into_unit, aliases=("arcsin",)),
    _eu("acos", torch.acos, "unit", _into_unit, aliases=("arccos",)),
    _eu("atan", torch.atan, aliases=("arctan",)),
    _eu("asinh", torch.asinh, aliases=("arcsinh",)),
    _eu("acosh", torch.acosh, "positive", lambda x: x + 1.2, aliases=("arccosh",)),
    _eu("atanh", torch.atanh, "unit", _into_unit, aliases=("arctanh",)),
    _eu("log2", torch.log2, "positive"),
    _eu("log10", torch.log10, "positive"),
    _eu("exp2", torch.exp2),
    _eu("sinc", torch.sinc),
    _eu("deg2rad", torch.deg2rad),
    _eu("rad2deg", torch.rad2deg),
    _eu("positive", torch.positive),
    _eu("sgn", torch.sgn, "ties"),
    _eu("logit", torch.logit, "unit", lambda x: x * 0.4 + 0.5, eps=[None, 0.1]),
    _eu("nan_to_num", torch.nan_to_num, nan=[0.0, 1.5]),
    _eu("clamp_min", torch.clamp_min, "ties", min=[-0.5, 0.0]),
    _eu("clamp_max", torch.clamp_max, "ties", max=[0.5, 0.0]),
    _eu("erfc", torch.erfc),
    _eu("erfinv", torch.erfinv, "unit", _into_unit),
    _eu("lgamma", torch.lgamma, "positive"),
    _eu("digamma", torch.digamma, "positive"),
    _eu("i0", torch.i0),
    OpSpec("frexp", _fn(lambda x: cr.frexp(x)[0]), lambda x: torch.frexp(x)[0], unary()),
    OpSpec(
        "polygamma",
        lambda x, n, _method=False: x.polygamma(n) if _method else cr.polygamma(n, x),
        lambda x, n: torch.polygamma(n, x),
        unary(n=[1, 2, 3]),
        domain="positive",
    ),
    OpSpec(
        "mvlgamma",
        lambda x, p, _method=False: (x + 1.5).mvlgamma(p) if _method else cr.mvlgamma(x + 1.5, p),
        lambda x, p: torch.mvlgamma(x + 1.5, p),
        unary(p=[1, 3]),
        domain="positive",
    ),
    _eb("atan2", torch.atan2, ("real", "nonzero"), aliases=("arctan2",)),
    _eb("hypot", torch.hypot, "nonzero"),
    _eb("logaddexp", torch.logaddexp),
    _eb("logaddexp2", torch.logaddexp2),
    _eb("xlogy", torch.xlogy, ("real", "positive")),
    _eb("copysign", torch.copysign, ("nonzero", "nonzero")),
    _eb("fmax", torch.fmax, "ties"),
    _eb("fmin", torch.fmin, "ties"),
    _eb("fmod", torch.fmod, ("real", "nonzero")),
    _eb("float_power", torch.float_power, ("positive", "real")),
    _eb("true_divide", torch.true_divide, ("real", "nonzero")),
    _eb("ldexp", torch.ldexp),
    _eb("nextafter", torch.nextafter),
    _eb("lerp", torch.lerp, num=3),
    _eb("addcmul", lambda a, b, c, value: torch.addcmul(a, b, c, value=value), num=3, value=[1, 0.5]),
    _eb(
        "addcdiv",
        lambda a, b, c, value: torch.addcdiv(a, b, c, value=value),
        ("real", "real", "nonzero"),
        num=3,
        value=[1, -2.0],
    ),
    OpSpec(
        "lerp[scalar weight]",
        lambda a, b, w, _method=False: a.lerp(b, w) if _method else cr.lerp(a, b, w),
        lambda a, b, w: torch.lerp(a, b, w),
        broadcast(w=[0.25, 0.75]),
        broadcasts=True,
    ),
    _sp("i0e", torch.special.i0e),
    _sp("i1", torch.special.i1),
    _sp("i1e", torch.special.i1e),
    _sp("ndtr", torch.special.ndtr),
    _sp("ndtri", torch.special.ndtri, "unit", lambda x: x * 0.4 + 0.5),
    _sp("log_ndtr", torch.special.log_ndtr),
    _sp("erfcx", torch.special.erfcx),
    _sp("entr", torch.special.entr, "positive"),
    OpSpec(
        "special.xlog1py",
        _fn(cr.special.xlog1py),
        torch.special.xlog1py,
        broadcast(),
        domain=("real", "positive"),
        broadcasts=True,
    ),
    # ---- h-ctc: ctc_loss (torch has no double backward of it: second order refused by both)
    OpSpec(
        "ctc_loss",
        _ctc(cr, _crF),
        _ctc(torch, _F),
        draw_ctc,
        second_order=False,
    ),
    # h-special: special.softmax/log_softmax (dim required; the Bessel functions and polynomials are not
    # differentiable in torch, so they have no spec)
    OpSpec(
        "special.softmax",
        lambda x, dim, _alias=False: cr.special.softmax(x, dim),
        lambda x, dim: torch.special.softmax(x, dim),
        draw_cumsum,
        axes=True,
    ),
    OpSpec(
        "special.log_softmax",
        lambda x, dim, _alias=False: cr.special.log_softmax(x, dim),
        lambda x, dim: torch.special.log_softmax(x, dim),
        draw_cumsum,
        axes=True,
    ),
]

#: Public chainrule functions that are not differentiable ops (or are covered under another entry's name).
NOT_DIFFERENTIABLE = {
    "all",
    "allclose",
    "argsort",
    "equal",
    "floor_divide",  # no derivative in torch either (backward raises)
    "isclose",
    "logical_xor",
    "nonzero",
    "index_put_",  # in place: covered by index_put
    "index_add_",
    "any",
    "argmax",
    "argmin",
    "count_nonzero",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    "isfinite",
    "isnan",
    "logical_and",
    "logical_not",
    "logical_or",
    "to_device",
    "inplace",
    "setitem_",
    "getitem",
    "max",
    "min",
    # ---- indexing, scatter and search (issue 14): searches, and in-place forms covered by their op
    "argwhere",
    "bucketize",
    "isin",
    "searchsorted",
    "unravel_index",
    "scatter_",
    "scatter_add_",
    "scatter_reduce_",
    "index_copy_",
    "index_fill_",
    "index_reduce_",
    "masked_scatter_",
    "put_",
    "broadcast_shapes",  # shape arithmetic (tests/ops/test_shape_layout.py)
    # ---- reductions, order statistics, scans (issue 14): counting ops
    "unique",
    "unique_consecutive",
    "bincount",
    "histc",
    # ---- elementwise math (issue 14): bool results, or no gradient in torch either
    "isinf",
    "isposinf",
    "isneginf",
    "signbit",
    "heaviside",
}


def covered_ops() -> list[str]:
    """Names of the registry's entries (an op, with its variant in brackets), in registry order."""
    return [spec.name for spec in REGISTRY]


def covered_functions() -> set[str]:
    """The chainrule function names the registry exercises (entry names without variants, plus aliases)."""
    names = set()
    for spec in REGISTRY:
        names.add(spec.name.split("[")[0])
        names.update(spec.aliases)
    return names


# ---------------------------------------------------------------------------- running a case
_RTOL, _ATOL = 1e-6, 1e-8


def _values(rng: np.random.Generator, shape: tuple[int, ...], domain: str) -> np.ndarray:
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.3, 2.5, shape)
    if domain == "nonzero":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "unit":
        return rng.uniform(-1.2, 1.2, shape)
    if domain == "log1p":
        return rng.uniform(-0.7, 2.0, shape)
    if domain == "ties":  # few distinct values: ties, kinks (0) and clamp bounds are hit exactly
        return rng.integers(-2, 3, shape) * 0.5
    if domain == "zeros":
        return np.where(rng.random(shape) < 0.3, 0.0, rng.standard_normal(shape))
    raise ValueError(domain)


def _inputs(rng: np.random.Generator, spec: OpSpec, shapes: Shapes, smooth: bool = False) -> list[np.ndarray]:
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * len(shapes)
    out = []
    for shape, domain in zip(shapes, domains):
        if smooth and domain == "ties":
            domain = "real"
        out.append(_values(rng, shape, domain))
    return out


def _as_list(y: Any) -> list[Any]:
    return list(y) if isinstance(y, (tuple, list)) else [y]


def _th_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not k.startswith("_")}


def _close(actual: Any, expected: Any, what: str, rtol: float = _RTOL, atol: float = _ATOL) -> None:
    a = np.asarray(actual.data if isinstance(actual, cr.Tensor) else actual)
    e = expected.detach().numpy(force=True) if hasattr(expected, "detach") else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} vs torch {e.shape}"
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def _cr_grads(outs: list[Any], xs: list[Any], vs: list[np.ndarray], create_graph: bool) -> list[Any]:
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not pairs:
        return [None] * len(xs)
    return list(
        cr.grad(
            [o for o, _ in pairs],
            xs,
            [cr.tensor(v) for _, v in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
    )


def _th_grads(outs: list[Any], xs: list[Any], vs: list[np.ndarray], create_graph: bool) -> list[Any]:
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not pairs:
        return [None] * len(xs)
    return list(
        torch.autograd.grad(
            [o for o, _ in pairs],
            xs,
            [torch.as_tensor(v) for _, v in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
    )


def _zeros_if_none(g: Any, shape: tuple[int, ...]) -> Any:
    return np.zeros(shape) if g is None else g


def _float_outputs(ys: list[Any]) -> list[Any]:
    return [y for y in ys if (y.dtype.kind == "f" if isinstance(y, cr.Tensor) else y.dtype.is_floating_point)]


def _check_against_torch(spec: OpSpec, shapes: Shapes, params: dict[str, Any], seed: int) -> None:
    rng = np.random.default_rng(seed)
    arrays = _inputs(rng, spec, shapes)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ys = _as_list(spec.cr(*xs, **params))
    tys = _as_list(spec.th(*ts, **_th_params(params)))
    assert len(ys) == len(tys), f"{spec.name}: {len(ys)} outputs vs torch {len(tys)}"
    for i, (y, ty) in enumerate(zip(ys, tys)):
        assert isinstance(y, cr.Tensor), f"{spec.name}: output {i} is {type(y).__name__}"
        _close(y, ty, f"{spec.name} value {i}")
    fys, ftys = _float_outputs(ys), _float_outputs(tys)
    vs = [rng.standard_normal(y.shape).astype(y.dtype) for y in fys]
    gs = _cr_grads(fys, xs, vs, create_graph=True)
    tgs = _th_grads(ftys, ts, vs, create_graph=True)
    for i, (g, tg, x) in enumerate(zip(gs, tgs, xs)):
        if g is not None:
            assert isinstance(g, cr.Tensor) and g.dtype == x.dtype
        _close(_zeros_if_none(g, x.shape), _zeros_if_none(tg, x.shape), f"{spec.name} grad {i}")
    if not spec.second_order:
        return
    ws = [rng.standard_normal(x.shape) for x in xs]
    terms = [(g * cr.tensor(w)).sum() for g, w in zip(gs, ws) if g is not None and g.requires_grad]
    tterms = [(g * torch.as_tensor(w)).sum() for g, w in zip(tgs, ws) if g is not None and g.requires_grad]
    ggs = _cr_grads([sum(terms[1:], terms[0])], xs, [np.ones(())], False) if terms else [None] * len(xs)
    tggs = _th_grads([sum(tterms[1:], tterms[0])], ts, [np.ones(())], False) if tterms else [None] * len(xs)
    for i, (g, tg, x) in enumerate(zip(ggs, tggs, xs)):
        _close(_zeros_if_none(g, x.shape), _zeros_if_none(tg, x.shape), f"{spec.name} second grad {i}")


def _ids(spec: OpSpec) -> str:
    return spec.name


@pytest.fixture(scope="module")
def _torch() -> Any:
    return pytest.importorskip("torch")


# ---------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("spec", REGISTRY, ids=_ids)
@settings(max_examples=_budget(1))
@given(data=st.data())
def test_matches_torch(spec: OpSpec, data: Any, _torch: Any) -> None:
    """Values, first and second gradients equal torch's (float64) for hypothesis-drawn shapes and args."""
    shapes, params = spec.draw(data)
    seed = data.draw(st.integers(0, 2**32 - 1), label="value seed")
    _check_against_torch(spec, shapes, params, seed)


@pytest.mark.parametrize("spec", REGISTRY, ids=_ids)
@settings(max_examples=_budget(4))
@given(data=st.data())
def test_float32_dtypes_match_torch(spec: OpSpec, data: Any, _torch: Any) -> None:
    """With float32 inputs the outputs have torch's dtype (float32 stays float32), and so do the gradients."""
    shapes, params = spec.draw(data)
    params = {
        k: v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v
        for k, v in params.items()
    }
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="value seed"))
    arrays = [a.astype(np.float32) for a in _inputs(rng, spec, shapes)]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ys = _as_list(spec.cr(*xs, **params))
    tys = _as_list(spec.th(*ts, **_th_params(params)))
    for i, (y, ty) in enumerate(zip(ys, tys)):
        assert str(y.dtype) == str(ty.dtype).replace("torch.", ""), (
            f"{spec.name} output {i}: {y.dtype} vs {ty.dtype}"
        )
        _close(y, ty, f"{spec.name} float32 value {i}", rtol=1e-4, atol=1e-5)
    fys = _float_outputs(ys)
    vs = [rng.standard_normal(y.shape).astype(y.dtype) for y in fys]
    gs = _cr_grads(fys, xs, vs, create_graph=True)
    for i, (g, x) in enumerate(zip(gs, xs)):
        assert g is None or g.dtype == np.float32, f"{spec.name} grad {i} has dtype {g.dtype}"
    terms = [(g * g).sum() for g in gs if g is not None and g.requires_grad]
    if terms and spec.second_order:
        for i, gg in enumerate(_cr_grads([sum(terms[1:], terms[0])], xs, [np.ones((), np.float32)], False)):
            assert gg is None or gg.dtype == np.float32, f"{spec.name} second grad {i} has dtype {gg.dtype}"


@pytest.mark.parametrize("spec", [s for s in REGISTRY if s.gradcheck], ids=_ids)
@settings(max_examples=_budget(4))
@given(data=st.data())
def test_gradcheck(spec: OpSpec, data: Any) -> None:
    """Backprop agrees with central differences (float64; kinks avoided by drawing continuous values)."""
    shapes, params = spec.draw(data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="value seed"))
    xs = [cr.tensor(a, requires_grad=True) for a in _inputs(rng, spec, shapes, smooth=True)]
    assert cr.gradcheck(lambda *ts: spec.cr(*ts, **params), xs)


def test_registry_covers_every_public_differentiable_op() -> None:
    from chainrule.ops import __all__ as public  # noqa: PLC0415
    from chainrule.ops.inplace import INPLACE_METHODS  # noqa: PLC0415

    # the in-place spellings (exp_, relu_...) are checked against torch in tests/tensor/test_inplace_methods
    missing = sorted(set(public) - NOT_DIFFERENTIABLE - covered_functions() - set(INPLACE_METHODS))
    assert not missing, f"ops without a parity entry: {missing}"


def test_registry_names_are_unique() -> None:
    names = covered_ops()
    assert len(names) == len(set(names))
