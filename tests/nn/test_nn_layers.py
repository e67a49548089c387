"""Every layer against torch.nn: same constructor call, torch's state dict loaded, float64 outputs and ALL
gradients (inputs and parameters) equal; state-dict keys, shapes and reprs equal too."""

from __future__ import annotations

import numpy as np
import pytest
from nn_parity import check_module_parity, state_dict_shapes

import chainrule as cr

RNG = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def ints(high: int, *shape: int) -> np.ndarray:
    return RNG.integers(0, high, shape).astype(np.int64)


# (layer name, args, kwargs, inputs, train mode)
CASES = [
    ("Identity", (), {}, [randn(3, 4)], True),
    ("Linear", (4, 3), {}, [randn(5, 4)], True),
    ("Linear", (4, 3), {"bias": False}, [randn(2, 5, 4)], True),
    ("Bilinear", (3, 4, 2), {}, [randn(5, 3), randn(5, 4)], True),
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding": 1}, [randn(2, 2, 9)], True),
    ("Conv2d", (3, 4, 3), {"padding": 1}, [randn(2, 3, 6, 5)], True),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "dilation": (1, 2), "groups": 2, "bias": False},
     [randn(2, 4, 7, 8)], True),
    ("Conv2d", (2, 2, 3), {"padding": "same", "padding_mode": "reflect"}, [randn(1, 2, 5, 5)], True),
    ("Conv2d", (2, 2, 3), {"padding": 1, "padding_mode": "circular"}, [randn(1, 2, 5, 5)], True),
    ("Conv2d", (2, 2, 3), {"padding": 2, "padding_mode": "replicate"}, [randn(2, 6, 5)], True),
    ("Conv3d", (2, 3, 2), {"padding": 1}, [randn(1, 2, 3, 4, 3)], True),
    ("ConvTranspose1d", (3, 2, 3), {"stride": 2}, [randn(2, 3, 5)], True),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1}, [randn(2, 4, 4, 3)],
     True),
    ("ConvTranspose2d", (4, 6, 2), {"groups": 2, "dilation": 2, "bias": False}, [randn(1, 4, 3, 3)], True),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [randn(2, 3, 10)], True),
    ("MaxPool2d", (2,), {}, [randn(2, 3, 6, 7)], True),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, [randn(1, 2, 8, 7)], True),
    ("MaxPool3d", (2,), {}, [randn(1, 2, 4, 4, 5)], True),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [randn(2, 3, 10)], True),
    ("AvgPool2d", (2,), {}, [randn(2, 3, 6, 7)], True),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, [randn(1, 2, 8, 7)], True),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True},
     [randn(1, 2, 8, 7)], True),
    ("AvgPool2d", (2,), {"divisor_override": 3}, [randn(1, 2, 4, 4)], True),
    ("AvgPool3d", (2,), {}, [randn(1, 2, 4, 4, 5)], True),
    ("AdaptiveAvgPool1d", (4,), {}, [randn(2, 3, 10)], True),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, [randn(2, 3, 7, 5)], True),
    ("AdaptiveAvgPool2d", (1,), {}, [randn(2, 3, 4, 4)], True),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, [randn(2, 3, 4, 6)], True),
    ("Flatten", (), {}, [randn(2, 3, 4)], True),
    ("Unflatten", (1, (2, 3)), {}, [randn(4, 6)], True),
    ("Dropout", (0.3,), {}, [randn(4, 5)], False),
    ("Dropout2d", (0.3,), {}, [randn(2, 4, 3, 3)], False),
    ("BatchNorm1d", (3,), {}, [randn(8, 3)], True),
    ("BatchNorm1d", (3,), {"affine": False, "momentum": None}, [randn(4, 3, 5)], True),
    ("BatchNorm1d", (3,), {"track_running_stats": False}, [randn(4, 3, 5)], False),
    ("BatchNorm2d", (3,), {"momentum": 0.3}, [randn(4, 3, 5, 4)], True),
    ("BatchNorm2d", (3,), {}, [randn(4, 3, 5, 4)], False),
    ("BatchNorm3d", (2,), {}, [randn(2, 2, 3, 3, 3)], True),
    ("LayerNorm", (5,), {}, [randn(3, 4, 5)], True),
    ("LayerNorm", ((4, 5),), {"elementwise_affine": False}, [randn(3, 4, 5)], True),
    ("LayerNorm", (5,), {"bias": False}, [randn(3, 5)], True),
    ("GroupNorm", (2, 4), {}, [randn(3, 4, 5)], True),
    ("Embedding", (10, 4), {"padding_idx": 2}, [np.array([[1, 2, 3], [2, 9, 1]])], True),
    ("ReLU", (), {}, [randn(3, 4)], True),
    ("Sigmoid", (), {}, [randn(3, 4)], True),
    ("Tanh", (), {}, [randn(3, 4)], True),
    ("GELU", (), {}, [randn(3, 4)], True),
    ("GELU", ("tanh",), {}, [randn(3, 4)], True),
    ("SiLU", (), {}, [randn(3, 4)], True),
    ("Softplus", (), {"beta": 2.0, "threshold": 3.0}, [randn(3, 4) * 3], True),
    ("LeakyReLU", (0.2,), {}, [randn(3, 4)], True),
    ("ELU", (0.7,), {}, [randn(3, 4)], True),
    ("CELU", (0.7,), {}, [randn(3, 4)], True),
    ("SELU", (), {}, [randn(3, 4)], True),
    ("Hardtanh", (-0.5, 0.7), {}, [randn(3, 4)], True),
    ("ReLU6", (), {}, [randn(3, 4) * 5], True),
    ("Mish", (), {}, [randn(3, 4)], True),
    ("Hardsigmoid", (), {}, [randn(3, 4) * 4], True),
    ("Hardswish", (), {}, [randn(3, 4) * 4], True),
    ("LogSigmoid", (), {}, [randn(3, 4)], True),
    ("Softsign", (), {}, [randn(3, 4)], True),
    ("Softmax", (1,), {}, [randn(3, 4)], True),
    ("LogSoftmax", (-1,), {}, [randn(3, 4, 2)], True),
    ("Softmin", (0,), {}, [randn(3, 4)], True),
    ("MSELoss", (), {}, [randn(3, 4), randn(3, 4)], True),
    ("L1Loss", (), {"reduction": "sum"}, [randn(3, 4), randn(3, 4)], True),
    ("SmoothL1Loss", (), {"beta": 0.5}, [randn(3, 4), randn(3, 4)], True),
    ("HuberLoss", (), {"delta": 0.5}, [randn(3, 4), randn(3, 4)], True),
    ("CrossEntropyLoss", (), {"label_smoothing": 0.1}, [randn(5, 4), ints(4, 5)], True),
    ("NLLLoss", (), {"reduction": "none"}, [randn(5, 4), ints(4, 5)], True),
    ("BCELoss", (), {}, [RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))], True),
    ("BCEWithLogitsLoss", (), {}, [randn(3, 4), RNG.uniform(0, 1, (3, 4))], True),
    ("KLDivLoss", (), {"reduction": "batchmean"}, [randn(3, 4), RNG.uniform(0, 1, (3, 4))], True),
]  # fmt: skip


def _ids(case: tuple) -> str:
    name, args, kwargs = case[:3]
    return f"{name}{args}{kwargs}".replace(" ", "")


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_layer_matches_torch(torch, case: tuple) -> None:
    name, args, kwargs, inputs, train = case
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    c_mod = getattr(cr.nn, name)(*args, **kwargs)
    assert repr(c_mod) == repr(t_mod)
    check_module_parity(torch, t_mod, c_mod, inputs, train=train)


def test_weighted_losses_keep_weight_buffers(torch) -> None:
    w = np.array([0.2, 1.0, 3.0])
    for name in ("CrossEntropyLoss", "NLLLoss", "BCELoss"):
        t_mod = getattr(torch.nn, name)(weight=torch.tensor(w))
        c_mod = getattr(cr.nn, name)(weight=cr.tensor(w))
        assert state_dict_shapes(c_mod.state_dict()) == state_dict_shapes(t_mod.state_dict())
    t_mod = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    c_mod = cr.nn.BCEWithLogitsLoss(pos_weight=cr.tensor(w))
    assert list(c_mod.state_dict()) == list(t_mod.state_dict()) == ["pos_weight"]
    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal((4, 3)), RNG.uniform(0, 1, (4, 3))])


@pytest.mark.parametrize(
    "name",
    [
        "Linear",
        "Conv1d",
        "Conv2d",
        "ConvTranspose2d",
        "Embedding",
        "LSTM",
        "GRU",
        "RNN",
        "BatchNorm2d",
        "LayerNorm",
        "MultiheadAttention",
    ],
)
def test_layers_create_float32_parameters(name: str) -> None:
    args = {
        "Linear": (3, 2),
        "Embedding": (5, 3),
        "LayerNorm": (4,),
        "BatchNorm2d": (3,),
        "MultiheadAttention": (4, 2),
    }.get(name, (2, 4, 3) if "Conv" in name else (3, 4))
    module = getattr(cr.nn, name)(*args)
    for pname, p in module.named_parameters():
        assert isinstance(p, cr.nn.Parameter) and p.dtype == np.float32, pname
    for bname, b in module.named_buffers():
        assert b.dtype == (np.int64 if bname.endswith("num_batches_tracked") else np.float32), bname


def test_float32_end_to_end() -> None:
    net = cr.nn.Sequential(
        cr.nn.Conv2d(1, 2, 3),
        cr.nn.BatchNorm2d(2),
        cr.nn.ReLU(),
        cr.nn.MaxPool2d(2),
        cr.nn.Flatten(),
        cr.nn.Linear(2 * 3 * 3, 3),
    )
    x = cr.randn(4, 1, 8, 8)
    loss = cr.nn.functional.cross_entropy(net(x), cr.tensor([0, 1, 2, 0]))
    assert loss.dtype == np.float32
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, name


@pytest.mark.parametrize(
    ("factory", "error"),
    [
        (lambda: cr.nn.Linear(0, 3), ValueError),
        (lambda: cr.nn.Linear(3, -1), ValueError),
        (lambda: cr.nn.Linear(2.5, 3), TypeError),
        (lambda: cr.nn.Conv2d(3, 4, 0), ValueError),
        (lambda: cr.nn.Conv2d(3, 4, 3, stride=0), ValueError),
        (lambda: cr.nn.Conv2d(3, 4, 3, groups=2), ValueError),
        (lambda: cr.nn.Conv2d(2, 4, 3, padding=-1), ValueError),
        (lambda: cr.nn.Conv2d(2, 4, 3, padding="full"), ValueError),
        (lambda: cr.nn.Conv2d(2, 4, 3, stride=2, padding="same"), ValueError),
        (lambda: cr.nn.Conv2d(2, 4, 3, padding_mode="mirror"), ValueError),
        (lambda: cr.nn.MaxPool2d(0), ValueError),
        (lambda: cr.nn.AvgPool2d(2, stride=-1), ValueError),
        (lambda: cr.nn.Dropout(1.5), ValueError),
        (lambda: cr.nn.Dropout(-0.1), ValueError),
        (lambda: cr.nn.LSTM(3, 4, dropout=2.0), ValueError),
        (lambda: cr.nn.BatchNorm2d(0), ValueError),
        (lambda: cr.nn.Embedding(5, 3, padding_idx=7), ValueError),
        (lambda: cr.nn.MultiheadAttention(6, 4), ValueError),
        (lambda: cr.nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError),
        (lambda: cr.nn.CrossEntropyLoss(reduction="avg"), ValueError),
        (lambda: cr.nn.GELU("fast"), ValueError),
    ],
)
def test_constructor_validation(factory, error) -> None:
    with pytest.raises(error):
        factory()


@pytest.mark.parametrize(
    ("module", "shape", "pattern"),
    [
        (cr.nn.Conv2d(3, 4, 3), (3, 8), r"Conv2d.*\(N, C, H, W\).*\(3, 8\)"),
        (cr.nn.Conv2d(3, 4, 3), (2, 2, 8, 8), r"Conv2d.*3 channels"),
        (cr.nn.Conv1d(3, 4, 3), (2, 3, 8, 8), r"Conv1d.*\(N, C, L\)"),
        (cr.nn.Linear(3, 4), (2, 5), r"Linear.*\(\*, 3\).*\(2, 5\)"),
        (cr.nn.BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d.*4D.*3D"),
        (cr.nn.BatchNorm1d(3), (2, 4), r"BatchNorm1d.*3 channels"),
        (cr.nn.MaxPool2d(2), (8,), r"MaxPool2d.*\(N, C, H, W\)"),
        (cr.nn.LayerNorm(4), (2, 5), r"LayerNorm.*\(\*, 4\)"),
        (cr.nn.LSTM(3, 4), (5, 2, 7), r"input_size.*3.*7"),
        (cr.nn.GRU(3, 4), (5,), r"GRU.*\(L, N, H_in\)"),
    ],
)
def test_wrong_input_shape_names_layer_and_expected_shape(module, shape, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        module(cr.zeros(*shape))


def test_conv_transpose_output_size_argument(torch) -> None:
    t_mod = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    c_mod = cr.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    c_mod.load_state_dict(t_mod.state_dict())
    x = RNG.standard_normal((1, 2, 4, 4))
    out_t = t_mod(torch.tensor(x), output_size=[8, 8])
    out_c = c_mod.double()(cr.tensor(x), output_size=(8, 8))
    np.testing.assert_allclose(out_c.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="output size"):
        c_mod(cr.tensor(x), output_size=(12, 12))


def test_maxpool_return_indices(torch) -> None:
    x = RNG.standard_normal((2, 3, 7, 6))
    t_out, t_idx = torch.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(torch.tensor(x))
    c_out, c_idx = cr.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(cr.tensor(x))
    np.testing.assert_array_equal(c_idx.data, t_idx.numpy())
    np.testing.assert_allclose(c_out.data, t_out.numpy())


def test_unbatched_inputs_match_torch(torch) -> None:
    torch.manual_seed(1)
    cases = [
        ("Conv2d", (2, 3, 3), randn(2, 5, 5)),
        ("MaxPool2d", (2,), randn(2, 4, 4)),
        ("AvgPool1d", (2,), randn(2, 6)),
        ("ConvTranspose2d", (2, 3, 2), randn(2, 3, 3)),
    ]
    for name, args, x in cases:
        t_mod, c_mod = getattr(torch.nn, name)(*args), getattr(cr.nn, name)(*args)
        check_module_parity(torch, t_mod, c_mod, [x])


def test_embedding_from_pretrained_and_max_norm(torch) -> None:
    w = RNG.standard_normal((6, 3)) * 3
    emb = cr.nn.Embedding.from_pretrained(cr.tensor(w), freeze=True)
    assert not emb.weight.requires_grad
    idx = np.array([0, 5, 5, 2])
    t_emb = torch.nn.Embedding(6, 3, max_norm=1.0).double()
    c_emb = cr.nn.Embedding(6, 3, max_norm=1.0)
    c_emb.load_state_dict(t_emb.state_dict())
    with torch.no_grad():
        t_emb.weight.copy_(torch.tensor(w))
    c_emb.double().weight.data[...] = w
    out_t, out_c = t_emb(torch.tensor(idx)), c_emb(cr.tensor(idx))
    np.testing.assert_allclose(out_c.data, out_t.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(c_emb.weight.data, t_emb.weight.detach().numpy(), rtol=1e-6)


DTYPE_CASES = [
    ("Linear", (3, 2), {}, (4, 3)),
    ("Linear", (3, 2), {"bias": False}, (4, 3)),
    ("Conv1d", (1, 2, 2), {}, (1, 1, 5)),
    ("Conv2d", (1, 2, 2), {}, (1, 1, 4, 4)),
    ("Conv2d", (1, 2, 2), {"bias": False}, (1, 4, 4)),
    ("Conv3d", (1, 2, 2), {}, (1, 1, 3, 3, 3)),
    ("ConvTranspose1d", (1, 2, 2), {}, (1, 1, 4)),
    ("ConvTranspose2d", (1, 2, 2), {}, (1, 1, 3, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", DTYPE_CASES)
@pytest.mark.parametrize("dtype", ["float64", "int64", "float16"])
def test_layers_refuse_an_input_of_another_dtype_as_torch(torch, name, args, kwargs, shape, dtype) -> None:
    """Before: a float64 or int input on float32 weights was promoted silently; torch raises RuntimeError."""
    torch_layer = getattr(torch.nn, name)(*args, **kwargs).float()
    with pytest.raises(RuntimeError) as expected:
        torch_layer(torch.zeros(shape, dtype=getattr(torch, dtype)))
    layer = getattr(cr.nn, name)(*args, **kwargs)
    with pytest.raises(RuntimeError) as got:
        layer(cr.zeros(shape, dtype=dtype))
    message = str(got.value)
    if name == "Linear":  # torch's matmul wording, word for word (torch's no-bias path words it differently)
        assert (
            message
            == "mat1 and mat2 must have the same dtype, but got "
            + {
                "float64": "Double and Float",
                "int64": "Long and Float",
                "float16": "Half and Float",
            }[dtype]
        )
        if kwargs == {}:
            assert message == str(expected.value)
    else:  # torch's convolution wording: "Input type (double) and bias type (float) should be the same"
        torch_name = {"float64": "double", "int64": "long int", "float16": "c10::Half"}[dtype]
        assert (
            message.startswith(f"Input type ({torch_name}) and ")
            and "type (float) should be the same" in message
        )
        if kwargs == {} and not name.startswith("ConvTranspose"):
            assert message == str(expected.value)


def test_layers_accept_their_own_dtype_after_double(torch) -> None:
    layer = cr.nn.Linear(3, 2).double()
    assert layer(cr.zeros(4, 3, dtype="float64")).dtype == np.float64
    with pytest.raises(RuntimeError, match="but got Float and Double"):
        layer(cr.zeros(4, 3))
    conv = cr.nn.Conv2d(1, 1, 2).double()
    with pytest.raises(RuntimeError, match=r"Input type \(float\) and bias type \(double\)"):
        conv(cr.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("dtype1", "dtype2"), [("int64", "float32"), ("float32", "float16"), ("float64", "float32")]
)
def test_bilinear_refuses_mixed_dtypes_with_torchs_message(torch, bias, dtype1, dtype2) -> None:
    with pytest.raises(RuntimeError) as expected:
        torch.nn.Bilinear(2, 2, 1, bias=bias).float()(
            torch.zeros(1, 2, dtype=getattr(torch, dtype1)), torch.zeros(1, 2, dtype=getattr(torch, dtype2))
        )
    with pytest.raises(RuntimeError) as got:
        cr.nn.Bilinear(2, 2, 1, bias=bias)(cr.zeros(1, 2, dtype=dtype1), cr.zeros(1, 2, dtype=dtype2))
    assert str(got.value) == str(expected.value)
