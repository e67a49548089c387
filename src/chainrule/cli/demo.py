"""``chainrule demo``: a guided tour in under a minute, from one scalar derivative to a trained network.

Five sections, each printing what it shows: the scalar engine on ``y = 3*x1 + 5*x2``; the chain
``y = (exp(x^2))^2`` differentiated by backprop and numerically; the two-layer sigmoid network worked by
hand and checked against PyTorch; an MLP trained on the 8x8 digits; and a graph drawing and loss curves
written to a folder.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from chainrule._optional import available, install_hint, missing_note
from chainrule.cli._common import AtomicWriter, check_writable_folder, nonnegative_int, say

__all__ = ["add_parser", "run"]

CHAIN_AT_HALF = 3.297442541400256  # d/dx (exp(x^2))^2 = 4x exp(2x^2) at x = 0.5, as printed in seed 001


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "demo",
        help="a one-minute guided tour (start here)",
        description="A guided tour: scalar autodiff, a chain rule checked numerically, a two-layer network "
        "differentiated by hand and checked against PyTorch, an MLP trained on handwritten digits, and a "
        "graph drawing and loss curves written to --out.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("chainrule-demo"),
        metavar="DIR",
        help="where to write the drawings (default ./chainrule-demo)",
    )
    p.add_argument(
        "--epochs",
        type=nonnegative_int,
        default=None,
        metavar="N",
        help="training epochs (default 8, 1 with --quick)",
    )
    p.add_argument("--quick", action="store_true", help="the shortest tour (one epoch), for tests and CI")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while training")
    p.set_defaults(run=run)


def _heading(number: int, title: str) -> None:
    say()
    say(f"== {number}. {title} " + "=" * max(0, 70 - len(title)))


# ------------------------------------------------------------------------------------------------ sections
def scalar_engine() -> None:
    """Seed 000: y = 3*x1 + 5*x2 on the scalar engine."""
    from chainrule.scalar import Scalar, topological_sort  # noqa: PLC0415

    _heading(1, "The scalar engine: y = 3*x1 + 5*x2")
    x1 = Scalar(1.0, name="x1").requires_grad_()
    x2 = Scalar(2.0, name="x2").requires_grad_()
    y = Scalar(3, name="x1_coef") * x1 + Scalar(5, name="x2_coef") * x2
    y.name = "y"
    order = topological_sort(y)
    say(f"y = {y.data:g} at x1 = 1, x2 = 2")
    names = [node.name if node.name != str(node.unique_id) else f"#{node.unique_id}" for node in order]
    say("topological order, output first: " + " -> ".join(names) + "   (#n: an intermediate result)")
    y.backward(d_output=1.0)
    say(f"backward: dy/dx1 = {x1.derivative:g} (expected 3), dy/dx2 = {x2.derivative:g} (expected 5)")
    if not (math.isclose(x1.derivative, 3.0) and math.isclose(x2.derivative, 5.0)):
        raise RuntimeError(f"scalar engine gave {x1.derivative}, {x2.derivative} instead of 3, 5")


def chain_rule() -> Any:
    """Seed 001: y = (exp(x^2))^2 at x = 0.5, backprop against numerical differentiation."""
    import chainrule as cr  # noqa: PLC0415
    from chainrule.autograd.gradcheck import numerical_diff  # noqa: PLC0415

    _heading(2, "The chain rule: y = (exp(x^2))^2 at x = 0.5")

    def f(x: Any) -> Any:
        return cr.square(cr.exp(cr.square(x)))

    x = cr.tensor(0.5, dtype=cr.float64, requires_grad=True, name="x")
    y = f(x)
    y.name = "y"
    y.backward()
    backprop = float(x.grad.item())
    numeric = float(numerical_diff(f, cr.tensor(0.5, dtype=cr.float64)).item())
    say(f"y = {float(y.item()):.15g}")
    say(f"backprop      dy/dx = {backprop!r}   (4x exp(2x^2) = {4 * 0.5 * math.exp(2 * 0.25)!r})")
    say(f"numerical     dy/dx = {numeric!r}   (central difference, eps = 1e-4)")
    say(f"difference          = {abs(backprop - numeric):.2e}")
    if not math.isclose(backprop, CHAIN_AT_HALF, rel_tol=1e-12):
        raise RuntimeError(f"backprop gave {backprop!r}, expected {CHAIN_AT_HALF!r}")
    return y


def two_layer() -> Any:
    """Seed 002: the 2-2-1 sigmoid network, derived by hand (explain) and checked against PyTorch."""
    import numpy as np  # noqa: PLC0415

    import chainrule as cr  # noqa: PLC0415
    from chainrule import examples  # noqa: PLC0415

    _heading(3, "A two-layer network by hand: L = 0.5 (sigmoid(sigmoid(A0 W1) W2) - t)^2")
    loss = examples.two_layer()
    report = cr.explain(loss, numerical_check=True)
    say(f"forward: A0 = [[0.35, 0.9]], t = 0.5, L = {float(report.values['L']):.7f}")
    say("backward, one chain-rule step at a time (newest op first):")
    for step in report.steps:
        mark = f"  {step.check_mark}" if step.check_mark else ""
        say(f"  [{step.index}] {step.rule:<36s} = {_short(step.grad)}{mark}")
    say("numerical check: " + ("every step agrees with central differences" if report.ok else "MISMATCH"))
    if not available("torch"):
        say(f"PyTorch check: skipped (torch is not installed; {install_hint('torch')} to compare)")
        return loss
    import torch  # noqa: PLC0415

    # The network of seed 002, written again in PyTorch from its numbers.
    a0 = torch.tensor([[0.35, 0.9]], dtype=torch.float64)
    w1 = torch.tensor([[0.1, 0.4], [0.8, 0.6]], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor([[0.3], [0.9]], dtype=torch.float64, requires_grad=True)
    y = torch.sigmoid(torch.sigmoid(a0.mm(w1)).mm(w2))
    ((y - 0.5).pow(2).sum() / 2.0).backward()
    worst = max(
        float(np.max(np.abs(report.grads[name] - leaf.grad.numpy())))
        for name, leaf in (("W1", w1), ("W2", w2))
    )
    if worst > 1e-12:
        raise RuntimeError(f"two-layer gradients differ from PyTorch's by {worst:.3g}")
    say(f"PyTorch check: dL/dW1 and dL/dW2 equal to PyTorch's (largest difference {worst:.1e})")
    return loss


def _short(array: Any) -> str:
    import numpy as np  # noqa: PLC0415

    return np.array2string(np.asarray(array), precision=6, separator=", ", max_line_width=200).replace(
        "\n", ""
    )


def train_digits(epochs: int, show_progress: bool) -> Any:
    """Train the MLP of ``chainrule train`` on the 8x8 digits."""
    from chainrule.cli.train import TrainConfig, train  # noqa: PLC0415

    _heading(4, f"Training an MLP on 8x8 handwritten digits ({epochs} epoch{'s' if epochs != 1 else ''})")
    config = TrainConfig(
        dataset="digits", model="mlp", epochs=epochs, batch_size=32, lr=3e-3, optimizer="adam"
    )
    say(f"model: 64 -> 64 -> 64 -> 10 (Linear + ReLU), cross-entropy loss, Adam lr {config.lr:g}, batch 32")
    if epochs == 0:
        say("skipped (--epochs 0)")
        return None
    _, _, history, data, seconds = train(config, show_progress=show_progress)
    say(
        f"test accuracy: {history.test_accuracy[-1]:.1%} on {data.x_test.shape[0]} held-out images "
        f"(trained on {data.x_train.shape[0]}, {seconds:.1f}s)"
    )
    return history


def drawings(out: Path, graph_output: Any, history: Any) -> None:
    """Write the graph of the two-layer loss and the training curves into ``out``."""
    from chainrule import viz  # noqa: PLC0415

    _heading(5, f"Pictures, written to {out}/")
    notes = []
    with AtomicWriter(out) as w:
        viz.render(graph_output, w.path("graph.dot"))
        if not (missing := viz.picture_blockers()):
            viz.render(graph_output, w.path("graph.svg"))
        else:
            notes.append(_svg_skipped(missing))
        if history is None:
            notes.append("curves.png skipped: no training")
        elif (note := missing_note("matplotlib", "curves.png")) is not None:
            notes.append(note)
        else:
            viz.plot_history(history.curves(), w.path("curves.png"))
        written = w.commit()
    for path in written:
        say(f"wrote {path}")
    for note in notes:
        say(note)


def missing_extras(show_progress: bool) -> list[str]:
    """What this install lacks for the full tour, one note each; the tour runs without them."""
    notes = [
        missing_note("torch", "the PyTorch check of section 3"),
        missing_note("matplotlib", "curves.png"),
    ]
    if show_progress and sys.stderr.isatty():  # no bar is drawn into a log anyway
        notes.append(missing_note("tqdm", "the progress bar"))
    from chainrule import viz  # noqa: PLC0415

    if missing := viz.picture_blockers():
        notes.append(_svg_skipped(missing))
    return [note for note in notes if note is not None]


def _svg_skipped(missing: list[str]) -> str:
    why = f"{' and '.join(missing)} not installed"
    return f"graph.svg skipped: {why} (pip install 'chainrule[viz]'; graph.dot is written)"


def run(args: argparse.Namespace) -> int:
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 8)
    check_writable_folder(args.out)
    start = time.perf_counter()
    say("chainrule demo: autodiff you can read, from one scalar to a trained network")
    # Said before any work, so a missing extra is never a surprise at the end.
    for note in missing_extras(show_progress=not args.no_progress):
        say(f"note: {note}")
    scalar_engine()
    chain_rule()
    loss = two_layer()
    history = train_digits(epochs, show_progress=not args.no_progress)
    drawings(args.out, loss, history)
    say()
    say(f"done in {time.perf_counter() - start:.1f}s. Next: chainrule train --help, chainrule explain --help")
    return 0
