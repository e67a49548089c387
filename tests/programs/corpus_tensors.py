"""Corpus: creating tensors, memory sharing with NumPy, dtypes of creation functions, everyday tensor ops."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, documented, outcome, program


@program
def tensor_copies_from_numpy_shares(lib: Lib) -> dict:
    a = np.array([1.0, 2.0, 3.0])
    t = lib.tensor(a)
    f = lib.from_numpy(a)
    s = lib.as_tensor(a)
    a[0] = 100.0
    n = f.numpy()
    n[1] = -5.0
    return {"tensor_copied": t, "from_numpy_shared": f, "as_tensor_shared": s, "array": a}


@program
def creation_dtypes(lib: Lib) -> dict:
    return {
        "zeros": lib.zeros(2, 3).dtype,
        "ones_tuple": lib.ones((2,)).shape,
        "arange_int": lib.arange(5),
        "arange_float": lib.arange(0, 1, 0.25),
        "linspace": lib.linspace(0, 1, 5),
        "full_int": lib.full((2,), 3),
        "full_float": lib.full((2,), 3.0),
        "full_bool": lib.full((2,), True),
        "eye": lib.eye(2, 3),
        "zeros_like": lib.zeros_like(lib.tensor([1, 2])),
        "ones_like_f64": lib.ones_like(lib.arr([1.0])),
        "tensor_bool": lib.tensor([True, False]).dtype,
        "tensor_mixed": lib.tensor([1, 2.5]).dtype,
        "randn_dtype": lib.randn(2, 2).dtype,
        "empty_shape": lib.empty(0, 3).shape,
    }


@program
def integer_tensor_arithmetic(lib: Lib) -> dict:
    i = lib.tensor([1, 2, 3])
    return {
        "div": i / 2,
        "floordiv": i // 2,
        "mul_float": i * 1.5,
        "sum": i.sum(),
        "mean": outcome(lambda: i.mean()),
        "float_mean": i.float().mean(),
        "pow": i**2,
        "neg": -i,
        "accuracy": (i == lib.tensor([1, 0, 3])).float().mean(),
        "count": (i > 1).sum().item(),
    }


@program
def inplace_activations_and_relu_inplace(lib: Lib) -> dict:
    x = lib.arr([-1.0, 0.5, 2.0], requires_grad=True)
    h = x * 2
    h.clamp_(min=0.0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 3).double(), lib.nn.ReLU(inplace=True))
    with lib.no_grad():
        model[0].weight.copy_(lib.arr(np.eye(3)))
        model[0].bias.fill_(-0.5)
    y = model(h.unsqueeze(0))
    (y.sum() + h.sum()).backward()
    return {"h": h, "y": y, "gx": x.grad, "gw": model[0].weight.grad}


@program
def sort_topk_cumsum_and_friends(lib: Lib) -> dict:
    x = lib.arr([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]], requires_grad=True)
    vals, idx = x.sort(dim=1)
    top, top_i = x.topk(2, dim=1)
    c = x.cumsum(1)
    p = x.prod(1)
    (vals[:, 0].sum() + top.sum() + c.sum() + p.sum()).backward()
    return {
        "vals": vals,
        "idx": idx,
        "top": top,
        "top_i": top_i,
        "argsort": x.argsort(dim=1, descending=True),
        "c": c,
        "p": p,
        "grad": x.grad,
    }


@program
def where_one_arg_nonzero_and_masks(lib: Lib) -> dict:
    x = lib.arr([[0.0, 1.5], [-2.0, 0.0]])
    return {
        "where1": lib.where(x != 0),
        "nonzero": x.nonzero(),
        "masked_select": x[x > -1],
        "count_nonzero": lib.count_nonzero(x),
        "any_dim": (x > 1).any(dim=1),
        "all_dim": (x < 2).all(dim=0),
    }


@program
def expand_repeat_flip_view(lib: Lib) -> dict:
    x = lib.arr([[1.0], [2.0]], requires_grad=True)
    e = x.expand(2, 3)
    r = x.repeat(2, 2)
    f = lib.flip(r, dims=[0])
    v = x.view(-1)
    (e * lib.arr(np.arange(6.0).reshape(2, 3))).sum().backward(retain_graph=True)
    g1 = x.grad.clone()
    (f.sum() + v.sum()).backward()
    return {"e": e, "r": r, "f": f, "g1": g1, "g": x.grad, "flat": x.flatten(0).shape}


@program
def type_checks_and_conversions(lib: Lib) -> dict:
    x = lib.arr([1.5, 2.5])
    return {
        "is_float": x.is_floating_point(),
        "int_is_float": lib.tensor([1]).is_floating_point(),
        "eq_dtype": x.dtype == lib.float64,
        "type": x.type(lib.float32).dtype,
        "is_tensor": lib.is_tensor(x),
        "numel": x.numel(),
        "len": len(x),
        "iter": [float(v) for v in x],
    }


@program
def grad_data_zero_old_tutorial_style(lib: Lib) -> dict:
    """The old tutorials' ``w.grad.data.zero_()``: ``.data`` is the ndarray in chainrule (promises.md), so it
    raises AttributeError there; ``w.grad.zero_()`` and ``w.data[...] = t`` are the spellings both accept."""
    w = lib.arr([1.0, 2.0], requires_grad=True)
    (w**2).sum().backward()
    raised = outcome(lambda: w.grad.data.zero_())
    old_style = documented(lib, getattr(raised, "kind", "zeroed"), torch="zeroed", chainrule="AttributeError")
    w.grad.zero_()
    w.data[...] = lib.arr([5.0, 6.0])
    (w * 3).sum().backward()
    return {"w": w, "grad": w.grad, "old_style": old_style}


@program
def inplace_operator_rules(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0, 3.0])
    alias = x
    alias += 1.0
    grid = lib.arr(np.zeros((2, 3)))
    grid += x  # broadcasts into grid
    i = lib.tensor([1, 2])
    f32 = lib.tensor([1.0, 2.0])
    f32 += lib.arr([0.5, 0.5])  # float64 into float32 stays float32

    def widen() -> None:
        y = lib.arr([1.0, 2.0, 3.0])
        y += lib.arr(np.ones((2, 3)))

    def int_plus_float() -> None:
        j = lib.tensor([1, 2])
        j += 0.5

    i *= 3
    return {
        "x": x,
        "alias_is_x": alias is x,
        "grid": grid,
        "widen": outcome(widen),
        "int_float": outcome(int_plus_float),
        "i": i,
        "f32": f32,
    }


@program
def tensor_from_lists_of_numbers_and_tensors(lib: Lib) -> dict:
    zero_d = [lib.arr(1.5), lib.arr(2.5)]
    return {
        "floats": lib.tensor([0.5, 1.5]),
        "nested": lib.tensor([[1, 2], [3, 4]]),
        "zero_d_tensors": lib.tensor([float(t) for t in zero_d]),
        "stacked": lib.stack(zero_d),
        "ragged": outcome(lambda: lib.tensor([[1.0, 2.0], [3.0]])),
        "string": outcome(lambda: lib.tensor(["a"])),
        "empty": lib.tensor([]).shape,
        "np_float32": lib.tensor(np.array([1.0], dtype=np.float32)).dtype,
        "np_int32": lib.tensor(np.array([1], dtype=np.int32)).dtype,
        "dtype_kw": lib.tensor([1, 2], dtype=lib.float64),
    }
