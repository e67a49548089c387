"""``Function``: one differentiable operation. ``forward`` works on arrays, ``backward`` on Tensors.

Each op states its derivative once, in ``backward``, with tensor operations. The engine runs that one rule
in both regimes: in an ordinary ``backward()`` nothing is recorded, so the tensor ops in the rule are plain
array arithmetic in a thin Tensor wrapper; with ``create_graph=True`` the same ops are recorded, which makes
every op twice (and n times) differentiable.

>>> import numpy as np
>>> from chainrule import Function, Variable
>>> class Square(Function):
...     def forward(self, x):
...         return x ** 2
...     def backward(self, gy):
...         return 2 * self.inputs[0] * gy
>>> x = Variable(np.array(3.0))
>>> y = Square()(x)
>>> y.backward()
>>> float(x.grad)
6.0
"""

from __future__ import annotations

import operator
import os
import weakref
from typing import Any

import numpy as np

from chainrule import backend as _backend
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.tensor import Tensor, _mutations, _new, as_array, version_of


class Function:
    """Base class of every op. Subclasses define ``forward(*arrays)`` and ``backward(*grads)``.

    After a recorded call: ``inputs`` (a tuple of Tensors, held strongly), ``outputs`` (held weakly, so a
    graph frees itself by reference counting when its output is dropped), ``input``/``output`` when there
    is just one, ``generation`` (depth in the graph, used to order backprop) and ``needs_input_grad``.
    """

    # What a recorded op keeps, in slots. The inputs live in fields (most ops take one or two; a tuple only
    # for more), so an op costs the garbage collector three objects: itself, its output Tensor and the
    # output's weak reference (docs/performance.md, "The engine redesign").
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_epoch",
        "_first_input",
        "_input_versions",
        "_more_inputs",
        "_output_refs",
        "_output_versions",
        "_second_input",
        "_skeleton",
        "generation",
        "needs_input_grad",
    )  # fmt: skip

    #: Whether ``backward`` reads the inputs' / outputs' values (used to detect in-place edits of them).
    uses_inputs: bool = True
    uses_outputs: bool = False
    #: Whether output 0 shares memory with input 0 (reshape, transpose...): they then share a version counter.
    is_view: bool = False
    #: Whether ``backward`` is written only with what NumPy arrays and Tensors share (operators, ``.T``,
    #: ``.reshape``, ``.sum(axis)``...) and reads saved values through ``inputs_like`` / ``output_like``:
    #: then a first-order pass runs it on bare arrays, skipping a Tensor per term of the formula.
    rule_takes_arrays: bool = False

    def __call__(self, *inputs: Any) -> Any:
        """Apply the op: ``forward`` on the inputs' arrays, results wrapped, the call recorded if needed."""
        tensors = _as_tensors(inputs)
        result = self._forward(tensors)
        several = result.__class__ is tuple
        if several:
            outputs = tuple(map(_output_tensor, result))
        else:  # the common case, an array, needs no conversion
            outputs = (_new(result) if result.__class__ is np.ndarray else _output_tensor(result),)
        if self.is_view:
            outputs[0]._vbox = tensors[0]._version_box()
        state = _grad_state
        if state.anomaly:
            self._check_anomaly("forward", [o._data for o in outputs])
        if state.grad_enabled and _any_requires_grad(tensors):
            self._record(tensors, outputs)
        else:  # a constant result: no graph, and the instance keeps nothing
            self.inputs, self.generation = None, 0
        return outputs if several else outputs[0]

    def _forward(self, tensors: tuple[Tensor, ...]) -> Any:
        """``forward`` on the arrays, with the input shapes named in a ValueError."""
        if _backend._cupy is not None and len(tensors) > 1:  # before CuPy loads everything is on the CPU
            _backend.check_same_device([t._data for t in tensors], self.name)
        try:
            return self.forward(*map(_array_of, tensors))
        except ValueError as exc:
            shapes = " and ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{self.name}: {exc} (input shapes {shapes})") from None

    def _record(self, tensors: tuple[Tensor, ...], outputs: tuple[Tensor, ...]) -> None:
        """Link the outputs to this op and remember what backprop will check (versions, generation)."""
        self.inputs = tensors
        # One pass over the inputs. Versions are kept for every op, not only those reading their inputs: an
        # input rebound by a recorded in-place op later would otherwise get this op's gradient routed
        # through its new creator.
        needs, versions, generation = [], [], 0
        for t in tensors:
            needs.append(t._requires_grad)
            versions.append(0 if t._vbox is None else t._vbox[0])
            if t.generation > generation:
                generation = t.generation
        self.needs_input_grad = _interned(tuple(needs))
        self._input_versions = _interned(tuple(versions))
        self.generation = generation
        for out in outputs:
            if out._data.dtype.kind in "fc":  # integer results (argmax, comparisons) carry no gradient
                out._requires_grad = True
                out.creator = self
                out.generation = generation + 1
        if len(outputs) == 1:
            self._output_refs = weakref.ref(outputs[0])
        else:
            self._output_refs = tuple(map(weakref.ref, outputs))
            self._output_meta = [(o._data.shape, o._data.dtype) for o in outputs]  # zeros for a missing grad
        if self.uses_outputs:
            self._output_versions = _interned(tuple(map(version_of, outputs)))
        self._epoch = _mutations[0]
        self._skeleton = None
        if _grad_state.anomaly:
            self._trace = _creation_site()

    def forward(self, *xs: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *gys: Tensor) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    @property
    def inputs(self) -> tuple[Tensor, ...] | None:
        """The input Tensors, held strongly while the op is part of a graph; None once ``backward()`` freed
        them, or when the call was not recorded."""
        try:
            more, first, second = self._more_inputs, self._first_input, self._second_input
        except AttributeError:  # not called yet
            return None
        if more is not None:
            return more
        if first is None:
            return None
        return (first,) if second is None else (first, second)

    @inputs.setter
    def inputs(self, tensors: tuple[Tensor, ...] | None) -> None:
        first = second = more = None
        if tensors is not None and len(tensors) > 2:
            more = tuple(tensors)
        elif tensors is not None:
            first, second = tensors if len(tensors) == 2 else (tensors[0], None)
        self._first_input, self._second_input, self._more_inputs = first, second, more

    def inputs_like(self, g: Any) -> tuple[Any, ...]:
        """The inputs in the form the gradient ``g`` has: arrays in a first-order pass, Tensors otherwise."""
        return self.inputs if isinstance(g, Tensor) else tuple(map(_array_of, self.inputs))

    def output_like(self, g: Any) -> Any:
        """The (single) output in the form the gradient ``g`` has."""
        out = self.output
        return out if isinstance(g, Tensor) else out._data

    # ------------------------------------------------------------------ graph accessors
    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def outputs(self) -> list[Tensor | None]:
        """The output Tensors (None for one that was dropped)."""
        refs = self._output_refs
        return [refs()] if refs.__class__ is weakref.ref else [ref() for ref in refs]

    def output_refs(self) -> tuple[weakref.ref, ...]:
        """Weak references to the outputs, in order (one op, one output is the common case: a bare ref)."""
        refs = self._output_refs
        return refs if refs.__class__ is tuple else (refs,)

    @property
    def input(self) -> Tensor:
        inputs = self.inputs
        if inputs is None:
            raise RuntimeError(FREED)
        if len(inputs) != 1:
            raise AttributeError(f"{self.name} has {len(inputs)} inputs; use .inputs")
        return inputs[0]

    @property
    def output(self) -> Tensor | None:
        refs = self.output_refs()
        if len(refs) != 1:
            raise AttributeError(f"{self.name} has {len(refs)} outputs; use .outputs")
        return refs[0]()

    def __repr__(self) -> str:
        return f"<{self.name} generation={getattr(self, 'generation', 0)}>"

    # ------------------------------------------------------------------ safety checks used by the engine
    def check_versions(self) -> None:
        """Raise if an input or output this op's backward reads was changed in place since it was recorded."""
        if self._epoch == _mutations[0]:  # no tensor anywhere changed in place since this op was recorded
            return
        for i, (t, saved) in enumerate(zip(self.inputs, self._input_versions)):
            if version_of(t) != saved:
                self._changed_input(i, t, saved)
        if self.uses_outputs:
            for i, (ref, saved) in enumerate(zip(self.output_refs(), self._output_versions)):
                t = ref()
                if t is not None and version_of(t) != saved:
                    raise RuntimeError(_modified_message(self, f"output {i}", t, saved))

    def _changed_input(self, i: int, t: Tensor, saved: int) -> None:
        """Input ``i`` changed in place. An op that neither reads its input's value (``x * 2``, ``x + c``) nor
        shares its memory takes the tensor standing for ``t`` as it saw it: its gradient flows where it did
        then, as in torch (``c += c + 1`` in the micrograd README). Otherwise it is an error: the value is
        needed, or (a non-leaf) the gradient would flow through the op that changed it."""
        earlier = None if self.uses_inputs or self.is_view else _earlier_tensor(t, saved)
        if earlier is not None:
            self.inputs = (*self.inputs[:i], earlier, *self.inputs[i + 1 :])
        elif self.uses_inputs or t.creator is not None:
            raise RuntimeError(_modified_message(self, f"input {i}", t, saved))

    def _check_anomaly(self, phase: str, arrays: list[Any]) -> None:
        for a in arrays:
            if a is None or a.dtype.kind not in "fc" or np.isfinite(a).all():
                continue
            what = "nan" if np.isnan(a).any() else "inf"
            trace = getattr(self, "_trace", None)
            if trace is not None or phase == "forward":
                where = f"op created at {trace or _creation_site()}"
            else:
                where = (
                    f"backward called at {_creation_site()}; run the forward pass under detect_anomaly() "
                    "too to see where the op was created"
                )
            op = self.name if phase == "forward" else f"{self.name}Backward"
            raise RuntimeError(f"{op} produced {what} in its {phase} pass ({where})")


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _as_tensors(inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """The inputs as Tensors (numbers and arrays are wrapped; the built-in ops pass Tensors already)."""
    for x in inputs:
        if not isinstance(x, Tensor):
            return tuple(map(_as_tensor, inputs))
    return inputs


def _any_requires_grad(tensors: tuple[Tensor, ...]) -> bool:
    return True in map(_requires_grad, tensors)


def _output_tensor(y: Any) -> Tensor:
    """A forward's result as a Tensor (ufuncs on 0-d arrays return NumPy scalars: made arrays again)."""
    if y.__class__ is not np.ndarray:
        y = np.asarray(y) if isinstance(y, np.generic) and y.dtype.kind in "biufc" else as_array(y)
    return _new(y)


_array_of = operator.attrgetter("_data")
_requires_grad = operator.attrgetter("_requires_grad")

#: One shared copy of each small tuple of flags or versions ((True,), (0, 0)...): a recorded op then keeps
#: no tuple of its own for them.
_INTERNED: dict[tuple, tuple] = {}


def _interned(values: tuple) -> tuple:
    shared = _INTERNED.get(values)
    if shared is None:
        if len(_INTERNED) > 4096:  # versions of long-lived tensors keep growing: stay bounded
            return values
        shared = _INTERNED[values] = values
    return shared


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

FREED = (
    "Trying to backward through the graph a second time (or to read saved tensors after they were freed). "
    "Pass retain_graph=True to the first backward() if you need to backward twice."
)


def _earlier_tensor(t: Tensor, version: int) -> Tensor | None:
    """The tensor that stood for ``t`` at ``version`` before a recorded in-place op rebound it, if alive."""
    for ref in getattr(t, "_prior", ()):
        earlier = ref()
        if earlier is not None and version_of(earlier) == version:
            return earlier
    return None


def _modified_message(f: Function, which: str, t: Tensor, saved: int) -> str:
    return (
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{which} of {f.name}, shape {t.shape}, is at version {version_of(t)}; expected version {saved}. "
        "Use an out-of-place op (x = x + 1 instead of x.add_(1)) or clone() before modifying."
    )


def _creation_site() -> str:
    """file:line of the first stack frame outside chainrule."""
    import traceback  # only under detect_anomaly: keeps `import chainrule` lean

    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno}"
    return "<unknown>"
