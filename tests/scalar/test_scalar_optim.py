"""SGD, Momentum and Adam against torch.optim on the same parameters and gradients (float64)."""

import math

import pytest

from chainrule.scalar import Scalar, optim
from chainrule.scalar.losses import binary_cross_entropy
from chainrule.scalar.nn import ActivationType, MLPBinaryClassifyNetFactory, MLPConfig

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")

POINTS = [([0.2, 0.9], 1.0), ([0.8, 0.1], 0.0), ([0.5, 0.4], 1.0), ([0.1, 0.1], 0.0)]


def make_pair():
    """A chainrule MLP and flat float64 torch leaves holding the same parameter values."""
    net = MLPBinaryClassifyNetFactory(MLPConfig(2, 1, 4, 1, ActivationType.TANH, seed=5))
    tensors = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in net.parameters()]
    return net, tensors


def torch_loss(tensors):
    """The same network and loss, written over the flat parameter tensors in registration order."""
    w1 = [[tensors[i * 4 + j] for i in range(2)] for j in range(4)]  # weight_{i}_{j}, i-major
    b1 = tensors[8:12]
    w2 = tensors[12:16]
    b2 = tensors[16]
    losses = []
    for x, y in POINTS:
        h = [torch.tanh(w1[j][0] * x[0] + w1[j][1] * x[1] + b1[j]) for j in range(4)]
        p = torch.sigmoid(sum(w2[j] * h[j] for j in range(4)) + b2)
        losses.append(torch.nn.functional.binary_cross_entropy(p, torch.tensor(y, dtype=torch.float64)))
    return sum(losses) / len(losses)


def our_loss(net):
    losses = [binary_cross_entropy(net(x), y) for x, y in POINTS]
    return sum(losses) / len(losses)


@needs_torch
@pytest.mark.parametrize(
    ("make_ours", "make_theirs"),
    [
        (lambda p: optim.SGD(p, lr=0.3), lambda t: torch.optim.SGD(t, lr=0.3)),
        (lambda p: optim.Momentum(p, lr=0.2), lambda t: torch.optim.SGD(t, lr=0.2, momentum=0.9)),
        (
            lambda p: optim.Momentum(p, lr=0.1, momentum=0.5),
            lambda t: torch.optim.SGD(t, lr=0.1, momentum=0.5),
        ),
        (lambda p: optim.Adam(p, lr=0.05), lambda t: torch.optim.Adam(t, lr=0.05)),
        (
            lambda p: optim.Adam(p, lr=0.01, betas=(0.5, 0.9), eps=1e-6),
            lambda t: torch.optim.Adam(t, lr=0.01, betas=(0.5, 0.9), eps=1e-6),
        ),
    ],
    ids=["sgd", "momentum", "momentum-0.5", "adam", "adam-custom"],
)
def test_five_steps_match_torch(make_ours, make_theirs):
    net, tensors = make_pair()
    ours, theirs = make_ours(net.parameters()), make_theirs(tensors)
    for _ in range(5):
        ours.zero_grad()
        theirs.zero_grad()
        loss = our_loss(net)
        loss.backward()
        expected = torch_loss(tensors)
        expected.backward()
        assert math.isclose(loss.data, expected.item(), rel_tol=1e-10)
        ours.step()
        theirs.step()
        for p, t in zip(net.parameters(), tensors):
            assert math.isclose(p.data, t.item(), rel_tol=1e-9, abs_tol=1e-9)
    assert net.parameters()[0].data != make_pair()[0].parameters()[0].data  # it moved


@pytest.mark.parametrize(
    "make", [lambda p: optim.SGD(p, 0.1), lambda p: optim.Momentum(p, 0.1), lambda p: optim.Adam(p)]
)
def test_parameters_without_derivative_are_skipped(make):
    used, unused = Scalar(1.0).requires_grad_(), Scalar(2.0).requires_grad_()
    opt = make([used, unused])
    (used * used).backward()
    opt.step()
    assert unused.data == 2.0 and used.data < 1.0
    opt.zero_grad()
    assert used.derivative is None


def test_validation():
    p = [Scalar(1.0).requires_grad_()]
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD(p, lr=-1.0)
    with pytest.raises(TypeError, match="float"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(TypeError, match="tuple"):
        optim.SGD([("w", p[0])], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        optim.Momentum(p, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        optim.Adam(p, eps=-1.0)
    with pytest.raises(NotImplementedError):
        optim.Optimizer(p, lr=0.1).step()
