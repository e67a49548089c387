"""Assemble the ONNX model: trace, convert each Function in order, declare inputs and outputs."""

from __future__ import annotations

from typing import Any

from chainrule.onnx._builder import GraphBuilder
from chainrule.onnx._ops import CONVERTERS
from chainrule.onnx._trace import Trace, as_example_arrays, trace_model


def _value_info(b: GraphBuilder, name: str, t: Any, twin_shape: tuple[int, ...] | None, batch: int) -> Any:
    dims: list[Any] = []
    for i, d in enumerate(t.shape):
        if twin_shape is None or twin_shape[i] == d:
            dims.append(int(d))
        else:
            dims.append("batch" if d == batch else f"batch_x{d // batch}" if d % batch == 0 else None)
    return b.helper.make_tensor_value_info(name, b.tensor_type(t.dtype), dims)


def _names(names: list[str], n: int, what: str) -> list[str]:
    if len(names) > n:
        raise ValueError(f"export: {len(names)} {what} names given for {n} {what}s")
    if len(set(names)) != len(names):
        raise ValueError(f"export: {what} names must be unique, got {names}")
    return names + [f"{what}_{i}" for i in range(len(names), n)]


def build_model(onnx: Any, model: Any, example_input: Any, opset: int, dynamic_batch: bool,
                input_names: list[str], output_names: list[str]) -> Any:  # fmt: skip
    arrays = as_example_arrays(example_input)
    main, twin = trace_model(model, arrays, dynamic_batch)
    input_names = _names(input_names, len(main.inputs), "input")
    output_names = _names(output_names, len(main.outputs), "output")
    b = GraphBuilder(onnx, main, twin, opset, model, input_names, output_names)
    for f in main.functions:
        if id(f) in b.skip:
            continue
        convert = CONVERTERS.get(type(f))
        if convert is None:
            raise NotImplementedError(
                f"export: no ONNX conversion for the op {b.where(f)} "
                f"({type(f).__module__}.{type(f).__qualname__})"
            )
        b.current = f
        convert(b, f)
    b.current = None
    _connect_outputs(b, main)
    inputs = [
        _value_info(b, name, t, None if twin is None else twin.inputs[i].shape, main.batch)
        for i, (name, t) in enumerate(zip(input_names, main.inputs))
    ]
    outputs = [
        _value_info(b, name, t, None if twin is None else twin.outputs[i].shape, main.batch)
        for i, (name, t) in enumerate(zip(output_names, main.outputs))
    ]
    graph = b.helper.make_graph(b.nodes, type(model).__name__, inputs, outputs, initializer=b.initializers)
    proto = b.helper.make_model(
        graph, opset_imports=[b.helper.make_opsetid("", opset)], producer_name="chainrule",
        producer_version=_version(),
    )  # fmt: skip
    proto.ir_version = min(proto.ir_version, _max_ir_version(onnx, opset))
    return proto


def _connect_outputs(b: GraphBuilder, main: Trace) -> None:
    """Graph outputs no node wrote (an input returned as is, a repeated output) get an Identity node."""
    produced = {o for n in b.nodes for o in n.output}
    for name, t in zip(b.output_names, main.outputs):
        if name in produced:
            continue
        source = b.name_of(t)
        if source is None or source == name:
            raise NotImplementedError(
                f"export: output '{name}' is not computed from the input by recorded ops"
            )
        b.node("Identity", [source], name)
        produced.add(name)


def _version() -> str:
    from chainrule import __version__  # noqa: PLC0415

    return __version__


def _max_ir_version(onnx: Any, opset: int) -> int:
    """The IR version onnxruntime releases of the same era accept (not newer than the opset needs)."""
    table = getattr(onnx.helper, "VERSION_TABLE", [])
    versions = [ir for _, ir, op, *_ in table if op == opset]
    return max(versions) if versions else onnx.IR_VERSION
