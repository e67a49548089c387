"""``Tensor``: an n-d array that remembers how it was made, so gradients can flow back through it."""

from __future__ import annotations

import operator
import warnings
import weakref
from collections.abc import Iterator, Sequence
from numbers import Number
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule import backend
from chainrule.autograd.grad_mode import state as _grad_state

if TYPE_CHECKING:
    from chainrule.autograd.function import Function

_FLOAT_KINDS = "fc"
_ops: Any = None  # chainrule.ops, bound by bind_ops() when it loads (ops import Tensor, so not here)
_DEFAULT_FLOAT = np.float32


class _StringsError(ValueError, TypeError):
    """Strings as tensor data: torch's ValueError (and the TypeError chainrule raised before)."""


def _dtype_error(data: Any) -> TypeError:
    return TypeError(
        f"cannot make a Tensor from {type(data).__name__}: expected a number, a (nested) list, or an array"
    )


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """User data as an array: Python floats become float32 (as in PyTorch), arrays keep their dtype."""
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, np.ndarray) or backend.is_cuda_array(data):
        array = data
    elif isinstance(data, np.generic):
        array = np.asarray(data)
    elif isinstance(data, (bool, Number, list, tuple)):
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [v.data if isinstance(v, Tensor) else v for v in data]
        try:
            array = np.asarray(data)
        except ValueError as exc:
            raise ValueError(f"cannot make a Tensor from a ragged nested sequence: {exc}") from None
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(_DEFAULT_FLOAT)
        elif array.dtype == np.complex128 and dtype is None:
            array = array.astype(np.complex64)
    else:
        raise _dtype_error(data)
    if array.dtype.kind in "US":  # torch's ValueError for strings
        raise _StringsError(f"too many dimensions 'str': cannot make a Tensor from strings ({data!r:.60})")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"cannot make a Tensor of dtype {array.dtype} (from {type(data).__name__})")
    if dtype is not None:
        array = array.astype(np.dtype(dtype), copy=False)
    return array


class _ScalarError(RuntimeError, ValueError):
    """torch's RuntimeError for ``item()`` of several elements (a ValueError too, as chainrule raised)."""


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for a "
    "non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
    "mistake, make sure you access the leaf Tensor instead."
)

#: Bumped with every version counter: a Function recorded since the last bump has inputs and outputs at the
#: versions it saw, so backprop can skip its version check (one comparison instead of one per tensor).
_mutations = [0]


def bump_version(t: Tensor) -> None:
    """Record an in-place change of ``t``'s data: its version counter (shared with its views) goes up."""
    t._version_box()[0] += 1
    _mutations[0] += 1


def version_of(t: Tensor) -> int:
    """How many in-place changes ``t``'s data (or memory it shares with a view) has seen."""
    box = t._vbox
    return 0 if box is None else box[0]


#: Gradient hooks (``register_hook``), by tensor id: ``[weakref to the tensor, {handle id: fn}]``. Kept
#: out of the Tensor: tensors without hooks (nearly all) cost nothing; backprop looks only when not empty.
hooks: dict[int, list[Any]] = {}


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, key: int) -> None:
        self._key = key
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        entry = hooks.get(self._key)
        if entry is not None:
            entry[1].pop(self.id, None)
            if not entry[1]:
                del hooks[self._key]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def run_hooks(t: Tensor, grad: Tensor) -> Tensor:
    """``grad`` passed through ``t``'s hooks in registration order; a hook returning a tensor replaces it."""
    for fn in list(hooks[id(t)][1].values()):
        out = fn(grad)
        if out is not None:
            if not isinstance(out, Tensor):
                raise TypeError(f"a gradient hook must return a Tensor or None, got {type(out).__name__}")
            if out.shape != grad.shape:
                raise RuntimeError(f"hook returned a gradient of shape {out.shape}, expected {grad.shape}")
            grad = out
    return grad


def _new(data: np.ndarray, requires_grad: bool = False) -> Tensor:
    """Fast constructor for op outputs: no validation."""
    t = Tensor.__new__(Tensor)
    t._data = data
    t._grad = None
    t.creator = None
    t._requires_grad = requires_grad
    t.name = None
    t.generation = 0
    t._retains_grad = False
    t._vbox = None  # made on the first in-place change or view: most tensors never need one
    return t


def _to_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, bool, bool]:
    """(device, dtype, non_blocking, copy) from ``Tensor.to``'s three torch signatures."""
    kwargs = dict(kwargs)
    kwargs.pop("memory_format", None)  # chainrule's tensors are always contiguous
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        device, dtype = other.device, other.dtype
    elif rest and (rest[0] is None or backend.is_device_name(rest[0])):
        device = rest.pop(0)
        if rest and not isinstance(rest[0], (bool, np.bool_)):
            dtype = rest.pop(0)
    elif rest and not isinstance(rest[0], (bool, np.bool_)):
        dtype = rest.pop(0)
    flags = dict(zip(("non_blocking", "copy"), rest))
    if len(rest) > 2 or not all(isinstance(v, (bool, np.bool_)) for v in rest):
        raise TypeError(f"to() received an invalid combination of arguments: {args!r}")
    for name in ("non_blocking", "copy"):
        if name in kwargs:
            if name in flags:
                raise TypeError(f"to() got multiple values for argument {name!r}")
            flags[name] = kwargs.pop(name)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    return device, dtype, bool(flags.get("non_blocking", False)), bool(flags.get("copy", False))


class Tensor:
    """An array with autograd.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # ``_prior`` (set only by recorded in-place ops, else unset): weak references to the tensors standing for
    # this one's earlier values, for functions recorded before those ops (see Function._check_versions).
    __slots__ = ("__weakref__", "_data", "_grad", "_prior", "_requires_grad", "_retains_grad", "_vbox",
                 "creator", "generation", "name")  # fmt: skip

    # NumPy defers binary operators to us (ndarray * Tensor -> Tensor.__rmul__).
    __array_ufunc__ = None
    __array_priority__ = 1000

    _data: np.ndarray
    creator: Function | None
    name: str | None

    def __init__(
        self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
    ) -> None:
        self._data = as_array(data, dtype)
        self._grad = None
        self.creator = None
        self.name = name
        self.generation = 0
        self._retains_grad = False
        self._vbox = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ the array
    # ``data`` reads the slot ``_data`` through a C getter (reads are hot); the engine writes ``_data``.
    data = property(operator.attrgetter("_data"), doc="The NumPy (or CuPy) array holding the values.")

    @data.setter
    def data(self, value: Any) -> None:
        """``t.data = new``, as torch allows: a Tensor's array or an array, of any shape and dtype; the graph
        is not told (that is what ``.data`` is for)."""
        if isinstance(value, Tensor):
            value = value._data
        elif not (isinstance(value, np.ndarray) or backend.is_cuda_array(value)):
            raise TypeError(f"Tensor.data must be a Tensor or an array, got {type(value).__name__}")
        if value.dtype.kind not in "biufc":
            raise TypeError(f"Tensor.data cannot hold an array of dtype {value.dtype}")
        self._data = value

    # ------------------------------------------------------------------ autograd state
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this leaf as something to differentiate with respect to (in place; returns self)."""
        if requires_grad and self.data.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype {self.data.dtype}"
            )
        if not requires_grad and self.creator is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use detach()")
        self._requires_grad = bool(requires_grad)
        return self

    # Read through a C getter (hot); the engine writes the slot. Assigning is torch's rule: leaves only.
    requires_grad = property(operator.attrgetter("_requires_grad"), doc="Whether gradients flow to it.")

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.creator is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        self.requires_grad_(bool(value))

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor), or None. Assigning an ndarray wraps it."""
        if self._grad is None and self.creator is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        if not isinstance(value, Tensor):  # an array or number takes this tensor's (float) dtype
            floating = np.isscalar(value) or self.data.dtype.kind in _FLOAT_KINDS
            value = Tensor(as_array(value, self.data.dtype if floating else None))
        if value.shape != self.shape:
            raise RuntimeError(
                f"attempting to assign a gradient of size {value.shape} to a tensor of size {self.shape} "
                "(shapes must match)"
            )
        if value.dtype != self.dtype and self.dtype.kind in _FLOAT_KINDS:
            raise RuntimeError(
                f"attempting to assign a gradient with dtype {value.dtype} to a tensor with dtype "
                f"{self.dtype}"
            )
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def grad_fn(self) -> Function | None:
        """PyTorch's name for ``creator``."""
        return self.creator

    def set_creator(self, func: Function) -> None:
        """DeZero's name: make ``func`` this tensor's creator (normally done by ``Function.__call__``)."""
        self.creator = func
        self.generation = func.generation + 1

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.creator is not None:  # a leaf keeps its gradient anyway (torch: a no-op, retains_grad False)
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(grad)`` each time this tensor's gradient is computed (before a leaf accumulates it in
        ``.grad``); if it returns a Tensor, that is used instead. Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        key = id(self)
        if key not in hooks:
            hooks[key] = [weakref.ref(self, lambda _ref, key=key: hooks.pop(key, None)), {}]
        handle = RemovableHandle(key)
        hooks[key][1][handle.id] = hook
        return handle

    def detach(self) -> Tensor:
        """A new leaf sharing this data, cut from the graph."""
        t = _new(self.data)
        t._vbox = self._version_box()
        return t

    def detach_(self) -> Tensor:
        self.creator = None
        self._requires_grad = False
        self.generation = 0
        return self

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        retain_grad: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` may be omitted only for single-element tensors. The graph is freed afterwards unless
        ``retain_graph=True`` (which ``create_graph=True`` implies). ``retain_grad=True`` (DeZero's flag)
        keeps the gradient of every intermediate tensor too, and, as DeZero's backward, the graph. With
        ``inputs`` (as torch), only those tensors' ``.grad`` are accumulated.
        """
        if inputs is not None:
            return self._backward_into(inputs, gradient, retain_graph, create_graph)
        run = _engine_backward if _engine_backward is not None else _load_engine_backward()
        run([self], None if gradient is None else [gradient], retain_graph, create_graph, retain_grad)

    def _backward_into(self, inputs: Any, gradient: Any, retain_graph: Any, create_graph: bool) -> None:
        from chainrule.autograd.engine import grad  # noqa: PLC0415

        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        gradients = None if gradient is None else [gradient]
        grads = grad([self], targets, gradients, retain_graph, create_graph, allow_unused=True)
        for t, g in zip(targets, grads):
            if g is not None:
                g = g if create_graph else _new(g._data.copy())  # owned, like every .grad
                t._grad = g if t._grad is None else t._grad + g

    # DeZero's names
    def cleargrad(self) -> None:
        """DeZero's name for forgetting the gradient (``self.grad = None``)."""
        self._grad = None

    def unchain(self) -> None:
        """DeZero: cut this tensor from its creator (it becomes a leaf; the graph behind it is not freed)."""
        self.creator = None

    def unchain_backward(self) -> None:
        """DeZero: cut every tensor behind this one from its creator (truncated backprop in RNNs).

        The graph must still be there: call it before ``backward()``, or after ``backward(retain_graph=True)``
        or DeZero's ``backward(retain_grad=True)``; a plain ``backward()`` frees it (a RuntimeError here).
        """
        seen: set[int] = set()
        funcs = [self.creator] if self.creator is not None else []
        while funcs:
            f = funcs.pop()
            if f.inputs is None:
                raise RuntimeError(
                    "unchain_backward: backward() freed the graph behind this tensor; call unchain_backward()"
                    " before backward(), or use backward(retain_graph=True) (or DeZero's retain_grad=True)"
                )
            for x in f.inputs:
                if x.creator is not None and id(x.creator) not in seen:
                    seen.add(id(x.creator))
                    funcs.append(x.creator)
                x.unchain()

    def zero_grad(self) -> None:
        self._grad = None

    # ------------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    @property
    def T(self) -> Tensor:  # noqa: N802
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def t(self) -> Tensor:
        """torch's ``t()``: the transpose of a matrix (0-d and 1-d tensors are returned as they are)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.T

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """The last two dimensions swapped; a 1-D tensor is an error (torch's), a 0-D one is returned."""
        if self.ndim == 1:
            raise RuntimeError(
                "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."
            )
        if self.ndim == 0:
            return self
        return _ops.transpose(self, -2, -1)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self.data.dtype.kind == "c"

    def element_size(self) -> int:
        return self.data.itemsize

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise _ScalarError(
                f"item(): a Tensor with {self.data.size} elements cannot be converted to Scalar "
                f"(shape {self.shape})"
            )
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_device(self.data, "cpu").tolist()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied to the host for CUDA tensors)."""
        if self.requires_grad and _grad_state.grad_enabled and self.creator is not None:
            raise RuntimeError(
                "can't call numpy() on a Tensor that is part of a graph; use tensor.detach().numpy()"
            )
        return backend.to_device(self.data, "cpu")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = backend.to_device(self.data, "cpu")
        return array if dtype is None else array.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            how_many = "no values" if self.data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {how_many} is ambiguous")
        return bool(self.data.reshape(()))

    def __float__(self) -> float:
        if self.requires_grad:  # as torch: the number is cut from the graph (Python shows it once per line)
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                "Consider using tensor.detach() first.",
                UserWarning,
                stacklevel=2,
            )
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def _scalar(self) -> Any:
        if self.data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.data.reshape(()).item()

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:  # bool too, as in torch
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number; others only with an empty spec, as torch."""
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        data = backend.to_device(self.data, "cpu")
        body = np.array2string(
            data, precision=4, separator=", ", prefix="tensor(", threshold=200, edgeitems=3
        )
        extras = []
        if data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={data.dtype}")
        if data.size == 0:
            extras.append(f"size={data.shape}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f"grad_fn=<{self.creator.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ------------------------------------------------------------------ conversions
    def astype(self, dtype: Any) -> Tensor:
        return _ops.cast(self, dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device, dtype=None)``, ``to(other)``, each with ``non_blocking=False,
        copy=False`` after them (positionally or by keyword), as in PyTorch; ``copy=True`` always copies."""
        device, dtype, _non_blocking, copy = _to_args(args, kwargs)
        out = self
        if device is not None:
            out = _ops.to_device(out, backend.parse_device(device))
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = _ops.cast(out, dtype)
        elif copy and out is self:
            out = _ops.clone(self)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def byte(self, memory_format: Any = None) -> Tensor:
        """``self.to(uint8)``."""
        return self.to(np.uint8)

    def char(self, memory_format: Any = None) -> Tensor:
        """``self.to(int8)``."""
        return self.to(np.int8)

    def short(self, memory_format: Any = None) -> Tensor:
        """``self.to(int16)``."""
        return self.to(np.int16)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def clone(self) -> Tensor:
        return _ops.clone(self)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        from chainrule.nn.functional import softmax  # noqa: PLC0415  (nn loads on first use)

        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        from chainrule.nn.functional import log_softmax  # noqa: PLC0415

        return log_softmax(self, dim, dtype=dtype)

    def contiguous(self) -> Tensor:
        return self

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.rsub(self, other)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.rdiv(self, other)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.rpow(self, other)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.remainder(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __lt__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.ge(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.ne(self, other)

    def __invert__(self) -> Tensor:
        return _ops.logical_not(self)

    def __and__(self, other: Any) -> Tensor:
        return _ops.logical_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return _ops.logical_or(self, other)

    def __getitem__(self, key: Any) -> Tensor:
        return _ops.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _ops.setitem_(self, key, value)

    # ------------------------------------------------------------------ in place (bump the version counter)
    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return _ops.inplace(self, "add", other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return _ops.inplace(self, "sub", other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        return _ops.inplace(self, "mul", other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        if rounding_mode is None:
            return _ops.inplace(self, "div", other)
        from chainrule.ops.inplace import inplace_op  # noqa: PLC0415

        return inplace_op(self, "div_", lambda x: _ops.div(x, other, rounding_mode=rounding_mode), other)

    def pow_(self, exponent: Any) -> Tensor:
        return _ops.inplace(self, "pow", exponent)

    # ``p -= lr * p.grad`` must change ``p`` itself (the same object the optimizer or module holds), not
    # rebind the name to a new tensor: these are real in-place ops, with torch's leaf and dtype rules.
    def __iadd__(self, other: Any) -> Tensor:
        return _ops.inplace(self, "add", other)

    def __isub__(self, other: Any) -> Tensor:
        return _ops.inplace(self, "sub", other)

    def __imul__(self, other: Any) -> Tensor:
        return _ops.inplace(self, "mul", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return _ops.inplace(self, "div", other)

    def __ipow__(self, other: Any) -> Tensor:
        return _ops.inplace(self, "pow", other)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return _ops.inplace(self, "clamp", (min, max))

    def zero_(self) -> Tensor:
        return _ops.inplace(self, "fill", 0)

    def fill_(self, value: Any) -> Tensor:
        return _ops.inplace(self, "fill", value)

    def copy_(self, src: Any) -> Tensor:
        return _ops.inplace(self, "copy", src)

    @property
    def _version(self) -> int:
        return version_of(self)

    def _version_box(self) -> list[int]:
        """The version counter, a one-element list shared by this tensor and its views (made when needed)."""
        box = self._vbox
        if box is None:
            box = self._vbox = [0]
        return box

    # ------------------------------------------------------------------ pickling and copying, as torch
    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickle (and ``copy.copy``) keep the data, ``requires_grad`` and name, never the graph: the result
        is a leaf, as in torch. Saving only the array also keeps a deep graph from recursing."""
        return (_rebuild, (type(self), self.data, self.requires_grad, self.name))

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """A leaf's copy (data, ``requires_grad``, ``.grad``, name); a non-leaf raises, as in torch."""
        if self.creator is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol "
                "at the moment; copy x.detach() (or x.detach().requires_grad_()) to start a new graph"
            )
        if id(self) in memo:
            return memo[id(self)]
        out = _rebuild(type(self), self.data.copy(), self.requires_grad, self.name)
        if self._grad is not None:
            out.grad = self._grad.data.copy()
        memo[id(self)] = out
        return out


class Variable(Tensor):
    """DeZero's name for a Tensor; unlike ``Tensor``, it requires grad by default (when its dtype allows).

    >>> import numpy as np
    >>> from chainrule import Variable
    >>> Variable(np.array(0.5)).requires_grad
    True
    """

    __slots__ = ()

    def __init__(
        self, data: Any, name: str | None = None, requires_grad: bool | None = None, dtype: Any = None
    ):
        super().__init__(data, requires_grad=False, name=name, dtype=dtype)
        if requires_grad is None:
            requires_grad = self.data.dtype.kind in _FLOAT_KINDS
        if requires_grad:
            self.requires_grad_(True)


def _rebuild(cls: type, data: Any, requires_grad: bool, name: str | None) -> Tensor:
    """A new leaf of class ``cls`` (Tensor, Variable...) holding ``data``: what unpickling calls."""
    t = cls.__new__(cls)
    Tensor.__init__(t, data, requires_grad=requires_grad, name=name)
    return t


_engine_backward: Any = (
    None  # chainrule.autograd.engine.backward, found on first use (it imports this module)
)


def _load_engine_backward() -> Any:
    global _engine_backward
    from chainrule.autograd.engine import backward

    _engine_backward = backward
    return backward


def bind_ops(ops_module: Any) -> None:
    """Called by ``chainrule.ops`` once loaded: each op in ``METHODS`` becomes a Tensor method."""
    global _ops
    _ops = ops_module
    for name in ops_module.METHODS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, getattr(ops_module, name))
    # The commonest operators are the ops themselves, not a method calling them (docs/performance.md).
    # Only symmetric ops: ``b + a`` gives the same value and dtype as ``a + b``.
    for dunder, op in (("__add__", "add"), ("__radd__", "add"), ("__mul__", "mul"), ("__rmul__", "mul")):
        setattr(Tensor, dunder, getattr(ops_module, op))


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a chainrule :class:`Tensor` (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def _shape_arg(size: Sequence[Any]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(s if type(s) is int else operator.index(s) for s in size)
    except TypeError:  # 2.5, "a", None...: torch refuses them too (int() would silently truncate 2.5)
        bad = next(s for s in size if not _is_index(s))
        kind = type(bad).__name__
        raise TypeError(f"sizes and dims must be ints, got {bad!r} ({kind}) in {tuple(size)!r}") from None


def _is_index(s: Any) -> bool:
    try:
        operator.index(s)
    except TypeError:
        return False
    return True
