"""Side-by-side timing: chainrule and its anchor in one process, alternating, median after warm-up."""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    """One benchmark case, values in ``unit``; ``target`` bounds the ratio (or the value, if absolute)."""

    case: str
    chainrule_ms: float
    anchor: str
    anchor_ms: float | None
    target: float | None
    note: str = ""
    unit: str = "ms"
    target_absolute: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""

    @property
    def ratio(self) -> float | None:
        if self.anchor_ms is None or self.anchor_ms == 0:
            return None
        return self.chainrule_ms / self.anchor_ms

    @property
    def ok(self) -> bool | None:
        """Whether the target is met (None when there is nothing to compare)."""
        if self.skipped or self.target is None:
            return None
        if self.target_absolute:
            return self.chainrule_ms <= self.target
        return None if self.ratio is None else self.ratio <= self.target

    def line(self) -> str:
        if self.skipped:
            return f"{self.case}: skipped ({self.skipped})"
        u = self.unit
        anchor = (
            f"{self.anchor} {self.anchor_ms:.3f} {u}" if self.anchor_ms is not None else f"{self.anchor} n/a"
        )
        ratio = f"ratio {self.ratio:.2f}" if self.ratio is not None else "ratio n/a"
        target = ""
        if self.target is not None:
            target = (
                f" (target {self.target} {u} absolute)"
                if self.target_absolute
                else f" (target {self.target})"
            )
        verdict = {True: "  ok", False: "  MISSED", None: ""}[self.ok]
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.case}: chainrule {self.chainrule_ms:.3f} {u}, {anchor}, {ratio}{target}{verdict}{note}"

    def to_json(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "ok": self.ok}


def skipped(case: str, why: str, anchor: str = "torch", target: float | None = None) -> Result:
    """A case that could not run (say, ``chainrule.nn`` is not there yet)."""
    return Result(
        case=case, chainrule_ms=float("nan"), anchor=anchor, anchor_ms=None, target=target, skipped=why
    )


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def _scaled(n: int) -> int:
    """Repeat counts shrink under ``--quick`` (``CHAINRULE_BENCH_QUICK=1``)."""
    return max(3, n // 4) if os.environ.get("CHAINRULE_BENCH_QUICK") else n


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
    inner: int = 1,
    setup: Callable[[], object] | None = None,
) -> Result:
    """Time ``ours`` and ``anchor`` alternately ``repeat`` times after ``warmup`` runs; report medians.

    ``inner`` calls are made per timed sample (for sub-millisecond cases) and the time is divided back.
    ``setup`` (untimed) runs before every timed sample of either side, e.g. to clear accumulated grads.
    The garbage collector stays on (it is part of the cost users pay), but starts each case empty and with
    everything alive before the case frozen (``gc.freeze``): otherwise every full collection would also walk
    the ~150,000 objects ``import torch`` creates, a cost a chainrule-only process does not have.
    """
    repeat = _scaled(repeat)

    def timed(fn: Callable[[], object]) -> float:
        if setup is not None:
            setup()
        if inner == 1:
            return _once(fn)
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - start) * 1e3 / inner

    gc.collect()
    gc.freeze()
    try:
        for _ in range(warmup):
            ours()
            if anchor is not None:
                anchor()
        ours_ms, anchor_ms = [], []
        for _ in range(repeat):
            ours_ms.append(timed(ours))
            if anchor is not None:
                anchor_ms.append(timed(anchor))
    finally:
        gc.unfreeze()
    return Result(
        case=case,
        chainrule_ms=statistics.median(ours_ms),
        anchor=anchor_name,
        anchor_ms=statistics.median(anchor_ms) if anchor_ms else None,
        target=target,
        note=note,
    )


# ---------------------------------------------------------------------------- threads
def blas_threads() -> tuple[int, str]:
    """NumPy's BLAS thread count and its source: threadpoolctl if installed, else env, else cpu_count."""
    try:
        import numpy  # noqa: F401  (threadpoolctl only sees loaded libraries)
        from threadpoolctl import threadpool_info

        counts = [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return max(counts), "threadpoolctl"
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value), var
    return os.cpu_count() or 1, "os.cpu_count()"


_LIMITER: Any = None  # keeps a threadpoolctl limit alive for the whole run


def match_threads(threads: int | None = None) -> str:
    """Give torch as many intra-op threads as NumPy's BLAS has; returns a line saying so.

    With ``threads``, both are set to it first (NumPy's BLAS through threadpoolctl, which must be installed).
    """
    global _LIMITER
    if threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            raise SystemExit("--threads needs threadpoolctl (pip install threadpoolctl)") from None
        import numpy  # noqa: F401  (threadpoolctl only sees loaded libraries)

        _LIMITER = threadpool_limits(limits=threads, user_api="blas")
        for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):  # for child processes
            os.environ[var] = str(threads)
    n, how = blas_threads()
    if threads is not None:
        how = f"--threads {threads}, via threadpoolctl"
    try:
        import torch
    except ImportError:
        return f"threads: NumPy BLAS {n} ({how}); torch not installed"
    torch.set_num_threads(n)
    return f"threads: NumPy BLAS {n} ({how}), torch.set_num_threads({n}) -> {torch.get_num_threads()}"


def torch_or_none() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch
