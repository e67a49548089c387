"""Input validation across the public API: a bad argument raises the exception type PyTorch uses (ValueError,
TypeError, IndexError or RuntimeError) with a message that names the offending value, never a NumPy
traceback from deep inside, and never a silently wrong result.

Each row: (what is called, the call, the exception type(s), strings the message must contain).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

nn = cr.nn
F = nn.functional
optim = cr.optim
data = cr.data

X = cr.randn(2, 3)
IMG = cr.randn(1, 2, 5, 5)


def _p() -> list[cr.Tensor]:
    return [cr.randn(2, requires_grad=True)]


def _sgd() -> Any:
    return optim.SGD(_p(), lr=0.1)


V, T, I, R = ValueError, TypeError, IndexError, RuntimeError

ROWS: list[tuple[str, Callable[[], Any], type | tuple[type, ...], tuple[str, ...]]] = [
    # creation
    ("zeros negative size", lambda: cr.zeros(-1, 3), V, ("zeros", "(-1, 3)")),
    ("ones negative size tuple", lambda: cr.ones((2, -3)), V, ("ones", "-3")),
    ("randn negative size", lambda: cr.randn(-2), V, ("randn", "-2")),
    ("rand float size", lambda: cr.rand(2.5), T, ("2.5",)),
    ("zeros str size", lambda: cr.zeros("a"), T, ("'a'",)),
    ("full negative size", lambda: cr.full((-1,), 1.0), V, ("full", "-1")),
    ("eye negative n", lambda: cr.eye(-1), V, ("eye", "-1")),
    ("arange zero step", lambda: cr.arange(0, 5, 0), V, ("arange", "step")),
    ("linspace negative steps", lambda: cr.linspace(0, 1, -1), R, ("linspace", "-1")),  # as torch
    ("randint empty range", lambda: cr.randint(5, 2, (3,)), V, ("randint", "5", "2")),
    ("randperm negative n", lambda: cr.randperm(-1), V, ("randperm", "-1")),
    ("tensor from object", lambda: cr.tensor(object()), T, ("object",)),
    ("tensor from str", lambda: cr.tensor("abc"), T, ("str",)),
    ("tensor ragged", lambda: cr.tensor([[1, 2], [3]]), V, ("ragged",)),
    ("tensor bad dtype", lambda: cr.tensor([1.0], dtype="floaty"), T, ("floaty",)),
    ("manual_seed negative", lambda: cr.manual_seed(-1), V, ("seed", "-1")),
    # shapes
    ("reshape wrong numel", lambda: X.reshape(4, 2), V, ("reshape", "(2, 3)", "(4, 2)")),
    ("reshape two -1", lambda: X.reshape(-1, -1), V, ("(-1, -1)",)),
    ("reshape negative", lambda: X.reshape(-2, 3), V, ("(-2, 3)",)),
    ("view wrong numel", lambda: X.view(7), V, ("(7,)",)),
    ("permute too few dims", lambda: X.permute(0), V, ("permute", "(0,)")),
    ("permute repeated dim", lambda: X.permute(0, 0), V, ("permute", "(0, 0)")),
    ("permute dim out of range", lambda: X.permute(0, 5), I, ("permute", "5")),
    ("transpose dim out of range", lambda: X.transpose(0, 3), I, ("transpose", "3")),
    ("squeeze dim out of range", lambda: X.squeeze(3), I, ("squeeze", "3")),
    ("unsqueeze dim out of range", lambda: X.unsqueeze(4), I, ("unsqueeze", "4")),
    ("flatten start after end", lambda: X.flatten(1, 0), V, ("flatten", "1", "0")),
    ("expand incompatible", lambda: X.expand(3, 3), V, ("(2, 3)", "(3, 3)")),
    ("repeat too few", lambda: X.repeat(1), V, ("repeat", "(1,)")),
    ("cat empty", lambda: cr.cat([]), V, ("cat", "empty")),
    ("cat shape mismatch", lambda: cr.cat([X, cr.randn(2, 4)]), V, ("cat", "(2, 3)", "(2, 4)")),
    ("cat dim out of range", lambda: cr.cat([X, X], dim=5), I, ("cat", "5")),
    ("cat ndim mismatch", lambda: cr.cat([X, cr.randn(3)]), V, ("(3,)",)),
    ("stack shape mismatch", lambda: cr.stack([X, cr.randn(3, 2)]), V, ("stack", "(3, 2)")),
    ("stack dim out of range", lambda: cr.stack([X, X], dim=4), I, ("stack", "4")),
    ("split size zero", lambda: cr.split(X, 0, dim=1), V, ("split", "0")),
    ("split negative size", lambda: cr.split(X, -1), V, ("split", "-1")),
    ("split sections wrong sum", lambda: cr.split(X, [1, 1], dim=1), V, ("split", "[1, 1]", "3")),
    ("split dim out of range", lambda: cr.split(X, 1, dim=3), I, ("split", "3")),
    ("chunk zero", lambda: cr.chunk(X, 0), V, ("chunk", "0")),
    ("pad odd length", lambda: F.pad(X, (1,)), V, ("pad", "1")),
    ("getitem out of bounds", lambda: X[5], I, ("5", "(2, 3)")),
    ("getitem float index", lambda: X[cr.tensor([0.5])], I, ("float32",)),
    ("gather index ndim", lambda: X.gather(1, cr.tensor([0])), V, ("gather", "1", "2")),
    # linear algebra and broadcasting
    ("matmul inner mismatch", lambda: cr.matmul(X, cr.randn(4, 2)), V, ("matmul", "(2, 3)", "(4, 2)")),
    ("matmul 0-d", lambda: cr.matmul(cr.tensor(1.0), X), V, ("matmul", "()")),
    ("matmul batch mismatch", lambda: cr.randn(2, 2, 3) @ cr.randn(3, 3, 4), V, ("(2, 2, 3)", "(3, 3, 4)")),
    ("add not broadcastable", lambda: X + cr.randn(4), V, ("(2, 3)", "(4,)")),
    ("dot needs 1-D", lambda: cr.dot(X, X), V, ("dot", "(2, 3)")),
    # reductions
    ("sum dim out of range", lambda: X.sum(dim=2), I, ("sum", "2")),
    ("sum negative dim out of range", lambda: X.sum(dim=-3), I, ("sum", "-3")),
    ("mean float dim", lambda: X.mean(dim=1.5), T, ("mean", "1.5")),
    ("amax repeated dim", lambda: X.amax(dim=(1, 1)), V, ("amax", "(1, 1)")),
    ("var dim out of range", lambda: X.var(dim=4), I, ("var", "4")),
    ("logsumexp dim out of range", lambda: X.logsumexp(dim=9), I, ("logsumexp", "9")),
    ("softmax dim out of range", lambda: F.softmax(X, dim=3), I, ("softmax", "3")),
    ("log_softmax dim out of range", lambda: F.log_softmax(X, dim=-3), I, ("log_softmax", "-3")),
    ("clamp without bounds", lambda: X.clamp(), V, ("clamp", "min", "max")),
    ("item of many", lambda: X.item(), V, ("item", "(2, 3)")),
    # autograd
    ("backward of non-scalar", lambda: cr.randn(2, requires_grad=True).exp().backward(), R, ("(2,)",)),
    ("backward without grad", lambda: cr.randn(2).sum().backward(), R, ("does not require grad",)),
    (
        "backward wrong gradient shape",
        lambda: (cr.randn(2, requires_grad=True) * 2).backward(cr.ones(3)),
        R,
        ("(3,)", "(2,)"),
    ),
    (
        "gradcheck float32",
        lambda: cr.gradcheck(lambda t: t * 2, [cr.randn(2, requires_grad=True)]),
        T,
        ("float32",),
    ),
    # nn layer constructors
    ("Linear negative in", lambda: nn.Linear(-1, 2), V, ("Linear", "in_features", "-1")),
    ("Linear float in", lambda: nn.Linear(2.5, 2), T, ("in_features", "2.5")),
    ("Conv2d zero kernel", lambda: nn.Conv2d(2, 3, 0), V, ("Conv2d", "kernel_size", "0")),
    ("Conv2d negative kernel", lambda: nn.Conv2d(2, 3, -1), V, ("kernel_size", "-1")),
    ("Conv2d zero stride", lambda: nn.Conv2d(2, 3, 3, stride=0), V, ("stride", "0")),
    ("Conv2d negative padding", lambda: nn.Conv2d(2, 3, 3, padding=-1), V, ("padding", "-1")),
    ("Conv2d bad padding string", lambda: nn.Conv2d(2, 3, 3, padding="bogus"), V, ("padding", "bogus")),
    ("Conv2d zero dilation", lambda: nn.Conv2d(2, 3, 3, dilation=0), V, ("dilation", "0")),
    ("Conv2d groups", lambda: nn.Conv2d(2, 3, 3, groups=2), V, ("groups", "2", "3")),
    ("MaxPool2d zero kernel", lambda: nn.MaxPool2d(0), V, ("MaxPool2d", "kernel_size", "0")),
    ("AvgPool2d negative kernel", lambda: nn.AvgPool2d(-1), V, ("kernel_size", "-1")),
    ("Dropout p > 1", lambda: nn.Dropout(1.5), V, ("Dropout", "1.5")),
    ("Dropout p < 0", lambda: nn.Dropout(-0.1), V, ("-0.1",)),
    ("Dropout2d p > 1", lambda: nn.Dropout2d(1.2), V, ("1.2",)),
    ("BatchNorm1d zero features", lambda: nn.BatchNorm1d(0), V, ("num_features", "0")),
    ("GroupNorm divisibility", lambda: nn.GroupNorm(3, 4), V, ("GroupNorm", "3", "4")),
    ("Embedding negative", lambda: nn.Embedding(-1, 2), V, ("num_embeddings", "-1")),
    ("Embedding padding_idx", lambda: nn.Embedding(3, 2, padding_idx=5), V, ("padding_idx", "5")),
    ("LSTM negative hidden", lambda: nn.LSTM(3, -1), V, ("hidden_size", "-1")),
    ("LSTM zero layers", lambda: nn.LSTM(3, 4, num_layers=0), V, ("num_layers", "0")),
    ("LSTM dropout > 1", lambda: nn.LSTM(3, 4, dropout=2.0), V, ("dropout", "2.0")),
    ("RNN nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), V, ("sigmoid",)),
    ("MultiheadAttention heads", lambda: nn.MultiheadAttention(10, 3), V, ("10", "3")),
    (
        "CrossEntropyLoss smoothing",
        lambda: nn.CrossEntropyLoss(label_smoothing=1.5),
        V,
        ("label_smoothing", "1.5"),
    ),
    ("MSELoss reduction", lambda: nn.MSELoss(reduction="bogus"), V, ("bogus",)),
    ("Sequential non-module", lambda: nn.Sequential(nn.Linear(2, 2), 3), T, ("int",)),
    ("init.uniform_ a > b", lambda: nn.init.uniform_(cr.zeros(2), 1, 0), V, ("uniform_", "a=1", "b=0")),
    ("init.normal_ negative std", lambda: nn.init.normal_(cr.zeros(2), 0, -1), V, ("std", "-1")),
    # nn forward with wrong inputs
    ("Linear wrong features", lambda: nn.Linear(4, 2)(X), V, ("Linear", "4", "(2, 3)")),
    ("Conv2d 2-D input", lambda: nn.Conv2d(2, 3, 3)(X), V, ("Conv2d", "(2, 3)")),
    ("Conv2d wrong channels", lambda: nn.Conv2d(3, 3, 3)(IMG), V, ("Conv2d", "3", "(1, 2, 5, 5)")),
    ("Conv2d input smaller than kernel", lambda: nn.Conv2d(2, 3, 7)(IMG), V, ("(5, 5)", "(7, 7)")),
    ("Conv1d 1-D input", lambda: nn.Conv1d(2, 3, 3)(X[0]), V, ("Conv1d", "(3,)")),
    ("MaxPool2d 2-D input", lambda: nn.MaxPool2d(2)(X), V, ("MaxPool2d", "(2, 3)")),
    ("BatchNorm1d wrong features", lambda: nn.BatchNorm1d(4)(X), V, ("BatchNorm1d", "4", "(2, 3)")),
    ("BatchNorm2d wrong ndim", lambda: nn.BatchNorm2d(2)(X), V, ("BatchNorm2d", "(2, 3)")),
    ("LayerNorm wrong shape", lambda: nn.LayerNorm(4)(X), V, ("LayerNorm", "(2, 3)")),
    ("LSTM 1-D input", lambda: nn.LSTM(3, 4)(cr.randn(3)), V, ("LSTM", "(3,)")),
    ("LSTM wrong features", lambda: nn.LSTM(3, 4)(cr.randn(5, 2, 7)), V, ("LSTM", "3", "7")),
    ("Embedding index out of range", lambda: nn.Embedding(3, 2)(cr.tensor([5])), I, ("5", "3")),
    ("Embedding float index", lambda: nn.Embedding(3, 2)(cr.tensor([0.5])), T, ("float32",)),
    ("Softmax dim out of range", lambda: nn.Softmax(dim=5)(X), I, ("5",)),
    # nn.functional
    ("F.dropout p > 1", lambda: F.dropout(X, p=2), V, ("dropout", "2")),
    ("F.dropout p nan", lambda: F.dropout(X, p=float("nan")), V, ("nan",)),
    ("F.conv2d zero stride", lambda: F.conv2d(IMG, cr.randn(3, 2, 3, 3), stride=0), V, ("stride", "0")),
    (
        "F.conv2d negative padding",
        lambda: F.conv2d(IMG, cr.randn(3, 2, 3, 3), padding=-1),
        V,
        ("padding", "-1"),
    ),
    ("F.conv2d weight ndim", lambda: F.conv2d(IMG, cr.randn(3, 2, 3)), V, ("weight", "(3, 2, 3)")),
    ("F.conv2d zero groups", lambda: F.conv2d(IMG, cr.randn(3, 2, 3, 3), groups=0), V, ("groups", "0")),
    ("F.max_pool2d zero kernel", lambda: F.max_pool2d(IMG, 0), V, ("kernel_size", "0")),
    ("F.max_pool2d zero stride", lambda: F.max_pool2d(IMG, 2, stride=0), V, ("stride", "0")),
    ("F.avg_pool2d padding too big", lambda: F.avg_pool2d(IMG, 2, padding=2), V, ("pad", "2")),
    ("F.linear shapes", lambda: F.linear(X, cr.randn(4, 5)), V, ("(2, 3)", "(4, 5)")),
    ("F.cross_entropy target range", lambda: F.cross_entropy(X, cr.tensor([0, 7])), I, ("7", "3")),
    ("F.cross_entropy target shape", lambda: F.cross_entropy(X, cr.tensor([0, 1, 2])), V, ("(3,)", "(2, 3)")),
    (
        "F.cross_entropy reduction",
        lambda: F.cross_entropy(X, cr.tensor([0, 1]), reduction="avg"),
        V,
        ("avg",),
    ),
    ("F.nll_loss target range", lambda: F.nll_loss(X, cr.tensor([0, 9])), I, ("9",)),
    ("F.mse_loss shapes", lambda: F.mse_loss(X, cr.randn(3, 2)), V, ("(2, 3)", "(3, 2)")),
    (
        "F.binary_cross_entropy range",
        lambda: F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0])),
        R,  # torch's RuntimeError
        ("all elements of input should be between 0 and 1",),
    ),
    (
        "F.binary_cross_entropy NaN input",
        lambda: F.binary_cross_entropy(cr.tensor([0.5, float("nan")]), cr.tensor([1.0, 0.0])),
        R,
        ("all elements of input should be between 0 and 1",),
    ),
    (
        "F.binary_cross_entropy target range",
        lambda: F.binary_cross_entropy(cr.tensor([0.5, 0.5]), cr.tensor([1.5, 0.0])),
        R,
        ("all elements of target should be between 0 and 1",),
    ),
    (
        "F.binary_cross_entropy NaN target",
        lambda: F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([float("nan")])),
        R,
        ("all elements of target should be between 0 and 1",),
    ),
    (
        "BCELoss negative target",
        lambda: nn.BCELoss()(cr.tensor([0.5]), cr.tensor([-1.0])),
        R,
        ("target should be between 0 and 1",),
    ),
    (
        "Linear float64 input",
        lambda: nn.Linear(3, 2)(cr.zeros(1, 3, dtype="float64")),
        R,
        ("mat1 and mat2 must have the same dtype", "Double and Float"),
    ),
    ("Linear int input", lambda: nn.Linear(3, 2)(cr.zeros(1, 3, dtype="int64")), R, ("Long and Float",)),
    (
        "Conv2d float64 input",
        lambda: nn.Conv2d(2, 1, 2)(IMG.double()),
        R,
        ("Input type (double) and bias type (float) should be the same",),
    ),
    ("F.layer_norm shape", lambda: F.layer_norm(X, (4,)), V, ("4", "[2, 3]")),
    # optimizers and schedulers
    ("SGD negative lr", lambda: optim.SGD(_p(), lr=-1), V, ("learning rate", "-1")),
    ("SGD negative momentum", lambda: optim.SGD(_p(), lr=0.1, momentum=-1), V, ("momentum", "-1")),
    (
        "SGD negative weight_decay",
        lambda: optim.SGD(_p(), lr=0.1, weight_decay=-1),
        V,
        ("weight_decay", "-1"),
    ),
    (
        "SGD nesterov without momentum",
        lambda: optim.SGD(_p(), lr=0.1, nesterov=True),
        V,
        ("Nesterov", "momentum"),
    ),
    (
        "SGD non-leaf param",
        lambda: optim.SGD([cr.randn(2, requires_grad=True) * 2], lr=0.1),
        V,
        ("non-leaf",),
    ),
    ("Adam nan lr", lambda: optim.Adam(_p(), lr=float("nan")), V, ("learning rate", "nan")),
    ("Adam str lr", lambda: optim.Adam(_p(), lr="0.1"), T, ("lr", "'0.1'")),
    ("Adam beta1 = 1", lambda: optim.Adam(_p(), betas=(1.0, 0.9)), V, ("beta", "1.0")),
    ("Adam betas length", lambda: optim.Adam(_p(), betas=(0.9,)), V, ("betas", "(0.9,)")),
    ("Adam negative eps", lambda: optim.Adam(_p(), eps=-1e-8), V, ("eps", "-1e-08")),
    (
        "AdamW negative weight_decay",
        lambda: optim.AdamW(_p(), weight_decay=-0.1),
        V,
        ("weight_decay", "-0.1"),
    ),
    ("RMSprop negative alpha", lambda: optim.RMSprop(_p(), alpha=-1), V, ("alpha", "-1")),
    ("Adagrad negative lr_decay", lambda: optim.Adagrad(_p(), lr_decay=-1), V, ("lr_decay", "-1")),
    ("optimizer empty params", lambda: optim.Adam([]), V, ("empty",)),
    ("optimizer given a Tensor", lambda: optim.Adam(cr.randn(2, requires_grad=True)), T, ("Tensor",)),
    ("StepLR zero step_size", lambda: optim.lr_scheduler.StepLR(_sgd(), step_size=0), V, ("step_size", "0")),
    (
        "CosineAnnealingLR T_max 0",
        lambda: optim.lr_scheduler.CosineAnnealingLR(_sgd(), T_max=0),
        V,
        ("T_max", "0"),
    ),
    # data
    (
        "DataLoader batch_size 0",
        lambda: data.DataLoader(data.TensorDataset(X), batch_size=0),
        V,
        ("batch_size", "0"),
    ),
    ("DataLoader batch_size -1", lambda: data.DataLoader(data.TensorDataset(X), batch_size=-1), V, ("-1",)),
    (
        "DataLoader batch_size float",
        lambda: data.DataLoader(data.TensorDataset(X), batch_size=1.5),
        V,
        ("1.5",),
    ),
    (
        "DataLoader shuffle with sampler",
        lambda: data.DataLoader(data.TensorDataset(X), shuffle=True, sampler=[0]),
        V,
        ("sampler", "shuffle"),
    ),
    (
        "DataLoader negative workers",
        lambda: data.DataLoader(data.TensorDataset(X), num_workers=-1),
        V,
        ("num_workers", "-1"),
    ),
    ("TensorDataset size mismatch", lambda: data.TensorDataset(X, cr.randn(3)), V, ("2", "3")),
    ("random_split wrong total", lambda: data.random_split(data.TensorDataset(X), [1, 5]), V, ("6", "2")),
    ("random_split negative", lambda: data.random_split(data.TensorDataset(X), [-1, 3]), V, ("[-1, 3]",)),
    # files
    ("save to a non-path", lambda: cr.save({"a": cr.ones(1)}, 3.5), T, ("float",)),
    ("load a non-path", lambda: cr.load(None), T, ("NoneType",)),
]


@pytest.mark.parametrize(("name", "call", "exc", "needles"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_arguments_are_refused_clearly(
    name: str, call: Callable, exc: type, needles: tuple[str, ...]
) -> None:
    with np.errstate(all="raise"):  # a NumPy floating-point error leaking out would also be a failure
        with pytest.raises(exc) as info:
            call()
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, f"{name}: {needle!r} not in {msg!r}"
    assert "Traceback" not in msg and len(msg) < 600


def test_the_table_covers_every_argument_kind() -> None:
    """Guard against the table shrinking: the families the guarantee lists all have rows."""
    names = " ".join(r[0] for r in ROWS)
    families = "zeros reshape permute cat stack split matmul sum Linear Conv2d Dropout F.dropout SGD Adam"
    for family in [*families.split(), "DataLoader", "MaxPool2d", "LSTM"]:
        assert family in names, family
    assert len(ROWS) >= 120


def test_accepted_edge_values_are_not_refused() -> None:
    """The boundaries themselves are valid (as in torch): p=0 and p=1, zero-size dims, lr=0, one split."""
    assert F.dropout(X, p=0.0).shape == X.shape
    assert float(F.dropout(X, p=1.0).abs().sum()) == 0.0
    assert cr.zeros(0, 3).shape == (0, 3)
    assert X.reshape(-1).shape == (6,)
    assert cr.randn(0, 2).sum(dim=0).shape == (2,)
    optim.SGD(_p(), lr=0.0)
    nn.Dropout(0.0), nn.Dropout(1.0)
    assert len(cr.split(X, 5, dim=1)) == 1
    assert X.permute(-1, -2).shape == (3, 2)


@pytest.mark.parametrize(
    ("x", "t"),
    [
        ([0.5, float("nan")], [1.0, 0.0]),  # before: a NaN loss, silently
        ([0.5, 1.5], [1.0, 0.0]),
        ([0.5, float("inf")], [1.0, 0.0]),
        ([0.5, 0.5], [1.5, 0.0]),  # before: accepted
        ([0.5, 0.5], [float("nan"), 0.0]),
        ([0.5, 0.5], [-0.5, 0.0]),
        ([0.0, 1.0], [0.3, 1.0]),  # soft targets and exact 0/1 probabilities are fine
    ],
)
def test_binary_cross_entropy_refuses_what_torch_refuses(torch, x, t) -> None:
    try:
        expected = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(t))
    except RuntimeError as error:
        with pytest.raises(RuntimeError) as got:
            F.binary_cross_entropy(cr.tensor(x), cr.tensor(t))
        assert str(got.value).endswith(str(error)), (str(got.value), str(error))
    else:
        got = F.binary_cross_entropy(cr.tensor(x), cr.tensor(t))
        np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-6)
