"""One converter per engine Function class: ``convert(builder, f)`` adds the nodes computing ``f``'s outputs.

``CONVERTERS`` maps each Function class to its converter. Classes only used by backward passes
(``GetItemGrad``, ``ConvGradWeight``...) and losses have none: exporting a model whose forward uses them
raises ``NotImplementedError`` naming the op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.nn.functional import _activation, _conv, _dropout, _linear, _normalization, _pooling, _sparse
from chainrule.onnx._builder import INT64_MAX, INT64_MIN, GraphBuilder, host
from chainrule.ops import elementwise as ew
from chainrule.ops import index, linalg, reduce, shape

Converter = Callable[[GraphBuilder, Function], None]
CONVERTERS: dict[type, Converter] = {}


def converts(*classes: type) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn

    return register


def _dtype(f: Function, i: int = 0) -> np.dtype:
    out = f.outputs[i]
    if out is None:
        raise RuntimeError(f"export: internal error: output {i} of {f.name} is gone")
    return out.dtype


def _shape_out(b: GraphBuilder, f: Function, i: int = 0) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    g = b.twin_of(f)
    twin = None if g is None or g.outputs[i] is None else g.outputs[i].shape
    return f.outputs[i].shape, twin


# ---------------------------------------------------------------------------- elementwise
def _binary(op: str) -> Converter:
    def convert(b: GraphBuilder, f: Function) -> None:
        dt = _dtype(f)
        b.node(op, [b.input_as(f, 0, dt), b.input_as(f, 1, dt)], b.out(f))

    return convert


for _cls, _op in ((ew.Add, "Add"), (ew.Sub, "Sub"), (ew.Mul, "Mul"), (ew.Div, "Div"), (ew.Pow, "Pow"),
                  (ew.Maximum, "Max"), (ew.Minimum, "Min"), (linalg.MatMul, "MatMul")):  # fmt: skip
    CONVERTERS[_cls] = _binary(_op)


def _unary(op: str, **attrs: Any) -> Converter:
    def convert(b: GraphBuilder, f: Function) -> None:
        b.node(op, [b.input_as(f, 0, _dtype(f))], b.out(f), **attrs)

    return convert


for _cls, _op in ((ew.Neg, "Neg"), (ew.Exp, "Exp"), (ew.Log, "Log"), (ew.Sqrt, "Sqrt"), (ew.Sin, "Sin"),
                  (ew.Cos, "Cos"), (ew.Tan, "Tan"), (ew.Tanh, "Tanh"), (ew.Sigmoid, "Sigmoid"),
                  (ew.Abs, "Abs"), (ew.Sign, "Sign"), (ew.ReLU, "Relu"), (ew.Erf, "Erf"),
                  (ew.Clone, "Identity"), (ew.ToDevice, "Identity")):  # fmt: skip
    CONVERTERS[_cls] = _unary(_op)


def _scalar_op(op: str, scalar_first: bool = False) -> Converter:
    """x (op) c, or c (op) x; the Python number c becomes a 0-d constant of the output's dtype."""

    def convert(b: GraphBuilder, f: Function) -> None:
        dt = _dtype(f)
        x, c = b.input_as(f, 0, dt), b.scalar(b.static(f, "c"), dt)
        b.node(op, [c, x] if scalar_first else [x, c], b.out(f))

    return convert


CONVERTERS[ew.AddScalar] = _scalar_op("Add")
CONVERTERS[ew.MulScalar] = _scalar_op("Mul")
CONVERTERS[ew.DivScalar] = _scalar_op("Div")
CONVERTERS[ew.RSubScalar] = _scalar_op("Sub", scalar_first=True)
CONVERTERS[ew.RDivScalar] = _scalar_op("Div", scalar_first=True)
CONVERTERS[ew.RPowScalar] = _scalar_op("Pow", scalar_first=True)


@converts(ew.PowScalar)
def _pow_scalar(b: GraphBuilder, f: Function) -> None:
    dt, c = _dtype(f), b.static(f, "c")
    x = b.input_as(f, 0, dt)
    if c == 2:
        b.node("Mul", [x, x], b.out(f))
    elif c == 0.5:
        b.node("Sqrt", [x], b.out(f))
    elif c == 1:
        b.node("Identity", [x], b.out(f))
    else:
        b.node("Pow", [x, b.scalar(c, dt)], b.out(f))


@converts(ew.Square)
def _square(b: GraphBuilder, f: Function) -> None:
    x = b.input_as(f, 0, _dtype(f))
    b.node("Mul", [x, x], b.out(f))


@converts(ew.Expm1)
def _expm1(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    b.node("Sub", [b.node("Exp", [b.input_as(f, 0, dt)]), b.scalar(1, dt)], b.out(f))


@converts(ew.Log1p)
def _log1p(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    b.node("Log", [b.node("Add", [b.input_as(f, 0, dt), b.scalar(1, dt)])], b.out(f))


@converts(ew.LeakyReLU)
def _leaky_relu(b: GraphBuilder, f: Function) -> None:
    b.node("LeakyRelu", [b.input(f, 0)], b.out(f), alpha=float(b.static(f, "slope")))


@converts(ew.ELU)
def _elu(b: GraphBuilder, f: Function) -> None:
    b.node("Elu", [b.input(f, 0)], b.out(f), alpha=float(b.static(f, "alpha")))


@converts(ew.Softplus)
def _softplus(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    beta, threshold = b.static(f, "beta"), b.static(f, "threshold")
    x = b.input(f, 0)
    bx = x if beta == 1 else b.node("Mul", [x, b.scalar(beta, dt)])
    sp = b.node("Softplus", [bx])
    if beta != 1:
        sp = b.node("Div", [sp, b.scalar(beta, dt)])
    if math.isinf(threshold):
        b.node("Identity", [sp], b.out(f))
        return
    linear = b.node("Greater", [bx, b.scalar(threshold, dt)])
    b.node("Where", [linear, x, sp], b.out(f))


@converts(ew.GELU)
def _gelu(b: GraphBuilder, f: Function) -> None:
    """Opset 17 has no Gelu: x·½(1 + erf(x/√2)), or the tanh approximation."""
    dt = _dtype(f)
    x = b.input(f, 0)
    if b.static(f, "approximate") == "tanh":
        x3 = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Add", [x, b.node("Mul", [x3, b.scalar(0.044715, dt)])])
        t = b.node("Tanh", [b.node("Mul", [inner, b.scalar(math.sqrt(2.0 / math.pi), dt)])])
    else:
        t = b.node("Erf", [b.node("Div", [x, b.scalar(math.sqrt(2.0), dt)])])
    half_x = b.node("Mul", [x, b.scalar(0.5, dt)])
    b.node("Mul", [half_x, b.node("Add", [t, b.scalar(1.0, dt)])], b.out(f))


@converts(ew.SiLU)
def _silu(b: GraphBuilder, f: Function) -> None:
    x = b.input(f, 0)
    b.node("Mul", [x, b.node("Sigmoid", [x])], b.out(f))


@converts(ew.Clamp)
def _clamp(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    lo, hi = b.static(f, "lo"), b.static(f, "hi")
    ins = [
        b.input_as(f, 0, dt),
        "" if lo is None else b.scalar(lo, dt),
        "" if hi is None else b.scalar(hi, dt),
    ]
    while ins[-1] == "":
        ins.pop()
    b.node("Clip", ins, b.out(f))


CONVERTERS[_activation.Hardtanh] = _clamp  # the same clip forward and lo/hi attributes


@converts(_activation.Hardsigmoid)
def _hardsigmoid(b: GraphBuilder, f: Function) -> None:
    b.node("HardSigmoid", [b.input(f, 0)], b.out(f), alpha=1.0 / 6.0, beta=0.5)


@converts(ew.Rsqrt)
def _rsqrt(b: GraphBuilder, f: Function) -> None:
    b.node("Reciprocal", [b.node("Sqrt", [b.input_as(f, 0, _dtype(f))])], b.out(f))


@converts(ew.Where)
def _where(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    g = b.twin_of(f)
    cond = b.constant(host(f.cond), None if g is None else host(g.cond), f, "where_condition")
    b.node("Where", [cond, b.input_as(f, 0, dt), b.input_as(f, 1, dt)], b.out(f))


@converts(ew.Cast)
def _cast(b: GraphBuilder, f: Function) -> None:
    b.node("Cast", [b.input(f, 0)], b.out(f), to=b.tensor_type(_dtype(f)))


# ---------------------------------------------------------------------------- reductions
def _reduce(b: GraphBuilder, op: str, x: str, axes: tuple[int, ...] | None, keepdims: bool, out: str) -> str:
    """ReduceX over ``axes`` (all when None): axes are an input for ReduceSum (opset 13+) and for every
    reduction from opset 18, an attribute before."""
    if axes is None:
        return b.node(op, [x], out, keepdims=int(keepdims))
    if op == "ReduceSum" or b.opset >= 18:
        return b.node(op, [x, b.ints(axes)], out, keepdims=int(keepdims))
    return b.node(op, [x], out, axes=list(axes), keepdims=int(keepdims))


@converts(reduce.Sum)
def _sum(b: GraphBuilder, f: Function) -> None:
    _reduce(b, "ReduceSum", b.input(f, 0), b.static(f, "axes"), b.static(f, "keepdims"), b.out(f))


@converts(reduce.AMax)
def _amax(b: GraphBuilder, f: Function) -> None:
    op = "ReduceMin" if getattr(f.fn, "__name__", "") in ("min", "amin") else "ReduceMax"
    _reduce(b, op, b.input(f, 0), b.static(f, "axes"), b.static(f, "keepdims"), b.out(f))


@converts(reduce.LogSumExp)
def _logsumexp(b: GraphBuilder, f: Function) -> None:
    _reduce(b, "ReduceLogSumExp", b.input(f, 0), b.static(f, "axes"), b.static(f, "keepdims"), b.out(f))


@converts(reduce.Prod)
def _prod(b: GraphBuilder, f: Function) -> None:
    _reduce(b, "ReduceProd", b.input(f, 0), b.static(f, "axes"), b.static(f, "keepdims"), b.out(f))


def _root(b: GraphBuilder, f: Function) -> None:
    """s ** (1/k) (``std``, ``norm``): Sqrt for k = 2."""
    k = b.static(f, "k")
    x = b.input(f, 0)
    if k == 2:
        b.node("Sqrt", [x], b.out(f))
    else:
        b.node("Pow", [x, b.scalar(1.0 / k, _dtype(f))], b.out(f))


if isinstance(getattr(reduce, "Root", None), type):
    CONVERTERS[reduce.Root] = _root


@converts(reduce.CumSum)
def _cumsum(b: GraphBuilder, f: Function) -> None:
    b.node("CumSum", [b.input(f, 0), b.const(np.asarray(b.static(f, "axis"), np.int64), "axis")], b.out(f))


# ---------------------------------------------------------------------------- shapes
@converts(shape.Reshape)
def _reshape(b: GraphBuilder, f: Function) -> None:
    """Reshape to the output's shape; a dim following the batch is 0 (copy) or -1, not the example's size."""
    target, twin = _shape_out(b, f)
    in_shape = f.inputs[0].shape
    g = b.twin_of(f)
    if twin is None or target == twin:
        if 0 in target:  # a 0 in Reshape's shape means "copy this dim" unless allowzero (opset 14)
            if b.opset < 14:
                raise NotImplementedError(f"export: {b.where(f)} makes an empty dim: it needs opset >= 14")
            b.node("Reshape", [b.input(f, 0), b.ints(target)], b.out(f), allowzero=1)
            return
        b.node("Reshape", [b.input(f, 0), b.ints(target)], b.out(f))
        return
    twin_in = g.inputs[0].shape
    dims: list[int] = []
    inferred = 0
    for i, (d1, d2) in enumerate(zip(target, twin)):
        if d1 == d2:
            dims.append(d1)
        elif i < len(in_shape) and in_shape[i] == d1 and twin_in[i] == d2:
            dims.append(0)
        else:
            dims.append(-1)
            inferred += 1
    if inferred <= 1 and 0 not in [d for d1, d2, d in zip(target, twin, dims) if d1 == d2]:
        b.node("Reshape", [b.input(f, 0), b.ints(dims)], b.out(f))
    else:
        b.node("Reshape", [b.input(f, 0), b.shape(target, twin, f)], b.out(f))


@converts(shape.Permute)
def _permute(b: GraphBuilder, f: Function) -> None:
    b.node("Transpose", [b.input(f, 0)], b.out(f), perm=[int(a) for a in b.static(f, "axes")])


@converts(shape.BroadcastTo)
def _broadcast_to(b: GraphBuilder, f: Function) -> None:
    g = b.twin_of(f)
    b.node("Expand", [b.input(f, 0), b.shape(f.shape, None if g is None else g.shape, f)], b.out(f))


@converts(shape.SumTo)
def _sum_to(b: GraphBuilder, f: Function) -> None:
    in_shape = f.inputs[0].shape
    axes = shape._sum_to_axes(in_shape, f.shape)
    g = b.twin_of(f)
    if g is not None and shape._sum_to_axes(g.inputs[0].shape, g.shape) != axes:
        raise NotImplementedError(
            f"export: {b.where(f)} sums over the batch dimension in a batch-dependent way"
        )
    summed = _reduce(b, "ReduceSum", b.input(f, 0), axes, True, b.fresh("sum_to")) if axes else b.input(f, 0)
    b.node("Reshape", [summed, b.shape(f.shape, None if g is None else g.shape, f)], b.out(f))


@converts(shape.Concat)
def _concat(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    ins = [b.input_as(f, i, dt) for i in range(len(f.inputs))]
    b.node("Concat", ins, b.out(f), axis=int(b.static(f, "axis")))


@converts(shape.Stack)
def _stack(b: GraphBuilder, f: Function) -> None:
    dt, axis = _dtype(f), int(b.static(f, "axis"))
    axes = b.ints([axis])
    ins = [b.node("Unsqueeze", [b.input_as(f, i, dt), axes]) for i in range(len(f.inputs))]
    b.node("Concat", ins, b.out(f), axis=axis)


@converts(shape.Split)
def _split(b: GraphBuilder, f: Function) -> None:
    sizes, axis = b.static(f, "sizes"), int(b.static(f, "axis"))
    outs = [b.out(f, i) for i in range(len(sizes))]
    b.node("Split", [b.input(f, 0), b.ints(sizes)], outs, axis=axis)


@converts(shape.Flip)
def _flip(b: GraphBuilder, f: Function) -> None:
    axes = list(b.static(f, "axes"))
    k = len(axes)
    back = b.ints([-1] * k)
    b.node("Slice", [b.input(f, 0), back, b.ints([INT64_MIN] * k), b.ints(axes), back],
           b.out(f))  # fmt: skip


@converts(shape.Pad)
def _pad(b: GraphBuilder, f: Function) -> None:
    widths = b.static(f, "widths")
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    value = b.scalar(b.static(f, "value"), _dtype(f))
    b.node("Pad", [b.input(f, 0), b.ints(pads), value], b.out(f), mode="constant")


@converts(shape.Repeat)
def _repeat(b: GraphBuilder, f: Function) -> None:
    reps = b.static(f, "reps")
    x = b.input(f, 0)
    lead = len(reps) - f.inputs[0].ndim
    if lead:
        x = b.node("Unsqueeze", [x, b.ints(range(lead))])
    b.node("Tile", [x, b.ints(reps)], b.out(f))


# ---------------------------------------------------------------------------- indexing
def _expand_ellipsis(key: tuple, ndim: int) -> list:
    used = sum(
        (k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else 1)
        for k in key
        if k is not None and k is not Ellipsis
    )
    out: list = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - used))
        else:
            out.append(k)
    return out


@converts(index.GetItem)
def _getitem(b: GraphBuilder, f: Function) -> None:
    """Basic indexing -> Slice (+ Squeeze for ints, Unsqueeze for None); one integer array -> Gather."""
    key = f.key if isinstance(f.key, tuple) else (f.key,)
    g = b.twin_of(f)
    twin_key = None if g is None else (g.key if isinstance(g.key, tuple) else (g.key,))
    x_ndim = f.inputs[0].ndim
    items = _expand_ellipsis(key, x_ndim)
    twin_items = None if twin_key is None else _expand_ellipsis(twin_key, x_ndim)
    starts, ends, steps, axes, squeeze, unsqueeze = [], [], [], [], [], []
    gather: tuple[int, str] | None = None
    axis = out_pos = 0
    for j, k in enumerate(items):
        k2 = None if twin_items is None else twin_items[j]
        if k is None:
            unsqueeze.append(out_pos)
            out_pos += 1
        elif isinstance(k, slice):
            if k2 is not None and k2 != k:
                raise NotImplementedError(
                    f"export: {b.where(f)} slices with {k}, which depends on the batch size"
                )
            step = 1 if k.step is None else int(k.step)
            if (k.start, k.stop, step) != (None, None, 1):
                if step > 0:
                    start = 0 if k.start is None else int(k.start)
                    stop = INT64_MAX if k.stop is None else int(k.stop)
                else:
                    start = INT64_MAX if k.start is None else int(k.start)
                    stop = INT64_MIN if k.stop is None else int(k.stop)
                starts.append(start)
                ends.append(stop)
                steps.append(step)
                axes.append(axis)
            axis += 1
            out_pos += 1
        elif isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
            if k2 is not None and k2 != k:
                raise NotImplementedError(
                    f"export: {b.where(f)} indexes with {k}, which depends on the batch size"
                )
            i = int(k)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            steps.append(1)
            axes.append(axis)
            squeeze.append(axis)
            axis += 1
        elif isinstance(k, np.ndarray) and k.ndim > 0 and gather is None:
            idx, idx2 = host(k), None if k2 is None else host(k2)
            if idx.dtype == bool:
                if idx.ndim != 1:
                    raise NotImplementedError(f"export: {b.where(f)} uses a multi-dimensional boolean mask")
                idx = np.flatnonzero(idx)
                idx2 = None if idx2 is None else np.flatnonzero(idx2)
            gather = (axis, b.constant(idx.astype(np.int64), None if idx2 is None else idx2.astype(np.int64),
                                       f, "indices"))  # fmt: skip
            axis += 1
            out_pos += idx.ndim
        else:
            raise NotImplementedError(
                f"export: {b.where(f)} uses an index ({type(k).__name__}) that cannot be exported; "
                "supported: ints, slices, None, Ellipsis and one integer array"
            )
    if gather is not None and (squeeze or unsqueeze):
        raise NotImplementedError(
            f"export: {b.where(f)} mixes an index array with ints or None; index in two steps instead"
        )
    x = b.input(f, 0)
    steps_done = [bool(axes), gather is not None, bool(squeeze), bool(unsqueeze)]
    last = max((i for i, done in enumerate(steps_done) if done), default=-1)
    if last == -1:
        b.node("Identity", [x], b.out(f))
        return

    def target(stage: int) -> Any:
        return b.out(f) if stage == last else None

    if axes:
        x = b.node("Slice", [x, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)], target(0))
    if gather is not None:
        x = b.node("Gather", [x, gather[1]], target(1), axis=gather[0])
    if squeeze:
        x = b.node("Squeeze", [x, b.ints(squeeze)], target(2))
    if unsqueeze:
        b.node("Unsqueeze", [x, b.ints(unsqueeze)], target(3))


@converts(index.TakeAlongDim)
def _take_along_dim(b: GraphBuilder, f: Function) -> None:
    # take_along_dim broadcasts the input and the indices against each other off the axis; GatherElements
    # does not, so both are brought to the output's shape first (the input keeps its length on the axis).
    out_shape, twin_shape = _shape_out(b, f)
    axis = int(b.static(f, "axis")) % len(out_shape)
    g = b.twin_of(f)
    twin = None if g is None else np.broadcast_to(host(g.indices), twin_shape).astype(np.int64)
    idx = b.constant(np.broadcast_to(host(f.indices), out_shape).astype(np.int64), twin, f, "indices")
    x = b.input(f, 0)
    in_shape = tuple(f.in_shape)
    wanted = out_shape[:axis] + in_shape[axis : axis + 1] + out_shape[axis + 1 :]
    if wanted != in_shape:
        twin_wanted = (
            None
            if g is None
            else twin_shape[:axis] + tuple(g.in_shape)[axis : axis + 1] + twin_shape[axis + 1 :]
        )
        x = b.node("Expand", [x, b.shape(wanted, twin_wanted, f)])
    b.node("GatherElements", [x, idx], b.out(f), axis=axis)


@converts(linalg.Einsum)
def _einsum(b: GraphBuilder, f: Function) -> None:
    dt = _dtype(f)
    equation = ",".join(b.static(f, "inputs_subs")) + "->" + b.static(f, "out_subs")
    b.node("Einsum", [b.input_as(f, i, dt) for i in range(len(f.inputs))], b.out(f), equation=equation)


# ---------------------------------------------------------------------------- nn layers
@converts(_linear.Linear)
def _linear_op(b: GraphBuilder, f: Function) -> None:
    """2-D input: one Gemm (transB=1); otherwise MatMul with the transposed weight, then Add the bias."""
    dt = _dtype(f)
    x, w = b.input_as(f, 0, dt), b.input(f, 1)
    bias = [b.input(f, 2)] if len(f.inputs) > 2 else []
    if f.inputs[0].ndim == 2:
        b.node("Gemm", [x, w, *bias], b.out(f), transB=1)
        return
    y = b.node("MatMul", [x, b.node("Transpose", [w], perm=[1, 0])], None if bias else b.out(f))
    if bias:
        b.node("Add", [y, bias[0]], b.out(f))


def _pads(pairs: Any) -> list[int]:
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


@converts(_conv.ConvNd)
def _conv_nd(b: GraphBuilder, f: Function) -> None:
    geom = b.static(f, "g")
    w = f.inputs[1]
    ins = [b.input(f, i) for i in range(len(f.inputs))]
    b.node("Conv", ins, b.out(f), kernel_shape=list(w.shape[2:]), strides=list(geom.stride),
           pads=_pads(geom.padding), dilations=list(geom.dilation), group=int(geom.groups))  # fmt: skip


@converts(_conv.ConvGradInput)
def _conv_transpose(b: GraphBuilder, f: Function) -> None:
    """``conv_transpose*d``: ConvTranspose, with the output padding that gives the recorded output size."""
    geom = b.static(f, "g")
    x, w = f.inputs
    kernel = w.shape[2:]
    natural = [
        s * (n - 1) + d * (k - 1) + 1 - lo - hi
        for s, n, d, k, (lo, hi) in zip(geom.stride, x.shape[2:], geom.dilation, kernel, geom.padding)
    ]
    out_pad = [o - n for o, n in zip(f.x_shape[2:], natural)]
    b.node("ConvTranspose", [b.input(f, 0), b.input(f, 1)], b.out(f), kernel_shape=list(kernel),
           strides=list(geom.stride), pads=_pads(geom.padding), dilations=list(geom.dilation),
           group=int(geom.groups), output_padding=out_pad)  # fmt: skip


@converts(_pooling._MaxPool)
def _max_pool(b: GraphBuilder, f: Function) -> None:
    p = b.static(f, "g")
    b.node("MaxPool", [b.input(f, 0)], b.out(f), kernel_shape=list(p.kernel), strides=list(p.stride),
           pads=_pads(p.pad), dilations=list(p.dilation))  # fmt: skip


@converts(_pooling._WindowSum)
def _window_sum(b: GraphBuilder, f: Function) -> None:
    """Window sums = average pooling (padding counted) times the window size. When the only use divides by
    that size again (``avg_pool2d``), the pair is one AveragePool (GlobalAveragePool for whole images)."""
    p = b.static(f, "g")
    dt = _dtype(f)
    size = int(np.prod(p.kernel))
    users = b.consumers(f.outputs[0])
    fused = (
        len(users) == 1 and type(users[0]) is ew.DivScalar and users[0].c == size
        and not b.is_model_output(f.outputs[0])
    )  # fmt: skip
    out = b.out(users[0]) if fused else b.fresh("window_mean")
    whole = tuple(p.kernel) == tuple(f.inputs[0].shape[-len(p.kernel) :]) and not any(sum(q) for q in p.pad)
    if whole:
        mean = b.node("GlobalAveragePool", [b.input(f, 0)], out)
    else:
        mean = b.node("AveragePool", [b.input(f, 0)], out, kernel_shape=list(p.kernel),
                      strides=list(p.stride), pads=_pads(p.pad), count_include_pad=1)  # fmt: skip
    if fused:
        b.skip.add(id(users[0]))
        b.alias_output(f, b.fresh("unused_window_sum"))
    else:
        b.node("Mul", [mean, b.scalar(size, dt)], b.out(f))


@converts(_normalization.Normalize)
def _normalize(b: GraphBuilder, f: Function) -> None:
    """(x - mean) / sqrt(var + eps): LayerNormalization over trailing axes (opset 17+), else spelled out."""
    axes = tuple(b.static(f, "axes"))
    eps = float(b.static(f, "eps"))
    x_t = f.inputs[0]
    dt = _dtype(f)
    ndim = x_t.ndim
    x = b.input(f, 0)
    if b.opset >= 17 and axes == tuple(range(ndim - len(axes), ndim)) and 0 not in axes:
        norm_shape = x_t.shape[ndim - len(axes) :]
        scale = b.const(np.ones(norm_shape, dtype=dt), "ones")
        bias = b.const(np.zeros(norm_shape, dtype=dt), "zeros")
        b.node("LayerNormalization", [x, scale, bias], b.out(f), axis=ndim - len(axes), epsilon=eps)
        return
    mean = _reduce(b, "ReduceMean", x, axes, True, b.fresh("mean"))
    xc = b.node("Sub", [x, mean])
    var = _reduce(b, "ReduceMean", b.node("Mul", [xc, xc]), axes, True, b.fresh("var"))
    std = b.node("Sqrt", [b.node("Add", [var, b.scalar(eps, dt)])])
    b.node("Div", [xc, std], b.out(f))


@converts(_activation.Softmax)
def _softmax(b: GraphBuilder, f: Function) -> None:
    b.node("Softmax", [b.input(f, 0)], b.out(f), axis=int(b.static(f, "axis")))


@converts(_activation.LogSoftmax)
def _log_softmax(b: GraphBuilder, f: Function) -> None:
    b.node("LogSoftmax", [b.input(f, 0)], b.out(f), axis=int(b.static(f, "axis")))


@converts(_sparse._Lookup)
def _embedding(b: GraphBuilder, f: Function) -> None:
    """Embedding: Gather rows of the weight by the (int64) indices, which are usually the model's input."""
    idx_name = None
    for t in b.main.inputs:
        if f.idx is t.data:
            idx_name = b.name_of(t)
    if idx_name is None:
        g = b.twin_of(f)
        idx_name = b.constant(host(f.idx), None if g is None else host(g.idx), f, "indices")
    b.node("Gather", [b.input(f, 0), idx_name], b.out(f), axis=0)


@converts(_dropout._MaskMul)
def _dropout_mask(b: GraphBuilder, f: Function) -> None:
    raise NotImplementedError(
        f"export: {b.where(f)} is dropout in training mode (F.dropout(..., training=True) in forward); "
        "pass training=self.training so eval mode turns it off"
    )


# ---------------------------------------------------------------------------- fused recurrent cells
def _split_last(b: GraphBuilder, x: str, width: int, n: int) -> list[str]:
    return b.node("Split", [x, b.ints([width // n] * n)], n_out=n, axis=-1)


def _lstm_gates(b: GraphBuilder, z: str, c_prev: str, width: int, h_out: Any = None, c_out: Any = None):
    """h', c' from the pre-activations z = gx + gh, gates (i, f, g, o) as torch."""
    i, fg, g, o = _split_last(b, z, width, 4)
    i, fg, o = (b.node("Sigmoid", [t]) for t in (i, fg, o))
    c = b.node("Add", [b.node("Mul", [fg, c_prev]), b.node("Mul", [i, b.node("Tanh", [g])])], c_out)
    return b.node("Mul", [o, b.node("Tanh", [c])], h_out), c


def _lstm_cell(b: GraphBuilder, f: Function) -> None:
    """(gx, gh, c) -> (h', c'): one time step."""
    dt = _dtype(f)
    gx, gh, c_prev = (b.input_as(f, i, dt) for i in range(3))
    _lstm_gates(b, b.node("Add", [gx, gh]), c_prev, f.inputs[0].shape[-1], b.out(f, 0), b.out(f, 1))


def _lstm_sequence(b: GraphBuilder, f: Function) -> None:
    """(gx, h0, c0, w_hh) -> (out, h_n, c_n): one layer and direction, unrolled over the traced length."""
    dt = _dtype(f)
    gx, h, c, w_hh = (b.input_as(f, i, dt) for i in range(4))
    steps, _, width = f.inputs[0].shape
    if steps == 0:
        raise NotImplementedError(f"export: {b.where(f)} runs over an empty sequence")
    w_t = b.node("Transpose", [w_hh], perm=[1, 0])
    outs: list[Any] = [None] * steps
    for t in reversed(range(steps)) if f.reverse else range(steps):
        gx_t = b.node("Gather", [gx, b.scalar(t, np.int64)], axis=0)
        h, c = _lstm_gates(b, b.node("Add", [gx_t, b.node("MatMul", [h, w_t])]), c, width)
        outs[t] = b.node("Unsqueeze", [h, b.ints([0])])
    b.node("Concat", outs, b.out(f, 0), axis=0)
    b.node("Identity", [h], b.out(f, 1))
    b.node("Identity", [c], b.out(f, 2))


def _gru_cell(b: GraphBuilder, f: Function) -> None:
    """(gx, gh, h) -> h', gates (r, z, n) as torch."""
    dt = _dtype(f)
    gx, gh, h_prev = (b.input_as(f, i, dt) for i in range(3))
    width = f.inputs[0].shape[-1]
    x_r, x_z, x_n = _split_last(b, gx, width, 3)
    h_r, h_z, h_n = _split_last(b, gh, width, 3)
    r = b.node("Sigmoid", [b.node("Add", [x_r, h_r])])
    z = b.node("Sigmoid", [b.node("Add", [x_z, h_z])])
    n = b.node("Tanh", [b.node("Add", [x_n, b.node("Mul", [r, h_n])])])
    b.node("Add", [n, b.node("Mul", [z, b.node("Sub", [h_prev, n])])], b.out(f))


def _register_rnn_cells() -> None:
    from chainrule.nn.layers import rnn  # noqa: PLC0415

    for name, fn in (("_LSTMCell", _lstm_cell), ("_LSTMSequence", _lstm_sequence), ("_GRUCell", _gru_cell)):
        cls = getattr(rnn, name, None)
        if isinstance(cls, type) and issubclass(cls, Function):
            CONVERTERS[cls] = fn


_register_rnn_cells()


# ---- linear algebra (issue 14): the ops ONNX has directly
def _register_linalg() -> None:
    from chainrule.linalg import solvers as linalg_solvers  # noqa: PLC0415

    def det(b: GraphBuilder, f: Function) -> None:
        b.node("Det", [b.input(f, 0)], b.out(f))

    CONVERTERS[linalg_solvers.Det] = det


_register_linalg()
# ---- indexing, scatter and search (issue 14)
from chainrule.ops import gather_scatter as scatter  # noqa: E402 (kept in this section: one per family)


def _scatter_index(b: GraphBuilder, f: Function) -> str:
    g = b.twin_of(f)
    twin = None if g is None else host(g.idx).astype(np.int64)
    return b.constant(host(f.idx).astype(np.int64), twin, f, "indices")


@converts(scatter.Gather)
def _gather(b: GraphBuilder, f: Function) -> None:
    idx = _scatter_index(b, f)
    b.node("GatherElements", [b.input(f, 0), idx], b.out(f), axis=int(b.static(f, "dim")))


@converts(scatter.ScatterSet)
def _scatter_set(b: GraphBuilder, f: Function) -> None:
    idx = _scatter_index(b, f)
    inputs = [b.input(f, 0), idx, b.input(f, 1)]
    b.node("ScatterElements", inputs, b.out(f), axis=int(b.static(f, "dim")))


# ---- elementwise math (issue 14): the ops ONNX has directly
def _register_elementwise_math() -> None:
    from chainrule.ops import elementwise_math as em  # noqa: PLC0415

    for cls, op in ((em.Floor, "Floor"), (em.Ceil, "Ceil"), (em.Sinh, "Sinh"), (em.Cosh, "Cosh"),
                    (em.Asin, "Asin"), (em.Acos, "Acos"), (em.Atan, "Atan"), (em.Asinh, "Asinh"),
                    (em.Acosh, "Acosh"), (em.Atanh, "Atanh"), (em.Reciprocal, "Reciprocal")):  # fmt: skip
        CONVERTERS[cls] = _unary(op)


_register_elementwise_math()
