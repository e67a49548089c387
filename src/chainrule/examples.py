"""Small example graphs used by ``chainrule explain``/``graph``, the docs and the tests.

Each function builds a fresh graph and returns its output (with names on the interesting nodes):

* ``two_layer()``: the 2-2-1 sigmoid network worked by hand in ``docs/two_layer_by_hand.md``,
  loss ½(y − t)², float64.
* ``scalar()``: y = 3·x1 + 5·x2 at x1 = 1, x2 = 2 on the scalar engine.
* ``chain()``: y = (exp(x²))² at x = 0.5 on the tensor engine, float64.
* ``expression("sigmoid(w*x+b)", {"w": 2, "x": 0.5, "b": -1})``: a formula, parsed safely.

>>> import chainrule as cr
>>> y = chain()
>>> y.backward()
>>> round(float(cr.explain(chain()).grads["x"]), 6)
3.297443
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FUNCTIONS", "chain", "expression", "parse_expression", "scalar", "two_layer"]

#: The functions an expression may call.
FUNCTIONS = ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos", "abs", "square")

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_UNARYOPS = (ast.UAdd, ast.USub)
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    *_BINOPS,
    *_UNARYOPS,
)
_MAX_LENGTH = 2000


def two_layer() -> Any:
    """The 2-2-1 network of the hand derivation: A0 = [[0.35, 0.9]], sigmoid layers, target t = 0.5.

    Nodes: A0 (input), W1, W2 (weights, require grad), Z1 = A0·W1, A1 = σ(Z1), Z2 = A1·W2, A2 = σ(Z2),
    t, E = A2 − t, and the loss L = ½·Σ E².
    """
    import chainrule as cr

    f64 = "float64"
    A0 = cr.tensor([[0.35, 0.9]], dtype=f64, name="A0")
    W1 = cr.tensor([[0.1, 0.4], [0.8, 0.6]], dtype=f64, requires_grad=True, name="W1")
    W2 = cr.tensor([[0.3], [0.9]], dtype=f64, requires_grad=True, name="W2")
    t = cr.tensor([[0.5]], dtype=f64, name="t")
    Z1 = _named(A0 @ W1, "Z1")
    A1 = _named(cr.sigmoid(Z1), "A1")
    Z2 = _named(A1 @ W2, "Z2")
    A2 = _named(cr.sigmoid(Z2), "A2")
    E = _named(A2 - t, "E")
    return _named((E**2).sum() * 0.5, "L")


def scalar() -> Any:
    """y = 3·x1 + 5·x2 at x1 = 1, x2 = 2 on the scalar engine (dy/dx1 = 3, dy/dx2 = 5)."""
    from chainrule.scalar import Scalar

    x1 = Scalar(1.0, name="x1").requires_grad_()
    x2 = Scalar(2.0, name="x2").requires_grad_()
    y = Scalar(3.0, name="x1_coef") * x1 + Scalar(5.0, name="x2_coef") * x2
    y.name = "y"
    return y


def chain() -> Any:
    """y = (exp(x²))² at x = 0.5, float64: a = x², b = exp(a), y = b² (dy/dx = 4x·e^(2x²) ≈ 3.2974)."""
    import chainrule as cr

    x = cr.tensor(0.5, dtype="float64", requires_grad=True, name="x")
    a = _named(cr.square(x), "a")
    b = _named(cr.exp(a), "b")
    return _named(cr.square(b), "y")


def _named(t: Any, name: str) -> Any:
    t.name = name
    return t


# ---------------------------------------------------------------------------- expressions
def parse_expression(expr: str) -> tuple[ast.Expression, list[str]]:
    """Parse ``expr`` and check it uses only numbers, names, + - * / **, unary ± and :data:`FUNCTIONS`.

    Returns the tree and the variable names in order of first use. Raises ValueError otherwise; nothing
    is ever evaluated by Python.

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
        raise ValueError(f"cannot parse expression {expr!r}: {getattr(exc, 'msg', exc)}") from None
    variables: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"expression {expr!r}: {_describe(node)} is not allowed ({_ALLOWED_TEXT})")
        if isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
                shown = func.id if isinstance(func, ast.Name) else ast.unparse(func)
                raise ValueError(
                    f"expression {expr!r}: unknown function {shown!r}; known: {', '.join(FUNCTIONS)}"
                )
            if len(node.args) != 1 or node.keywords:
                raise ValueError(f"expression {expr!r}: {func.id}() takes exactly one argument")
        elif isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise ValueError(f"expression {expr!r}: constant {node.value!r} is not a real number")
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: (n.lineno, n.col_offset)
    )
    for node in names:
        if id(node) not in called:
            if node.id in FUNCTIONS:
                raise ValueError(f"expression {expr!r}: {node.id} is a function; call it as {node.id}(...)")
            if node.id not in variables:
                variables.append(node.id)
    return tree, variables


_ALLOWED_TEXT = "use numbers, variable names, + - * / **, parentheses and " + ", ".join(
    f"{f}()" for f in FUNCTIONS
)


def _describe(node: ast.AST) -> str:
    try:
        return f"{type(node).__name__} {ast.unparse(node)!r}"
    except Exception:
        return type(node).__name__


def expression(expr: str, values: Mapping[str, Any], engine: str = "tensor") -> Any:
    """Build the graph of ``expr`` with its variables set from ``values`` and return the output, named ``y``.

    Variables become leaves that require grad (float64 tensors, or Scalars with ``engine="scalar"``);
    a value may be a number, a numeric string, or (tensor engine) a nested list. Unknown names raise
    ValueError naming them.

    >>> import chainrule as cr
    >>> y = expression("sigmoid(w*x+b)", {"w": 2, "x": 0.5, "b": -1})
    >>> round(float(y.data), 4), round(float(cr.explain(y).grads["w"]), 4)
    (0.5, 0.125)
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
        raise ValueError(f"expression {expr!r} has no variable {names} (its variables: {known})")
    leaves = {name: _leaf(name, values[name], engine) for name in variables}
    funcs = _functions(engine)
    try:
        out = _evaluate(tree.body, leaves, funcs)
    except RecursionError:
        raise ValueError(f"expression {expr!r} is nested too deeply") from None
    except (OverflowError, ZeroDivisionError) as exc:
        raise ValueError(f"expression {expr!r} cannot be evaluated at these values: {exc}") from None
    if isinstance(out, (int, float)):
        raise ValueError(f"expression {expr!r} does not depend on its variables")
    if any(out is leaf for leaf in leaves.values()):
        out = out * 1.0  # a bare variable: give the output its own node
    out.name = "y"
    return out


def _leaf(name: str, value: Any, engine: str) -> Any:
    if engine == "scalar":
        from chainrule.scalar import Scalar

        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"value of {name!r} must be a number, got {value!r}") from None
        return Scalar(number, name=name).requires_grad_()
    import chainrule as cr

    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"value of {name!r} must be a number, got {value!r}") from None
    try:
        return cr.tensor(value, dtype="float64", requires_grad=True, name=name)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value of {name!r} is not numeric: {exc}") from None


def _functions(engine: str) -> dict[str, Callable[[Any], Any]]:
    if engine == "scalar":
        return {
            "exp": lambda s: s.exp(),
            "log": lambda s: s.log(),
            "sigmoid": lambda s: s.sigmoid(),
            "tanh": lambda s: s.tanh(),
            "relu": lambda s: s.relu(),
            "sqrt": lambda s: s.sqrt(),
            "sin": lambda s: s.sin(),
            "cos": lambda s: s.cos(),
            "abs": lambda s: s.abs(),
            "square": lambda s: s**2,
        }
    import chainrule as cr

    return {name: getattr(cr, name) for name in FUNCTIONS}


def _number_function(name: str) -> Callable[[float], float]:
    table: dict[str, Callable[[float], float]] = {
        "exp": math.exp,
        "log": math.log,
        "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
        "tanh": math.tanh,
        "relu": lambda v: max(v, 0.0),
        "sqrt": math.sqrt,
        "sin": math.sin,
        "cos": math.cos,
        "abs": abs,
        "square": lambda v: v * v,
    }
    return table[name]


def _evaluate(node: ast.AST, leaves: dict[str, Any], funcs: dict[str, Callable[[Any], Any]]) -> Any:
    """Evaluate a checked tree; numbers are floats, so ``**`` of two constants cannot build huge integers."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _evaluate(node.operand, leaves, funcs)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a = _evaluate(node.left, leaves, funcs)
        b = _evaluate(node.right, leaves, funcs)
        op = node.op
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        return a**b
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        v = _evaluate(node.args[0], leaves, funcs)
        if isinstance(v, float):
            try:
                return _number_function(name)(v)
            except ValueError as exc:
                raise ValueError(f"{name}({v:g}): {exc}") from None
        return funcs[name](v)
    raise ValueError(f"unexpected {type(node).__name__} in expression")  # unreachable after parse_expression
