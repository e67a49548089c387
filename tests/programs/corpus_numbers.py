"""Corpus: a tensor used as a Python number (format, float, int, index, bool, round, item)."""

from __future__ import annotations

import math

from corpus_harness import ONCE_PER_PROCESS, Lib, outcome, program, warned


@program
def format_loss_in_fstring(lib: Lib) -> dict:
    loss = (lib.arr([0.1234567, 2.0], requires_grad=True) ** 2).mean()
    return {
        "f4": f"{loss:.4f}",
        "e": f"{loss:.3e}",
        "g": f"{loss:g}",
        "width": f"{loss:>10.2f}",
        "pct": f"{lib.arr(0.25):.1%}",
        "item_f": f"{loss.item():.6f}",
    }


@program
def format_refuses_non_scalars(lib: Lib) -> dict:
    x = lib.arr([1.0, 2.0])
    return {"f": outcome(lambda: f"{x:.2f}"), "plain": format(lib.arr(1.5), "").startswith("tensor(")}


@program
def float_int_of_zero_d_tensors(lib: Lib) -> dict:
    x = lib.arr(2.75, requires_grad=True)
    y = x * 2
    i = lib.tensor(7)
    return {
        "float": float(y),
        "int_float": int(lib.arr(-2.75)),
        "int_int": int(i),
        "float_int": float(i),
        "one_elem": float(lib.arr([3.5])),
        "many": outcome(lambda: float(lib.arr([1.0, 2.0]))),
        "math_sqrt": math.sqrt(lib.arr(16.0)),
    }


@program
def index_protocol(lib: Lib) -> dict:
    i = lib.tensor(2)
    items = [10, 20, 30, 40]
    return {
        "list_index": items[i],
        "range": list(range(lib.tensor(3))),
        "slice": items[lib.tensor(1) : lib.tensor(3)],
        "float_index": outcome(lambda: items[lib.arr(1.0)]),
        "many_index": outcome(lambda: items[lib.tensor([1, 2])]),
        "hex": hex(lib.tensor(255)),
    }


@program
def bool_of_tensors(lib: Lib) -> dict:
    x = lib.arr([1.0, -2.0, 3.0])
    loss = lib.arr(0.005)
    return {
        "if_small": bool(loss < 0.01),
        "zero": bool(lib.arr(0.0)),
        "nan": bool(lib.arr(float("nan"))),
        "one_elem": bool(lib.arr([2.0])),
        "any": bool((x < 0).any()),
        "all": bool((x < 0).all()),
        "ambiguous": outcome(lambda: bool(x > 0)),
        "empty": outcome(lambda: bool(lib.arr([]))),
        "while_loop": _count_halvings(lib.arr(100.0)),
    }


def _count_halvings(x) -> int:  # noqa: ANN001
    n = 0
    while x > 1:
        x = x / 2
        n += 1
    return n


@program
def round_of_tensors(lib: Lib) -> dict:
    x = lib.arr(2.5)
    return {
        "round_item": round(x.item()),
        "round_item2": round(lib.arr(3.14159).item(), 2),
        "round_method": lib.arr([0.5, 1.5, 2.5, -0.5]).round(),
        "round_decimals": lib.arr([1.2345, -2.5678]).round(decimals=2),
        "round_builtin": outcome(lambda: round(lib.arr([1.4, 2.6]))),  # TypeError in torch 2.13 too
        "round_0d": outcome(lambda: round(lib.arr(2.5))),
    }


@program
def item_and_tolist_types(lib: Lib) -> dict:
    return {
        "float": lib.arr(1.5).item(),
        "int": lib.tensor(3).item(),
        "bool": lib.tensor(True).item(),
        "tolist": lib.arr([[1.0, 2.0]]).tolist(),
        "int_list": lib.tensor([1, 2]).tolist(),
        "scalar_tolist": lib.arr(2.0).tolist(),
        "many_item": outcome(lambda: lib.arr([1.0, 2.0]).item()),
    }


@program
def python_number_builtins(lib: Lib) -> dict:
    vals = [lib.arr(3.0), lib.arr(-1.0), lib.arr(2.0)]
    return {
        "max": float(max(vals)),
        "min": float(min(vals)),
        "sorted": [float(v) for v in sorted(vals)],
        "sum": sum(vals),
        "abs": abs(lib.arr(-4.0)),
        "divmod_floor": lib.arr(7.0) // 2,
        "mod": lib.arr([-7.0, 7.0]) % 3,
        "neg_mod": lib.tensor([-7, 7]) % 3,
    }


@program
def loss_history_as_floats(lib: Lib) -> dict:
    w = lib.arr([0.5], requires_grad=True)
    history = []
    for _ in range(3):
        loss = (w * 3 - 1).pow(2).sum()
        loss.backward()
        with lib.no_grad():
            w -= 0.05 * w.grad
        w.grad = None
        history.append(float(loss.detach()))
    best = min(history)
    return {
        "history": history,
        "best": best,
        "improved": history[-1] < history[0],
        "text": f"{history[-1]:.5f}",
    }


@program
def float_of_a_tensor_that_requires_grad_warns(lib: Lib) -> dict:
    """torch warns once per process (so its side may have warned already); chainrule must warn too."""
    x = lib.arr(1.5, requires_grad=True)
    value, found = warned(lambda: float(x * 2), ONCE_PER_PROCESS)
    if lib.is_torch:
        found = [("UserWarning", (True,))]
    return {"value": value, "warned": found[:1], "detached_quiet": warned(lambda: float((x * 2).detach()))[1]}


@program
def bool_tensor_as_an_index(lib: Lib) -> dict:
    items = ["no", "yes"]
    flag = lib.tensor(True)
    return {
        "index": outcome(lambda: items[flag]),
        "int": int(flag),
        "sum": (lib.tensor([True, True]).sum()).item(),
    }
