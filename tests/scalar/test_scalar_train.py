"""fit(): an MLP learns xor and circle, and the loop's bookkeeping and validation."""

import gc

import pytest

from chainrule.scalar import datasets, losses, nn, optim
from chainrule.scalar.train import accuracy, fit, gc_paused, predict


def train(dataset, seed: int = 0):
    data = dataset(60, seed=seed)
    net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 8, 1, nn.ActivationType.TANH, seed=seed))
    history = fit(
        net, data.xs, data.ys, optim.Adam(net.parameters(), lr=0.1), epochs=100, batch_size=10, shuffle=True
    )
    return net, data, history


@pytest.mark.parametrize("dataset", [datasets.xor, datasets.circle], ids=["xor", "circle"])
def test_mlp_learns(dataset):
    net, data, history = train(dataset)
    assert accuracy(net, data.xs, data.ys) >= 0.9
    assert history.accuracy[-1] >= 0.9
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert len(history.loss) == len(history.accuracy) == 100


def test_full_batch_with_logits_loss_and_callback():
    data = datasets.simple(40, seed=0)
    net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 4, 1, "relu", seed=0))
    seen = []
    history = fit(
        net.logit,
        data.xs,
        data.ys,
        optim.SGD(net.parameters(), lr=0.5),
        epochs=30,
        loss_fn=losses.binary_cross_entropy_with_logits,
        threshold=0.0,
        callback=lambda epoch, loss, acc: seen.append((epoch, loss, acc)),
    )
    assert [epoch for epoch, _, _ in seen] == list(range(1, 31))
    assert [loss for _, loss, _ in seen] == history.loss
    assert history.loss[-1] < history.loss[0]
    assert history.accuracy[-1] > history.accuracy[0]
    # sigmoid(z) >= 0.5 exactly when z >= 0: both views of the trained net agree.
    assert accuracy(net.logit, data.xs, data.ys, threshold=0.0) == accuracy(net, data.xs, data.ys)
    assert all(0.0 < p < 1.0 for p in predict(net, data.xs))


def test_gc_state_is_restored():
    data = datasets.simple(5)
    net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 2, 1, seed=0))
    assert gc.isenabled()
    during = []
    opt = optim.SGD(net.parameters(), lr=0.1)
    fit(net, data.xs, data.ys, opt, epochs=2, callback=lambda *a: during.append(gc.isenabled()))
    assert during == [False, False]
    assert gc.isenabled()
    fit(
        net,
        data.xs,
        data.ys,
        opt,
        epochs=1,
        pause_gc=False,
        callback=lambda *a: during.append(gc.isenabled()),
    )
    assert during[-1] is True
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError
    assert gc.isenabled()


def test_verbose_prints(capsys):
    data = datasets.diag(8)
    net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 2, 1, seed=0))
    fit(net, data.xs, data.ys, optim.SGD(net.parameters(), lr=0.1), epochs=2, verbose=True)
    assert capsys.readouterr().out.count("epoch") == 2


def test_validation():
    data = datasets.simple(5)
    net = nn.MLPBinaryClassifyNetFactory(nn.MLPConfig(2, 1, 2, 1, seed=0))
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="labels"):
        fit(net, data.xs, data.ys[:3], opt, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        fit(net, data.xs, data.ys, opt, epochs=-1)
    with pytest.raises(ValueError, match="batch_size"):
        fit(net, data.xs, data.ys, opt, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="labels"):
        accuracy(net, [], [])
