"""How low can a ratio go? The cost of the same work with no autodiff at all, next to torch's whole step.

``python -m benchmarks.floors`` prints two measurements that bound the engine's ratios from below:

* **tiny ops** under Valgrind's callgrind (when ``valgrind`` is on the PATH): the CPU instructions of one
  ``(a*b+a).sum().backward()`` step for torch, for chainrule, and for the nine NumPy array operations that
  step needs with no framework around them (multiply, add, sum; the seed, two multiplies, an add and two
  accumulations). Instruction counts are exact and machine-load-free, unlike wall time on a shared machine.
  The NumPy line over torch's is the floor of the tiny-op ratio: an engine with zero overhead.
* **MLP-784 GEMMs**: NumPy's matrix products for the six shapes of one 784-512-512-10 training step (batch
  128) against torch's, one BLAS thread each, min of repeats. The step is GEMM-bound, so their ratio is the
  floor of the MLP-784 ratio with this machine's BLAS libraries.

``python -m benchmarks.floors --step NAME N`` runs one step N times (what callgrind measures; NAME is
``chainrule``, ``torch`` or ``numpy``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import timeit

import numpy as np

STEPS = ("torch", "chainrule", "numpy")
#: (m, k) @ (k, n) for the forward and both backward products of the three Linear layers.
GEMMS = (((128, 784), (784, 512)), ((128, 512), (512, 512)), ((784, 128), (128, 512)),
         ((512, 128), (128, 512)), ((128, 512), (512, 784)), ((128, 512), (512, 10)))  # fmt: skip


def tiny_step(name: str) -> object:
    """One tiny-op step for ``name``: a function of no arguments."""
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        a, b = torch.ones(8, requires_grad=True), torch.ones(8, requires_grad=True)
        return lambda: (a * b + a).sum().backward()
    if name == "chainrule":
        import chainrule as cr

        a = cr.tensor(np.ones(8, np.float32), requires_grad=True)
        b = cr.tensor(np.ones(8, np.float32), requires_grad=True)
        return lambda: (a * b + a).sum().backward()
    x, y = np.ones(8, np.float32), np.ones(8, np.float32)
    gx, gy = np.zeros(8, np.float32), np.zeros(8, np.float32)

    def numpy_only() -> tuple[np.ndarray, np.ndarray]:  # the arrays the step computes, and nothing else
        z = x * y + x
        z.sum()
        seed = np.broadcast_to(np.ones((), np.float32), z.shape)
        gx.__iadd__(seed * y + seed)
        gy.__iadd__(seed * x)
        return gx, gy

    return numpy_only


def instructions_per_step(name: str, n: int = 500) -> int | None:
    """Callgrind's instruction count of ``n`` steps minus that of none, over ``n``; None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    counts = []
    for runs in (0, n):
        with tempfile.TemporaryDirectory() as tmp:
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                       sys.executable, "-m", "benchmarks.floors", "--step", name, str(runs)]  # fmt: skip
            env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            counts.append(int(re.search(r"Collected : (\d+)", done.stderr).group(1)))
    return (counts[1] - counts[0]) // n


def gemm_ratios() -> list[tuple[tuple[int, int, int], float, float]]:
    """(m, k, n), NumPy ms, torch ms for each GEMM of the MLP-784 step, one BLAS thread each."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(1):
        for (m, k), (_, n) in GEMMS:
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            ours = min(timeit.repeat(lambda: a @ b, number=20, repeat=7)) / 20 * 1e3  # noqa: B023
            theirs = min(timeit.repeat(lambda: ta @ tb, number=20, repeat=7)) / 20 * 1e3  # noqa: B023
            rows.append(((m, k, n), ours, theirs))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", nargs=2, metavar=("NAME", "N"), help="run one step N times and exit")
    args = parser.parse_args(argv)
    if args.step:
        step = tiny_step(args.step[0])
        for _ in range(3 + int(args.step[1])):
            step()
        return
    counts = {name: instructions_per_step(name) for name in STEPS}
    if counts["torch"] is None:
        print("tiny ops: valgrind not found, instruction counts skipped")
    else:
        for name in STEPS:
            print(f"tiny ops, {name}: {counts[name]:,} instructions per step, "
                  f"{counts[name] / counts['torch']:.2f} of torch's")  # fmt: skip
    rows = gemm_ratios()
    for (m, k, n), ours, theirs in rows:
        print(f"GEMM ({m}x{k}) @ ({k}x{n}): NumPy {ours:.3f} ms, torch {theirs:.3f} ms, "
              f"ratio {ours / theirs:.2f}")  # fmt: skip
    total = sum(r[1] for r in rows) / sum(r[2] for r in rows)
    print(f"MLP-784 GEMMs together: ratio {total:.2f} (the MLP-784 step's floor with these BLAS libraries)")


if __name__ == "__main__":
    main()
