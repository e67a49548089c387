"""The backprop algorithm: walk the graph once, newest function first, accumulating gradients.

Functions wait in a ``_Schedule`` keyed by generation (a function's depth), so each runs only after every
consumer of its outputs has delivered its gradient. No recursion (a 10^6-deep chain is fine) and no
re-sorting: O(n log g) for n functions over g distinct generations waiting at once.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._grad_mode import set_grad_enabled
from chainrule._grad_mode import state as _grad_state
from chainrule._quiet import quiet_off as _quiet_off
from chainrule._quiet import quiet_on as _quiet_on
from chainrule._skeleton import free_inputs as _free_inputs
from chainrule.backend import zeros as _zeros
from chainrule.function import _FREED, _NUMERIC_SCALARS, Function
from chainrule.tensor import Tensor, _mutations, _new, as_array, bump_version, hooks, run_hooks


def _as_grad(g: Any, like: Tensor, what: str) -> Tensor:
    if not isinstance(g, Tensor):
        g = _new(as_array(g, like.dtype if np.isscalar(g) else None))
    if g.shape != like.shape:
        raise RuntimeError(f"{what} has shape {g.shape}, but the output has shape {like.shape}")
    return g


def _seed_grads(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None) -> list[Tensor]:
    seeds = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"backward: outputs must be Tensors, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None and out.creator is not None and out._grad is not None and not out._retains_grad:
            g = out._grad  # DeZero idiom: y.grad = np.array(1.0); y.backward()
        if g is None:
            data = out.data
            if data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for single-element outputs, got shape {out.shape}: "
                    "pass gradient= (e.g. y.backward(cr.ones_like(y)))"
                )
            if data.__class__ is np.ndarray:  # np.array(1).reshape: ~5x faster than np.ones for one element
                one = np.array(1, data.dtype)
                seeds.append(_new(one.reshape(data.shape) if data.ndim else one))
            else:
                seeds.append(_new(np.ones_like(data)))
            continue
        seeds.append(_as_grad(g, out, "gradient"))
    return seeds


def _sum_to_input(f: Function, i: int, gx: Tensor, x: Tensor) -> Tensor:
    from chainrule.ops.shape import sum_to  # noqa: PLC0415

    try:
        return sum_to(gx, x.shape)
    except ValueError:
        raise RuntimeError(
            f"{f.name}.backward returned a gradient of shape {gx.shape} for input {i} of shape {x.shape}"
        ) from None


def _backward_as_one_step(f: Function, gys: list[Any]) -> Any:
    """Under ``detect_anomaly``, run ``f.backward`` with the forward checks off: its result is checked as a
    whole and blamed on ``f`` ("SqrtBackward produced inf"), not on some op inside the backward formula."""
    _grad_state.anomaly = False
    try:
        return f.backward(*gys)
    finally:
        _grad_state.anomaly = True


_getrefcount = sys.getrefcount


def _check_backward_anomaly(f: Function, gxs: tuple) -> None:
    f._check_anomaly("backward", [None if g is None else as_array(getattr(g, "data", g)) for g in gxs])


def _fresh_sum(a: Any, b: Any) -> Any:
    """``a + b`` as a new array this backward pass owns (NumPy returns scalars for 0-d sums)."""
    if a.dtype is not b.dtype and a.dtype != b.dtype:  # rare: let the Add op's promotion rules decide
        from chainrule.ops.elementwise import Add  # noqa: PLC0415

        s = Add.forward(None, a, b)  # type: ignore[arg-type]
    else:
        s = a + b
    return s if s.__class__ is np.ndarray or not isinstance(s, np.generic) else np.asarray(s)


class _Schedule:
    """Functions waiting to run, handed out a generation at a time: newest generation first, first come
    first served within one.

    A function's inputs were made by functions of strictly lower generation, so running a generation only
    ever queues work for older ones: its bucket is complete when it is handed out, and the heap holds only
    the distinct generations waiting (few at a time). Each function is queued once however many of its
    outputs receive gradients.
    """

    __slots__ = ("buckets", "generations", "queued")

    def __init__(self) -> None:
        self.buckets: dict[int, list[Function]] = {}
        self.generations: list[int] = []  # heap of negated generations that have a bucket
        self.queued: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.generations)

    def push(self, f: Function) -> None:
        if id(f) in self.queued:
            return
        self.queued.add(id(f))
        bucket = self.buckets.get(f.generation)
        if bucket is None:
            self.buckets[f.generation] = [f]
            heapq.heappush(self.generations, -f.generation)
        else:
            bucket.append(f)

    def pop_generation(self) -> list[Function]:
        """The functions of the newest waiting generation, in arrival order."""
        return self.buckets.pop(-heapq.heappop(self.generations))


def _recorded_step(
    f: Function,
    pending: dict[int, list[Any]],
    schedule: _Schedule,
    wanted: set[int] | None,
    captured: dict[int, Tensor],
    retain_graph: bool,
    retain_all: bool = False,
) -> None:
    """Run one function's ``backward`` as recorded tensor ops and hand its input gradients on."""
    inputs = f.inputs
    if inputs is None:
        raise RuntimeError(_FREED)
    refs = f._output_refs
    gys: list[Any] = []
    for ref in refs:
        o = ref()
        entry = pending.pop(id(o), None) if o is not None else None
        if entry is None:
            gys.append(None)
            continue
        g = entry[1]
        if hooks and id(o) in hooks:
            g = run_hooks(o, g)
        if wanted is not None:
            if id(o) in wanted:
                captured[id(o)] = g
        elif retain_all or o._retains_grad:
            o._grad = g.clone() if o._grad is None else o._grad + g
        gys.append(g)
    if len(refs) > 1 and any(g is None for g in gys):  # not `None in gys`: it calls Tensor.__eq__
        gys = [
            g if g is not None else _new(_zeros(shape, dtype, f.inputs[0].data))
            for g, (shape, dtype) in zip(gys, f._output_meta)
        ]  # fmt: skip
    f._check_versions()
    gxs = f.backward(*gys) if not _grad_state.anomaly else _backward_as_one_step(f, gys)
    if not isinstance(gxs, tuple):
        gxs = (gxs,)
    if len(gxs) != len(inputs):
        raise RuntimeError(f"{f.name}.backward returned {len(gxs)} gradients for {len(inputs)} inputs")
    if _grad_state.anomaly:
        _check_backward_anomaly(f, gxs)
    for i, (x, gx) in enumerate(zip(inputs, gxs)):
        if gx is None or not x._requires_grad:
            continue
        if not isinstance(gx, Tensor):
            gx = _new(as_array(gx, x.dtype if np.isscalar(gx) else None))
        if gx.shape != x.shape:
            gx = _sum_to_input(f, i, gx, x)
        if gx.dtype != x.dtype:
            gx = gx.to(x.dtype)
        entry = pending.get(id(x))
        if entry is None:
            pending[id(x)] = [x, gx]
            if x.creator is not None:
                schedule.push(x.creator)
        else:
            entry[1] = entry[1] + gx
    if not retain_graph:
        _free_inputs(f)  # keeps the graph's structure (no arrays) for drawing


def run_backward(
    outputs: Sequence[Tensor],
    seeds: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Tensor] | None = None,
    retain_all: bool = False,
) -> dict[int, Tensor]:
    """Backpropagate ``seeds`` from ``outputs``.

    Without ``capture``, leaf gradients are accumulated into ``.grad`` (``Tensor.backward``). With it, the
    gradients of the captured tensors are returned by id and no ``.grad`` is touched (``chainrule.grad``).
    ``retain_all`` (DeZero's ``backward(retain_grad=True)``) keeps every non-leaf's gradient in ``.grad``.
    With ``create_graph`` every step is a recorded tensor op; without it (the usual case) the pass runs on
    arrays, see ``_run_arrays``: same gradients, less Python per step.
    """
    if not create_graph:
        return _run_arrays(outputs, seeds, retain_graph, capture, retain_all)
    pending: dict[int, list[Any]] = {}  # id(tensor) -> [tensor, grad]
    schedule = _Schedule()
    wanted = None if capture is None else {id(t) for t in capture}
    captured: dict[int, Tensor] = {}

    for out, g in zip(outputs, seeds):
        entry = pending.get(id(out))
        if entry is None:
            pending[id(out)] = [out, g]
        else:
            entry[1] = entry[1] + g
        if out.creator is not None:
            schedule.push(out.creator)

    with set_grad_enabled(True), np.errstate(all="ignore"):  # once per pass: its ~1 µs does not matter
        while schedule:
            for f in schedule.pop_generation():
                _recorded_step(f, pending, schedule, wanted, captured, retain_graph, retain_all)
    if wanted is not None:
        for key, (t, g) in pending.items():
            if key in wanted:
                captured[key] = run_hooks(t, g) if hooks and key in hooks else g
        return captured
    for t, g in pending.values():
        if (t.creator is None and t._requires_grad) or retain_all or t._retains_grad:
            if hooks and id(t) in hooks:
                g = run_hooks(t, g)
            # A recorded clone: the same differentiable value, in an array no other tensor shares.
            t._grad = g.clone() if t._grad is None else t._grad + g
    return captured


def _run_arrays(
    outputs: Sequence[Tensor],
    seeds: Sequence[Tensor],
    retain_graph: bool,
    capture: Sequence[Tensor] | None,
    retain_all: bool = False,
) -> dict[int, Tensor]:
    """``run_backward`` without ``create_graph``: nothing is recorded, so gradients travel as bare arrays.

    Same order, checks and results as the recorded pass, but ops with a ``_backward_arrays`` formula skip
    the Tensor/Function machinery, and gradients meeting at one tensor are summed in NumPy: the first sum
    allocates a buffer this pass owns (flag ``True`` in its pending entry), later ones add into it in place.
    Arrays an op's backward returned are never written to (``Add`` hands the same array to both inputs).
    The hot loop works on the schedule's containers directly (its ``push`` inlined, whole generations taken
    at once): a method call costs ~5% of a small step.
    """
    pending: dict[int, list[Any]] = {}  # id(tensor) -> [tensor, grad array, the array is ours to add into]
    schedule = _Schedule()
    buckets, generations, queued = schedule.buckets, schedule.generations, schedule.queued
    heappush, heappop = heapq.heappush, heapq.heappop
    wanted = None if capture is None else {id(t) for t in capture}
    captured: dict[int, Tensor] = {}
    state = _grad_state

    for out, g in zip(outputs, seeds):
        entry = pending.get(id(out))
        if entry is None:
            pending[id(out)] = [out, g._data, False]
        else:
            entry[1] = _fresh_sum(entry[1], g._data)
            entry[2] = True
        if out.creator is not None:
            schedule.push(out.creator)

    mutations = _mutations
    anomaly = state.anomaly  # read once: a thread-local attribute costs ~0.2 µs a read
    previous = state.grad_enabled
    state.grad_enabled = False
    token = _quiet_on()  # backward formulas meet inf * 0 and the like silently, as in torch
    try:
        while generations:
            for f in buckets.pop(-heappop(generations)):  # one generation, in arrival order
                inputs = f.inputs
                if inputs is None:
                    raise RuntimeError(_FREED)
                refs = f._output_refs
                if len(refs) == 1:
                    o = refs[0]()
                    entry = pending.pop(id(o), None) if o is not None else None
                    g = None
                    if entry is not None:
                        g = entry[1]
                        if hooks and id(o) in hooks:
                            g = run_hooks(o, _new(g))._data
                        if wanted is not None:
                            if id(o) in wanted:
                                captured[id(o)] = _new(g)
                        elif retain_all or o._retains_grad:
                            o._grad = _new(_owned_copy(g) if o._grad is None else _fresh_sum(o._grad.data, g))
                    if f._epoch != mutations[0]:  # _check_versions's own first test, inlined
                        f._check_versions()  # compares f's own inputs and outputs; raises if one changed
                    if g is not None and f._backward_arrays is not None and not anomaly:
                        gxs = f._backward_arrays(g)  # ours: a tuple, one entry per input
                    elif anomaly:
                        gxs = _checked(f, _backward_as_one_step(f, [None if g is None else _new(g)]))
                    else:
                        gxs = _checked(f, f.backward(None if g is None else _new(g)))
                else:
                    gys: list[Any] = []
                    for ref in refs:
                        o = ref()
                        entry = pending.pop(id(o), None) if o is not None else None
                        if entry is None:
                            gys.append(None)
                            continue
                        g = entry[1]
                        if hooks and id(o) in hooks:
                            g = run_hooks(o, _new(g))._data
                        if wanted is not None:
                            if id(o) in wanted:
                                captured[id(o)] = _new(g)
                        elif retain_all or o._retains_grad:
                            o._grad = _new(_owned_copy(g) if o._grad is None else _fresh_sum(o._grad.data, g))
                        gys.append(_new(g))
                    if any(g is None for g in gys):
                        gys = [
                            g if g is not None else _new(_zeros(shape, dtype, f.inputs[0].data))
                            for g, (shape, dtype) in zip(gys, f._output_meta)
                        ]  # fmt: skip
                    f._check_versions()
                    gxs = _checked(f, f.backward(*gys) if not anomaly else _backward_as_one_step(f, gys))
                if anomaly:
                    _check_backward_anomaly(f, gxs)
                for x, gx in zip(inputs, gxs):
                    if gx is None or not x._requires_grad:
                        continue
                    xdata = x._data
                    if (
                        gx.__class__ is not np.ndarray
                        or gx.shape != xdata.shape
                        or gx.dtype is not xdata.dtype  # dtypes of one kind are one object, but not always
                    ):
                        gx = _fit_gradient(f, inputs, gx, x)
                    gdtype = gx.dtype
                    key = id(x)
                    entry = pending.get(key)
                    if entry is None:
                        pending[key] = [x, gx, False]
                        creator = x.creator
                        if creator is not None and id(creator) not in queued:  # inlined _Schedule.push
                            queued.add(id(creator))
                            bucket = buckets.get(creator.generation)
                            if bucket is None:
                                buckets[creator.generation] = [creator]
                                heappush(generations, -creator.generation)
                            else:
                                bucket.append(creator)
                    elif entry[2] and entry[1].dtype is gdtype:
                        buffer = entry[1]
                        buffer += gx
                    else:
                        entry[1] = _fresh_sum(entry[1], gx)
                        entry[2] = True
                if not retain_graph:
                    _free_inputs(f)
    finally:
        state.grad_enabled = previous
        _quiet_off(token)
    if wanted is not None:
        for key, (t, g, _owned) in pending.items():
            if key in wanted:
                captured[key] = run_hooks(t, _new(g)) if hooks and key in hooks else _new(g)
        return captured
    for t, g, owned in pending.values():
        if t.creator is None:
            if not t._requires_grad:
                continue
        elif not (retain_all or t._retains_grad):
            continue
        # a hook sees (and may replace) this pass's gradient, before it is accumulated
        if hooks and id(t) in hooks:
            hooked = run_hooks(t, _new(g))._data
            if hooked is not g:
                g, owned = hooked, False
        old = t._grad
        if old is None:
            # ``.grad`` is the user's to write (zero_(), +=): an array this pass summed is ours to hand over;
            # any other may be a read-only broadcast view, the seed, or shared with another input (Add).
            t._grad = _new(g if owned else _owned_copy(g))
            continue
        # Accumulate in place, as torch does, when the old grad owns its array outright: a plain tensor whose
        # writable, non-view array has no other reference (not shared with another grad, nor viewed).
        buf = old._data
        if (
            buf.__class__ is np.ndarray and buf.base is None and buf.dtype is g.dtype and buf.shape == g.shape
            and old.creator is None and not old._requires_grad
            and _getrefcount(buf) == 3  # old._data, `buf`, and getrefcount's own argument
            and buf.flags.writeable
        ):  # fmt: skip
            buf += g
            bump_version(old)
        else:
            t._grad = _new(_fresh_sum(buf, g))
    return captured


def _owned_copy(g: Any) -> Any:
    """A writable, C-contiguous copy of the gradient array ``g`` (NumPy or CuPy)."""
    return g.copy(order="C")


def _checked(f: Function, gxs: Any) -> tuple:
    """What a ``backward`` returned, as a tuple with one entry per input (else a clear error)."""
    if gxs.__class__ is not tuple and not isinstance(gxs, tuple):
        gxs = (gxs,)
    if len(gxs) != len(f.inputs):  # type: ignore[arg-type]
        raise RuntimeError(f"{f.name}.backward returned {len(gxs)} gradients for {len(f.inputs)} inputs")  # type: ignore[arg-type]
    return gxs


def _fit_gradient(f: Function, inputs: list[Tensor], gx: Any, x: Tensor) -> Any:
    """A gradient from ``f.backward`` as an array of ``x``'s shape and dtype: unwrapped from a Tensor or a
    scalar, summed over broadcast dims, cast."""
    cls = gx.__class__
    if cls is not np.ndarray:
        if cls is Tensor or isinstance(gx, Tensor):
            gx = gx.data
        elif cls in _NUMERIC_SCALARS:  # 0-d arithmetic in a _backward_arrays formula
            gx = np.asarray(gx, x.data.dtype)
        else:  # a NumPy scalar (0-d arithmetic), a number, a CuPy array...
            gx = as_array(gx, x.dtype if np.isscalar(gx) else None)
    xdata = x.data
    if gx.shape != xdata.shape:
        gx = _sum_to_input_array(f, inputs, gx, x)
    if gx.dtype != xdata.dtype:
        gx = gx.astype(xdata.dtype)
    return gx


def _sum_to_input_array(f: Function, inputs: list[Tensor], gx: Any, x: Tensor) -> Any:
    from chainrule.ops.shape import sum_to_array  # noqa: PLC0415

    try:
        return sum_to_array(gx, x.data.shape)
    except ValueError:
        i = next(j for j, t in enumerate(inputs) if t is x)  # for the message, found off the hot path
        raise RuntimeError(
            f"{f.name}.backward returned a gradient of shape {gx.shape} for input {i} of shape {x.shape}"
        ) from None


def backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    retain_grad: bool = False,
) -> None:
    """``torch.autograd.backward``: accumulate gradients of ``outputs`` into the leaves' ``.grad`` (and, with
    DeZero's ``retain_grad=True``, into every intermediate tensor's too)."""
    if grad_outputs is None and not create_graph and len(outputs) == 1:  # fast path: loss.backward()
        out = outputs[0]
        data = getattr(out, "data", None)
        if (
            data.__class__ is np.ndarray and data.size == 1 and out.creator is not None and out.requires_grad
            and out._grad is None and isinstance(out, Tensor)
        ):  # fmt: skip
            one = np.array(1, data.dtype)
            seed = _new(one.reshape(data.shape) if data.ndim else one)
            _run_arrays(outputs, (seed,), bool(retain_graph) or retain_grad, None, retain_grad)
            return
    seeds = _seed_grads(outputs, grad_outputs)
    retain = bool(create_graph if retain_graph is None else retain_graph) or retain_grad
    if create_graph:
        run_backward(outputs, seeds, retain, True, retain_all=retain_grad)
    else:
        _run_arrays(outputs, seeds, retain, None, retain_grad)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated), like ``torch.autograd.grad``.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> (g,) = cr.grad(x ** 3, x, create_graph=True)
    >>> (gg,) = cr.grad(g, x)
    >>> float(g), float(gg)
    (12.0, 12.0)
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor):
            raise TypeError(f"grad: inputs[{i}] is {type(x).__name__}, expected a Tensor")
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad")
    seeds = _seed_grads(outs, grad_outputs)
    captured = run_backward(outs, seeds, bool(create_graph if retain_graph is None else retain_graph),
                            create_graph, capture=ins)  # fmt: skip
    result = []
    for i, x in enumerate(ins):
        g = captured.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] was not used to compute the outputs; pass allow_unused=True to get None"
            )
        result.append(g)
    return tuple(result)
