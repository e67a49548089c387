"""Device fixtures: ``device`` runs a test on CuPy's stand-in (always) and on a real GPU (``-m gpu``, skipped
with "CUDA not available" when ``chainrule.backend.is_available()`` is False)."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import fake_cupy  # noqa: E402

from chainrule import backend  # noqa: E402


def _cuda_available() -> bool:
    return backend.is_available()


gpu = pytest.mark.gpu
requires_cuda = pytest.mark.skipif(not _cuda_available(), reason="CUDA not available")


@pytest.fixture(params=["fake", pytest.param("cupy", marks=[gpu, requires_cuda])])
def device(request, monkeypatch):
    """'cuda' on the CPU stand-in (``fake``: checks that no op mixes host and device arrays) or on CuPy."""
    if request.param == "fake":
        fake_cupy.install(monkeypatch)
    return "cuda"


@pytest.fixture
def fake_cuda(monkeypatch):
    """Only the stand-in: for checks of chainrule's own device logic."""
    return fake_cupy.install(monkeypatch)


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine without CuPy (or without a GPU)."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_checked", True)
