"""tests/nn set-up: BLAS on one thread (OpenBLAS threads spin on a loaded 2-core machine and make small
matmuls 10-30x slower; torch is on one thread in these tests too)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1)
    with limits:
        yield
