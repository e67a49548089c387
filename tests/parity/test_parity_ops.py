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
    if terms:
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

    missing = sorted(set(public) - NOT_DIFFERENTIABLE - covered_functions())
    assert not missing, f"ops without a parity entry: {missing}"


def test_registry_names_are_unique() -> None:
    names = covered_ops()
    assert len(names) == len(set(names))
