"""Indexing (read and write) and in-place ops.

Reads support ints, slices, None, Ellipsis, integer arrays and boolean masks; repeated indices accumulate
their gradients (``np.add.at``). Writes and in-place ops bump the tensor's version counter, so a backward
that needs the old values raises instead of silently using the new ones.
"""

from __future__ import annotations

import weakref
from builtins import max as builtins_max
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.tensor import Tensor, _new, as_array, bump_version, version_of


def normalize_key(key: Any) -> Any:
    """Tensors and lists inside an index become arrays; bool tensors stay masks."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for k in items:
        if isinstance(k, Tensor):
            k = k.data
        elif isinstance(k, list):
            k = np.asarray(k)
        if (isinstance(k, np.ndarray) or backend.is_cuda_array(k)) and k.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be integer or bool, got dtype {k.dtype}")
        out.append(k)
    return tuple(out) if isinstance(key, tuple) else out[0]


def _is_advanced(key: Any) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return any((isinstance(k, np.ndarray) or backend.is_cuda_array(k)) and k.ndim > 0 for k in items)


def key_to_device(key: Any, like: Any) -> Any:
    """Index arrays moved to the device of the array ``like`` they index (free when CuPy is not loaded)."""
    if backend._cupy is None:
        return key
    if isinstance(key, tuple):
        return tuple(key_to_device(k, like) for k in key)
    return backend.to_device_of(key, like) if isinstance(key, np.ndarray) else key


def _is_int(k: Any) -> bool:
    if isinstance(k, (bool, np.bool_)):
        return False
    if isinstance(k, (int, np.integer)):
        return True
    return isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu"


def torch_steps(key: Any, ndim: int) -> tuple[Any, ...]:
    """``key`` as NumPy keys applied one after the other, with torch's meaning.

    Two rules differ when index arrays are present. torch reads an integer as basic indexing (a select)
    even next to index arrays, NumPy as one more index array: ``x[0, :, [0, 1]]`` on shape (2, 3, 4) is
    (3, 2) in torch but (2, 3) in NumPy; so the integers (and slices, None) go first as a view, then the
    arrays index what is left. And an Ellipsis standing for no dim does not separate index arrays in torch
    (it does in NumPy): it is written out as the slices it stands for.
    """
    items = key if isinstance(key, tuple) else (key,)
    if not _is_advanced(items):
        return (key,)
    if any(k is Ellipsis for k in items):
        used = sum(k.ndim if _is_mask(k) else 1 for k in items if k is not None and k is not Ellipsis)
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items = (*items[:at], *[slice(None)] * (ndim - used), *items[at + 1 :])
    if not any(_is_int(k) for k in items):
        return (items,)
    basic: list[Any] = []
    rest: list[Any] = []
    for k in items:
        if _is_int(k):
            basic.append(int(k))  # a 0-d index array would be advanced indexing (a copy) in NumPy
        elif k is None or isinstance(k, slice):
            basic.append(k)
            rest.append(slice(None))
        else:  # an index array: a mask stands for as many dims as it has
            basic.extend([slice(None)] * (k.ndim if _is_mask(k) else 1))
            rest.append(k)
    return tuple(basic), tuple(rest)


def _is_mask(k: Any) -> bool:
    return (isinstance(k, np.ndarray) or backend.is_cuda_array(k)) and k.dtype.kind == "b"


def _index(a: Any, steps: tuple[Any, ...]) -> Any:
    for k in steps:
        a = a[k]
    return a


def _write(a: Any, steps: tuple[Any, ...], value: Any) -> None:
    """``a[key] = value`` for a key split by ``torch_steps`` (the first steps are views of ``a``)."""
    _index(a, steps[:-1])[steps[-1]] = value


class GetItem(Function):
    uses_inputs = False

    def __init__(self, key, steps=None):
        self.key = key
        self.steps = (key,) if steps is None else steps
        self.is_view = not _is_advanced(key)

    def forward(self, x):
        self.in_shape, self.in_dtype = x.shape, x.dtype
        return backend.ensure_array(_index(x, self.steps))

    def backward(self, gy):
        return GetItemGrad(self.key, self.in_shape, self.steps)(gy)


class GetItemGrad(Function):
    """Scatter ``gy`` into zeros of the input's shape (the adjoint of GetItem)."""

    uses_inputs = False

    def __init__(self, key, shape, steps=None):
        self.key, self.shape = key, shape
        self.steps = (key,) if steps is None else steps

    def forward(self, gy):
        gx = backend.zeros(self.shape, gy.dtype, gy)
        target = _index(gx, self.steps[:-1])  # basic steps: a view into gx
        if _is_advanced(self.steps[-1]):
            backend.scatter_add(target, self.steps[-1], gy)  # repeated indices accumulate
        else:
            target[self.steps[-1]] = gy
        return gx

    def backward(self, ggx):
        return GetItem(self.key, self.steps)(ggx)


class TakeAlongDim(Function):
    uses_inputs = False

    def __init__(self, indices: np.ndarray, axis: int):
        self.indices, self.axis = indices, axis

    def forward(self, x):
        self.in_shape = x.shape
        return np.take_along_axis(x, self.indices, axis=self.axis)

    def backward(self, gy):
        return PutAlongDim(self.indices, self.axis, self.in_shape)(gy)


class PutAlongDim(Function):
    uses_inputs = False

    def __init__(self, indices, axis, shape):
        self.indices, self.axis, self.shape = indices, axis, shape

    def forward(self, gy):
        from chainrule.ops.shape import sum_to_array  # noqa: PLC0415

        # indices and input broadcast against each other (take_along_dim): scatter at gy's shape, sum back
        full = list(gy.shape)
        full[self.axis] = self.shape[self.axis]
        xp = backend.get_array_module(gy)
        gx = xp.zeros(full, dtype=gy.dtype)
        ndim = gy.ndim
        idx = [xp.arange(n).reshape([n if i == d else 1 for i in range(ndim)]) for d, n in enumerate(full)]
        idx[self.axis] = xp.broadcast_to(self.indices, gy.shape)
        backend.scatter_add(gx, tuple(idx), gy)
        return sum_to_array(gx, self.shape)

    def backward(self, ggx):
        return TakeAlongDim(self.indices, self.axis)(ggx)


class SetItem(Function):
    """out = x with out[key] = v; gradient flows to v for the written part and to x elsewhere."""

    uses_inputs = False

    def __init__(self, key, steps):
        self.key, self.steps = key, steps

    def forward(self, x, v):
        self.v_shape = v.shape
        y = x.copy()
        _write(y, self.steps, v)
        return y

    def backward(self, gy):
        mask = backend.ones(gy.shape, gy.dtype, gy.data)
        _write(mask, self.steps, 0)
        gv = GetItem(self.key, self.steps)(gy)
        return gy * _new(mask), gv


def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]``: basic and advanced indexing as torch; the gradient scatters back (repeats add up)."""
    key = key_to_device(normalize_key(key), x.data)
    try:
        return GetItem(key, torch_steps(key, x.ndim))(x)
    except IndexError as exc:
        raise IndexError(f"index {key!r} is invalid for a tensor of shape {x.shape}: {exc}") from None


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The entries of ``x`` at the int positions ``index`` along ``dim`` (``torch.index_select``)."""
    idx = index.data if isinstance(index, Tensor) else backend.asarray(index, like=index)
    if idx.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {idx.ndim} dims")
    idx = idx.reshape(-1)
    x1 = x.reshape(1) if x.ndim == 0 else x
    if not -x1.ndim <= dim < x1.ndim:
        raise IndexError(f"index_select(): dim {dim} is out of range for a tensor of {x.ndim} dims")
    size = x1.shape[dim]
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError(f"index_select(): index out of range in self (size {size} along dim {dim})")
    key = [slice(None)] * x1.ndim
    key[dim] = idx
    out = getitem(x1, tuple(key))
    return out.reshape(()) if x.ndim == 0 else out


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` where ``mask`` is True; a 0-d tensor ``value`` gets the masked gradients' sum."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill only supports a 0-dimensional value tensor, "
                f"but got tensor with {value.ndim} dimension(s)."
            )
        return where(m, value if value.dtype == x.dtype else value.to(x.dtype), x)
    return where(m, _new(backend.asarray(value, x.dtype, x.data)), x)


# ---------------------------------------------------------------------------- writes and in-place ops
_LEAF_INPLACE = (
    "a leaf Variable that requires grad is being used in an in-place operation. (Wrap it in "
    "`with no_grad():` as optimizers do, or use an out-of-place op.)"
)


def _rebind(t: Tensor, out: Tensor, old: Tensor) -> Tensor:
    """Make ``t`` (the same Python object) the result ``out``; ``old`` keeps its former value and creator."""
    try:
        t.data[...] = out.data  # write through the same memory: views of ``t`` see the change, as in torch
    except ValueError as exc:  # a read-only array (expand/broadcast_to output, a read-only ndarray)
        raise RuntimeError(f"cannot modify this tensor in place: {exc}; clone() it first") from None
    creator = t.creator
    if creator is not None:
        refs = tuple(_retarget(ref, t, old) for ref in creator.output_refs())
        creator._output_refs = refs if len(refs) > 1 else refs[0]
    # Functions that took ``t`` before this op will get ``old`` instead (Function._check_versions).
    priors = getattr(t, "_prior", None)  # unset unless ``t`` was rebound before
    if priors is None:
        t._prior = [weakref.ref(old)]
    else:
        priors[:] = [ref for ref in priors if ref() is not None]
        priors.append(weakref.ref(old))
    t.creator = out.creator
    t.generation = out.generation
    t._requires_grad = out._requires_grad
    if out.creator is not None:
        out.creator._output_refs = _weak(t)
    bump_version(t)
    return t


def _weak(t: Tensor) -> weakref.ref:
    return weakref.ref(t)


def _retarget(ref: Any, t: Tensor, old: Tensor) -> Any:
    return _weak(old) if ref() is t else ref


def _snapshot(t: Tensor) -> Tensor:
    """A Tensor standing for ``t`` before an in-place change (a copy of its data, same creator)."""
    old = _new(t.data.copy(), t.requires_grad)
    old.creator = t.creator
    old.generation = t.generation
    old._vbox = [version_of(t)]
    return old


def _functional(old: Tensor, kind: str, arg: Any) -> Tensor:
    from chainrule import ops  # noqa: PLC0415

    if kind == "add":
        return ops.add(old, arg)
    if kind == "sub":
        return ops.sub(old, arg)
    if kind == "mul":
        return ops.mul(old, arg)
    if kind == "div":
        return ops.div(old, arg)
    if kind == "pow":
        return ops.pow(old, arg)
    if kind == "clamp":
        return ops.clamp(old, *arg)
    if kind in ("fill", "copy"):  # where(), not old * 0 + value: an inf or nan in ``old`` must not leak
        src = arg if isinstance(arg, Tensor) else _new(as_array(arg, old.dtype))
        return ops.where(np.ones(old.shape, dtype=bool), src.to(old.device, old.dtype), old)
    raise ValueError(kind)


def _apply_in_place(data: np.ndarray, kind: str, arg: Any) -> None:
    value = arg.data if isinstance(arg, Tensor) else arg
    if kind != "clamp" and backend._cupy is not None and hasattr(value, "shape"):
        value = backend.to_device_of(value, data)  # copy_ (and the others) take a tensor from another device
    if kind == "add":
        np.add(data, value, out=data, casting="same_kind")
    elif kind == "sub":
        np.subtract(data, value, out=data, casting="same_kind")
    elif kind == "mul":
        np.multiply(data, value, out=data, casting="same_kind")
    elif kind == "div":
        np.divide(data, value, out=data, casting="same_kind")
    elif kind == "pow":
        np.power(data, value, out=data, casting="same_kind")
    elif kind == "clamp":
        lo, hi = (v.data if isinstance(v, Tensor) else v for v in arg)
        np.clip(data, lo, hi, out=data)
    elif kind in ("fill", "copy"):
        data[...] = value
    else:
        raise ValueError(kind)


def _check_recordable(t: Tensor, op: str) -> None:
    """Refuse recorded in-place writes that would give wrong gradients: on leaves, on views, on integers."""
    check_graph_target(t, op)
    if t.dtype.kind not in "fc":
        raise TypeError(f"{op}: cannot write a result that requires grad into a tensor of dtype {t.dtype}")


def check_graph_target(t: Tensor, op: str) -> None:
    """Refuse a recorded in-place write into a leaf that requires grad or into a view of a graph tensor."""
    if t.requires_grad and t.creator is None:
        raise RuntimeError(_LEAF_INPLACE)
    if t.creator is not None and t.creator.is_view:
        raise RuntimeError(
            f"{op}: in-place operation on a view (output of {t.creator.name}) of a tensor that is part of a "
            "graph is not supported (the base's gradient would miss it); modify the base, or clone() the view"
        )


def _records(t: Tensor, arg: Any) -> bool:
    if not _grad_state.grad_enabled:
        return False
    return t.requires_grad or (isinstance(arg, Tensor) and arg.requires_grad)


def _check_in_place_anomaly(op: str, result: Any) -> None:
    """detect_anomaly's forward check for an in-place op that autograd does not record (no grad needed)."""
    if result.dtype.kind in "fc" and not np.isfinite(result).all():
        from chainrule.autograd.function import _creation_site  # noqa: PLC0415 (only when an anomaly is found)

        what = "nan" if np.isnan(result).any() else "inf"
        raise RuntimeError(
            f"{op} produced {what} in place (op called at {_creation_site()}); the tensor was left unchanged"
        )


def _cast_error(t: Tensor, result: Any) -> RuntimeError:
    from chainrule.ops.inplace import _torch_name  # noqa: PLC0415 (torch's names: Float, Long...)

    return RuntimeError(
        f"result type {_torch_name(np.dtype(result))} can't be cast to the desired output type "
        f"{_torch_name(t.dtype)}"
    )


def _shape_error(t: Tensor, kind: str, shape: Any) -> RuntimeError:
    return RuntimeError(f"{kind}_: output with shape {t.shape} doesn't match the broadcast shape {shape}")


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return b


def inplace(t: Tensor, kind: str, arg: Any) -> Tensor:
    """Run an in-place op on ``t`` and bump its version counter.

    As in torch, the result keeps ``t``'s dtype when the cast stays within a kind (float64 into float32),
    and is refused when it would not (a float result into an int tensor, ``x /= 2`` on integers).
    """
    if kind == "clamp" and arg[0] is None and arg[1] is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    if not _records(t, arg):
        # Under detect_anomaly the result is computed on a copy and checked before the tensor changes, as the
        # recorded path below is (its Function checks its forward); otherwise straight into t's memory.
        target = t.data.copy() if _grad_state.anomaly else t.data
        try:
            _apply_in_place(target, kind, arg)
        except TypeError:  # NumPy's casting error (same_kind): int /= 2, int += 1.5, bool += 1
            value = arg.data if isinstance(arg, Tensor) else arg
            result = np.result_type(t.data, value)
            if isinstance(value, (float, complex)) and result.kind in "fc":  # a Python number: default dtype
                result = np.dtype(np.float32 if isinstance(value, float) else np.complex64)
            raise _cast_error(t, np.float32 if kind == "div" and result.kind in "biu" else result) from None
        except ValueError:
            raise _shape_error(t, kind, _broadcast_shape(t.shape, np.shape(arg))) from None
        if target is not t.data:
            _check_in_place_anomaly(f"{kind}_", target)
            t.data[...] = target
        bump_version(t)
        return t
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415 (the recorded path: one helper for all)

    return inplace_op(t, f"{kind}_", lambda x: _functional(x, kind, arg), arg, through_copy=kind == "pow")


def setitem_(t: Tensor, key: Any, value: Any) -> None:
    """``t[key] = value``; differentiable with respect to ``value`` (and to ``t`` outside ``key``)."""
    key = key_to_device(normalize_key(key), t.data)
    if not _records(t, value):
        v = value.data if isinstance(value, Tensor) else value
        if backend._cupy is not None and (isinstance(v, np.ndarray) or backend.is_cuda_array(v)):
            v = backend.to_device_of(v, t.data)
        target = t.data.copy() if _grad_state.anomaly else t.data  # checked before t changes, as above
        try:
            _write(target, torch_steps(key, t.ndim), v)
        except (ValueError, IndexError) as exc:
            raise type(exc)(f"cannot assign to index {key!r} of a tensor of shape {t.shape}: {exc}") from None
        if target is not t.data:
            _check_in_place_anomaly("__setitem__", target)
            t.data[...] = target
        bump_version(t)
        return
    _check_recordable(t, "__setitem__")
    v = value if isinstance(value, Tensor) else _new(as_array(value, t.dtype))
    old = _snapshot(t)
    _rebind(t, SetItem(key, torch_steps(key, t.ndim))(old, v.to(t.device, t.dtype)), old)


def index_put_(t: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """``t[indices] = values``; with ``accumulate=True``, ``t[indices] += values`` where repeated indices
    add up (torch's ``index_put_``). Differentiable like the other in-place ops."""
    key = tuple(indices) if isinstance(indices, (tuple, list)) else (indices,)
    if not accumulate:
        setitem_(t, key, values)
        return t
    key = key_to_device(normalize_key(key), t.data)
    steps = torch_steps(key, t.ndim)
    shape = _index(t.data, steps).shape
    v = values if isinstance(values, Tensor) else _new(as_array(values, t.dtype))
    v = v.to(t.dtype) if v.dtype != t.dtype else v
    if v.shape != shape:
        v = v.broadcast_to(shape)
    return inplace(t, "add", GetItemGrad(key, t.shape, steps)(v))  # the scatter-add of GetItem's backward


def index_add_(t: Tensor, dim: int, index: Any, source: Any, alpha: float = 1) -> Tensor:
    """torch's ``index_add_``: ``t[..., index[i], ...] += alpha * source[..., i, ...]`` along ``dim``."""
    dim = dim % builtins_max(t.ndim, 1)
    if t.ndim == 0:  # a 0-d tensor: index and source hold one entry (there is no dim to index)
        src = source if isinstance(source, Tensor) else _new(as_array(source, t.dtype))
        return inplace(t, "add", (src if alpha == 1 else src * alpha).reshape(()))
    key = (slice(None),) * dim + (index,)
    return index_put_(t, key, source if alpha == 1 else source * alpha, accumulate=True)


def index_put(t: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """Out-of-place :func:`index_put_`: a copy of ``t`` with ``values`` written (or added) at ``indices``."""
    return index_put_(t.clone(), indices, values, accumulate)


def index_add(t: Tensor, dim: int, index: Any, source: Any, alpha: float = 1) -> Tensor:
    """Out-of-place :func:`index_add_`: a copy of ``t`` with ``alpha * source`` added at ``index``."""
    return index_add_(t.clone(), dim, index, source, alpha)
