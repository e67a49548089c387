"""``GraphBuilder``: names, initializers and nodes of the ONNX graph being built from a trace.

Converters (``_ops.py``) ask it for the ONNX name of a Function's input (the model input, a parameter, or a
constant that becomes an initializer) and of its outputs, and add nodes. With a dynamic batch it also turns
shapes that depend on the batch size into tensors computed from the input's ``Shape`` at run time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.onnx._trace import Trace
from chainrule.tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def host(array: Any) -> np.ndarray:
    return np.asarray(backend.to_device(array, "cpu"))


class GraphBuilder:
    def __init__(self, onnx: Any, main: Trace, twin: Trace | None, opset: int, model: Any,
                 input_names: list[str], output_names: list[str]) -> None:  # fmt: skip
        self.onnx, self.helper = onnx, onnx.helper
        self.main, self.twin, self.opset = main, twin, opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: dict[int, str] = {}  # id(Tensor) -> ONNX value name
        self._used: set[str] = set()
        self._const_cache: dict[tuple, str] = {}
        self._batch_name: str | None = None
        self.skip: set[int] = set()  # ids of Functions already emitted by a fused converter
        self.current: Function | None = None
        self._twins: dict[int, Function] = {}
        if twin is not None:
            self._twins = {id(f): g for f, g in zip(main.functions, twin.functions)}
        self._state: dict[int, str] = {}
        if hasattr(model, "named_parameters"):
            for name, t in list(model.named_parameters()) + list(model.named_buffers()):
                self._state.setdefault(id(t), name)
                self._state.setdefault(id(t.data), name)
        for t, name in zip(main.inputs, input_names):
            self._claim(t, name)
        self._consumers: dict[int, list[Function]] = {}
        for f in main.functions:
            for t in f.inputs:
                self._consumers.setdefault(id(t), []).append(f)
        self.output_names = output_names

    # ------------------------------------------------------------------ names
    def _claim(self, t: Tensor, name: str) -> str:
        self._names[id(t)] = name
        self._used.add(name)
        return name

    def fresh(self, base: str) -> str:
        base = base.replace(" ", "_")
        name, k = base, 1
        while name in self._used:
            name = f"{base}_{k}"
            k += 1
        self._used.add(name)
        return name

    def module_of(self, f: Function) -> str | None:
        return self.main.modules.get(id(f))

    def where(self, f: Function) -> str:
        """``Linear (in module 'fc1' (Linear))`` for error messages: the op, where it ran, which layer."""
        module = self.module_of(f)
        if not module:
            return f.name
        cls = self.main.module_classes.get(id(f))
        layer = f" ({cls})" if cls and cls != module else ""  # the root module is named by its class already
        return f"{f.name} (in module '{module}'{layer})"

    def twin_of(self, f: Function) -> Function | None:
        return self._twins.get(id(f))

    def consumers(self, t: Tensor) -> list[Function]:
        return self._consumers.get(id(t), [])

    def is_model_output(self, t: Tensor) -> bool:
        return any(o is t for o in self.main.outputs)

    # ------------------------------------------------------------------ values
    def input(self, f: Function, i: int) -> str:
        """The ONNX name of ``f.inputs[i]`` (an initializer is made for a leaf the first time it is seen)."""
        t = f.inputs[i]
        name = self._names.get(id(t))
        if name is not None:
            return name
        if t.creator is not None and t.creator.inputs is not None:
            raise RuntimeError(f"export: internal error: {f.name} input {i} was not computed before use")
        state_name = self._state.get(id(t), self._state.get(id(t.data)))
        if state_name is not None:
            return self._claim(t, self._initializer(host(t.data), state_name, exact=True))
        g = self.twin_of(f)
        name = self.constant(host(t.data), None if g is None else host(g.inputs[i].data), f, "const")
        return self._claim(t, name)

    def input_as(self, f: Function, i: int, dtype: np.dtype) -> str:
        """``f.inputs[i]`` cast to ``dtype`` when it has another dtype."""
        name = self.input(f, i)
        if f.inputs[i].dtype != dtype:
            return self.node("Cast", [name], to=self.tensor_type(dtype))
        return name

    def out(self, f: Function, i: int = 0) -> str:
        """The ONNX name for output ``i`` of ``f`` (a graph output's name, or a fresh one)."""
        t = f.outputs[i]
        if t is None:  # an output nobody kept (the other parts of a split...)
            return self.fresh(f"{f.name}_unused")
        name = self._names.get(id(t))
        if name is None:
            if self.is_model_output(t):
                k = next(j for j, o in enumerate(self.main.outputs) if o is t)
                name = self.output_names[k]
                self._used.add(name)
            else:
                name = self.fresh(f"{f.name}_out")
            self._names[id(t)] = name
        return name

    def alias_output(self, f: Function, name: str) -> None:
        """Record that output 0 of ``f`` (which a fused converter skipped) is the value ``name``."""
        self._names[id(f.outputs[0])] = name

    def name_of(self, t: Tensor) -> str | None:
        return self._names.get(id(t))

    # ------------------------------------------------------------------ nodes and constants
    def tensor_type(self, dtype: Any) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def node(self, op_type: str, inputs: list[str], outputs: Any = None, n_out: int = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name (or the list of names when there are several)."""
        if outputs is None:
            outputs = [self.fresh(f"{op_type}_out") for _ in range(n_out)]
        elif isinstance(outputs, str):
            outputs = [outputs]
        prefix = self.module_of(self.current) if self.current is not None else None
        node_name = self.fresh(f"{prefix}/{op_type}" if prefix else op_type)
        self.nodes.append(self.helper.make_node(op_type, inputs, outputs, name=node_name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def _initializer(self, array: np.ndarray, base: str, exact: bool = False) -> str:
        name = base if exact and base not in self._used else self.fresh(base)
        self._used.add(name)
        # order="C", not np.ascontiguousarray: that one turns a 0-d scalar into shape (1,), which broadcasts
        # a 0-d result (x.sum() / 2) to rank 1.
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array, order="C"), name))
        return name

    def const(self, array: Any, base: str = "const") -> str:
        """A small constant (shapes, axes, scalars) as an initializer; identical ones are shared."""
        a = np.asarray(array)
        key = (a.dtype.str, a.shape, a.tobytes())
        name = self._const_cache.get(key)
        if name is None:
            name = self._initializer(a, base)
            self._const_cache[key] = name
        return name

    def ints(self, values: Any) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), "ints")

    def scalar(self, value: Any, dtype: Any) -> str:
        return self.const(np.asarray(value, dtype=dtype), "scalar")

    # ------------------------------------------------------------------ batch-dependent values
    def static(self, f: Function, attr: str) -> Any:
        """``f.<attr>``, checked equal in the twin run (else it depends on the batch size)."""
        value = getattr(f, attr)
        g = self.twin_of(f)
        if g is not None and not _same(value, getattr(g, attr)):
            raise NotImplementedError(
                f"export: {self.where(f)} uses {attr}={value!r}, which depends on the batch size "
                f"({getattr(g, attr)!r} for batch {self.twin.batch}); export with dynamic_batch=False"
            )
        return value

    def batch_size(self) -> str:
        """A (1,) int64 tensor: the batch size at run time (dim 0 of the first input)."""
        if self._batch_name is None:
            shape = self.node("Shape", [self.name_of(self.main.inputs[0])])
            self._batch_name = self.node("Gather", [shape, self.ints([0])], axis=0)
        return self._batch_name

    def shape(self, shape: tuple[int, ...], twin_shape: tuple[int, ...] | None, f: Function) -> str:
        """A 1-D int64 tensor holding ``shape``; dims that scale with the batch are computed at run time."""
        if twin_shape is None or tuple(shape) == tuple(twin_shape):
            return self.ints(shape)
        key = ("shape", tuple(shape), tuple(twin_shape))
        if key not in self._const_cache:
            self._const_cache[key] = self._dynamic_shape(tuple(shape), tuple(twin_shape), f)
        return self._const_cache[key]

    def _dynamic_shape(self, shape: tuple[int, ...], twin_shape: tuple[int, ...], f: Function) -> str:
        b1, b2 = self.main.batch, self.twin.batch
        pieces: list[str] = []
        run: list[int] = []
        for d1, d2 in zip(shape, twin_shape):
            if d1 == d2:
                run.append(d1)
                continue
            if d1 % b1 or d2 % b2 or d1 // b1 != d2 // b2:
                raise NotImplementedError(
                    f"export: {self.where(f)} uses shape {tuple(shape)}, whose dims depend on the batch size "
                    f"in a way that cannot be expressed ({tuple(twin_shape)} for batch {b2}); export with "
                    "dynamic_batch=False"
                )
            if run:
                pieces.append(self.ints(run))
                run = []
            k = d1 // b1
            pieces.append(
                self.batch_size() if k == 1 else self.node("Mul", [self.batch_size(), self.ints([k])])
            )
        if run:
            pieces.append(self.ints(run))
        return pieces[0] if len(pieces) == 1 else self.node("Concat", pieces, axis=0)

    def constant(self, a1: np.ndarray, a2: np.ndarray | None, f: Function, base: str) -> str:
        """A constant array used by ``f``. Compared with its twin: equal -> an initializer; different in the
        batch dims only and uniform along them -> one slice expanded to the run-time batch; else an error."""
        if a2 is None or (a1.shape == a2.shape and _array_equal(a1, a2)):
            return self._initializer(a1, base)
        if a1.shape == a2.shape or a1.ndim != a2.ndim:
            raise NotImplementedError(
                f"export: {self.where(f)} uses a constant of shape {a1.shape} computed from the input's "
                "values; it cannot be exported as a constant (compute it with recorded tensor ops instead)"
            )
        axes = tuple(i for i, (s1, s2) in enumerate(zip(a1.shape, a2.shape)) if s1 != s2)
        rep1 = a1[tuple(slice(0, 1) if i in axes else slice(None) for i in range(a1.ndim))]
        rep2 = a2[tuple(slice(0, 1) if i in axes else slice(None) for i in range(a2.ndim))]
        if not (
            _array_equal(a1, np.broadcast_to(rep1, a1.shape))
            and _array_equal(a2, np.broadcast_to(rep2, a2.shape))
            and _array_equal(rep1, rep2)
        ):
            raise NotImplementedError(
                f"export: {self.where(f)} uses a constant of shape {a1.shape} whose rows differ along the "
                "batch: it was computed from the input's values or cannot follow a dynamic batch size "
                "(compute it with recorded tensor ops, or export with dynamic_batch=False)"
            )
        rep = self._initializer(rep1, base)
        return self.node("Expand", [rep, self.shape(a1.shape, a2.shape, f)])


def _array_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _array_equal(host(a), host(b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is type(b) and type(a).__eq__ is object.__eq__ and hasattr(a, "__dict__"):
        return _same(sorted(vars(a).items()), sorted(vars(b).items()))  # plain objects (pooling geometry)
    try:
        return bool(a == b)
    except Exception:
        return a is b
