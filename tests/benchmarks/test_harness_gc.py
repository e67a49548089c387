"""The harness's garbage-collector conditions: the collector really runs while timing, as each line says.

No timings are checked here (they are too noisy for a test); only the state the cases are timed in.
"""

from __future__ import annotations

import gc

import pytest
from benchmarks.__main__ import CASES
from benchmarks.harness import FROZEN, REALISTIC, GCCondition, compare, tracked_objects_per_op

SMALL_REALISTIC = GCCondition(freeze=False, live_objects=20_000)  # REALISTIC's shape, quicker to build


def _observe(condition: GCCondition) -> tuple[dict, object]:
    """Run ``compare`` on a body that records the collector's state; returns that state and the result."""
    seen: dict = {}

    def body() -> None:
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count(), tracked=len(gc.get_objects()))

    result = compare("probe", body, "anchor", body, target=None, repeat=3, warmup=0, condition=condition)
    return seen, result


@pytest.mark.parametrize("was_enabled", [True, False])
def test_the_collector_is_on_while_timing_and_restored_after(was_enabled):
    if not was_enabled:
        gc.disable()
    try:
        for condition in (FROZEN, SMALL_REALISTIC):
            seen, result = _observe(condition)
            assert seen["enabled"] and result.extra["gc"]["enabled"]
            assert gc.isenabled() is was_enabled
    finally:
        gc.enable()


def test_a_case_that_turns_the_collector_off_says_so():
    result = compare("probe", gc.disable, "anchor", None, target=None, repeat=3, warmup=0)
    assert gc.isenabled() and not result.extra["gc"]["enabled"]
    assert result.note.startswith("GC WAS OFF")


def test_frozen_cases_freeze_what_was_alive_and_realistic_ones_do_not():
    seen, result = _observe(FROZEN)
    assert seen["frozen"] > 0 and result.case == "probe" and "gc on" not in result.note
    before = gc.get_freeze_count()
    seen, result = _observe(SMALL_REALISTIC)
    assert seen["frozen"] == before == 0
    assert seen["tracked"] >= SMALL_REALISTIC.live_objects
    assert result.case == "probe (20k live objects, gc on)"
    assert result.note.startswith("gc on while timed") and "full collections" in result.note
    assert "in the collector per call" in result.note and "collector_ms_per_call_anchor" in result.extra["gc"]


def test_realistic_cases_are_listed_for_the_graph_heavy_cases():
    assert REALISTIC.live_objects == 150_000 and not REALISTIC.freeze
    assert {"tiny-gc", "wide-gc", "scalar-gc"} <= set(CASES)


def test_tracked_objects_per_op_counts_what_the_build_keeps():
    assert tracked_objects_per_op(lambda: [[i] for i in range(1000)], 1000) == pytest.approx(1.0, abs=0.01)
    assert tracked_objects_per_op(lambda: [(i, i) for i in range(1000)], 1000) == pytest.approx(1.0, abs=0.01)
    assert tracked_objects_per_op(lambda: None, 1) == 0
