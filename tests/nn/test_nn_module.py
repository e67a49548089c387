"""Module, Parameter and the containers: registration order, traversal, state dicts (loading torch's, error
messages), train/eval, zero_grad, apply, to(dtype), repr (same as torch), hooks, copying."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Net(nn.Module):
    def __init__(self, lib) -> None:  # noqa: ANN001
        super().__init__()
        self.features = lib.nn.Sequential(
            lib.nn.Conv2d(1, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(), lib.nn.MaxPool2d(2)
        )
        self.heads = lib.nn.ModuleList([lib.nn.Linear(4 * 4 * 4, 8), lib.nn.Linear(8, 3)])
        self.extra = lib.nn.ModuleDict({"drop": lib.nn.Dropout(0.2), "norm": lib.nn.LayerNorm(8)})
        self.scale = lib.nn.Parameter(lib.ones(1))
        self.register_buffer("steps", lib.zeros(1))
        self.register_buffer("cache", lib.zeros(2), persistent=False)

    def forward(self, x):  # noqa: ANN001, ANN201
        h = self.features(x).flatten(1)
        h = self.extra["norm"](self.extra["drop"](self.heads[0](h)))
        return self.heads[1](h) * self.scale


def make_torch_net(torch):  # noqa: ANN001, ANN201
    class TNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Conv2d(1, 4, 3, padding=1),
                torch.nn.BatchNorm2d(4),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
            )
            self.heads = torch.nn.ModuleList([torch.nn.Linear(4 * 4 * 4, 8), torch.nn.Linear(8, 3)])
            self.extra = torch.nn.ModuleDict({"drop": torch.nn.Dropout(0.2), "norm": torch.nn.LayerNorm(8)})
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.register_buffer("steps", torch.zeros(1))
            self.register_buffer("cache", torch.zeros(2), persistent=False)

        def forward(self, x):  # noqa: ANN001, ANN202
            h = self.features(x).flatten(1)
            h = self.extra["norm"](self.extra["drop"](self.heads[0](h)))
            return self.heads[1](h) * self.scale

    return TNet()


def test_names_order_and_state_dict_match_torch(torch) -> None:
    net, tnet = Net(cr), make_torch_net(torch)
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
    sd, tsd = net.state_dict(), tnet.state_dict()
    assert list(sd) == list(tsd)
    assert {k: tuple(v.shape) for k, v in sd.items()} == {k: tuple(v.shape) for k, v in tsd.items()}
    assert "cache" not in sd
    assert repr(net).replace("Net(", "X(") == repr(tnet).replace("TNet(", "X(")


def test_torch_state_dict_loads_and_outputs_match(torch) -> None:
    net, tnet = Net(cr), make_torch_net(torch)
    result = net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    net.load_state_dict(tnet.state_dict())  # torch tensors directly, too
    net.eval()
    tnet.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(
        net(cr.tensor(x)).data, tnet(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5
    )


def test_state_dict_shares_memory_and_keep_vars() -> None:
    lin = nn.Linear(2, 3)
    sd = lin.state_dict()
    sd["weight"].data[0, 0] = 42.0
    assert float(lin.weight.data[0, 0]) == 42.0
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert not isinstance(sd["weight"], nn.Parameter)


def test_load_state_dict_reports_every_problem_by_name() -> None:
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    good = net.state_dict()
    bad = {k: v for k, v in good.items() if k != "1.running_var"}
    bad["0.weight"] = np.zeros((4, 2), dtype=np.float32)
    bad["2.weight"] = np.zeros(3)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert "Sequential" in msg and '"1.running_var"' in msg and '"2.weight"' in msg
    assert "size mismatch for 0.weight" in msg and "(4, 2)" in msg and "(3, 2)" in msg


def test_load_state_dict_non_strict_returns_keys_but_still_checks_shapes() -> None:
    net = nn.Linear(2, 3)
    result = net.load_state_dict({"weight": np.ones((3, 2)), "junk": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["junk"]
    assert isinstance(result, tuple) and result._fields == ("missing_keys", "unexpected_keys")
    assert net.weight.dtype == np.float32 and np.all(net.weight.data == 1)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        net.load_state_dict({"weight": np.ones((2, 2))}, strict=False)


def test_load_state_dict_accepts_tensors_and_keeps_dtype_and_identity() -> None:
    bn = nn.BatchNorm1d(2)
    weight = bn.weight
    bn.load_state_dict(
        {
            "weight": cr.tensor([2.0, 3.0], dtype="float64"),
            "bias": [0.5, 0.5],
            "running_mean": np.array([1.0, 2.0]),
            "running_var": np.array([4.0, 4.0]),
            "num_batches_tracked": np.array(7),
        }
    )
    assert bn.weight is weight and bn.weight.dtype == np.float32
    assert int(bn.num_batches_tracked.data) == 7 and bn.num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(bn.running_mean.data, [1.0, 2.0])


def test_registration_rules() -> None:
    m = nn.Module()
    m.w = nn.Parameter(cr.ones(2))
    with pytest.raises(TypeError, match="Parameter or None"):
        m.w = cr.ones(2)
    m.w = None
    assert "w" in m._parameters and m.w is None
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("forward", cr.ones(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)
    with pytest.raises(TypeError, match="buffer"):
        m.register_buffer("b", 3)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        _ = m.nope
    m.sub = nn.Linear(1, 1)
    del m.sub
    assert "sub" not in m._modules

    class NoInit(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(cr.ones(1))

    with pytest.raises(AttributeError, match=r"before Module\.__init__"):
        NoInit()


def test_parameter_dtype_and_shared_parameters() -> None:
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    p = nn.Parameter(cr.ones(2))
    assert p.requires_grad and p.is_leaf and isinstance(p, cr.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert len(seq.state_dict()) == 4  # torch keeps both names in the state dict


def test_train_eval_dropout_and_batchnorm(torch) -> None:
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4))
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5), torch.nn.BatchNorm1d(4))
    net.load_state_dict(tnet.state_dict())
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    tnet.eval()
    np.testing.assert_allclose(
        net(cr.tensor(x)).data, tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    net.train()
    net[1].p = 0.0  # running-stat updates in training mode, compared without the random mask
    tnet.train()
    tnet[1].p = 0.0
    for _ in range(3):
        net(cr.tensor(x))
        tnet(torch.tensor(x))
    for name, buf in tnet.named_buffers():
        np.testing.assert_allclose(net.get_buffer(name).data, buf.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_zero_grad_apply_and_requires_grad() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    net(cr.ones(3, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Linear", "Sequential"]
    net.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert not any(m.weight.data.any() for m in net if isinstance(m, nn.Linear))
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_casts_floats_only() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    net(cr.ones(3, 2)).sum().backward()
    weight = net[0].weight
    assert net.to(cr.float64) is net
    assert net[0].weight is weight and weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert net[1].running_mean.dtype == np.float64 and net[1].num_batches_tracked.dtype == np.int64
    assert net.float()[0].weight.dtype == np.float32
    assert net.double()(cr.ones(3, 2).double()).dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(cr.int64)


def test_sequential_container() -> None:
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is b
    assert seq(cr.ones(4, 2)).shape == (4, 1)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    del seq[1]
    assert [k for k, _ in seq.named_children()] == ["0", "1", "2"] and seq[1] is c
    seq.insert(1, b)
    assert seq[1] is b and len(seq) == 4
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    with pytest.raises(IndexError):
        seq[10]


def test_module_list_and_dict() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert [k for k, _ in layers.named_children()] == ["0", "1", "2"]
    layers.extend([nn.ReLU()])
    assert isinstance(layers[-1], nn.ReLU)
    d = nn.ModuleDict({"a": nn.Linear(1, 1)})
    d["b"] = nn.ReLU()
    assert list(d.keys()) == ["a", "b"] and "a" in d and len(d) == 2
    assert d.pop("b").__class__ is nn.ReLU and list(d) == ["a"]
    d.update([("c", nn.Tanh())])
    assert [k for k, _ in d.items()] == ["a", "c"]
    plist = nn.ParameterList([cr.ones(2), nn.Parameter(cr.zeros(3))])
    assert [n for n, _ in plist.named_parameters()] == ["0", "1"]
    pdict = nn.ParameterDict({"x": cr.ones(1)})
    assert isinstance(pdict["x"], nn.Parameter)


def test_repr_matches_torch_for_many_layers(torch) -> None:
    def build(lib):  # noqa: ANN001, ANN202
        return lib.nn.Sequential(
            lib.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
            lib.nn.BatchNorm2d(8),
            lib.nn.LeakyReLU(0.2),
            lib.nn.AvgPool2d(2),
            lib.nn.Dropout(0.1),
            lib.nn.Flatten(),
            lib.nn.Linear(8, 4),
            lib.nn.ModuleList([lib.nn.GRU(4, 4, batch_first=True), lib.nn.Embedding(10, 4, padding_idx=0)]),
            lib.nn.ModuleDict({"attn": lib.nn.MultiheadAttention(4, 2), "ln": lib.nn.LayerNorm(4)}),
            lib.nn.CrossEntropyLoss(),
            lib.nn.ConvTranspose2d(4, 2, 2, stride=2),
            lib.nn.AdaptiveAvgPool2d((1, 1)),
            lib.nn.GELU(),
            lib.nn.Softmax(dim=1),
            lib.nn.Identity(),
        )

    assert repr(build(cr)) == repr(build(torch))


def test_forward_hooks() -> None:
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    post = lin.register_forward_hook(lambda m, args, out: out * 0)
    assert not lin(cr.ones(1, 2)).data.any() and calls == ["pre"]
    pre.remove()
    post.remove()
    assert lin(cr.ones(1, 2)).data.any() and calls == ["pre"]


def test_deepcopy_and_pickle() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    clone = copy.deepcopy(net)
    assert clone[0].weight is not net[0].weight and isinstance(clone[0].weight, nn.Parameter)
    np.testing.assert_array_equal(clone[0].weight.data, net[0].weight.data)
    clone[0].weight.data[...] = 0
    assert net[0].weight.data.any()
    restored = pickle.loads(pickle.dumps(net))
    assert list(restored.state_dict()) == list(net.state_dict()) and restored[0].weight.requires_grad


def test_get_submodule_parameter_buffer() -> None:
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.BatchNorm1d(2))
    assert net.get_submodule("0.0") is net[0][0]
    assert net.get_parameter("0.0.bias") is net[0][0].bias
    assert net.get_buffer("1.running_var") is net[1].running_var
    with pytest.raises(AttributeError, match="no attribute `9`"):
        net.get_submodule("9")


def test_custom_forward_required() -> None:
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(cr.ones(1))
