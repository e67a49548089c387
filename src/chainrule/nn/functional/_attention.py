"""``scaled_dot_product_attention`` and the multi-head forward used by ``nn.MultiheadAttention``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.nn.functional._activation import softmax
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._dropout import dropout
from chainrule.nn.functional._linear import linear
from chainrule.tensor import Tensor, _new


def _additive_mask(mask: Any, dtype: np.dtype, allowed_when_true: bool, device: str = "cpu") -> Tensor | None:
    """A boolean mask becomes 0 / -inf (which value blocks depends on the API); a float mask is added."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else _new(mask if backend.is_cuda_array(mask) else np.asarray(mask))
    m = m.to(device)
    if m.dtype == np.bool_:
        blocked = ~m.data if allowed_when_true else m.data
        return _new(np.where(blocked, -np.inf, 0.0).astype(dtype))
    return m if m.dtype == dtype else m.to(dtype)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q·kᵀ·scale + mask)·v over the last two dims; a boolean ``attn_mask`` is True where allowed."""
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal, not both")
    lq, ls = query.shape[-2], key.shape[-2]
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ops.matmul(query, key.transpose(-2, -1)) * s
    if is_causal:
        attn_mask = np.tril(np.ones((lq, ls), dtype=bool))
    add = _additive_mask(attn_mask, scores.dtype, allowed_when_true=True, device=scores.device)
    if add is not None:
        scores = scores + add
    weights = softmax(scores, dim=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return ops.matmul(weights, value)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    key_padding_mask: Any = None,
    need_weights: bool = True,
    attn_mask: Any = None,
    average_attn_weights: bool = True,
    dropout_p: float = 0.0,
    training: bool = True,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """torch's multi-head attention on (L, N, E) query and (S, N, E) key/value; returns (output, weights).

    Boolean masks mark positions to IGNORE (True), as in ``nn.MultiheadAttention``; float masks are added.
    """
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    head_dim = embed_dim // num_heads
    if key.shape[:2] != value.shape[:2] or key.shape[1] != bsz:
        raise ShapeError(
            f"multi_head_attention: key {key.shape} and value {value.shape} must match query {query.shape}"
        )
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = ops.chunk(in_proj_bias, 3)
    if in_proj_weight is not None:
        if query is key and key is value:
            q, k, v = ops.chunk(linear(query, in_proj_weight, in_proj_bias), 3, dim=-1)
        else:
            w_q, w_k, w_v = ops.chunk(in_proj_weight, 3)
            q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    else:
        q, k, v = (
            linear(query, q_proj_weight, b_q),
            linear(key, k_proj_weight, b_k),
            linear(value, v_proj_weight, b_v),
        )
    bh = bsz * num_heads
    q = q.reshape(tgt_len, bh, head_dim).transpose(0, 1)
    k = k.reshape(src_len, bh, head_dim).transpose(0, 1)
    v = v.reshape(src_len, bh, head_dim).transpose(0, 1)
    if is_causal and attn_mask is None:
        attn_mask = np.triu(np.ones((tgt_len, src_len), dtype=bool), 1)
    mask = _additive_mask(attn_mask, q.dtype, allowed_when_true=False, device=q.device)
    if mask is not None and mask.ndim == 3 and mask.shape[0] != bh:
        raise ShapeError(
            f"The shape of the 3D attn_mask is {mask.shape}, but should be {(bh, tgt_len, src_len)}."
        )
    pad = _additive_mask(key_padding_mask, q.dtype, allowed_when_true=False, device=q.device)
    if pad is not None:
        if pad.shape != (bsz, src_len):
            raise ShapeError(f"key_padding_mask should have shape {(bsz, src_len)}, got {pad.shape}")
        pad = _new(np.repeat(pad.data[:, None, None, :], num_heads, axis=1).reshape(bh, 1, src_len))
        mask = pad if mask is None else mask + pad
    scores = ops.matmul(q * (1.0 / math.sqrt(head_dim)), k.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0 and training:
        weights = dropout(weights, dropout_p)
    out = ops.matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not need_weights:
        return out, None
    w = weights.reshape(bsz, num_heads, tgt_len, src_len)
    return out, (w.mean(dim=1) if average_attn_weights else w)
