"""Scalar engine vs micrograd: per-sample forward + backward of a 2-16-16-1 ReLU MLP on 200 points.

Both networks have the same shape and ReLU hidden layers; chainrule's binary classifier adds
one sigmoid on the output (one node out of ~600 per sample), micrograd's output is linear.
Run with ``python -m benchmarks`` from the repository root.
"""

from __future__ import annotations

import random

from benchmarks.harness import FROZEN, GCCondition, Result, compare
from chainrule.scalar.nn import ActivationType, MLPBinaryClassifyNetFactory, MLPConfig

CASE = "scalar 2-16-16-1 MLP, 200 points, per-sample fwd+bwd"
TARGET = 0.15
N_POINTS = 200


def _points(n: int = N_POINTS, seed: int = 0) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)) for _ in range(n)]


def _chainrule_step(points: list[tuple[float, float]]):
    config = MLPConfig(2, 1, 16, 2, ActivationType.RELU, seed=0)
    net = MLPBinaryClassifyNetFactory(config)

    def run() -> None:
        for x in points:
            net(x).backward()
        net.zero_grad()

    return run


def _micrograd_step(points: list[tuple[float, float]]):
    try:
        from micrograd.nn import MLP
    except ImportError:
        return None
    random.seed(0)
    net = MLP(2, [16, 16, 1])

    def run() -> None:
        for x in points:
            net(x).backward()
        net.zero_grad()

    return run


def run(condition: GCCondition = FROZEN) -> list[Result]:
    points = _points()
    ours = _chainrule_step(points)
    anchor = _micrograd_step(points)
    note = "chainrule's net ends in a sigmoid: one extra node per sample"
    if anchor is None:
        note = "micrograd not installed"
    result = compare(
        CASE, ours, "micrograd", anchor, target=TARGET, repeat=10, warmup=2, note=note, condition=condition
    )
    return [result]


if __name__ == "__main__":
    for result in run():
        print(result.line())
