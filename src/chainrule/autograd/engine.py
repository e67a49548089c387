"""The backprop algorithm: walk the graph once, newest function first, summing gradients as they meet.

``backward()`` seeds the output's gradient and runs a :class:`BackwardPass`. Functions wait in a
:class:`Schedule` keyed by generation (a function's depth), so each runs only after every consumer of its
outputs has delivered its gradient. Then, for each function, one step:

1. take the gradients of its outputs (running hooks, keeping ``retain_grad`` ones),
2. check that nothing it saved was changed in place since the forward pass,
3. run its one derivative rule, ``backward``, and
4. hand each input's gradient on: summed into what that input already received, its creator queued.

The same loop serves both regimes. Without ``create_graph`` nothing is recorded (grad mode is off), so the
rules' tensor ops are plain array arithmetic and sums go into buffers this pass owns; with it, grad mode is
on and every step of the pass becomes part of a new graph, differentiable again.

No recursion (a 10^6-deep chain is fine) and no re-sorting: O(n log g) for n functions over g distinct
generations waiting at once.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._quiet import quiet_off, quiet_on
from chainrule.autograd.function import FREED, Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.autograd.skeleton import free_inputs
from chainrule.backend import zeros as _zeros
from chainrule.tensor import Tensor, _new, as_array, bump_version, hooks, run_hooks


class Schedule:
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


class BackwardPass:
    """One backward pass from some outputs: the gradients in flight and what to do with them at the end.

    Gradients travel as bare arrays when nothing is recorded and as Tensors under ``create_graph``: the
    pass's *values*. ``tensor`` and ``value`` convert where the two meet (hooks, ``.grad``, a rule written
    only for Tensors). ``pending`` maps id(tensor) to ``[tensor, gradient so far, whether this pass owns
    the gradient's array]``. With ``capture`` (``chainrule.grad``) the gradients of those tensors are
    returned and no ``.grad`` is touched; ``retain_all`` (DeZero's ``backward(retain_grad=True)``) keeps
    every non-leaf's gradient.
    """

    def __init__(self, create_graph: bool, retain_graph: bool, capture: Sequence[Tensor] | None = None,
                 retain_all: bool = False) -> None:  # fmt: skip
        self.recorded = create_graph
        self.retain_graph = retain_graph
        self.retain_all = retain_all
        self.wanted = None if capture is None else {id(t) for t in capture}
        self.captured: dict[int, Tensor] = {}
        self.pending: dict[int, list[Any]] = {}
        self.schedule = Schedule()
        #: How a rule's gradient for an input is shaped into this pass's value (see ``_fit_array``).
        self.fit = _fit_tensor if create_graph else _fit_array

    def run(self, outputs: Sequence[Tensor], seeds: Sequence[Tensor]) -> dict[int, Tensor]:
        """Backpropagate ``seeds`` from ``outputs``; returns the captured gradients (by tensor id)."""
        for out, seed in zip(outputs, seeds):
            self.deliver(out, self.value(seed))
        previous = _grad_state.grad_enabled
        _grad_state.grad_enabled = self.recorded  # the rules' tensor ops are recorded only for create_graph
        token = quiet_on()  # rules meet inf * 0 and the like; torch computes them silently
        try:
            while self.schedule:
                for f in self.schedule.pop_generation():
                    self.step(f)
        finally:
            _grad_state.grad_enabled = previous
            quiet_off(token)
        self.finish()
        return self.captured

    def step(self, f: Function) -> None:
        """Run one function's derivative rule and hand its input gradients on."""
        if f.inputs is None:
            raise RuntimeError(FREED)
        outputs = f.outputs  # held until the rule has run: it may read them, and pending lets go of them
        gys = self.output_grads(f, outputs)
        f.check_versions()
        gxs = self.run_rule(f, gys)
        fit = self.fit
        for i, (x, gx) in enumerate(zip(f.inputs, gxs)):  # f.inputs: check_versions may swap one
            if gx is not None and x._requires_grad:
                self.deliver(x, fit(f, i, gx, x))
        if not self.retain_graph:
            free_inputs(f)  # intermediates can go now; the structure stays for drawing

    def output_grads(self, f: Function, outputs: list[Tensor | None]) -> list[Any]:
        """The gradients that reached ``f``'s outputs (taken out of ``pending``), one per output."""
        gys = []
        for out in outputs:
            entry = None if out is None else self.pending.pop(id(out), None)
            gys.append(None if entry is None else self.arrived(out, entry[1]))
        if len(gys) > 1 and any(g is None for g in gys):  # not `None in gys`: that calls Tensor.__eq__
            gys = [g if g is not None else self.value(_zero_grad(f, k)) for k, g in enumerate(gys)]
        return gys

    def arrived(self, t: Tensor, g: Any) -> Any:
        """``t``'s complete gradient: through its hooks, and kept where the caller asked for it."""
        if hooks and id(t) in hooks:
            g = self.value(run_hooks(t, self.tensor(g)))
        if self.wanted is not None:
            if id(t) in self.wanted:
                self.captured[id(t)] = self.tensor(g)
        elif t.creator is not None and (self.retain_all or t._retains_grad):
            t._grad = _accumulate(t._grad, self.tensor(g), False, self.recorded)
        return g

    def run_rule(self, f: Function, gys: list[Any]) -> tuple:
        """``f.backward(*gys)`` as a tuple with one entry per input (else a clear error); the rule gets
        arrays if it takes them and nothing is recorded, else Tensors."""
        if not self.recorded and not f.rule_takes_arrays:
            gys = [None if g is None else _new(g) for g in gys]
        anomaly = _grad_state.anomaly
        gxs = f.backward(*gys) if not anomaly else _backward_as_one_step(f, gys)
        if gxs.__class__ is not tuple:
            gxs = tuple(gxs) if isinstance(gxs, tuple) else (gxs,)
        if len(gxs) != len(f.inputs):
            raise RuntimeError(f"{f.name}.backward returned {len(gxs)} gradients for {len(f.inputs)} inputs")
        if anomaly:
            f._check_anomaly("backward", [None if g is None else as_array(g) for g in gxs])
        return gxs

    def deliver(self, x: Tensor, g: Any) -> None:
        """Add ``g`` to the gradient ``x`` has received so far; queue ``x``'s creator on the first one."""
        entry = self.pending.get(id(x))
        if entry is None:
            self.pending[id(x)] = [x, g, False]
            if x.creator is not None:
                self.schedule.push(x.creator)
        elif self.recorded:
            entry[1] = entry[1] + g  # recorded: the sum is part of the new graph
        else:
            entry[1] = _add_into(entry[1], g, entry[2])
            entry[2] = True

    def finish(self) -> None:
        """What is left in ``pending`` are the leaves: capture their gradients or accumulate them."""
        for key, (t, g, owned) in self.pending.items():
            if self.wanted is not None:
                if key in self.wanted:
                    g = self.tensor(g)
                    self.captured[key] = run_hooks(t, g) if hooks and key in hooks else g
            elif t.creator is None and t._requires_grad:
                g = self.tensor(g)
                if hooks and key in hooks:  # a hook sees (and may replace) this pass's gradient
                    hooked = run_hooks(t, g)
                    g, owned = hooked, owned and hooked is g
                t._grad = _accumulate(t._grad, g, owned, self.recorded)

    def tensor(self, g: Any) -> Tensor:
        """A gradient value as a Tensor."""
        return g if self.recorded else _new(g)

    def value(self, g: Tensor) -> Any:
        """A Tensor as a gradient value of this pass."""
        return g if self.recorded else g._data


def _backward_as_one_step(f: Function, gys: list[Any]) -> Any:
    """Under ``detect_anomaly``, run ``f.backward`` with the forward checks off: its result is checked as a
    whole and blamed on ``f`` ("SqrtBackward produced inf"), not on some op inside the rule."""
    _grad_state.anomaly = False
    try:
        return f.backward(*gys)
    finally:
        _grad_state.anomaly = True


def _zero_grad(f: Function, k: int) -> Tensor:
    """Zeros for output ``k`` of a several-output op that received no gradient (rules get one per output)."""
    shape, dtype = f._output_meta[k]
    return _new(_zeros(shape, dtype, f.inputs[0].data))


def _fit_tensor(f: Function, i: int, gx: Any, x: Tensor) -> Tensor:
    """A rule's gradient as a Tensor of ``x``'s shape and dtype, summed over the dimensions a broadcast
    added and cast, both as recorded ops (``create_graph``)."""
    if not isinstance(gx, Tensor):
        gx = _new(as_array(gx, x.dtype if np.isscalar(gx) else None))
    if gx._data.shape != x._data.shape:
        from chainrule.ops.shape import sum_to  # noqa: PLC0415  (the ops import this package)

        gx = _checked_shape(f, i, gx, x, sum_to, x.shape)
    return gx if gx._data.dtype == x._data.dtype else gx.to(x.dtype)


def _fit_array(f: Function, i: int, gx: Any, x: Tensor) -> Any:
    """A rule's gradient as an array of ``x``'s shape and dtype (a first-order pass)."""
    if gx.__class__ is not np.ndarray:
        if isinstance(gx, Tensor):
            gx = gx._data
        elif isinstance(gx, np.generic):  # arithmetic on 0-d arrays gives NumPy scalars
            gx = np.asarray(gx)
        else:  # a Python number, a CuPy array...
            gx = as_array(gx, x.dtype if np.isscalar(gx) else None)
    xdata = x._data
    if gx.shape != xdata.shape:
        from chainrule.ops.shape import sum_to_array  # noqa: PLC0415

        gx = _checked_shape(f, i, gx, x, sum_to_array, xdata.shape)
    return gx if gx.dtype == xdata.dtype else gx.astype(xdata.dtype)


def _checked_shape(f: Function, i: int, gx: Any, x: Tensor, sum_to: Any, shape: tuple[int, ...]) -> Any:
    """``sum_to(gx, shape)``, or an error naming the op whose rule returned a gradient of a wrong shape."""
    try:
        return sum_to(gx, shape)
    except ValueError:
        raise RuntimeError(
            f"{f.name}.backward returned a gradient of shape {tuple(gx.shape)} for input {i} "
            f"of shape {x.shape}"
        ) from None


def _add_into(total: Any, g: Any, owned: bool) -> Any:
    """``total + g`` on arrays: in place when ``total`` is an array this pass made (a rule's result may be
    shared: ``Add`` hands the same gradient to both inputs), else a new array."""
    if owned and total.dtype == g.dtype:
        total += g
        return total
    if total.dtype != g.dtype:  # rare: let the Add op's promotion rules decide the dtype
        from chainrule.ops.elementwise import Add  # noqa: PLC0415

        return _array(Add.forward(None, total, g))  # type: ignore[arg-type]
    return _array(total + g)


def _array(s: Any) -> Any:
    """A sum as an array: NumPy returns a scalar for 0-d operands (CuPy arrays pass through)."""
    return np.asarray(s) if isinstance(s, np.generic) else s


def _accumulate(old: Tensor | None, g: Tensor, owned: bool, create_graph: bool) -> Tensor:
    """The new ``.grad``: ``g`` (or a copy of it) if there was none, else ``old + g``.

    ``.grad`` is the user's to write (``zero_()``, ``+=``), so it must own its array: an array this pass
    summed is handed over, any other (a read-only broadcast view, the seed, one shared by two inputs) is
    copied. Under ``create_graph`` both are recorded ops, so the gradient stays differentiable.
    """
    if create_graph:
        return g.clone() if old is None else old + g
    if old is None:
        return g if owned else _new(g._data.copy(order="C"))
    if _owns_outright(old, g):  # accumulate in place, as torch does
        old._data += g._data
        bump_version(old)
        return old
    return _new(_add_into(old._data, g._data, False))


def _owns_outright(old: Tensor, g: Tensor) -> bool:
    """Whether ``old``'s array can take ``+= g``: a plain writable non-view array nothing else refers to."""
    buf = old._data
    return (
        buf.__class__ is np.ndarray and buf.base is None and buf.flags.writeable
        and buf.dtype == g._data.dtype and buf.shape == g._data.shape
        and old.creator is None and not old._requires_grad
        and sys.getrefcount(buf) == 3  # old._data, `buf`, and getrefcount's own argument
    )  # fmt: skip


# ---------------------------------------------------------------------------- the public entry points
def _seed_grads(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None) -> list[Tensor]:
    """The gradient each output starts with: the given one, or 1 for a single-element output."""
    seeds = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"backward: outputs must be Tensors, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None and out.creator is not None and out._grad is not None and not out._retains_grad:
            g = out._grad  # DeZero idiom: y.grad = np.array(1.0); y.backward()
        seeds.append(_one_like(out) if g is None else _as_seed(g, out))
    return seeds


def _one_like(out: Tensor) -> Tensor:
    data = out._data
    if data.size != 1:
        raise RuntimeError(
            f"grad can be implicitly created only for single-element outputs, got shape {out.shape}: "
            "pass gradient= (e.g. y.backward(cr.ones_like(y)))"
        )
    if data.__class__ is not np.ndarray:  # a CuPy array: made on its device
        return _new(np.ones_like(data))
    return _new(np.array(1, data.dtype).reshape(data.shape))


def _as_seed(g: Any, out: Tensor) -> Tensor:
    if not isinstance(g, Tensor):
        g = _new(as_array(g, out.dtype if np.isscalar(g) else None))
    if g.shape != out.shape:
        raise RuntimeError(f"gradient has shape {g.shape}, but the output has shape {out.shape}")
    return g


def backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    retain_grad: bool = False,
) -> None:
    """``torch.autograd.backward``: accumulate gradients of ``outputs`` into the leaves' ``.grad`` (and, with
    DeZero's ``retain_grad=True``, into every intermediate tensor's too)."""
    seeds = _seed_grads(outputs, grad_outputs)
    retain = bool(create_graph if retain_graph is None else retain_graph) or retain_grad
    BackwardPass(create_graph, retain, retain_all=retain_grad).run(outputs, seeds)


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
    retain = bool(create_graph if retain_graph is None else retain_graph)
    captured = BackwardPass(create_graph, retain, capture=ins).run(outs, seeds)
    result = []
    for i, x in enumerate(ins):
        g = captured.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] was not used to compute the outputs; pass allow_unused=True to get None"
            )
        result.append(g)
    return tuple(result)
