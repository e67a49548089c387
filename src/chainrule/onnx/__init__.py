"""Export a model to ONNX by tracing its forward pass: ``chainrule.onnx.export(model, example_input, path)``.

The model runs once in eval mode with gradient recording on (its mode is restored afterwards); the recorded
Function graph is walked from the input to the outputs and each Function becomes ONNX nodes (``_ops.py``),
parameters and buffers become initializers named as in ``state_dict()``. With ``dynamic_batch=True`` (the
default) the model runs a second time on a batch one row longer, and every shape that follows the batch size
is exported symbolically: the input's and output's first dim is ``"batch"``, reshapes use 0/-1 for it, and
constants broadcast over the batch are expanded at run time.

Needs the ``onnx`` extra (``pip install 'chainrule[onnx]'``); onnxruntime is only needed to run the result.

>>> import chainrule as cr, tempfile, os
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
>>> proto = cr.onnx.export(model, cr.randn(3, 4), path)
>>> [n.op_type for n in proto.graph.node]
['Gemm', 'Relu', 'Gemm']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

__all__ = ["export"]


def _import_onnx() -> Any:
    try:
        import onnx  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            "chainrule.onnx.export needs the 'onnx' package: pip install 'chainrule[onnx]'"
        ) from exc
    return onnx


def export(model: Any, example_input: Any, path: str | os.PathLike | None, opset: int = 17,
           dynamic_batch: bool = True, input_names: Sequence[str] = ("input",),
           output_names: Sequence[str] = ("output",)) -> Any:  # fmt: skip
    """Trace ``model(example_input)`` and write it as an ONNX file at ``path`` (atomically); returns the
    ``onnx.ModelProto``.

    ``example_input`` is a Tensor or array (or a tuple of them, one per model input) with the batch as dim 0;
    float inputs are traced as float, integer ones (token ids for an embedding) as int64. An op without an
    ONNX conversion raises ``NotImplementedError`` naming its Function class and the module that ran it.
    The model is checked with ``onnx.checker.check_model(..., full_check=True)`` before it is written.
    """
    onnx = _import_onnx()
    from chainrule.onnx._export import build_model  # noqa: PLC0415

    max_opset = onnx.defs.onnx_opset_version()
    if not 13 <= int(opset) <= max_opset:
        raise ValueError(f"export: opset must be between 13 and {max_opset}, got {opset}")
    proto = build_model(onnx, model, example_input, int(opset), bool(dynamic_batch), list(input_names),
                        list(output_names))  # fmt: skip
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        from chainrule._files import write_file  # noqa: PLC0415

        # chainrule.save's one safe writer: atomic for files, symlinks kept, errors name the target.
        write_file(path, lambda f: f.write(proto.SerializeToString()))
    return proto
