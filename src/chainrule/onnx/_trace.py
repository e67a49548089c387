"""Tracing: run the model in eval mode with grad recording on, then list the recorded Functions in order.

The model runs twice: on the example and on a "twin" input, its rows reversed (and, for a dynamic batch, one
row longer). Both runs record the same graph shape, so walking them in the same order pairs each Function with
its twin: a shape that differs between the two depends on the batch size, and a constant that differs depends
on the input values (and cannot be exported as a constant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import enable_grad
from chainrule.tensor import Tensor


@dataclass
class Trace:
    """One run of the model: its inputs, outputs, the Functions between them, and who made each Function."""

    inputs: list[Tensor]
    outputs: list[Tensor]
    functions: list[Function]
    modules: dict[int, str] = field(default_factory=dict)  # id(Function) -> dotted module path
    module_classes: dict[int, str] = field(default_factory=dict)  # id(Function) -> that module's class name

    @property
    def batch(self) -> int:
        return self.inputs[0].shape[0]


def as_example_arrays(example_input: Any) -> list[np.ndarray]:
    """The example input(s) as NumPy arrays (a Tensor, an array, or a tuple/list of them)."""
    items = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    if not items:
        raise ValueError("export: example_input is empty")
    arrays = []
    for item in items:
        data = item.data if isinstance(item, Tensor) else item
        array = np.asarray(backend.to_device(data, "cpu"))
        if array.dtype.kind not in "biuf":
            raise TypeError(f"export: example inputs must be numeric arrays, got dtype {array.dtype}")
        if array.dtype.kind in "iu":
            array = array.astype(np.int64)
        if array.ndim == 0:
            raise ValueError("export: an example input needs a batch dimension (got a 0-d value)")
        arrays.append(array)
    return arrays


def twin_arrays(arrays: list[np.ndarray], grow: bool) -> list[np.ndarray]:
    """The example batch in reverse row order (so constants computed from the input's values change), with
    the first row repeated at the end when ``grow`` (so shapes that follow the batch size change)."""
    return [np.ascontiguousarray((np.concatenate([a, a[:1]], axis=0) if grow else a)[::-1]) for a in arrays]


def ordered_functions(outputs: list[Tensor]) -> list[Function]:
    """Every Function between ``outputs`` and the leaves, inputs before users (iterative, by generation).

    The discovery order (a depth-first walk from the outputs through ``inputs`` in order) breaks ties, so two
    runs of the same model give the same order.
    """
    order: list[Function] = []
    seen: set[int] = set()
    stack = [o.creator for o in reversed(outputs) if o.creator is not None]
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        order.append(f)
        if f.inputs is None:
            raise RuntimeError(
                f"export: the graph of {f.name} was freed (was backward() called during forward?)"
            )
        for t in reversed(f.inputs):
            if t.creator is not None and id(t.creator) not in seen:
                stack.append(t.creator)
    index = {id(f): i for i, f in enumerate(order)}
    return sorted(order, key=lambda f: (f.generation, index[id(f)]))


def _flatten_outputs(out: Any) -> list[Tensor]:
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    tensors = []
    for item in items:
        if isinstance(item, (tuple, list)):
            tensors.extend(_flatten_outputs(item))
        elif isinstance(item, Tensor):
            tensors.append(item)
        else:
            raise TypeError(
                f"export: the model must return Tensors (or tuples of them), got {type(item).__name__}"
            )
    return tensors


class _ModuleRecorder:
    """Forward hooks that attribute each recorded Function to the innermost module whose output needs it."""

    def __init__(self, model: Any) -> None:
        self.names: dict[int, str] = {}
        self.classes: dict[int, str] = {}  # for error messages: "in module '1.1' (Block)"
        self._keep: list[Function] = []  # keeps ids unique while the trace is alive
        self._inputs: dict[int, list[set[int]]] = {}
        self.handles: list[Any] = []
        named = getattr(model, "named_modules", None)
        if named is None:
            return
        for name, module in named():
            self.handles.append(module.register_forward_pre_hook(self._pre))
            self.handles.append(module.register_forward_hook(self._make_post(name or type(module).__name__)))

    def _pre(self, module: Any, args: tuple) -> None:
        ids = {id(a) for a in _flatten_args(args)}
        self._inputs.setdefault(id(module), []).append(ids)

    def _make_post(self, name: str) -> Any:
        def post(module: Any, args: tuple, out: Any) -> None:
            stack_ = self._inputs.get(id(module))
            boundary = stack_.pop() if stack_ else set()
            try:
                outs = _flatten_outputs(out)
            except TypeError:
                return
            todo = [o.creator for o in outs if o.creator is not None and id(o) not in boundary]
            while todo:
                f = todo.pop()
                if id(f) in self.names or f.inputs is None:
                    continue
                self.names[id(f)] = name
                self.classes[id(f)] = type(module).__name__
                self._keep.append(f)
                todo.extend(t.creator for t in f.inputs if t.creator is not None and id(t) not in boundary)

        return post

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def _flatten_args(args: Any) -> list[Tensor]:
    out: list[Tensor] = []
    for a in args if isinstance(args, (tuple, list)) else [args]:
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, (tuple, list)):
            out.extend(_flatten_args(a))
    return out


def _run(model: Any, arrays: list[np.ndarray], device: str, record_modules: bool) -> Trace:
    inputs = []
    for a in arrays:
        t = Tensor(backend.to_device(a.copy(), device))
        if t.dtype.kind == "f":
            t.requires_grad_(True)
        inputs.append(t)
    recorder = _ModuleRecorder(model) if record_modules else None
    try:
        with enable_grad():
            out = model(*inputs)
    finally:
        if recorder is not None:
            recorder.remove()
    outputs = _flatten_outputs(out)
    trace = Trace(inputs, outputs, ordered_functions(outputs))
    if recorder is not None:
        trace.modules = recorder.names
        trace.module_classes = recorder.classes
        trace._keep = recorder._keep  # type: ignore[attr-defined]
    return trace


def _model_device(model: Any) -> str:
    params = getattr(model, "parameters", None)
    if params is not None:
        for p in params():
            return p.device
    return "cpu"


def trace_model(model: Any, arrays: list[np.ndarray], dynamic_batch: bool) -> tuple[Trace, Trace]:
    """Run ``model`` in eval mode (restored afterwards) with every float parameter recording, on the example
    and on its twin (see ``twin_arrays``)."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    modes = [(m, m.training) for m in modules]
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    flags = [(p, p.requires_grad) for p in params]
    device = _model_device(model)
    try:
        if hasattr(model, "eval"):
            model.eval()
        for p in params:
            if p.dtype.kind == "f" and p.creator is None:
                p.requires_grad = True
        main = _run(model, arrays, device, record_modules=True)
        twin = _run(model, twin_arrays(arrays, dynamic_batch), device, record_modules=False)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for p, flag in flags:
            p.requires_grad = flag
    if not main.functions and not any(any(o is i for i in main.inputs) for o in main.outputs):
        raise RuntimeError(
            "export: nothing was recorded while running the model: it must compute its outputs with "
            "chainrule ops from its input (with grad mode enabled)"
        )
    check_twins(main, twin)
    return main, twin


def check_twins(main: Trace, twin: Trace) -> None:
    """The two runs must record the same graph; else the graph itself depends on the batch size."""
    problem = None
    if len(main.outputs) != len(twin.outputs):
        problem = f"{len(main.outputs)} outputs vs {len(twin.outputs)}"
    elif len(main.functions) != len(twin.functions):
        problem = f"{len(main.functions)} ops vs {len(twin.functions)}"
    else:
        for f, g in zip(main.functions, twin.functions):
            if type(f) is not type(g) or len(f.inputs) != len(g.inputs):
                problem = f"{f.name} vs {g.name}"
                break
    if problem is not None:
        raise NotImplementedError(
            f"export: the model records a different graph for two example batches (sizes {main.batch} and "
            f"{twin.batch}, rows reversed): {problem}. Its graph depends on the batch size (export with "
            "dynamic_batch=False) or on the input's values (data-dependent control flow cannot be exported)."
        )
