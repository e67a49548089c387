"""``python -c "import chainrule"`` wall time, in fresh subprocesses; ``import torch`` is timed for context.

Also checks that importing chainrule pulls in no optional library (they must load lazily, on first use).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time

from benchmarks.harness import Result, _scaled

CASE = 'python -c "import chainrule" wall time'
TARGET_MS = 200.0
OPTIONAL = (
    "torch",
    "tqdm",
    "matplotlib",
    "safetensors",
    "sklearn",
    "graphviz",
    "onnx",
    "onnxruntime",
    "cupy",
    "scipy",
    "PIL",
    "pandas",
    "threadpoolctl",
)


# Users' installs keep compiled bytecode; an environment that turns caching off would time the compiler too.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_ENV)
    return (time.perf_counter() - start) * 1e3


def optional_imports() -> list[str]:
    """Optional libraries that ``import chainrule`` loads (should be none)."""
    top = "{m.split('.')[0] for m in sys.modules}"
    probe = f"import sys, chainrule; print(' '.join(sorted({top} & {set(OPTIONAL)!r})))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return out.split()


def run() -> list[Result]:
    _wall_ms("pass")  # warm the OS file cache for the interpreter itself
    _wall_ms("import chainrule")
    ours = [_wall_ms("import chainrule") for _ in range(_scaled(9))]
    bare = statistics.median(_wall_ms("pass") for _ in range(_scaled(5)))
    numpy_ms = statistics.median(_wall_ms("import numpy") for _ in range(_scaled(5)))
    anchor_ms = None
    if importlib.util.find_spec("torch") is not None:  # without torch: no anchor, and no traceback printed
        _wall_ms("import torch")
        anchor_ms = statistics.median(_wall_ms("import torch") for _ in range(_scaled(3)))
    loaded = optional_imports()
    note = f"bare interpreter {bare:.0f} ms, import numpy {numpy_ms:.0f} ms"
    if loaded:
        note += f"; OPTIONAL LIBRARIES IMPORTED: {', '.join(loaded)}"
    result = Result(
        case=CASE,
        chainrule_ms=statistics.median(ours),
        anchor="import torch",
        anchor_ms=anchor_ms,
        target=TARGET_MS,
        target_absolute=True,
        note=note,
        extra={"bare_interpreter_ms": bare, "numpy_ms": numpy_ms, "optional_imported": loaded},
    )
    return [result]


if __name__ == "__main__":
    for r in run():
        print(r.line())
