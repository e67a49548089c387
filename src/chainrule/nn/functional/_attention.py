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


def _in_projection(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    separate: bool,
    weights: tuple[Tensor | None, Tensor | None, Tensor | None],
) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v projected by the packed ``in_proj_weight`` (or the three separate weights)."""
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = ops.chunk(in_proj_bias, 3)
    if not separate:
        if in_proj_weight is None:
            raise ValueError(
                "multi_head_attention_forward: use_separate_proj_weight is False but in_proj_weight is None"
            )
        if query is key and key is value:
            return ops.chunk(linear(query, in_proj_weight, in_proj_bias), 3, dim=-1)
        w_q, w_k, w_v = ops.chunk(in_proj_weight, 3)
    else:
        if any(w is None for w in weights):
            raise ValueError(
                "multi_head_attention_forward: use_separate_proj_weight is True but q_proj_weight, "
                "k_proj_weight or v_proj_weight is None"
            )
        w_q, w_k, w_v = weights
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """A mask with one more (zero: attend) key column, for an appended bias_k or zero-attention key."""
    return (
        None if mask is None else ops.cat([mask, _new(np.zeros((*mask.shape[:-1], 1), mask.dtype))], dim=-1)
    )


def _attn_mask(attn_mask: Any, dtype: np.dtype, device: str, shape2: tuple, shape3: tuple) -> Tensor | None:
    mask = _additive_mask(attn_mask, dtype, allowed_when_true=False, device=device)
    if mask is None:
        return None
    if mask.ndim == 2:
        if mask.shape != shape2:
            raise RuntimeError(f"The shape of the 2D attn_mask is {mask.shape}, but should be {shape2}.")
        return mask.unsqueeze(0)
    if mask.ndim != 3 or mask.shape != shape3:
        raise RuntimeError(f"The shape of the 3D attn_mask is {mask.shape}, but should be {shape3}.")
    return mask


def multi_head_attention_forward(  # noqa: PLR0913
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Any = None,
    need_weights: bool = True,
    attn_mask: Any = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """torch's multi-head attention (same positional signature) on (L, N, E) query and (S, N, E) key/value
    (or unbatched (L, E) and (S, E)); returns (output, weights averaged over heads or per head, or None).

    Boolean masks mark positions to IGNORE (True), as in ``nn.MultiheadAttention``; float masks are added.
    ``bias_k``/``bias_v`` append one learned key/value; ``add_zero_attn`` appends a zero key/value.
    """
    if query.ndim not in (2, 3):
        raise ValueError(f"multi_head_attention_forward: query should be 2-D or 3-D, got shape {query.shape}")
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = _additive_mask(key_padding_mask, query.dtype, False, query.device).unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    head_dim = embed_dim // num_heads
    if key.shape[:2] != value.shape[:2] or key.shape[1] != bsz:
        raise ShapeError(
            f"multi_head_attention: key {key.shape} and value {value.shape} must match query {query.shape}"
        )
    weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    q, k, v = _in_projection(
        query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight, weights
    )
    if is_causal and attn_mask is None:
        attn_mask = np.triu(np.ones((tgt_len, key.shape[0]), dtype=bool), 1)
    bh = bsz * num_heads
    mask = _attn_mask(attn_mask, q.dtype, q.device, (tgt_len, key.shape[0]), (bh, tgt_len, key.shape[0]))
    pad = _additive_mask(key_padding_mask, q.dtype, allowed_when_true=False, device=q.device)
    if bias_k is not None and bias_v is not None:
        k = ops.cat([k, bias_k.reshape(1, 1, embed_dim).expand(1, bsz, embed_dim)])
        v = ops.cat([v, bias_v.reshape(1, 1, embed_dim).expand(1, bsz, embed_dim)])
        mask, pad = _pad_last(mask), _pad_last(pad)
    elif bias_k is not None or bias_v is not None:
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must both be given or both be None")
    q = q.reshape(tgt_len, bh, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bh, head_dim).transpose(0, 1) if static_k is None else static_k
    v = v.reshape(v.shape[0], bh, head_dim).transpose(0, 1) if static_v is None else static_v
    if add_zero_attn:
        zeros = _new(np.zeros((bh, 1, head_dim), q.dtype))
        k, v = ops.cat([k, zeros], dim=1), ops.cat([v, zeros], dim=1)
        mask, pad = _pad_last(mask), _pad_last(pad)
    src_len = k.shape[1]
    if pad is not None:
        if pad.shape != (bsz, src_len):
            raise ShapeError(f"key_padding_mask should have shape {(bsz, src_len)}, got {pad.shape}")
        pad = pad.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len).reshape(bh, 1, src_len)
        mask = pad if mask is None else mask + pad
    return _attend(
        q,
        k,
        v,
        mask,
        dropout_p if training else 0.0,
        out_proj_weight,
        out_proj_bias,
        (tgt_len, bsz, num_heads),
        need_weights,
        average_attn_weights,
        unbatched,
    )


def _attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    sizes: tuple[int, int, int],
    need_weights: bool,
    average: bool,
    unbatched: bool,
) -> tuple[Tensor, Tensor | None]:
    """softmax(q·kᵀ/√d + mask)·v per head, merged and projected; weights shaped as torch returns them."""
    tgt_len, bsz, num_heads = sizes
    head_dim = q.shape[-1]
    scores = ops.matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    embed_dim = head_dim * num_heads
    out = ops.matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    w = weights.reshape(bsz, num_heads, tgt_len, k.shape[1])
    if average:
        w = w.mean(dim=1)
    if unbatched:
        return out.squeeze(1), (w.squeeze(0) if need_weights else None)
    return out, (w if need_weights else None)
