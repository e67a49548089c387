"""nn cases: MLP, CNN and LSTM training steps, chainrule.nn/optim against torch.nn/optim.

Both sides start from the same weights (copied from torch), run the same step, and the first step's losses are
compared (a mismatch is noted on the result line, so a fast-but-wrong layer does not go unnoticed).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.harness import Result, compare, skipped, torch_or_none

MLP_SMALL = "MLP 64-128-128-10, batch 32, SGD step"
MLP_784 = "MLP 784-512-512-10, batch 128, SGD step"
CNN = "CNN 2x(conv3x3+ReLU+maxpool)+linear, 32x1x28x28, train step"
LSTM = "LSTM 1 layer, hidden 128, seq 32, batch 32, fwd+bwd"
TARGETS = {MLP_SMALL: 0.8, MLP_784: 1.0, CNN: 1.3, LSTM: 1.5}
LSTM_INPUT = 64
NO_NN = "nn not available"


def _chainrule_nn() -> tuple[Any, Any, Any] | None:
    try:
        import chainrule.nn as nn
        import chainrule.nn.functional as F
        import chainrule.optim as optim
    except ImportError:
        return None
    return nn, F, optim


def _mlp(nn: Any, sizes: tuple[int, ...]) -> Any:
    layers: list[Any] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _cnn(nn: Any) -> Any:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 10),
    )


def copy_weights(ours: Any, theirs: Any) -> bool:
    """Copy torch's parameters into chainrule's, in order; False if the two disagree on shapes."""
    mine, reference = list(ours.parameters()), list(theirs.parameters())
    if len(mine) != len(reference) or any(p.shape != tuple(q.shape) for p, q in zip(mine, reference)):
        return False
    for p, q in zip(mine, reference):
        p.data[...] = q.detach().numpy()
    return True


def _classification_step(model: Any, F: Any, optim: Any, x: Any, y: Any) -> tuple[Callable[[], Any], Any]:
    opt = optim.SGD(model.parameters(), lr=0.01)

    def step() -> Any:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return step, opt


def _train_case(
    case: str, build: Callable[[Any], Any], x0: np.ndarray, y0: np.ndarray, *, repeat: int, inner: int = 1
) -> Result:
    import chainrule as cr

    found = _chainrule_nn()
    if found is None:
        return skipped(case, NO_NN, target=TARGETS[case])
    nn, F, optim = found
    model = build(nn)
    ours, _ = _classification_step(model, F, optim, cr.tensor(x0), cr.tensor(y0))
    torch = torch_or_none()
    anchor, note = None, ""
    if torch is not None:
        tmodel = build(torch.nn)
        same = copy_weights(model, tmodel)
        anchor, _ = _classification_step(
            tmodel, torch.nn.functional, torch.optim, torch.from_numpy(x0), torch.from_numpy(y0)
        )
        note = _check_first_step(ours, anchor) if same else "weights not copied: parameter shapes differ"
    return compare(
        case, ours, "torch", anchor, target=TARGETS[case], repeat=repeat, warmup=3, note=note, inner=inner
    )


def _check_first_step(ours: Callable[[], Any], anchor: Callable[[], Any]) -> str:
    a, b = float(ours().item()), float(anchor().item())
    return "" if np.isclose(a, b, rtol=1e-4, atol=1e-5) else f"first-step loss {a:.6f} vs torch {b:.6f}"


def _data(shape: tuple[int, ...], classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape, dtype=np.float32), rng.integers(0, classes, shape[0]).astype(np.int64)


def mlp_small() -> Result:
    x, y = _data((32, 64), 10)
    return _train_case(MLP_SMALL, lambda nn: _mlp(nn, (64, 128, 128, 10)), x, y, repeat=41, inner=5)


def mlp_784() -> Result:
    from benchmarks.bench_tensor import sgemm_peak_gflops

    batch, sizes = 128, (784, 512, 512, 10)
    x, y = _data((batch, sizes[0]), sizes[-1])
    result = _train_case(MLP_784, lambda nn: _mlp(nn, sizes), x, y, repeat=21)
    if result.skipped:
        return result
    forward = sum(2 * batch * a * b for a, b in itertools.pairwise(sizes))
    # backward: grad of each weight and of each layer's input, except the data's (it needs none)
    flops = 3 * forward - 2 * batch * sizes[0] * sizes[1]
    peak = sgemm_peak_gflops()
    ours = flops / (result.chainrule_ms * 1e-3) / 1e9
    result.extra.update(flops_per_step=flops, gflops=round(ours, 2), sgemm_peak_gflops=round(peak, 2))
    if result.anchor_ms:
        result.extra["torch_gflops"] = round(flops / (result.anchor_ms * 1e-3) / 1e9, 2)
    gflops_note = f"{ours:.1f} GFLOP/s = {100 * ours / peak:.0f}% of NumPy sgemm peak {peak:.1f}"
    result.note = "; ".join(filter(None, [result.note, gflops_note]))
    return result


def cnn() -> Result:
    x, y = _data((32, 1, 28, 28), 10)
    return _train_case(CNN, _cnn, x, y, repeat=9)


def lstm() -> Result:
    import chainrule as cr

    found = _chainrule_nn()
    if found is None:
        return skipped(LSTM, NO_NN, target=TARGETS[LSTM])
    nn = found[0]
    if not hasattr(nn, "LSTM"):
        return skipped(LSTM, "chainrule.nn.LSTM not available", target=TARGETS[LSTM])
    x0 = np.random.default_rng(0).standard_normal(
        (32, 32, LSTM_INPUT), dtype=np.float32
    )  # (seq, batch, input)
    model = nn.LSTM(LSTM_INPUT, 128)
    x = cr.tensor(x0)

    def ours() -> Any:
        model.zero_grad()
        out, _ = model(x)
        loss = out.sum()
        loss.backward()
        return loss

    torch = torch_or_none()
    anchor, note = None, ""
    if torch is not None:
        tmodel = torch.nn.LSTM(LSTM_INPUT, 128)
        tx = torch.from_numpy(x0)

        def anchor() -> Any:
            tmodel.zero_grad()
            out, _ = tmodel(tx)
            loss = out.sum()
            loss.backward()
            return loss

        same = copy_weights(model, tmodel)
        note = _check_first_step(ours, anchor) if same else "weights not copied: parameter shapes differ"
    return compare(LSTM, ours, "torch", anchor, target=TARGETS[LSTM], repeat=9, warmup=2, note=note)


def run() -> list[Result]:
    return [mlp_small(), mlp_784(), cnn(), lstm()]


if __name__ == "__main__":
    for result in run():
        print(result.line())
