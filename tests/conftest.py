"""Shared test set-up: hypothesis profiles (bounded in CI, many examples in `make test-deep`) and torch."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

DEEP = bool(os.environ.get("CHAINRULE_DEEP"))

settings.register_profile(
    "ci", max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "deep", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("deep" if DEEP else "ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if DEEP:
        return
    skip = pytest.mark.skip(reason="long fuzzing run: `make test-deep`")
    for item in items:
        if "deep" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    import chainrule as cr

    cr.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(scope="session")
def torch():
    """torch 2.13.0 CPU (a dev dependency), in float64 by default for parity checks."""
    import torch as _torch

    _torch.set_num_threads(1)
    return _torch
