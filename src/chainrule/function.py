"""``Function``: one differentiable operation. ``forward`` works on arrays, ``backward`` on Tensors.

Writing ``backward`` with tensor operations makes every op twice (and n times) differentiable for free:
with ``create_graph=True`` the backward pass is itself recorded.

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

import os
import weakref
from typing import Any

import numpy as np

from chainrule import backend as _backend
from chainrule._grad_mode import state as _grad_state
from chainrule.tensor import Tensor, _mutations, _new, as_array


class Function:
    """Base class of every op. Subclasses define ``forward(*arrays)`` and ``backward(*grads)``.

    After a recorded call: ``inputs`` (Tensors, held strongly), ``outputs`` (held weakly, so graphs free
    themselves by reference counting), ``input``/``output`` when there is just one, ``generation`` (depth
    in the graph, used to order backprop), and ``needs_input_grad``.
    """

    #: Whether ``backward`` reads the inputs' / outputs' values (used to detect in-place edits of them).
    uses_inputs: bool = True
    uses_outputs: bool = False
    #: Whether output 0 shares memory with input 0 (reshape, transpose...): they then share a version counter.
    is_view: bool = False
    #: Optional fast path, ``_backward_arrays(gy_array) -> tuple`` (exactly one array, Tensor or None per
    #: input, always a tuple: the engine trusts it without the checks ``backward``'s result gets): the
    #: same formula as ``backward`` on NumPy arrays. The engine uses it for single-output ops when no graph of
    #: the backward pass is wanted (``create_graph=False``, no anomaly mode), skipping one Function per term.
    _backward_arrays: Any = None

    inputs: list[Tensor] | None = None
    generation: int = 0
    #: ``chainrule.tensor._mutations`` when recorded: unchanged since, no input or output can have changed.
    _epoch: int = -1
    _output_refs: tuple[weakref.ref, ...] | list[weakref.ref] = ()

    def __call__(self, *inputs: Any) -> Any:
        # Hot path: specialised for one and two inputs (no comprehensions, no generator expressions).
        n = len(inputs)
        if n == 1:
            x0 = inputs[0]
            if x0.__class__ is not Tensor and not isinstance(x0, Tensor):
                x0 = Tensor(x0)
            tensors = [x0]
            try:
                ys = self.forward(x0._data)
            except ValueError as exc:
                raise self._forward_error(exc, tensors) from None
            need = x0._requires_grad
        elif n == 2:
            x0, x1 = inputs
            if x0.__class__ is not Tensor and not isinstance(x0, Tensor):
                x0 = Tensor(x0)
            if x1.__class__ is not Tensor and not isinstance(x1, Tensor):
                x1 = Tensor(x1)
            tensors = [x0, x1]
            if _backend._cupy is not None:  # free until CuPy is loaded: before that, everything is on the CPU
                _backend.check_same_device([x0._data, x1._data], self.name)
            try:
                ys = self.forward(x0._data, x1._data)
            except ValueError as exc:
                raise self._forward_error(exc, tensors) from None
            need = x0._requires_grad or x1._requires_grad
        else:
            tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
            if _backend._cupy is not None and n > 1:
                _backend.check_same_device([t.data for t in tensors], self.name)
            try:
                ys = self.forward(*[t._data for t in tensors])
            except ValueError as exc:
                raise self._forward_error(exc, tensors) from None
            need = any(t._requires_grad for t in tensors)
        state = _grad_state
        if ys.__class__ is tuple:
            return self._finish_multi(tensors, ys, need)
        if ys.__class__ is not np.ndarray:
            ys = _as_output(ys)
        out = _tensor_new(Tensor)  # chainrule.tensor._new, inlined: a call frame is ~5% of a tiny op
        out._data = ys
        out._grad = out.creator = out.name = None
        out._requires_grad = out._retains_grad = False
        out.generation = 0
        out._vbox = tensors[0]._vbox if self.is_view else [0]
        anomaly = state.anomaly
        if anomaly:
            self._check_anomaly("forward", [out.data])
        if need and state.grad_enabled:
            # Shared constant tuples where possible: fewer live containers for the garbage collector to scan.
            if n == 1:
                generation = x0.generation
                self.needs_input_grad = _NEED_1 if need is True else (need,)
            elif n == 2:
                generation = x0.generation
                if x1.generation > generation:
                    generation = x1.generation
                r0, r1 = x0._requires_grad, x1._requires_grad
                if r0 is True:
                    self.needs_input_grad = _NEED_TT if r1 is True else _NEED_TF if r1 is False else (r0, r1)
                else:
                    self.needs_input_grad = _NEED_FT if r0 is False and r1 is True else (r0, r1)
            else:
                generation = max(t.generation for t in tensors)
                self.needs_input_grad = tuple(t._requires_grad for t in tensors)
            self.generation = generation
            if ys.dtype.kind in "fc":
                out._requires_grad = True
                out.creator = self
                out.generation = generation + 1
            self.inputs = tensors
            self._output_refs = [_weakref(out)]
            self._epoch = _mutations[0]
            # Recorded for every op, not only those that read their inputs: an input rebound by a recorded
            # in-place op after this call would otherwise get this op's gradient routed via its new creator.
            if n == 1:
                v0 = x0._vbox[0]
                self._input_versions = _ZERO_1 if v0 == 0 else (v0,)
            elif n == 2:
                v0, v1 = x0._vbox[0], x1._vbox[0]
                self._input_versions = _ZERO_2 if v0 == 0 and v1 == 0 else (v0, v1)
            else:
                self._input_versions = [t._vbox[0] for t in tensors]
            if self.uses_outputs:
                v0 = out._vbox[0]
                self._output_versions = _ZERO_1 if v0 == 0 else (v0,)
            if anomaly:
                self._trace = _creation_site()
        return out

    def _forward_error(self, exc: ValueError, tensors: list[Tensor]) -> ValueError:
        shapes = " and ".join(str(t.shape) for t in tensors)
        return ValueError(f"{self.name}: {exc} (input shapes {shapes})")

    def _finish_multi(self, tensors: list[Tensor], ys: tuple, need: bool) -> tuple[Tensor, ...]:
        """The general path for ops with several outputs."""
        outputs = [_new(y if type(y) is np.ndarray else _as_output(y)) for y in ys]
        if self.is_view:
            outputs[0]._vbox = tensors[0]._vbox
        if _grad_state.anomaly:
            self._check_anomaly("forward", [o.data for o in outputs])
        if need and _grad_state.grad_enabled:
            self.generation = max(t.generation for t in tensors)
            for o in outputs:
                if o.data.dtype.kind in "fc":
                    o._requires_grad = True
                    o.creator = self
                    o.generation = self.generation + 1
            self.inputs = tensors
            self.needs_input_grad = tuple(t._requires_grad for t in tensors)
            self._output_refs = [weakref.ref(o) for o in outputs]
            self._epoch = _mutations[0]
            self._input_versions = [t._vbox[0] for t in tensors]
            if self.uses_outputs:
                self._output_versions = [o._vbox[0] for o in outputs]
            self._output_meta = [(o.data.shape, o.data.dtype) for o in outputs]
            if _grad_state.anomaly:
                self._trace = _creation_site()
        return tuple(outputs)

    def forward(self, *xs: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *gys: Tensor) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    # ------------------------------------------------------------------ graph accessors
    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def outputs(self) -> list[Tensor | None]:
        refs = self._output_refs
        if len(refs) == 1:  # the common case, read by many backward formulas: no comprehension
            return [refs[0]()]
        return [ref() for ref in refs]

    @property
    def input(self) -> Tensor:
        inputs = self.inputs
        if inputs is None:
            raise RuntimeError(_FREED)
        if len(inputs) != 1:
            raise AttributeError(f"{self.name} has {len(inputs)} inputs; use .inputs")
        return inputs[0]

    @property
    def output(self) -> Tensor | None:
        if len(self._output_refs) != 1:
            raise AttributeError(f"{self.name} has {len(self._output_refs)} outputs; use .outputs")
        return self._output_refs[0]()

    def __repr__(self) -> str:
        return f"<{self.name} generation={self.generation}>"

    # ------------------------------------------------------------------ safety checks used by the engine
    def _check_versions(self) -> None:
        if self._epoch == _mutations[0]:  # no tensor anywhere changed in place since this op was recorded
            return
        # Fast exit for the common one- and two-input, one-output cases when nothing changed.
        versions, inputs = self._input_versions, self.inputs
        n = len(versions)
        if (n == 1 and inputs[0]._vbox[0] == versions[0]) or (  # type: ignore[index]
            n == 2 and inputs[0]._vbox[0] == versions[0] and inputs[1]._vbox[0] == versions[1]  # type: ignore[index]
        ):
            if not self.uses_outputs:
                return
            if len(self._output_versions) == 1:
                t = self._output_refs[0]()
                if t is None or t._vbox[0] == self._output_versions[0]:
                    return
        for i, (t, v) in enumerate(zip(self.inputs, versions)):  # type: ignore[arg-type]
            if t._vbox[0] == v:
                continue
            # A recorded in-place op rebound ``t`` to a new creator; this function, which neither reads its
            # input's value (``x * 2``, ``x + c``) nor shares its memory (a view changed with it), takes the
            # tensor standing for ``t`` as it saw it: its gradient flows where it did then, as in torch
            # (``c += c + 1`` in the micrograd README).
            earlier = None if self.uses_inputs or self.is_view else _version_of(t, v)
            if earlier is not None:
                self.inputs[i] = earlier  # type: ignore[index]  (the list the engine holds: fixed in place)
            # Any other changed input is an error: its value is needed, or (a non-leaf) its gradient would
            # flow through the op that changed it instead of the one this function saw.
            elif self.uses_inputs or t.creator is not None:
                raise RuntimeError(_modified_message(self, f"input {i}", t, v))
        if self.uses_outputs:
            for i, (ref, v) in enumerate(zip(self._output_refs, self._output_versions)):
                t = ref()
                if t is not None and t._vbox[0] != v:
                    raise RuntimeError(_modified_message(self, f"output {i}", t, v))

    def _check_anomaly(self, phase: str, arrays: list[Any]) -> None:
        for a in arrays:
            if a is None or a.dtype.kind not in "fc":
                continue
            if not np.isfinite(a).all():
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


_weakref = weakref.ref
_tensor_new = Tensor.__new__
_NEED_1, _NEED_TT, _NEED_TF, _NEED_FT = (True,), (True, True), (True, False), (False, True)
_ZERO_1, _ZERO_2 = (0,), (0, 0)


def _as_output(y: Any) -> np.ndarray:
    """A forward's non-ndarray result as an array (ufuncs on 0-d arrays return NumPy scalars)."""
    if y.__class__ in _NUMERIC_SCALARS or (isinstance(y, np.generic) and y.dtype.kind in "biufc"):
        return np.asarray(y)
    return as_array(y)


_NUMERIC_SCALARS = frozenset(np.dtype(c).type for c in "?bBhHiIlLqQefdgFDG")


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

_FREED = (
    "Trying to backward through the graph a second time (or to read saved tensors after they were freed). "
    "Pass retain_graph=True to the first backward() if you need to backward twice."
)


def _version_of(t: Tensor, version: int) -> Tensor | None:
    """The tensor that stood for ``t`` at ``version`` before a recorded in-place op rebound it, if alive."""
    for ref in getattr(t, "_prior", ()):
        earlier = ref()
        if earlier is not None and earlier._vbox[0] == version:
            return earlier
    return None


def _modified_message(f: Function, which: str, t: Tensor, saved: int) -> str:
    return (
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{which} of {f.name}, shape {t.shape}, is at version {t._vbox[0]}; expected version {saved}. "
        "Use an out-of-place op (x = x + 1 instead of x.add_(1)) or clone() before modifying."
    )


def _creation_site() -> str:
    """file:line of the first stack frame outside chainrule."""
    import traceback  # only under detect_anomaly: keeps `import chainrule` lean

    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno}"
    return "<unknown>"
