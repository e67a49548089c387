"""Helpers for the ONNX export tests: export a model, run the file in onnxruntime, compare with chainrule."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def roundtrip(tmp_path):
    """``roundtrip(model, example, run_input)`` -> (onnxruntime output, chainrule output, ModelProto)."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    def run(model, example, run_input, **kwargs):
        path = tmp_path / "model.onnx"
        proto = cr.onnx.export(model, example, path, **kwargs)
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {session.get_inputs()[0].name: np.asarray(run_input)}
        got = session.run(None, feeds)
        was_training = model.training
        model.eval()
        with cr.no_grad():
            ref = model(cr.tensor(run_input))
        model.train(was_training)
        refs = ref if isinstance(ref, (tuple, list)) else [ref]
        return got, [r.numpy() for r in refs], proto

    return run
