"""Side-by-side timing: chainrule and its anchor in one process, alternating, median after warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Result:
    case: str
    chainrule_ms: float
    anchor: str
    anchor_ms: float | None
    target: float | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.anchor_ms is None or self.anchor_ms == 0:
            return None
        return self.chainrule_ms / self.anchor_ms

    def line(self) -> str:
        anchor = f"{self.anchor} {self.anchor_ms:.3f} ms" if self.anchor_ms is not None else f"{self.anchor} n/a"
        ratio = f"ratio {self.ratio:.2f}" if self.ratio is not None else "ratio n/a"
        target = f" (target {self.target})" if self.target is not None else ""
        verdict = ""
        if self.ratio is not None and self.target is not None:
            verdict = "  ok" if self.ratio <= self.target else "  MISSED"
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.case}: chainrule {self.chainrule_ms:.3f} ms, {anchor}, {ratio}{target}{verdict}{note}"

    def to_json(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def compare(
    case: str,
    ours: Callable[[], object],
    anchor_name: str,
    anchor: Callable[[], object] | None,
    *,
    target: float | None,
    repeat: int = 20,
    warmup: int = 3,
    note: str = "",
) -> Result:
    """Time ``ours`` and ``anchor`` alternately ``repeat`` times after ``warmup`` runs; report medians."""
    for _ in range(warmup):
        ours()
        if anchor is not None:
            anchor()
    ours_ms, anchor_ms = [], []
    for _ in range(repeat):
        ours_ms.append(_once(ours))
        if anchor is not None:
            anchor_ms.append(_once(anchor))
    return Result(
        case=case,
        chainrule_ms=statistics.median(ours_ms),
        anchor=anchor_name,
        anchor_ms=statistics.median(anchor_ms) if anchor_ms else None,
        target=target,
        note=note,
    )
