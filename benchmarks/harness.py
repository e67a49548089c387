"""Side-by-side timing: chainrule and its anchor in one process, alternating, median after warm-up."""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator
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


# ---------------------------------------------------------------------------- the garbage collector
#: Extra live objects for the realistic cases: about what ``import torch`` leaves alive (~150,000).
LIVE_OBJECTS = 150_000


@dataclass(frozen=True)
class GCCondition:
    """How the garbage collector runs while a case is timed. It is always on: its cost is part of the case.

    ``freeze`` moves everything alive before the case into the permanent generation (``gc.freeze``), so
    collections walk only what the case itself allocates. ``live_objects`` keeps that many extra tracked
    objects alive (and not frozen), as the imports and data of a notebook would.
    """

    freeze: bool = True
    live_objects: int = 0

    @property
    def label(self) -> str:
        """What the case's line appends to its name ("" for the ordinary, frozen condition)."""
        if self.freeze:
            return ""
        return f" ({self.live_objects // 1000}k live objects, gc on)"


#: The ordinary cases: a program that holds little besides the benchmark.
FROZEN = GCCondition()
#: The realistic cases: torch imported (nothing frozen) and 150k more live objects.
REALISTIC = GCCondition(freeze=False, live_objects=LIVE_OBJECTS)


@contextlib.contextmanager
def collector(condition: GCCondition) -> Iterator[None]:
    """Run the body with the collector enabled under ``condition``; restores the collector's state after."""
    # One-element lists, not tuples: the collector stops tracking tuples (and dicts) that hold only atoms.
    live = [[i] for i in range(condition.live_objects)]
    was_enabled = gc.isenabled()
    gc.collect()  # every case starts empty, with its objects (and ``live``) in the oldest generation
    if condition.freeze:
        gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        if condition.freeze:
            gc.unfreeze()
        if was_enabled:  # the body may have turned it off: leave it as the caller had it
            gc.enable()
        else:
            gc.disable()
        del live


def _collections() -> list[int]:
    """How many collections of each generation (0, 1, 2) the process has run so far."""
    return [generation["collections"] for generation in gc.get_stats()]


@dataclass
class _GCLog:
    """What the collector did during one side's timed samples (warm-up and ``setup`` not counted)."""

    always_on: bool = True
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    samples: int = 0
    collector_ms: float = 0.0  # time spent inside collections, all generations
    _started: float = 0.0

    def _on_collection(self, phase: str, info: dict) -> None:  # a ``gc.callbacks`` entry
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collector_ms += (time.perf_counter() - self._started) * 1e3

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        self.always_on = self.always_on and gc.isenabled()
        before = _collections()
        gc.callbacks.append(self._on_collection)
        try:
            yield
        finally:
            gc.callbacks.remove(self._on_collection)
        self.always_on = self.always_on and gc.isenabled()
        self.collections = [n + (b - a) for n, a, b in zip(self.collections, before, _collections())]
        self.samples += 1

    def collector_ms_per_sample(self) -> float:
        return self.collector_ms / max(self.samples, 1)


def tracked_objects_per_op(build: Callable[[], object], ops: int) -> float:
    """GC-tracked objects that ``build()`` allocates per recorded op: ``len(gc.get_objects())`` after it,
    minus before it, over ``ops``, with the collector off in between (so nothing it made is collected)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        graph = build()  # kept alive until counted
        after = len(gc.get_objects())
    finally:
        if was_enabled:
            gc.enable()
    del graph
    return (after - before) / ops


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
    condition: GCCondition = FROZEN,
) -> Result:
    """Time ``ours`` and ``anchor`` alternately ``repeat`` times after ``warmup`` runs; report medians.

    ``inner`` calls are made per timed sample (for sub-millisecond cases) and the time is divided back.
    ``setup`` (untimed) runs before every timed sample of either side, e.g. to clear accumulated grads.
    The garbage collector is on while timing (it is part of the cost users pay; unlike ``timeit``, nothing
    here turns it off), under ``condition``: by default each case starts from a full collection and
    ``gc.freeze()``, otherwise every full collection would also walk the ~150,000 objects ``import torch``
    creates; ``REALISTIC`` freezes nothing and adds 150,000 live objects, as in a notebook. Whether the
    collector stayed on, and how often it ran for each side, is kept in ``extra["gc"]``.
    """
    repeat = _scaled(repeat)

    def timed(fn: Callable[[], object], log: _GCLog) -> float:
        if setup is not None:
            setup()
        with log.watch():
            if inner == 1:
                return _once(fn)
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            return (time.perf_counter() - start) * 1e3 / inner

    ours_log, anchor_log = _GCLog(), _GCLog()
    with collector(condition):
        tracked = len(gc.get_objects())  # what a full collection walks (frozen objects are not listed)
        for _ in range(warmup):
            ours()
            if anchor is not None:
                anchor()
        ours_ms, anchor_ms = [], []
        for _ in range(repeat):
            ours_ms.append(timed(ours, ours_log))
            if anchor is not None:
                anchor_ms.append(timed(anchor, anchor_log))
    enabled = ours_log.always_on and anchor_log.always_on
    gc_info = {
        "enabled": enabled,
        "frozen": condition.freeze,
        "extra_live_objects": condition.live_objects,
        "tracked_at_start": tracked,
        "collections_chainrule": ours_log.collections,
        "collector_ms_per_call_chainrule": ours_log.collector_ms_per_sample() / inner,
    }
    if anchor is not None:
        gc_info[f"collections_{anchor_name}"] = anchor_log.collections
        gc_info[f"collector_ms_per_call_{anchor_name}"] = anchor_log.collector_ms_per_sample() / inner
    gc_note = ""
    if not condition.freeze or not enabled:  # the realistic lines say what the collector did
        state = "gc on while timed" if enabled else "GC WAS OFF in some timed samples"
        full = f"chainrule {ours_log.collections[2]}"
        spent = f"chainrule {ours_log.collector_ms_per_sample() / inner:.1f} ms"
        if anchor is not None:
            full += f", {anchor_name} {anchor_log.collections[2]}"
            spent += f", {anchor_name} {anchor_log.collector_ms_per_sample() / inner:.1f} ms"
        gc_note = (
            f"{state}, {tracked / 1000:.0f}k tracked objects; full collections {full}; "
            f"in the collector per call {spent}"
        )
    return Result(
        case=case + condition.label,
        chainrule_ms=statistics.median(ours_ms),
        anchor=anchor_name,
        anchor_ms=statistics.median(anchor_ms) if anchor_ms else None,
        target=target,
        note="; ".join(filter(None, [gc_note, note])),
        extra={"gc": gc_info},
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
