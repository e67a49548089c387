"""The text rules (``dL/dZ2 = dL/dA2 · σ(Z2)(1−σ(Z2))``) as LaTeX for MathJax/KaTeX.

>>> print(to_tex("dL/dZ2 = σ(Z2)", {"L", "Z2"}))
\\frac{\\partial L}{\\partial \\mathit{Z2}} = \\sigma (\\mathit{Z2})
>>> print(to_tex("dL/dx = dL/dy / (2·√x)", {"L", "x", "y"}))
\\frac{\\partial L}{\\partial x} = \\frac{\\partial L}{\\partial y} / (2\\cdot \\sqrt{x})

Node names become italic symbols, known functions upright operators, other words ``\\text{}``.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_TOKEN = re.compile(
    r"(?P<frac>[d∂](?P<num>[A-Za-z_][A-Za-z0-9_]*)/[d∂](?P<den>\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*))"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:'s)?)"
    r"|(?P<number>\d+(?:\.\d+)?(?:e[-+]?\d+)?)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)"
)
_SYMBOLS = {
    "·": r"\cdot", "σ": r"\sigma", "Φ": r"\Phi", "φ": r"\phi", "π": r"\pi", "−": "-", "½": r"\tfrac{1}{2}",
    "⊙": r"\odot", "Σ": r"\sum", "≤": r"\le", "≥": r"\ge", "∞": r"\infty", "²": "^{2}", "ᵀ": r"^{\top}",
    "{": r"\{", "}": r"\}", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "…": r"\ldots",
}  # fmt: skip
_FUNCTIONS = {"exp", "log", "ln", "sin", "cos", "tan", "tanh", "sign", "softmax", "max", "mean", "reshape",
              "sum_to", "broadcast_to", "flip", "one_hot", "mask", "cond", "target"}  # fmt: skip
_WORDS = {"if", "else", "not", "of", "to", "by", "the", "and", "is", "at", "as", "in", "it", "on", "or"}


def _name(name: str) -> str:
    escaped = name.replace("_", r"\_")
    return escaped if len(name) == 1 else rf"\mathit{{{escaped}}}"


def _frac(num: str, den: str, names: Collection[str]) -> str:
    if den.startswith("("):
        den_tex = "(" + ", ".join(_name(d.strip()) for d in den[1:-1].split(",")) + ")"
    else:
        den_tex = _name(den)
    return rf"\frac{{\partial {_name(num)}}}{{\partial {den_tex}}}"


def to_tex(rule: str, names: Collection[str]) -> str:
    """``rule`` as LaTeX math (without delimiters); ``names`` are the graph's node names."""
    tokens = [(m.lastgroup, m) for m in _TOKEN.finditer(rule)]
    out: list[str] = []
    words: list[str] = []  # a run of plain words, emitted as one \text{...}

    def flush() -> None:
        if words:
            out.append(r"\text{" + "".join(words).replace("_", r"\_") + "}")
            words.clear()

    i = 0
    while i < len(tokens):
        kind, m = tokens[i]
        text = m.group(0)
        word = (
            kind == "ident"
            and text not in names
            and (text in _WORDS or (len(text) > 2 and text not in _FUNCTIONS))
        )
        if word or (kind == "space" and words):
            words.append(text)
            i += 1
            continue
        if kind == "space" and i + 1 < len(tokens) and _is_word(tokens[i + 1], names):
            words.append(text)  # the space before a word belongs to its \text{}
            i += 1
            continue
        flush()
        if kind == "frac":
            out.append(_frac(m.group("num"), m.group("den"), names))
        elif kind == "ident":
            if text in names:
                out.append(_name(text))
            elif text in _FUNCTIONS:
                out.append(r"\operatorname{" + text.replace("_", r"\_") + "}")
            else:
                out.append(text)
        elif kind == "space":
            out.append(" ")
        elif kind == "number" and text == "1" and i + 1 < len(tokens) and tokens[i + 1][1].group(0) == "[":
            out.append(r"\mathbf{1}")  # an indicator 1[x > 0]
        elif kind == "number":
            out.append(text)
        elif text in ("^", "√"):
            arg, i = _argument(tokens, i + 1, names)
            out.append(("^" if text == "^" else r"\sqrt") + "{" + arg + "}")
            continue
        else:
            symbol = _SYMBOLS.get(text, text)
            out.append(symbol + " " if symbol[:1] == "\\" and symbol[-1:].isalpha() else symbol)
        i += 1
    if words and all(w.isspace() for w in words):
        words.clear()
    flush()
    return "".join(out).strip()


def _is_word(token: tuple[str | None, re.Match[str]], names: Collection[str]) -> bool:
    kind, m = token
    text = m.group(0)
    return (
        kind == "ident"
        and text not in names
        and (text in _WORDS or (len(text) > 2 and text not in _FUNCTIONS))
    )


def _argument(
    tokens: list[tuple[str | None, re.Match[str]]], i: int, names: Collection[str]
) -> tuple[str, int]:
    """The exponent or radicand starting at token ``i``: a parenthesised group (parentheses dropped) or
    one token; returns its LaTeX and the index after it."""
    if i >= len(tokens):
        return "", i
    if tokens[i][1].group(0) != "(":
        return to_tex(tokens[i][1].group(0), names), i + 1
    depth, j = 0, i
    while j < len(tokens):
        ch = tokens[j][1].group(0)
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            break
        j += 1
    inner = "".join(t[1].group(0) for t in tokens[i + 1 : j])
    return to_tex(inner, names), j + 1
