"""Module registration and traversal, Linear, MLPConfig validation, and an MLP against PyTorch."""

import math
import random

import pytest

from chainrule.scalar import Scalar
from chainrule.scalar.nn import (
    ActivationType,
    Linear,
    MLPBinaryClassifyNet,
    MLPBinaryClassifyNetFactory,
    MLPConfig,
    Module,
)


class Pair(Module):
    def __init__(self):
        super().__init__()
        self.second = Scalar(2.0)
        self.first = Scalar(1.0)
        self.inner = Linear(1, 1, seed=0)
        self.note = "not registered"
        self.values = [Scalar(5.0)]  # lists are not searched

    def forward(self, x):
        return self.inner([self.first * x + self.second])[0]


def test_registration_order_and_names():
    m = Pair()
    assert [name for name, _ in m.named_parameters()] == [
        "second",
        "first",
        "inner.weight_0_0",
        "inner.bias_0",
    ]
    assert m.parameters() == [p for _, p in m.named_parameters()]
    assert all(p.requires_grad for p in m.parameters())
    assert m.children() == [m.inner] and m.named_children() == [("inner", m.inner)]
    assert m.modules() == [m, m.inner]
    assert [name for name, _ in m.named_modules()] == ["", "inner"]


def test_reassigning_and_deleting_attributes():
    m = Pair()
    m.first = "plain"
    assert "first" not in [name for name, _ in m.named_parameters()]
    third = Scalar(3.0)
    m.first = third
    assert m.named_parameters()[1] == ("first", third)
    del m.inner
    assert m.children() == []
    assert not hasattr(m, "inner")


def test_shared_parameters_and_modules_listed_once():
    class Twice(Module):
        def __init__(self):
            super().__init__()
            self.a = Linear(1, 1, seed=0)
            self.b = self.a
            self.w = Scalar(1.0)
            self.w_again = self.w

    m = Twice()
    assert [name for name, _ in m.named_parameters()] == ["w", "a.weight_0_0", "a.bias_0"]
    assert len(m.modules()) == 2


def test_train_eval_reach_descendants_and_zero_grad():
    net = MLPBinaryClassifyNetFactory(MLPConfig(2, 1, 3, 2, ActivationType.TANH, seed=0))
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    assert len(net.modules()) == 4
    net.train()
    assert all(m.training for m in net.modules())
    net([0.5, -0.5]).backward()
    assert all(p.derivative is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.derivative is None for p in net.parameters())


def test_module_errors():
    class Early(Module):
        def __init__(self):
            self.w = Scalar(1.0)

    with pytest.raises(RuntimeError, match="super"):
        Early()
    m = Module()
    with pytest.raises(NotImplementedError):
        m(1.0)
    with pytest.raises(TypeError, match="float"):
        m.add_parameter("w", 1.0)
    with pytest.raises(ValueError, match="attribute name"):
        m.add_parameter("a.b", Scalar(1.0))
    with pytest.raises(TypeError, match="int"):
        m.add_module("child", 3)


def test_linear_adds_each_bias_once():
    layer = Linear(3, 2, seed=1)
    xs = [0.5, -1.0, 2.0]
    outs = layer(xs)
    params = dict(layer.named_parameters())
    for j, out in enumerate(outs):
        expected = sum(xs[i] * params[f"weight_{i}_{j}"].data for i in range(3)) + params[f"bias_{j}"].data
        assert math.isclose(out.data, expected, rel_tol=1e-14)
    names = [name for name, _ in layer.named_parameters()]
    assert names == [f"weight_{i}_{j}" for i in range(3) for j in range(2)] + ["bias_0", "bias_1"]
    assert all(p.name == name for name, p in layer.named_parameters())


def test_linear_initialisation_is_seedable():
    def values(layer):
        return [p.data for p in layer.parameters()]

    assert values(Linear(2, 3, seed=7)) == values(Linear(2, 3, seed=7))
    assert values(Linear(2, 3, seed=7)) != values(Linear(2, 3, seed=8))
    assert values(Linear(2, 3, rng=random.Random(7))) == values(Linear(2, 3, seed=7))
    assert all(-1.0 <= v <= 1.0 for v in values(Linear(4, 4, seed=0)))
    with pytest.raises(ValueError, match="either"):
        Linear(1, 1, seed=1, rng=random.Random(1))


def test_linear_validates_sizes_and_inputs():
    with pytest.raises(ValueError, match="in_size"):
        Linear(0, 2)
    with pytest.raises(ValueError, match="out_size"):
        Linear(2, -1)
    with pytest.raises(TypeError, match="in_size"):
        Linear(2.0, 1)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        Linear(2, 1, seed=0)([1.0, 2.0, 3.0])


@pytest.mark.parametrize("field", ["in_size", "out_size", "hidden_layer_size", "hidden_layer_num"])
@pytest.mark.parametrize("bad", [0, -3])
def test_config_rejects_non_positive_sizes(field, bad):
    sizes = {"in_size": 2, "out_size": 1, "hidden_layer_size": 3, "hidden_layer_num": 1}
    sizes[field] = bad
    with pytest.raises(ValueError, match=field):
        MLPConfig(**sizes)


def test_config_activation_and_seed():
    assert MLPConfig(2, 1, 3, 1, "tanh").hidden_activation is ActivationType.TANH
    with pytest.raises(ValueError, match="hidden_activation"):
        MLPConfig(2, 1, 3, 1, "gelu")
    with pytest.raises(TypeError, match="seed"):
        MLPConfig(2, 1, 3, 1, seed=1.5)
    with pytest.raises(ValueError, match="out_size"):
        MLPBinaryClassifyNetFactory(MLPConfig(2, 2, 3, 1))


def test_layer_names_for_deeper_nets():
    net = MLPBinaryClassifyNetFactory(MLPConfig(2, 1, 4, 3, ActivationType.RELU, seed=0))
    assert isinstance(net, MLPBinaryClassifyNet)
    assert [name for name, _ in net.named_children()] == [
        "layer_input_hidden_0",
        "layer_hidden_0_1",
        "layer_hidden_1_2",
        "layer_hidden_output",
    ]
    assert len(net.parameters()) == (2 * 4 + 4) + 2 * (4 * 4 + 4) + (4 + 1)
    assert "layer_hidden_0_1" in repr(net)


def test_same_seed_same_net():
    config = MLPConfig(2, 1, 5, 2, ActivationType.SIGMOID, seed=3)
    a, b = MLPBinaryClassifyNetFactory(config), MLPBinaryClassifyNetFactory(config)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert a([0.1, 0.2]).data == b([0.1, 0.2]).data


try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def torch_copy(net: MLPBinaryClassifyNet) -> list:
    """(weight (out, in), bias) float64 leaf tensors holding the same values as each Linear."""
    layers = []
    for _, layer in net.named_children():
        params = dict(layer.named_parameters())
        w = [[params[f"weight_{i}_{j}"].data for i in range(layer.in_size)] for j in range(layer.out_size)]
        b = [params[f"bias_{j}"].data for j in range(layer.out_size)]
        layers.append(
            (
                torch.tensor(w, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True),
            )
        )
    return layers


def torch_forward(layers, activation, x: list[float]):
    h = torch.tensor(x, dtype=torch.float64)
    for w, b in layers[:-1]:
        h = activation(w @ h + b)
    w, b = layers[-1]
    return torch.sigmoid(w @ h + b)[0]


@needs_torch
@pytest.mark.parametrize("activation", list(ActivationType))
@pytest.mark.parametrize("hidden_layer_num", [1, 3])
def test_mlp_output_and_all_gradients_match_torch(activation, hidden_layer_num):
    net = MLPBinaryClassifyNetFactory(MLPConfig(3, 1, 5, hidden_layer_num, activation, seed=11))
    layers = torch_copy(net)
    points = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]]
    for x in points:
        out = net(x)
        out.backward()
        torch_activation = getattr(torch, activation.value)  # torch.relu, torch.sigmoid, torch.tanh
        expected = torch_forward(layers, torch_activation, x)
        expected.backward()
        assert math.isclose(out.data, expected.item(), rel_tol=1e-10, abs_tol=1e-12)
    for (_, layer), (w, b) in zip(net.named_children(), layers):
        params = dict(layer.named_parameters())
        for i in range(layer.in_size):
            for j in range(layer.out_size):
                got = params[f"weight_{i}_{j}"].derivative
                assert math.isclose(got, w.grad[j, i].item(), rel_tol=1e-10, abs_tol=1e-12)
        for j in range(layer.out_size):
            assert math.isclose(
                params[f"bias_{j}"].derivative, b.grad[j].item(), rel_tol=1e-10, abs_tol=1e-12
            )


@needs_torch
def test_mlp_accepts_scalar_inputs_that_require_grad():
    net = MLPBinaryClassifyNetFactory(MLPConfig(2, 1, 3, 1, ActivationType.TANH, seed=0))
    x = [Scalar(0.2).requires_grad_(), Scalar(-0.4).requires_grad_()]
    net(x).backward()
    layers = torch_copy(net)
    xt = torch.tensor([0.2, -0.4], dtype=torch.float64, requires_grad=True)
    h = torch.tanh(layers[0][0] @ xt + layers[0][1])
    torch.sigmoid(layers[1][0] @ h + layers[1][1])[0].backward()
    for k in range(2):
        assert math.isclose(x[k].derivative, xt.grad[k].item(), rel_tol=1e-10)
