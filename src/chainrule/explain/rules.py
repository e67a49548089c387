"""The local backward rule of each op, in words and math: ``dL/dZ2 = dL/dA2 · σ(Z2)(1−σ(Z2))``.

A rule is a template per input position. Placeholders: ``{gy}`` the upstream gradient (``dL/dA2``),
``{x}`` the input the rule is for, ``{a}``/``{b}``/``{w}`` inputs 0/1/1, ``{y}`` the output, ``{c}``…
the op's constants, ``{S}`` the input's shape. Ops without an entry get ``dL/dx = backward of <Op>``.

>>> rule("Sigmoid", 0, out="A2", inputs=["Z2"], root="L")
'dL/dZ2 = dL/dA2 · σ(Z2)(1−σ(Z2))'
>>> rule("MatMul", 1, out="Z2", inputs=["A1", "W2"], root="L")
'dL/dW2 = A1ᵀ · dL/dZ2'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.explain._format import fmt_number, fmt_shape

_ELEMENTWISE_UNARY = {
    "Exp": "{gy} · exp({x})",
    "Expm1": "{gy} · exp({x})",
    "Log": "{gy} / {x}",
    "Log1p": "{gy} / (1 + {x})",
    "Sqrt": "{gy} / (2·√{x})",
    "Rsqrt": "{gy} · (−½)·{x}^(−3/2)",
    "Square": "{gy} · 2·{x}",
    "Sin": "{gy} · cos({x})",
    "Cos": "{gy} · (−sin({x}))",
    "Tan": "{gy} · (1 + tan²({x}))",
    "Tanh": "{gy} · (1 − tanh²({x}))",
    "Sigmoid": "{gy} · σ({x})(1−σ({x}))",
    "ReLU": "{gy} · 1[{x} > 0]",
    "LeakyReLU": "{gy} · (1 if {x} > 0 else {slope})",
    "ELU": "{gy} · (1 if {x} > 0 else {alpha}·exp({x}))",
    "Softplus": "{gy} · σ({beta}·{x})",
    "GELU": "{gy} · (Φ({x}) + {x}·φ({x}))",
    "Erf": "{gy} · (2/√π)·exp(−{x}²)",
    "SiLU": "{gy} · σ({x})(1 + {x}(1−σ({x})))",
    "Abs": "{gy} · sign({x})",
    "Sign": "0 (sign is flat)",
    "Neg": "−{gy}",
    "Clamp": "{gy} · 1[{lo} ≤ {x} ≤ {hi}]",
    "AddScalar": "{gy}",
    "SubScalar": "{gy}",
    "RSubScalar": "−{gy}",
    "MulScalar": "{gy} · {c}",
    "DivScalar": "{gy} / {c}",
    "RDivScalar": "−{gy} · {c} / {x}²",
    "RPowScalar": "{gy} · {c}^{x} · ln({c})",
    "Cast": "{gy} cast back to the input's dtype",
    "Clone": "{gy}",
    "ToDevice": "{gy} moved back to the input's device",
    "Identity": "{gy}",
    "Pos": "{gy}",
    # reductions and shape ops
    "Sum": "{gy} broadcast back to shape {S}",
    "Mean": "{gy} broadcast back to shape {S}, divided by the number of averaged elements",
    "AMax": "{gy} routed to where {x} is largest (ties share it)",
    "AMin": "{gy} routed to where {x} is smallest (ties share it)",
    "LogSumExp": "{gy} · softmax({x})",
    "Prod": "{gy} · (product of the other elements of {x})",
    "CumSum": "reversed cumulative sum of {gy}",
    "Reshape": "reshape({gy}, {S})",
    "View": "reshape({gy}, {S})",
    "Permute": "{gy} permuted back to shape {S}",
    "Transpose": "{gy}ᵀ",
    "BroadcastTo": "sum_to({gy}, {S}) (summed over the broadcast dims)",
    "SumTo": "broadcast_to({gy}, {S})",
    "Flip": "flip({gy})",
    "Pad": "{gy} with the padding cut off",
    "Repeat": "{gy} summed over the repeats",
    "GetItem": "{gy} scattered into zeros{S} at the indexed positions",
    "GetItemGrad": "{gy} indexed like the forward",
    "TakeAlongDim": "{gy} scattered back along dim",
    "Split": "concatenation of the gradients of all pieces",
    "Softmax": "{y} ⊙ ({gy} − Σ {gy} ⊙ {y})",
    "LogSoftmax": "{gy} − softmax({x}) · Σ {gy}",
    "Dropout": "{gy} · mask / (1 − p)",
}

_BINARY = {
    "Add": ("{gy}", "{gy}"),
    "Sub": ("{gy}", "−{gy}"),
    "Mul": ("{gy} · {b}", "{gy} · {a}"),
    "Div": ("{gy} / {b}", "−{gy} · {a} / {b}²"),
    "Pow": ("{gy} · {b}·{a}^({b}−1)", "{gy} · {a}^{b} · ln({a})"),
    "MatMul": ("{gy} · {b}ᵀ", "{a}ᵀ · {gy}"),
    "Maximum": ("{gy} · 1[{a} > {b}] (ties: ½)", "{gy} · 1[{b} > {a}] (ties: ½)"),
    "Minimum": ("{gy} · 1[{a} < {b}] (ties: ½)", "{gy} · 1[{b} < {a}] (ties: ½)"),
    "Where": ("{gy} · 1[cond]", "{gy} · 1[not cond]"),
    "Linear": ("{gy} · {w}", "{gy}ᵀ · {a}", "{gy} summed over the batch"),
    # chainrule.nn.functional's fused ops (a rule for the first input; other inputs get the generic text)
    "_MaskMul": ("{gy} · mask (the kept elements, scaled by 1/(1−p))",),
    "Normalize": ("(1/σ) · ({gy} − mean({gy}) − {y} · mean({gy} ⊙ {y}))",),
    "_SoftmaxCrossEntropy": (
        "{gy} · (softmax({x}) − one_hot(target)), weighted and averaged as in the forward",
    ),
    "_NLLLoss": ("−{gy} at each target's entry of {x}, weighted and averaged as in the forward",),
    "_BCEWithLogits": ("{gy} · (σ({x}) − target), weighted and averaged as in the forward",),
    "_BinaryCrossEntropy": (
        "{gy} · ({x} − target) / ({x}(1 − {x})), weighted and averaged as in the forward",
    ),
    # the scalar engine's losses: (prediction, target); {t} is the target node or the constant target
    "MSELoss": ("{gy} · 2·({a} − {t})", "−{gy} · 2·({a} − {t})"),
    "BCELoss": ("{gy} · ({a} − {t}) / max({a}(1 − {a}), 1e-12)", "{gy} · (log(1 − {a}) − log({a}))"),
    "BCEWithLogitsLoss": ("{gy} · (σ({a}) − {t})", "−{gy} · {a}"),
}

_VARIADIC = {
    "Concat": "the slice of {gy} where {x} sits",
    "Stack": "the slice of {gy} where {x} sits",
    "AddN": "{gy}",  # the scalar engine's n-ary sum: every term gets the upstream gradient
}


def has_rule(kind: str) -> bool:
    """Whether ``kind`` has a specific rule (others get the generic ``backward of <Op>``)."""
    return kind in _ELEMENTWISE_UNARY or kind in _BINARY or kind in _VARIADIC or kind == "PowScalar"


def _fmt_const(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt_number(v, 6)
    if hasattr(v, "dtype") and getattr(v, "ndim", 1) == 0:
        return fmt_number(v.item(), 6)
    return str(v)


def _pow_scalar(c: Any) -> str:
    try:
        cf = float(c)
    except (TypeError, ValueError):
        return "{gy} · {c}·{x}^({c}−1)"
    if cf == 2:
        return "{gy} · 2·{x}"
    if cf == 1:
        return "{gy}"
    if cf == 0.5:
        return "{gy} / (2·√{x})"
    return "{gy} · {c}·{x}^" + _paren(fmt_number(cf - 1, 6))


def _paren(s: str) -> str:
    return s if s.lstrip("-").replace(".", "").isdigit() and not s.startswith("-") else f"({s})"


def rule(
    kind: str,
    position: int,
    out: str | Sequence[str],
    inputs: Sequence[str],
    root: str = "L",
    consts: dict[str, Any] | None = None,
    shape: tuple[int, ...] | None = None,
) -> str:
    """The backward rule of op ``kind`` for its input at ``position``, as ``dL/dx = …``."""
    consts = consts or {}
    outs = [out] if isinstance(out, str) else list(out)
    x = inputs[position]
    gy = f"d{root}/d{outs[0]}" if len(outs) == 1 else f"d{root}/d({', '.join(outs)})"
    template: str | None = None
    if kind == "PowScalar":
        template = _pow_scalar(consts.get("c"))
    elif kind == "Mean" and "n" in consts:  # the scalar engine's mean of n Scalars
        template = "{gy} / {n}"
    elif kind in _ELEMENTWISE_UNARY:
        template = _ELEMENTWISE_UNARY[kind]
    elif kind in _BINARY and position < len(_BINARY[kind]):
        template = _BINARY[kind][position]
    elif kind in _VARIADIC:
        template = _VARIADIC[kind]
    if template is None:
        return f"d{root}/d{x} = backward of {kind}"
    fields = {k: _fmt_const(v) for k, v in consts.items()}
    fields.setdefault("lo", "−∞")
    fields.setdefault("hi", "∞")
    fields.update(
        gy=gy,
        x=x,
        y=outs[0],
        a=inputs[0],
        b=inputs[1] if len(inputs) > 1 else "?",
        w=inputs[1] if len(inputs) > 1 else "?",
        t=inputs[1] if len(inputs) > 1 else fields.get("target", "target"),
        S=fmt_shape(shape) if shape is not None else "of the input",
    )
    try:
        rhs = template.format(**fields)
    except (KeyError, IndexError):
        return f"d{root}/d{x} = backward of {kind}"
    return f"d{root}/d{x} = {rhs}"
