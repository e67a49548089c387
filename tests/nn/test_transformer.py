"""Transformer, its encoder/decoder layers and stacks against torch: torch's state dict loaded, float64,
outputs and every parameter gradient compared (eval mode, and training mode with dropout=0)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_parity import assert_close, check_module_parity, load_from_torch

import chainrule as cr

RNG = np.random.default_rng(7)
D, H, FF = 8, 2, 16


def _lib(x):  # noqa: ANN001, ANN202
    import torch

    return torch if isinstance(x, torch.Tensor) else cr


def _shape(length: int, batch: int, batch_first: bool) -> tuple[int, int, int]:
    return (batch, length, D) if batch_first else (length, batch, D)


def _pad(batch: int, length: int) -> np.ndarray:
    pad = np.zeros((batch, length), dtype=bool)
    pad[0, -1] = True
    pad[-1, 1] = True
    return pad


def _causal(n: int, kind: str) -> np.ndarray:
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    return upper if kind == "bool" else np.where(upper, -np.inf, 0.0)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("train", [False, True])
def test_encoder_layer_matches_torch(
    torch, norm_first: bool, activation: str, batch_first: bool, train: bool
) -> None:
    torch.manual_seed(0)
    kw = {"dim_feedforward": FF, "dropout": 0.0, "activation": activation}
    kw |= {"batch_first": batch_first, "norm_first": norm_first}
    t_mod, c_mod = torch.nn.TransformerEncoderLayer(D, H, **kw), cr.nn.TransformerEncoderLayer(D, H, **kw)
    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal(_shape(5, 3, batch_first))], train=train)


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_masks_match_torch(torch, mask_kind: str, norm_first: bool) -> None:
    torch.manual_seed(1)
    kw = {"dim_feedforward": FF, "dropout": 0.0, "norm_first": norm_first}
    t_mod, c_mod = torch.nn.TransformerEncoderLayer(D, H, **kw), cr.nn.TransformerEncoderLayer(D, H, **kw)
    mask = _causal(5, mask_kind)
    mask[0, 1] = True if mask_kind == "bool" else -1.5  # not purely causal: a real float/bool mask
    pad = _pad(3, 5)

    def call(m, x):  # noqa: ANN001, ANN202
        lib = _lib(x)
        return m(x, src_mask=lib.tensor(mask), src_key_padding_mask=lib.tensor(pad))

    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal((5, 3, D))], call=call)


@pytest.mark.parametrize("with_pad", [False, True])
def test_encoder_layer_is_causal(torch, with_pad: bool) -> None:
    torch.manual_seed(2)
    kw = {"dim_feedforward": FF, "dropout": 0.0, "batch_first": True}
    t_mod, c_mod = torch.nn.TransformerEncoderLayer(D, H, **kw), cr.nn.TransformerEncoderLayer(D, H, **kw)
    mask = _causal(4, "float")
    pad = _pad(2, 4)

    def call(m, x):  # noqa: ANN001, ANN202
        lib = _lib(x)
        kpm = lib.tensor(pad) if with_pad else None
        return m(x, src_mask=lib.tensor(mask), src_key_padding_mask=kpm, is_causal=True)

    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal((2, 4, D))], call=call)
    with pytest.raises(RuntimeError, match="is_causal"):
        torch.nn.TransformerEncoderLayer(D, H, **kw)(torch.randn(2, 4, D), is_causal=True)
    with pytest.raises(RuntimeError, match="is_causal"):
        c_mod(cr.randn(2, 4, D), is_causal=True)


@pytest.mark.parametrize("is_causal", [None, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_with_final_norm(torch, is_causal: bool | None, norm_first: bool) -> None:
    torch.manual_seed(3)
    kw = {"dim_feedforward": FF, "dropout": 0.0, "norm_first": norm_first}
    t_mod = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, H, **kw),
        3,
        norm=torch.nn.LayerNorm(D),
        enable_nested_tensor=False,
    )
    c_mod = cr.nn.TransformerEncoder(cr.nn.TransformerEncoderLayer(D, H, **kw), 3, norm=cr.nn.LayerNorm(D))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6).double().numpy()
    pad = _pad(2, 6)

    def call(m, x):  # noqa: ANN001, ANN202
        lib = _lib(x)
        return m(x, mask=lib.tensor(mask), src_key_padding_mask=lib.tensor(pad), is_causal=is_causal)

    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal((6, 2, D))], call=call)


def test_encoder_deep_copies_layer(torch) -> None:
    layer = cr.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF)
    enc = cr.nn.TransformerEncoder(layer, 2)
    assert len(enc.layers) == 2 and enc.layers[0] is not layer and enc.layers[0] is not enc.layers[1]
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.data, enc.layers[1].linear1.weight.data)
    t_enc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF), 2, enable_nested_tensor=False
    )
    assert list(enc.state_dict()) == list(t_enc.state_dict())


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_torch(torch, norm_first: bool, batch_first: bool, activation: str) -> None:
    torch.manual_seed(4)
    kw = {"dim_feedforward": FF, "dropout": 0.0, "norm_first": norm_first}
    kw |= {"batch_first": batch_first, "activation": activation}
    t_mod, c_mod = torch.nn.TransformerDecoderLayer(D, H, **kw), cr.nn.TransformerDecoderLayer(D, H, **kw)
    tgt, mem = RNG.standard_normal(_shape(4, 2, batch_first)), RNG.standard_normal(_shape(6, 2, batch_first))
    tmask, mmask = _causal(4, "bool"), np.zeros((4, 6), dtype=bool)
    mmask[1, 2] = True
    tpad, mpad = _pad(2, 4), _pad(2, 6)

    def call(m, t, s):  # noqa: ANN001, ANN202
        lib = _lib(t)
        return m(
            t,
            s,
            tgt_mask=lib.tensor(tmask),
            memory_mask=lib.tensor(mmask),
            tgt_key_padding_mask=lib.tensor(tpad),
            memory_key_padding_mask=lib.tensor(mpad),
        )

    check_module_parity(torch, t_mod, c_mod, [tgt, mem], call=call)
    check_module_parity(torch, t_mod, c_mod, [tgt, mem], train=False)


def test_decoder_stack_tgt_is_causal(torch) -> None:
    torch.manual_seed(5)
    kw = {"dim_feedforward": FF, "dropout": 0.0}
    t_mod = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(D, H, **kw), 2, norm=torch.nn.LayerNorm(D)
    )
    c_mod = cr.nn.TransformerDecoder(cr.nn.TransformerDecoderLayer(D, H, **kw), 2, norm=cr.nn.LayerNorm(D))
    mask = _causal(5, "float")

    def call(m, t, s):  # noqa: ANN001, ANN202
        return m(t, s, tgt_mask=_lib(t).tensor(mask), tgt_is_causal=True)

    check_module_parity(
        torch, t_mod, c_mod, [RNG.standard_normal((5, 3, D)), RNG.standard_normal((7, 3, D))], call=call
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_full_transformer_matches_torch(torch, batch_first: bool, norm_first: bool) -> None:
    torch.manual_seed(6)
    kw = {"d_model": D, "nhead": H, "num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": FF}
    kw |= {"dropout": 0.0, "batch_first": batch_first, "norm_first": norm_first, "activation": "gelu"}
    t_mod, c_mod = torch.nn.Transformer(**kw), cr.nn.Transformer(**kw)
    src, tgt = RNG.standard_normal(_shape(6, 2, batch_first)), RNG.standard_normal(_shape(4, 2, batch_first))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4).double().numpy()
    spad = _pad(2, 6)

    def call(m, s, t):  # noqa: ANN001, ANN202
        lib = _lib(s)
        return m(
            s,
            t,
            tgt_mask=lib.tensor(tmask),
            src_key_padding_mask=lib.tensor(spad),
            memory_key_padding_mask=lib.tensor(spad),
        )

    check_module_parity(torch, t_mod, c_mod, [src, tgt], call=call)


def test_unbatched_input_matches_torch(torch) -> None:
    torch.manual_seed(8)
    kw = {"d_model": D, "nhead": H, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": FF}
    t_mod, c_mod = torch.nn.Transformer(**kw, dropout=0.0), cr.nn.Transformer(**kw, dropout=0.0)
    pad = np.array([False, False, True, False, False])

    def call(m, s, t):  # noqa: ANN001, ANN202
        return m(s, t, src_key_padding_mask=_lib(s).tensor(pad))

    check_module_parity(
        torch, t_mod, c_mod, [RNG.standard_normal((5, D)), RNG.standard_normal((3, D))], call=call
    )


def test_generate_square_subsequent_mask(torch) -> None:
    for sz in (1, 4):
        ours = cr.nn.Transformer.generate_square_subsequent_mask(sz)
        theirs = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert cr.nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64).dtype == np.float64


def test_defaults_and_names_match_torch(torch) -> None:
    t_layer, c_layer = torch.nn.TransformerEncoderLayer(16, 4), cr.nn.TransformerEncoderLayer(16, 4)
    assert c_layer.linear1.out_features == 2048 and c_layer.dropout.p == 0.1
    assert c_layer.norm1.eps == t_layer.norm1.eps and c_layer.self_attn.batch_first is False
    assert [n for n, _ in c_layer.named_parameters()] == [n for n, _ in t_layer.named_parameters()]
    t_full, c_full = torch.nn.Transformer(16, 4, 1, 1, 32), cr.nn.Transformer(16, 4, 1, 1, 32)
    assert list(c_full.state_dict()) == list(t_full.state_dict())
    load_from_torch(c_full, t_full)  # strict load of torch's tensors
    no_bias = cr.nn.TransformerDecoderLayer(16, 4, bias=False)
    t_no_bias = torch.nn.TransformerDecoderLayer(16, 4, bias=False)
    assert list(no_bias.state_dict()) == list(t_no_bias.state_dict())


def test_callable_activation(torch) -> None:
    torch.manual_seed(9)
    kw = {"dim_feedforward": FF, "dropout": 0.0}
    t_mod = torch.nn.TransformerEncoderLayer(D, H, activation=torch.nn.functional.silu, **kw)
    c_mod = cr.nn.TransformerEncoderLayer(D, H, activation=cr.nn.functional.silu, **kw)
    check_module_parity(torch, t_mod, c_mod, [RNG.standard_normal((4, 2, D))])


def test_errors_like_torch(torch) -> None:
    with pytest.raises(AssertionError):
        torch.nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(ValueError, match="divisible"):
        cr.nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        torch.nn.TransformerEncoderLayer(D, H, activation="tanh")
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        cr.nn.TransformerEncoderLayer(D, H, activation="tanh")
    t_mod = torch.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF)
    c_mod = cr.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF)
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        t_mod(torch.randn(5, 2, D), src_mask=torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        c_mod(cr.randn(5, 2, D), src_mask=np.zeros((4, 4), dtype=bool))
    t_full = torch.nn.Transformer(D, H, 1, 1, FF)
    c_full = cr.nn.Transformer(D, H, 1, 1, FF)
    for a, b in (((5, 2, D), (4, 3, D)), ((5, 2, D), (4, 2, D + 1))):
        with pytest.raises(RuntimeError, match="src and tgt must be equal"):
            t_full(torch.randn(*a), torch.randn(*b))
        with pytest.raises(RuntimeError, match="src and tgt must be equal"):
            c_full(cr.randn(*a), cr.randn(*b))


def test_adam_training_loop_matches_torch(torch) -> None:
    """A few Adam steps on a toy copy task: loss and every parameter equal torch step by step."""
    torch.manual_seed(10)
    kw = {"d_model": D, "nhead": H, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": FF}
    kw |= {"dropout": 0.0, "batch_first": True}
    t_mod, c_mod = torch.nn.Transformer(**kw).double(), cr.nn.Transformer(**kw)
    load_from_torch(c_mod, t_mod)
    c_mod.double()
    t_head, c_head = torch.nn.Linear(D, D).double(), cr.nn.Linear(D, D)
    load_from_torch(c_head, t_head)
    c_head.double()
    t_opt = torch.optim.Adam([*t_mod.parameters(), *t_head.parameters()], lr=1e-2)
    c_opt = cr.optim.Adam([*c_mod.parameters(), *c_head.parameters()], lr=1e-2)
    rng = np.random.default_rng(11)
    src = rng.standard_normal((4, 5, D))
    tgt_in, target = src[:, :-1], src[:, 1:]
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4).double().numpy()
    t_losses, c_losses = [], []
    for _ in range(5):
        t_opt.zero_grad()
        t_out = t_head(t_mod(torch.tensor(src), torch.tensor(tgt_in), tgt_mask=torch.tensor(mask)))
        t_loss = torch.nn.functional.mse_loss(t_out, torch.tensor(target))
        t_loss.backward()
        t_opt.step()
        c_opt.zero_grad()
        c_out = c_head(c_mod(cr.tensor(src), cr.tensor(tgt_in), tgt_mask=cr.tensor(mask)))
        c_loss = cr.nn.functional.mse_loss(c_out, cr.tensor(target))
        c_loss.backward()
        c_opt.step()
        t_losses.append(t_loss.item())
        c_losses.append(c_loss.item())
        assert abs(c_losses[-1] - t_losses[-1]) < 1e-5
        for (name, cp), (_, tp) in zip(c_mod.named_parameters(), t_mod.named_parameters()):
            assert_close(cp, tp, rtol=1e-5, atol=1e-5, what=name)
    assert c_losses[-1] < c_losses[0]


def test_deepcopy_and_repr(torch) -> None:
    c_mod = cr.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF)
    clone = copy.deepcopy(c_mod)
    assert clone.linear1.weight is not c_mod.linear1.weight
    assert "TransformerEncoderLayer" in repr(c_mod) and "self_attn" in repr(c_mod)


@settings(max_examples=10, deadline=None)
@given(
    src_len=st.integers(1, 6),
    tgt_len=st.integers(1, 5),
    batch=st.integers(1, 3),
    batch_first=st.booleans(),
    norm_first=st.booleans(),
)
def test_transformer_shapes_hypothesis(
    torch, src_len: int, tgt_len: int, batch: int, batch_first: bool, norm_first: bool
) -> None:
    torch.manual_seed(12)
    kw = {"d_model": D, "nhead": H, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": FF}
    kw |= {"dropout": 0.0, "batch_first": batch_first, "norm_first": norm_first}
    t_mod, c_mod = torch.nn.Transformer(**kw), cr.nn.Transformer(**kw)
    src = np.random.default_rng(src_len).standard_normal(_shape(src_len, batch, batch_first))
    tgt = np.random.default_rng(tgt_len).standard_normal(_shape(tgt_len, batch, batch_first))
    mask = _causal(tgt_len, "bool")

    def call(m, s, t):  # noqa: ANN001, ANN202
        return m(s, t, tgt_mask=_lib(s).tensor(mask))

    check_module_parity(torch, t_mod, c_mod, [src, tgt], call=call)


def test_float32_matches_torch(torch) -> None:
    torch.manual_seed(13)
    kw = {"d_model": D, "nhead": H, "num_encoder_layers": 2, "num_decoder_layers": 1, "dim_feedforward": FF}
    t_mod, c_mod = torch.nn.Transformer(**kw).eval(), cr.nn.Transformer(**kw).eval()
    load_from_torch(c_mod, t_mod)
    src, tgt = (
        RNG.standard_normal((5, 2, D)).astype(np.float32),
        RNG.standard_normal((3, 2, D)).astype(np.float32),
    )
    out = c_mod(cr.tensor(src), cr.tensor(tgt))
    assert out.dtype == np.float32
    assert_close(
        out, t_mod(torch.tensor(src), torch.tensor(tgt)), rtol=1e-4, atol=1e-5, what="float32 output"
    )


def test_dropout_active_in_training_only() -> None:
    cr.manual_seed(0)
    layer = cr.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF, dropout=0.5)
    x = cr.randn(4, 2, D)
    a, b = layer(x), layer(x)
    assert not np.allclose(a.data, b.data), "dropout=0.5 in training mode should change the output"
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)
    assert all(not m.training for m in layer.modules())
