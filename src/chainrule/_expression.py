"""Formulas for ``chainrule explain --expr`` and ``graph --expr``, like ``sigmoid(W2 @ relu(W1 @ x + b1))``.

A formula is parsed with :mod:`ast` and checked against a whitelist (numbers, names, ``+ - * / % ** @``,
unary ``±``, the constants ``pi`` and ``e``, and calls of :data:`FUNCTIONS`), then built from chainrule ops.
Python never evaluates any of it. Variables are given with ``--set NAME=VALUE``, where a value is a number
or a (nested) list such as ``[[1,2],[3,4]]``, parsed the same safe way by :func:`parse_value`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CONSTANTS", "FUNCTIONS", "expression", "parse_expression", "parse_value"]

CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_LENGTH = 2000
_MAX_ELEMENTS = 10_000  # the report prints every step: a --set value is for reading, not for big data
_OUTPUT_NAMES = ("f", "out", "result")  # the output is named f unless a variable already is


@dataclass(frozen=True)
class _Function:
    """A function an expression may call: how many arguments, and how it is built."""

    arities: tuple[int, ...]
    build: Callable[..., Any]  # on chainrule tensors
    number: Callable[..., float] | None = None  # on plain numbers (constant sub-expressions)
    scalar: Callable[..., Any] | None = None  # on the scalar engine's Scalars (None: not available there)


def _cr() -> Any:
    import chainrule as cr

    return cr


def _max(*args: Any) -> Any:
    cr = _cr()
    return cr.amax(args[0]) if len(args) == 1 else cr.maximum(*_tensors(*args))


def _min(*args: Any) -> Any:
    cr = _cr()
    return cr.amin(args[0]) if len(args) == 1 else cr.minimum(*_tensors(*args))


def _tensors(*args: Any) -> list[Any]:
    """Numbers next to tensors become float64 tensors (``maximum`` wants two tensors)."""
    cr = _cr()
    return [a if hasattr(a, "grad_fn") else cr.tensor(float(a), dtype="float64") for a in args]


def _op(name: str) -> Callable[..., Any]:
    return lambda *args: getattr(_cr(), name)(*args)


def _method(name: str) -> Callable[[Any], Any]:
    return lambda s: getattr(s, name)()


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _softplus(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


FUNCTIONS: dict[str, _Function] = {
    "exp": _Function((1,), _op("exp"), math.exp, _method("exp")),
    "log": _Function((1,), _op("log"), math.log, _method("log")),
    "sqrt": _Function((1,), _op("sqrt"), math.sqrt, _method("sqrt")),
    "square": _Function((1,), _op("square"), lambda v: v * v, lambda s: s**2),
    "sin": _Function((1,), _op("sin"), math.sin, _method("sin")),
    "cos": _Function((1,), _op("cos"), math.cos, _method("cos")),
    "tanh": _Function((1,), _op("tanh"), math.tanh, _method("tanh")),
    "sigmoid": _Function((1,), _op("sigmoid"), _sigmoid, _method("sigmoid")),
    "relu": _Function((1,), _op("relu"), lambda v: max(v, 0.0), _method("relu")),
    "abs": _Function((1,), _op("abs"), abs, _method("abs")),
    "softplus": _Function((1,), _op("softplus"), _softplus),
    "pow": _Function((2,), lambda a, b: a**b, math.pow),
    "max": _Function((1, 2), _max, lambda *a: max(a)),
    "min": _Function((1, 2), _min, lambda *a: min(a)),
    "sum": _Function((1,), _op("sum")),
    "mean": _Function((1,), _op("mean")),
}

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Pow, ast.MatMult)
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant, ast.UAdd,
            ast.USub, *_BINOPS)  # fmt: skip
_HINTS = {
    ast.BitXor: "use ** for powers (x**2, not x^2)",
    ast.FloorDiv: "// is not supported: use / (or x - x % y for the whole part)",
    ast.Compare: "comparisons are not differentiable: use max(a, b), min(a, b) or relu(x)",
    ast.Subscript: "indexing is not supported: give the element its own variable",
}
_ALLOWED_TEXT = "use numbers, variables, + - * / % ** @, parentheses, pi, e and " + ", ".join(
    f"{f}()" for f in FUNCTIONS
)


# ---------------------------------------------------------------------------------------------- parsing
def parse_expression(expr: str) -> tuple[ast.Expression, list[str]]:
    """Parse ``expr`` and check it against the whitelist; returns the tree and the variables in order.

    Raises ValueError naming what is not allowed (``x^2`` says to use ``**``); nothing is evaluated.

    >>> parse_expression("sigmoid(w*x + b)")[1]
    ['w', 'x', 'b']
    """
    if not isinstance(expr, str):
        raise TypeError(f"expression must be a str, got {type(expr).__name__}")
    if len(expr) > _MAX_LENGTH:
        raise ValueError(f"expression is too long ({len(expr)} characters, at most {_MAX_LENGTH})")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        hint = "; use ** for powers" if "^" in expr else ""
        raise ValueError(f"cannot parse expression {expr!r}: {getattr(exc, 'msg', exc)}{hint}") from None
    for node in ast.walk(tree):
        _check_node(node, expr)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: (n.lineno, n.col_offset)
    )
    variables: list[str] = []
    for node in names:
        if id(node) in called or node.id in CONSTANTS:
            continue
        if node.id in FUNCTIONS:
            raise ValueError(f"expression {expr!r}: {node.id} is a function; call it as {node.id}(...)")
        if node.id not in variables:
            variables.append(node.id)
    return tree, variables


def _check_node(node: ast.AST, expr: str) -> None:
    op = getattr(node, "op", None)
    for kind, hint in _HINTS.items():
        if isinstance(node, kind) or isinstance(op, kind):
            raise ValueError(f"expression {expr!r}: {_describe(node)} is not allowed: {hint}")
    if not isinstance(node, _ALLOWED):
        raise ValueError(f"expression {expr!r}: {_describe(node)} is not allowed ({_ALLOWED_TEXT})")
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            shown = func.id if isinstance(func, ast.Name) else ast.unparse(func)
            raise ValueError(
                f"expression {expr!r}: unknown function {shown!r}; known: {', '.join(FUNCTIONS)}"
            )
        arities = FUNCTIONS[func.id].arities
        if len(node.args) not in arities or node.keywords:
            counts = (
                "exactly one argument" if arities == (1,) else " or ".join(map(str, arities)) + " arguments"
            )
            raise ValueError(f"expression {expr!r}: {func.id}() takes {counts}, got {len(node.args)}")
    elif isinstance(node, ast.Constant) and (
        isinstance(node.value, bool) or not isinstance(node.value, (int, float))
    ):
        raise ValueError(f"expression {expr!r}: constant {node.value!r} is not a real number")  # fmt: skip


def _describe(node: ast.AST) -> str:
    try:
        return f"{type(node).__name__} {ast.unparse(node)!r}"
    except Exception:
        return type(node).__name__


def parse_value(text: str) -> float | list:
    """``"2"`` → 2.0, ``"[[1,2],[3,4]]"`` → nested lists of floats; finite numbers only, no evaluation.

    >>> parse_value("[[1, -2.5], [3, 4e-1]]")
    [[1.0, -2.5], [3.0, 0.4]]
    """
    import numpy as np

    if len(text) > 20 * _MAX_ELEMENTS:
        raise ValueError(f"value is too long ({len(text)} characters)")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
        value = _literal(tree)
    except (SyntaxError, RecursionError, MemoryError):
        raise ValueError("expected a number or a list such as [[1,2],[3,4]]") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return value
    try:
        array = np.array(value, dtype=np.float64)
    except ValueError:
        raise ValueError("the rows of a matrix must all have the same length") from None
    if array.size == 0 or array.size > _MAX_ELEMENTS or array.ndim > 4:
        raise ValueError(
            f"expected 1 to {_MAX_ELEMENTS} numbers in at most 4 dimensions, got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError("expected finite numbers")
    return array.tolist()


def _literal(node: ast.AST) -> Any:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literal(node.operand)
        if isinstance(inner, float):
            return -inner if isinstance(node.op, ast.USub) else inner
    elif (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        try:
            return float(node.value)
        except OverflowError:
            raise ValueError(f"{node.value} is too large") from None
    raise ValueError("expected a number or a list such as [[1,2],[3,4]]")  # fmt: skip


# ---------------------------------------------------------------------------------------------- building
def expression(expr: str, values: Mapping[str, Any], engine: str = "tensor") -> Any:
    """Build the graph of ``expr`` with its variables set from ``values``; returns the output, named ``f``.

    Variables become leaves that require grad (float64 tensors, or Scalars with ``engine="scalar"``); a
    value may be a number, a numeric string, or (tensor engine) a nested list. Unknown names raise
    ValueError naming them. The output is named ``f`` (``out`` if a variable is called ``f``).

    >>> import chainrule as cr
    >>> f = expression("sigmoid(w*x+b)", {"w": 2, "x": 0.5, "b": -1})
    >>> f.name, round(float(f.data), 4), round(float(cr.explain(f).grads["w"]), 4)
    ('f', 0.5, 0.125)
    """
    if engine not in ("tensor", "scalar"):
        raise ValueError(f"engine must be 'tensor' or 'scalar', got {engine!r}")
    tree, variables = parse_expression(expr)
    missing = [v for v in variables if v not in values]
    if missing:
        sets = " ".join(f"--set {v}=..." for v in missing)
        several = len(missing) > 1
        raise ValueError(
            f"expression {expr!r}: unknown name{'s' if several else ''} {', '.join(map(repr, missing))}; "
            f"give {'them' if several else 'it'} a value ({sets})"
        )
    if not variables:
        raise ValueError(f"expression {expr!r} has no variables, so there is nothing to differentiate")
    unused = [k for k in values if k not in variables]
    if unused:
        names, known = ", ".join(map(repr, unused)), ", ".join(variables)
        constant = [k for k in unused if k in CONSTANTS]
        why = f" ({constant[0]} is the constant {CONSTANTS[constant[0]]:.6g})" if constant else ""
        raise ValueError(f"expression {expr!r} has no variable {names}{why} (its variables: {known})")
    leaves = {name: _leaf(name, values[name], engine) for name in variables}
    builder = _Builder(leaves, engine)
    try:
        out = builder.build(tree.body)
    except RecursionError:
        raise ValueError(f"expression {expr!r} is nested too deeply") from None
    except (OverflowError, ZeroDivisionError, ValueError) as exc:
        raise ValueError(f"expression {expr!r} cannot be evaluated at these values: {exc}") from None
    except (RuntimeError, TypeError) as exc:  # shapes that do not fit (W @ x), and the like
        raise ValueError(f"expression {expr!r}: {exc}") from None
    if isinstance(out, float):
        raise ValueError(f"expression {expr!r} does not depend on its variables")
    if any(out is leaf for leaf in leaves.values()):
        out = out * 1.0  # a bare variable: give the output its own node
    out.name = next(n for n in _OUTPUT_NAMES if n not in variables)
    return out


def _leaf(name: str, value: Any, engine: str) -> Any:
    if isinstance(value, str):
        try:
            value = parse_value(value)
        except ValueError as exc:
            raise ValueError(f"value of {name!r} must be a number or a list ({exc}), got {value!r}") from None
    if engine == "scalar":
        from chainrule.scalar import Scalar

        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"value of {name!r} must be a number on the scalar engine, got {value!r}")
        return Scalar(float(value), name=name).requires_grad_()
    import chainrule as cr

    try:
        return cr.tensor(value, dtype="float64", requires_grad=True, name=name)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value of {name!r} is not numeric: {exc}") from None


class _Builder:
    """Walks a checked tree; sub-expressions without variables stay plain floats (``2**10`` is 1024.0)."""

    def __init__(self, leaves: dict[str, Any], engine: str) -> None:
        self.leaves, self.engine = leaves, engine

    def build(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return CONSTANTS[node.id] if node.id in CONSTANTS else self.leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            v = self.build(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.build(node.left), self.build(node.right))
        if isinstance(node, ast.Call):
            return self.call(node.func.id, [self.build(a) for a in node.args])  # type: ignore[attr-defined]
        raise ValueError(f"unexpected {type(node).__name__}")  # unreachable after parse_expression

    def binary(self, op: ast.operator, a: Any, b: Any) -> Any:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.Pow):
            result = a**b
            if isinstance(result, complex):  # (-8.0) ** (1/3) in Python
                raise ValueError(f"{a:g} ** {b:g} is not a real number")
            return result
        if isinstance(op, ast.Mod):
            if self.engine == "scalar" and not (isinstance(a, float) and isinstance(b, float)):
                raise ValueError("% is not available on the scalar engine")
            return _remainder(a, b)
        if isinstance(a, float) or isinstance(b, float) or self.engine == "scalar":
            raise ValueError("@ multiplies matrices and vectors: give both sides with --set W=[[...]]")
        return a @ b

    def call(self, name: str, args: list[Any]) -> Any:
        function = FUNCTIONS[name]
        if all(isinstance(a, float) for a in args) and function.number is not None:
            try:
                return float(function.number(*args))
            except ValueError as exc:
                raise ValueError(f"{name}({', '.join(f'{a:g}' for a in args)}): {exc}") from None
        if self.engine == "scalar":
            if function.scalar is None:
                raise ValueError(f"{name}() is not available on the scalar engine")
            return function.scalar(*args)
        if all(isinstance(a, float) for a in args):
            args = _tensors(*args)
        return function.build(*args)


def _remainder(a: Any, b: Any) -> Any:
    """``a % b`` with the sign of ``b``, as Python and ``torch.remainder``: ``a - b * floor(a / b)``.

    ``floor(a / b)`` is a constant of the graph (its derivative is 0 wherever it is defined), so the
    gradients are 1 for ``a`` and ``-floor(a / b)`` for ``b``, as in torch.
    """
    if isinstance(a, float) and isinstance(b, float):
        return a % b
    import numpy as np

    cr = _cr()
    with np.errstate(divide="ignore", invalid="ignore"):  # b == 0 gives NaN, as torch.remainder
        ratio = np.asarray(getattr(a, "data", a), dtype=np.float64) / np.asarray(getattr(b, "data", b))
    whole = cr.tensor(np.floor(ratio), dtype="float64", name="floor(a/b)")
    return a - b * whole
