"""Training pictures: plot_history (figures that display inline), plot_grad_flow against torch's gradients,
LivePlot in and out of Jupyter, fit(progress=, live_plot=) and the tqdm.auto progress bars."""

from __future__ import annotations

import base64
import importlib.util

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, viz
from chainrule.viz import _progress

matplotlib = pytest.importorskip("matplotlib")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_history_returns_a_figure_that_displays_inline(tmp_path):
    history = {"train_loss": [0.9, 0.4, 0.2], "test_loss": [1.0, 0.5, 0.3], "train_acc": [0.5, 0.8, 0.9]}
    fig = viz.plot_history(history, title="run")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_lines = {line.get_label(): list(line.get_ydata()) for line in fig.axes[0].get_lines()}
    assert loss_lines == {"train": [0.9, 0.4, 0.2], "test": [1.0, 0.5, 0.3]}
    assert fig._repr_png_().startswith(PNG_MAGIC)
    assert base64.b64decode(fig._repr_mimebundle_()["image/png"]).startswith(PNG_MAGIC)
    assert not list(tmp_path.iterdir())  # no path: nothing written
    viz.plot_history(history, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)


def test_plot_history_accepts_the_scalar_engines_history():
    from chainrule.scalar import datasets, optim
    from chainrule.scalar import nn as snn
    from chainrule.scalar.train import fit

    data = datasets.simple(16, seed=0)
    net = snn.MLPBinaryClassifyNetFactory(snn.MLPConfig(2, 1, 4, 1, snn.ActivationType.TANH, seed=0))
    history = fit(net, data.xs, data.ys, optim.Adam(net.parameters(), lr=0.05), epochs=4)
    fig = viz.plot_history(history)
    ys = [list(ax.get_lines()[0].get_ydata()) for ax in fig.axes]
    assert ys == [history.loss, history.accuracy]


def _torch_copy(model, torch):
    layers = [m for m in model if isinstance(m, nn.Linear)]
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    with torch.no_grad():
        for t, c in zip([tmodel[0], tmodel[2]], layers):
            t.weight.copy_(torch.tensor(c.weight.data))
            t.bias.copy_(torch.tensor(c.bias.data))
    return tmodel


def test_plot_grad_flow_bars_are_the_mean_and_max_abs_grads(torch):
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    (model(cr.tensor(x)) ** 2).mean().backward()
    tmodel = _torch_copy(model, torch)
    (tmodel(torch.tensor(x)) ** 2).mean().backward()
    fig = viz.plot_grad_flow(model)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    heights = [p.get_height() for p in ax.patches]  # the max bars, then the mean bars
    expected_max = [p.grad.abs().max().item() for p in tmodel.parameters()]
    expected_mean = [p.grad.abs().mean().item() for p in tmodel.parameters()]
    np.testing.assert_allclose(heights, expected_max + expected_mean, rtol=1e-5)
    assert ax.get_yscale() == "log"


def test_plot_grad_flow_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"no parameter has a gradient yet; call loss\.backward\(\) first"):
        viz.plot_grad_flow(model)
    with pytest.raises(ValueError, match="no parameters"):
        viz.plot_grad_flow([])


def test_plot_grad_flow_marks_parameters_without_grad():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[1](cr.randn(3, 2)).sum().backward()
    texts = [t.get_text() for t in viz.plot_grad_flow(model).axes[0].texts]
    assert texts == ["no grad", "no grad"]


class FakeDisplay:
    """Stands in for IPython.display.display(obj, display_id=True) and the handle's update()."""

    def __init__(self) -> None:
        self.shown: list[object] = []
        self.updates: list[object] = []

    def __call__(self, obj: object, display_id: bool = False) -> FakeDisplay:
        assert display_id is True
        self.shown.append(obj)
        return self

    def update(self, obj: object) -> None:
        self.updates.append(obj)


def test_live_plot_in_a_notebook_updates_one_figure():
    display = FakeDisplay()
    live = viz.LivePlot(display=display, every=2)
    for epoch, loss in enumerate([1.0, 0.6, 0.4, 0.3, 0.25], start=1):
        live(epoch=epoch, loss=loss, accuracy=1 - loss)
    assert len(display.shown) == 1 and len(display.updates) == 1  # redrawn at updates 2 and 4
    live.close()  # draws the 5th point, skipped by every=2
    last = display.updates[-1]
    assert list(last.axes[0].get_lines()[0].get_ydata()) == [1.0, 0.6, 0.4, 0.3, 0.25]
    assert live.history == {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "accuracy": [0.0, 0.4, 0.6, 0.7, 0.75]}


def test_live_plot_outside_jupyter_prints_one_line_per_update(capsys):
    live = viz.LivePlot()
    live.update(loss=0.5)
    live.update(epoch=7, loss=0.25, train_acc=0.9)
    assert capsys.readouterr().out == "epoch 1: loss 0.5\nepoch 7: loss 0.25, train_acc 0.9\n"
    with pytest.raises(ValueError, match="at least one metric"):
        live.update(epoch=3)


def test_scalar_fit_with_live_plot_and_progress(capsys):
    from chainrule.scalar import datasets, optim
    from chainrule.scalar import nn as snn
    from chainrule.scalar.train import fit

    data = datasets.simple(12, seed=0)
    net = snn.MLPBinaryClassifyNetFactory(snn.MLPConfig(2, 1, 3, 1, snn.ActivationType.TANH, seed=0))
    display = FakeDisplay()
    live = viz.LivePlot(display=display)
    history = fit(net, data.xs, data.ys, optim.SGD(net.parameters(), lr=0.1), epochs=3, live_plot=live,
                  progress=True)  # fmt: skip
    assert live.history == {"loss": history.loss, "accuracy": history.accuracy}
    assert len(display.shown) == 1 and len(display.updates) == 2
    net2 = snn.MLPBinaryClassifyNetFactory(snn.MLPConfig(2, 1, 3, 1, snn.ActivationType.TANH, seed=0))
    capsys.readouterr()
    fit(net2, data.xs, data.ys, optim.SGD(net2.parameters(), lr=0.1), epochs=2, live_plot=True)
    assert capsys.readouterr().out.splitlines()[0].startswith("epoch 1: loss ")  # no Jupyter: text lines


def test_progress_bar_is_tqdm_auto_in_jupyter_and_text_elsewhere(monkeypatch):
    pytest.importorskip("tqdm")
    import tqdm.auto
    import tqdm.std

    monkeypatch.setattr(_progress, "in_notebook", lambda: False)
    bar = _progress.progress_bar(3, "x")
    assert type(bar) is tqdm.std.tqdm and bar.disable  # stderr is not a terminal under pytest
    bar.close()
    monkeypatch.setattr(_progress, "in_notebook", lambda: True)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        _progress.importlib.util, "find_spec", lambda n, *a: None if n == "ipywidgets" else real(n)
    )
    bar = _progress.progress_bar(3, "x")
    assert type(bar) is tqdm.std.tqdm and not bar.disable  # Jupyter without ipywidgets: the text bar, shown
    bar.close()
    if real("ipywidgets") is not None:
        monkeypatch.setattr(_progress.importlib.util, "find_spec", real)
        bar = _progress.progress_bar(3, "x")
        assert isinstance(bar, tqdm.auto.tqdm)
        bar.close()
