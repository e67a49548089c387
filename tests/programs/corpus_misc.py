"""Corpus: layers and ops of everyday models, and chainrule's documented differences from torch."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, documented, outcome, program
from corpus_training import seeded


@program
def matmul_transpose_and_broadcast_grads(lib: Lib) -> dict:
    rng = np.random.default_rng(11)
    x = lib.arr(rng.standard_normal((4, 3)), requires_grad=True)
    w = lib.arr(rng.standard_normal((2, 3)), requires_grad=True)
    b = lib.arr(rng.standard_normal(2), requires_grad=True)
    y = x @ w.T + b
    z = (y.t() @ y).sum() + (x.T.sum(dim=0, keepdim=True) * 2).mean()
    z.backward()
    return {"y": y, "z": z, "gx": x.grad, "gw": w.grad, "gb": b.grad}


@program
def cat_stack_split_grads(lib: Lib) -> dict:
    a = lib.arr([[1.0, 2.0]], requires_grad=True)
    b = lib.arr([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    c = lib.cat([a, b], dim=0)
    s = lib.stack([c, c * 2], dim=1)
    parts = c.split([1, 2], dim=0)
    (s.sum() + (parts[1] ** 2).sum() + c.chunk(2, dim=1)[0].sum()).backward()
    return {"c": c, "s_shape": s.shape, "ga": a.grad, "gb": b.grad}


@program
def embedding_repeated_indices(lib: Lib) -> dict:
    emb = seeded(lib, lib.nn.Embedding(5, 3))
    idx = lib.tensor([[0, 2, 0], [4, 4, 4]])
    out = emb(idx)
    (out * lib.arr(np.arange(18.0).reshape(2, 3, 3))).sum().backward()
    return {"out": out, "grad": emb.weight.grad}


@program
def conv2d_pool_flatten_forward_backward(lib: Lib) -> dict:
    model = lib.nn.Sequential(
        lib.nn.Conv2d(2, 3, kernel_size=3, padding=1),
        lib.nn.ReLU(),
        lib.nn.MaxPool2d(2),
        lib.nn.Flatten(),
        lib.nn.Linear(3 * 2 * 2, 2),
    )
    model = seeded(lib, model)
    x = lib.arr(np.random.default_rng(12).standard_normal((2, 2, 4, 4)), requires_grad=True)
    y = model(x)
    lib.F.cross_entropy(y, lib.tensor([1, 0])).backward()
    return {"y": y, "gx": x.grad, "gconv": model[0].weight.grad, "gfc": model[4].bias.grad}


@program
def softmax_module_and_dropout_eval(lib: Lib) -> dict:
    x = lib.arr(np.arange(6.0).reshape(2, 3) / 3)
    return {
        "softmax": lib.nn.Softmax(dim=1)(x),
        "log_softmax": lib.nn.LogSoftmax(dim=0)(x),
        "dropout_eval": lib.F.dropout(x, p=0.5, training=False),
        "dropout_p0": lib.nn.Dropout(0.0)(x),
        "bad_p": outcome(lambda: lib.nn.Dropout(1.5)),
    }


@program
def requires_grad_flags_and_errors(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0])
    x.requires_grad_()
    y = x * 2
    return {
        "x": x.requires_grad,
        "y_leaf": y.is_leaf,
        "int_refused": outcome(lambda: lib.tensor([1, 2]).requires_grad_()),
        "non_leaf_off": outcome(lambda: y.requires_grad_(False)),
        "grad_of_int": outcome(lambda: lib.tensor([1, 2], requires_grad=True)),
    }


@program
def numpy_of_a_leaf_that_requires_grad(lib: Lib) -> dict:
    """promises.md: chainrule's ``numpy()`` works on a leaf that requires grad; torch raises."""
    x = lib.arr([1.0, 2.0], requires_grad=True)
    got = outcome(lambda: x.numpy())
    y = x * 2
    return {
        "leaf": documented(
            lib, got if not hasattr(got, "shape") else "array", torch="RuntimeError", chainrule="array"
        ),
        "in_graph": outcome(lambda: y.numpy()),
        "detached": y.detach().numpy(),
    }


@program
def dataloader_collates_python_floats(lib: Lib) -> dict:
    """promises.md: the default collate makes Python floats float32 in chainrule (torch: float64)."""

    class D(lib.data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int) -> tuple:
            return float(i) / 2, i

    xb, yb = next(iter(lib.data.DataLoader(D(), batch_size=4)))
    return {
        "x_dtype": documented(lib, xb.dtype, torch="float64", chainrule="float32"),
        "x": xb.double(),
        "y": yb,
    }


@program
def grad_and_requires_grad_assignment_rules(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0], requires_grad=True)
    y = x * 2

    def set_attr(obj, name, value):  # noqa: ANN001, ANN202
        setattr(obj, name, value)
        return getattr(obj, name)

    return {
        "non_leaf_off": outcome(lambda: set_attr(y, "requires_grad", False)),
        "non_leaf_on": outcome(lambda: set_attr(y, "requires_grad", True)),
        "grad_ok": outcome(lambda: set_attr(x, "grad", lib.arr([0.5, 0.5]))),
        "grad_shape": outcome(lambda: set_attr(x, "grad", lib.arr([1.0, 2.0, 3.0]))),
        "grad_dtype": outcome(lambda: set_attr(x, "grad", lib.tensor([1, 2]))),
        "grad_none": outcome(lambda: set_attr(x, "grad", None)),
        "leaf_off": outcome(lambda: set_attr(x, "requires_grad", False)),
    }
