"""Corpus: torch's indexing rules for reads, writes and their gradients."""

from __future__ import annotations

import numpy as np
from corpus_harness import Lib, outcome, program

CUBE = np.arange(24.0).reshape(2, 3, 4)
SQUARE = np.arange(2.0 * 2 * 2).reshape(2, 2, 2)


def _read(lib: Lib, data: np.ndarray, key_of) -> dict:  # noqa: ANN001
    """``x[key]``'s value and the gradient it sends back (a weighted sum, so every position is distinct)."""
    x = lib.arr(data, requires_grad=True)
    y = x[key_of(lib)]
    weights = lib.arr(np.arange(1.0, y.numel() + 1.0).reshape(tuple(y.shape)))
    (y * weights).sum().backward()
    return {"value": y, "grad": x.grad}


@program
def index_int_slice_list(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: (0, slice(None), [0, 1]))


@program
def index_int_slice_list_square(lib: Lib) -> dict:
    return _read(lib, SQUARE, lambda L: (0, slice(None), [0, 1]))


@program
def index_int_list_int(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: (1, [0, 2], 3))


@program
def index_list_slice_list_separated(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: ([0, 1], slice(None), [1, 3]))


@program
def index_tensor_index_and_int(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: (L.tensor([1, 0, 1]), 2))


@program
def index_repeated_indices_grad(lib: Lib) -> dict:
    return _read(lib, np.arange(5.0), lambda L: L.tensor([0, 0, 3, 3, 3]))


@program
def index_boolean_mask(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: L.tensor(CUBE % 3 == 0))


@program
def index_mask_on_first_dim_and_int(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: (L.tensor([True, False]), slice(None), 1))


@program
def index_none_and_ellipsis(lib: Lib) -> dict:
    out = _read(lib, CUBE, lambda L: (None, Ellipsis, 1))
    out.update({f"b_{k}": v for k, v in _read(lib, CUBE, lambda L: (Ellipsis, None, [0, 2])).items()})
    out.update({f"c_{k}": v for k, v in _read(lib, CUBE, lambda L: (1, None, slice(None, None, 2))).items()})
    return out


@program
def index_negative_and_step(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: (-1, slice(0, 3, 2), -2))


@program
def index_2d_lists_broadcast(lib: Lib) -> dict:
    return _read(lib, CUBE, lambda L: ([[0], [1]], slice(None), [[0, 1, 2]]))


@program
def index_out_of_range_raises(lib: Lib) -> dict:
    x = lib.arr(CUBE)
    return {
        "int": outcome(lambda: x[2]),
        "list": outcome(lambda: x[0, [0, 5]]),
        "too_many": outcome(lambda: x[0, 0, 0, 0]),
    }


@program
def setitem_int_slice_list(lib: Lib) -> dict:
    x = lib.arr(CUBE.copy())
    x[0, :, [0, 1]] = lib.arr(np.array([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]]))  # torch: shape (3, 2)
    x[1, [0, 2], 3] = 100.0
    return {"x": x}


@program
def setitem_mask_and_scalar(lib: Lib) -> dict:
    x = lib.arr(np.linspace(-1, 1, 7))
    x[x < 0] = 0.0
    y = lib.arr(np.arange(6.0).reshape(2, 3))
    y[y > 2] = lib.arr([10.0, 20.0, 30.0])
    y[..., 0] = -1.0
    y[:, None, 1] = lib.arr([[7.0], [8.0]])
    return {"x": x, "y": y}


@program
def setitem_repeated_index_last_wins(lib: Lib) -> dict:
    x = lib.arr(np.zeros(4))
    x[lib.tensor([1, 3])] = lib.arr([5.0, 6.0])
    x[[0, 2]] += 1.0
    return {"x": x}


@program
def setitem_in_graph_gradient(lib: Lib) -> dict:
    a = lib.arr(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    b = lib.arr([9.0, 8.0], requires_grad=True)
    y = a * 2
    y[:, 1] = b
    (y * lib.arr(np.arange(6.0).reshape(2, 3))).sum().backward()
    return {"y": y, "ga": a.grad, "gb": b.grad}


@program
def index_select_gather_and_take_rows(lib: Lib) -> dict:
    x = lib.arr(np.arange(12.0).reshape(3, 4), requires_grad=True)
    idx = lib.tensor([[0, 1], [2, 3], [1, 1]])
    g = x.gather(1, idx)
    rows = x[lib.tensor([2, 0])]
    (g.sum() + (rows * 2).sum()).backward()
    return {"gather": g, "rows": rows, "grad": x.grad}


@program
def index_pairs_negative_and_ellipsis_lists(lib: Lib) -> dict:
    out = _read(lib, CUBE, lambda L: ([0, 1], [1, 2]))
    out.update({f"neg_{k}": v for k, v in _read(lib, CUBE, lambda L: (-1, [0, -1])).items()})
    out.update({f"ell_{k}": v for k, v in _read(lib, CUBE, lambda L: (Ellipsis, [3, 0])).items()})
    out.update(
        {
            f"mask2d_{k}": v
            for k, v in _read(lib, CUBE, lambda L: (slice(None), L.tensor(CUBE[0] > 5))).items()
        }
    )
    out.update(
        {
            f"t0d_{k}": v
            for k, v in _read(lib, CUBE, lambda L: (L.tensor(1), slice(None), L.tensor([0, 0]))).items()
        }
    )
    return out


@program
def index_repeated_write_is_not_accumulated(lib: Lib) -> dict:
    x = lib.arr(np.zeros(3))
    x[[0, 0, 2]] += 1.0
    w = lib.arr(np.zeros((2, 2)))
    w[lib.tensor([1, 1]), 0] -= lib.arr([1.0, 5.0])
    return {"x": x, "w": w}


@program
def index_put_and_index_add_accumulate(lib: Lib) -> dict:
    y = lib.arr(np.zeros(3))
    y.index_put_((lib.tensor([0, 0, 2]),), lib.arr([1.0, 2.0, 3.0]), accumulate=True)
    z = lib.arr(np.zeros((2, 3)))
    z.index_add_(1, lib.tensor([0, 0, 2]), lib.arr(np.ones((2, 3))))
    return {"y": y, "z": z}


@program
def setitem_with_tensor_value_gradient(lib: Lib) -> dict:
    base = lib.arr(np.zeros((3, 3)))
    v = lib.arr([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    y = base.clone()
    y[:, [2, 0]] = v
    (y * lib.arr(np.arange(9.0).reshape(3, 3))).sum().backward()
    return {"y": y, "gv": v.grad, "y_rg": y.requires_grad}
