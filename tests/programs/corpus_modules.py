"""Corpus: ``nn.Module`` subclass patterns users write."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, outcome, program
from corpus_training import seeded


def _net_class(lib: Lib):  # noqa: ANN202
    class Net(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = lib.nn.Linear(3, 4)
            self.act = lib.nn.ReLU()
            self.blocks = lib.nn.ModuleList([lib.nn.Linear(4, 4), lib.nn.Linear(4, 4)])
            self.head = lib.nn.Sequential(lib.nn.Linear(4, 2))
            self.register_buffer("scale", lib.arr([2.0]))
            self.register_buffer("tmp", lib.arr([0.0]), persistent=False)
            self.alpha = lib.nn.Parameter(lib.arr([0.5]))

        def forward(self, x):  # noqa: ANN001, ANN202
            h = self.act(self.fc1(x))
            for block in self.blocks:
                h = h + self.act(block(h))
            return self.head(h) * self.scale * self.alpha

    return Net


@program
def module_subclass_state_dict_keys(lib: Lib) -> dict:
    net = _net_class(lib)()
    return {
        "keys": list(net.state_dict().keys()),
        "params": [n for n, _ in net.named_parameters()],
        "buffers": [n for n, _ in net.named_buffers()],
        "shapes": [tuple(v.shape) for v in net.state_dict().values()],
        "n_params": sum(p.numel() for p in net.parameters()),
    }


@program
def module_named_modules_and_children(lib: Lib) -> dict:
    net = _net_class(lib)()
    return {
        "named_modules": [(n, type(m).__name__) for n, m in net.named_modules()],
        "children": [type(m).__name__ for m in net.children()],
        "named_children": [n for n, _ in net.named_children()],
        "get_submodule": type(net.get_submodule("blocks.1")).__name__,
    }


@program
def module_apply_init_fn(lib: Lib) -> dict:
    net = _net_class(lib)().double()

    def init(m) -> None:  # noqa: ANN001
        if isinstance(m, lib.nn.Linear):
            lib.nn.init.constant_(m.weight, 0.1)
            lib.nn.init.zeros_(m.bias)

    visited = []
    net.apply(init)
    net.apply(lambda m: visited.append(type(m).__name__))
    x = lib.arr(np.ones((2, 3)))
    return {"out": net(x), "visited": visited, "fc1": net.fc1.weight}


@program
def module_train_eval_dropout(lib: Lib) -> dict:
    model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Dropout(0.5))
    model = seeded(lib, model)
    x = lib.arr(np.ones((4, 3)))
    model.eval()
    a = model(x)
    flags = [m.training for m in model.modules()]
    model.train()
    flags2 = [m.training for m in model.modules()]
    return {"eval_out": a, "flags": flags, "flags2": flags2, "returns_self": model.eval() is model}


@program
def module_batchnorm_train_eval(lib: Lib) -> dict:
    bn = lib.nn.BatchNorm1d(3).double()
    rng = np.random.default_rng(3)
    x = lib.arr(rng.standard_normal((6, 3)) * 2 + 1, requires_grad=True)
    y = bn(x)
    (y * lib.arr(np.arange(18.0).reshape(6, 3))).sum().backward()
    bn(lib.arr(rng.standard_normal((6, 3))))
    bn.eval()
    z = bn(lib.arr(rng.standard_normal((2, 3))))
    return {
        "y": y,
        "grad": x.grad,
        "z": z,
        "running_mean": bn.running_mean,
        "running_var": bn.running_var,
        "batches": bn.num_batches_tracked,
        "keys": list(bn.state_dict().keys()),
    }


@program
def module_state_dict_round_trip(lib: Lib) -> dict:
    src = seeded(lib, _net_class(lib)(), seed=4)
    dst = _net_class(lib)().double()
    result = dst.load_state_dict(src.state_dict())
    x = lib.arr(np.linspace(-1, 1, 6).reshape(2, 3))
    missing = outcome(lambda: dst.load_state_dict({"fc1.weight": src.fc1.weight.detach()}))
    loose = dst.load_state_dict({"fc1.weight": src.fc1.weight.detach()}, strict=False)
    return {
        "same": src(x),
        "dst": dst(x),
        "missing": list(result.missing_keys),
        "strict_raises": missing,
        "loose_missing": len(loose.missing_keys),
    }


@program
def module_requires_grad_false_freezing(lib: Lib) -> dict:
    net = seeded(lib, _net_class(lib)())
    net.fc1.requires_grad_(False)
    net.alpha.requires_grad = False
    x = lib.arr(np.ones((2, 3)))
    net(x).sum().backward()
    return {
        "grads": [(n, p.grad is None) for n, p in net.named_parameters()],
        "trainable": sum(p.numel() for p in net.parameters() if p.requires_grad),
    }


@program
def module_parameter_registration_rules(lib: Lib) -> dict:
    class M(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = lib.nn.Parameter(lib.arr([1.0]))
            self.plain = lib.arr([2.0])
            self.layers = [lib.nn.Linear(1, 1)]  # a plain list: not registered

    m = M()
    p = lib.nn.Parameter(lib.arr([1.0, 2.0]))
    return {
        "params": [n for n, _ in m.named_parameters()],
        "param_rg": p.requires_grad,
        "param_leaf": p.is_leaf,
        "no_grad_param": lib.nn.Parameter(lib.arr([1.0]), requires_grad=False).requires_grad,
        "isinstance": isinstance(p, lib.Tensor),
        "repr_head": repr(p).split("(")[0],
    }


@program
def module_forward_hooks(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh()))
    captured = []
    h = model[0].register_forward_hook(lambda mod, inp, out: captured.append(out.detach().clone()))
    x = lib.arr([[1.0, -1.0]])
    model(x)
    h.remove()
    model(x)
    return {"captured": captured, "n": len(captured)}


@program
def module_containers(lib: Lib) -> dict:
    d = lib.nn.ModuleDict({"a": lib.nn.Linear(2, 2), "b": lib.nn.ReLU()})
    seq = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
    pl = lib.nn.ParameterList([lib.nn.Parameter(lib.arr([1.0])), lib.nn.Parameter(lib.arr([2.0]))])
    return {
        "keys": list(d.keys()),
        "len_seq": len(seq),
        "slice": [type(m).__name__ for m in seq[1:]],
        "neg": type(seq[-1]).__name__,
        "pl": [n for n, _ in lib.nn.Module.named_parameters(pl)],
        "seq_keys": list(seq.state_dict().keys()),
    }


@program
def module_zero_grad_and_to_double(lib: Lib) -> dict:
    model = lib.nn.Linear(2, 1)
    dtypes = [p.dtype for p in model.parameters()]
    model = model.double()
    dtypes2 = [p.dtype for p in model.parameters()]
    model = model.float()
    return {"before": dtypes, "double": dtypes2, "float": [p.dtype for p in model.parameters()]}


@program
def module_repr_of_common_layers(lib: Lib) -> dict:
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(16, 10, bias=False),
        nn.LogSoftmax(dim=1),
    )
    return {"repr": repr(model).splitlines(), "linear": repr(nn.Linear(3, 2)), "relu": repr(nn.ReLU())}


@program
def module_sequential_from_ordered_dict(lib: Lib) -> dict:
    from collections import OrderedDict  # noqa: PLC0415

    model = lib.nn.Sequential(
        OrderedDict([("fc", lib.nn.Linear(2, 3)), ("act", lib.nn.Tanh()), ("out", lib.nn.Linear(3, 1))])
    )
    return {
        "keys": list(model.state_dict()),
        "by_name": type(model.act).__name__,
        "index": type(model[2]).__name__,
    }


@program
def module_tied_weights_listed_once(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Tanh(), lib.nn.Linear(3, 3)))
    model[2].weight = model[0].weight
    x = lib.arr(np.eye(3))
    model(x).sum().backward()
    return {
        "n_params": len(list(model.parameters())),
        "names": [n for n, _ in model.named_parameters()],
        "state_keys": list(model.state_dict()),
        "grad": model[0].weight.grad,
    }


@program
def module_state_dict_aliases_parameters(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Linear(2, 2))
    sd = model.state_dict()
    with lib.no_grad():
        model.weight.add_(1.0)
    return {
        "sees_update": bool((sd["weight"] == model.weight).all()),
        "requires_grad": sd["weight"].requires_grad,
        "is_leaf": sd["weight"].is_leaf,
    }


@program
def module_init_functions_deterministic(lib: Lib) -> dict:
    lin = lib.nn.Linear(3, 3).double()
    lib.nn.init.ones_(lin.bias)
    lib.nn.init.eye_(lin.weight)
    conv = lib.nn.Conv2d(1, 2, 2).double()
    lib.nn.init.constant_(conv.weight, 0.5)
    lib.nn.init.zeros_(conv.bias)
    return {
        "w": lin.weight,
        "b": lin.bias,
        "conv": conv(lib.arr(np.ones((1, 1, 3, 3)))),
        "rg": lin.weight.requires_grad,
    }


@program
def module_to_dtype_and_train_flag(lib: Lib) -> dict:
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Dropout(0.1))
    model.to(lib.float64)
    d1 = model[0].weight.dtype
    model.to(dtype=lib.float32)
    model.train(False)
    return {"d1": d1, "d2": model[0].weight.dtype, "training": [m.training for m in model.modules()]}


@program
def module_load_state_dict_errors(lib: Lib) -> dict:
    model = lib.nn.Linear(2, 2).double()
    good = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bad_shape = {**good, "weight": lib.arr(np.zeros((3, 2)))}
    extra = {**good, "other": lib.arr([1.0])}
    return {
        "shape": outcome(lambda: model.load_state_dict(bad_shape)),
        "extra": outcome(lambda: model.load_state_dict(extra)),
        "extra_loose": list(model.load_state_dict(extra, strict=False).unexpected_keys),
        "ok": list(model.load_state_dict(good).missing_keys),
    }


@program
def module_shared_submodule_and_list_ops(lib: Lib) -> dict:
    shared = lib.nn.Linear(2, 2)
    blocks = lib.nn.ModuleList([shared, lib.nn.ReLU()])
    blocks.append(shared)
    blocks.extend([lib.nn.Tanh()])
    blocks.insert(0, lib.nn.Identity())
    d = lib.nn.ModuleDict()
    d["a"] = lib.nn.Linear(1, 1)
    d.update({"b": lib.nn.ReLU()})
    pd = lib.nn.ParameterDict({"p": lib.nn.Parameter(lib.arr([1.0]))})
    return {
        "n_modules": len(list(blocks.modules())),
        "types": [type(m).__name__ for m in blocks],
        "n_params": len(list(blocks.parameters())),
        "names": [n for n, _ in blocks.named_parameters()],
        "dict_items": [(k, type(v).__name__) for k, v in d.items()],
        "pd": [n for n, _ in pd.named_parameters()],
        "len": len(blocks),
    }


@program
def module_registration_api(lib: Lib) -> dict:
    m = lib.nn.Module()
    m.add_module("fc", lib.nn.Linear(1, 1))
    m.register_parameter("p", lib.nn.Parameter(lib.arr([2.0])))
    m.register_parameter("none", None)
    m.register_buffer("b", None)
    before = [n for n, _ in m.named_parameters()]
    del m.fc
    return {
        "before": before,
        "after": [n for n, _ in m.named_parameters()],
        "keys": list(m.state_dict()),
        "missing_attr": outcome(lambda: m.nothing),
        "not_recursive": [n for n, _ in m.named_parameters(recurse=False)],
        "prefixed": [n for n, _ in m.named_parameters(prefix="model")],
        "bad_param": outcome(lambda: m.register_parameter("q", lib.arr([1.0]))),
    }


@program
def module_forward_pre_hook_and_chaining(lib: Lib) -> dict:
    model = seeded(lib, lib.nn.Linear(2, 1))
    h = model.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    x = lib.arr([[1.0, 1.0]])
    doubled = model(x)
    h.remove()
    plain = model(x)
    same = model.requires_grad_(False) is model and model.train() is model and model.double() is model
    return {"doubled": doubled, "plain": plain, "chain_returns_self": same}


@program
def module_attribute_assignment_rules(lib: Lib) -> dict:
    def assign(obj, name, value):  # noqa: ANN001, ANN202
        setattr(obj, name, value)
        return [n for n, _ in obj.named_parameters()] + [n for n, _ in obj.named_buffers()]

    lin = lib.nn.Linear(2, 2)
    bn = lib.nn.BatchNorm1d(2)
    return {
        "tensor_over_param": outcome(lambda: assign(lin, "weight", lib.arr(np.zeros((2, 2))))),
        "none_over_param": outcome(lambda: assign(lib.nn.Linear(2, 2), "bias", None)),
        "param_over_param": outcome(
            lambda: assign(lin, "weight", lib.nn.Parameter(lib.arr(np.ones((2, 2)))))
        ),
        "tensor_over_buffer": outcome(lambda: assign(bn, "running_mean", lib.arr([1.0, 2.0]))),
        "module_over_param": outcome(lambda: assign(lin, "bias", lib.nn.ReLU())),
        "plain_attr": outcome(lambda: assign(lin, "note", 3)),
        "bias_none_forward": lib.nn.Linear(2, 1, bias=False).bias is None,
    }
