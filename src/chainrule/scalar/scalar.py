"""``Scalar``: one float, its derivative, and the edges of the graph that produced it.

Every operation computes its value *and* its local derivatives (``d out / d parent``, plain
floats) during the forward pass and stores them in two tuples. Backpropagation is then a tight
loop of multiply-adds over those tuples (see :mod:`chainrule.scalar.graph`): no closures, no
reference from a node to itself, hence no reference cycles, and every graph is freed by
reference counting the moment it is dropped (the cyclic garbage collector never has to run).

Only Scalars that require grad are recorded as parents: a constant operand (a Python number
or a Scalar without ``requires_grad``) contributes its value and nothing else, and a result
requires grad if and only if one of its operands does.

Each node that has parents also records the operation that made it (:attr:`Scalar.op`): a shared
string such as ``"mul"``, or ``("mul", 3.0)`` when a constant operand took part. Backpropagation
never reads it; ``chainrule.explain`` uses it to name and replay each op.

Numerical conventions: IEEE floats, as in PyTorch's float64 (never an exception for a float edge):

* ``log(0)`` is ``-inf`` with derivative ``+inf``; ``log`` and ``sqrt`` of a negative number are ``nan``.
* ``exp``, ``x ** y`` and ``*`` overflow to ``inf``; ``x / 0`` is ``±inf`` (``nan`` for ``0 / 0``), and so is
  ``0 ** negative``; ``x ** y`` with ``x < 0`` and a non-integer ``y`` is ``nan`` (not complex).
  ``sin``/``cos`` of ``±inf`` are ``nan``. The derivative with respect to an exponent is
  ``out * log(x)``: ``0`` where ``x == 0``, ``nan`` where ``x < 0``.
* ``relu`` and ``abs`` have derivative ``0`` at ``0``; ``relu(nan)`` is ``nan`` (divergence stays visible).

A Scalar is a number to Python: ``<``, ``>``, ``<=``, ``>=``, ``==``, ``!=`` compare values and return
``bool``, ``bool(s)``, ``float(s)``, ``int(s)``, ``round(s)`` and ``f"{s:.4f}"`` act on its value, as for a
float (so ``if x > 0``, ``sorted``, ``max`` work). Hashing stays by identity (Scalars are dictionary keys
during backpropagation), as for PyTorch tensors.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable
from typing import NamedTuple

from chainrule.scalar.graph import backpropagate

__all__ = ["Op", "Scalar", "add_n", "from_op"]

_next_id = itertools.count().__next__
_new = object.__new__
_exp, _log, _sqrt, _tanh, _sin, _cos = math.exp, math.log, math.sqrt, math.tanh, math.sin, math.cos
_INF = math.inf
_NAN = math.nan
_ONE = (1.0,)
_ONES = (1.0, 1.0)
_EMPTY: tuple = ()


class Op(NamedTuple):
    """How a Scalar was computed (:attr:`Scalar.op`): the operation's ``kind`` and its constant.

    ``const`` is the number (or constant Scalar's value) the operation used besides its
    :attr:`~Scalar.parents`, e.g. ``3.0`` in ``x * 3``, or None when every operand is a parent.
    Kinds: ``add sub mul div pow`` (``x op c`` or ``x op y``), ``rsub rdiv rpow`` (``c op x``),
    ``neg pos exp log sqrt tanh sigmoid relu sin cos abs``, ``add_n`` (``const``: the sum of
    the constant terms), the losses' ``mean`` (``const``: the count) ``mse``
    ``binary_cross_entropy`` ``binary_cross_entropy_with_logits`` (``const``: a constant
    target), and whatever name a :func:`from_op` caller gives (``"from_op"`` by default).
    """

    kind: str
    const: float | None = None


def _as_number(value: object) -> float | None:
    """``value`` as a float if it is a real number other than ``int``/``float`` (e.g. NumPy), else None."""
    if isinstance(value, numbers.Real) and not isinstance(value, Scalar):
        return float(value)
    return None


class Scalar:
    """A float that records how it was computed, for reverse-mode automatic differentiation.

    >>> x = Scalar(2.0, name="x").requires_grad_()
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.derivative
    7.0
    """

    __slots__ = (
        "_local_grads",
        "_name",
        "_op",
        "_parents",
        "_requires_grad",
        "data",
        "derivative",
        "unique_id",
    )

    # Make NumPy scalars on the left of an operator defer to Scalar's reflected methods.
    __array_ufunc__ = None

    data: float
    derivative: float | None
    unique_id: int

    def __init__(self, data: float, name: str | None = None) -> None:
        if type(data) is not float:
            value = float(data) if type(data) is int else _as_number(data)
            if value is None:
                raise TypeError(f"Scalar data must be a real number, got {type(data).__name__}")
            data = value
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Scalar name must be a str or None, got {type(name).__name__}")
        self.data = data
        self.derivative = None
        self._name = name
        self.unique_id = _next_id()
        self._requires_grad = False
        self._parents = _EMPTY
        self._local_grads = _EMPTY
        self._op = None

    # ------------------------------------------------------------------ identity and state
    @property
    def name(self) -> str:
        """The display name; defaults to ``str(unique_id)``."""
        name = self._name
        return str(self.unique_id) if name is None else name

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Scalar name must be a str, got {type(value).__name__}")
        self._name = value

    @property
    def requires_grad(self) -> bool:
        """Whether backpropagation reaches this Scalar."""
        return self._requires_grad

    def requires_grad_(self, flag: bool = True) -> Scalar:
        """Switch gradient tracking on (or off, for a leaf) in place; returns ``self``."""
        flag = bool(flag)
        if not flag and self._parents:
            raise RuntimeError(
                f"Scalar {self.name!r} is the result of an operation; only leaves can stop requiring "
                "grad (use detach() for a constant copy)"
            )
        self._requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        """True for a Scalar not computed from a Scalar that requires grad."""
        return not self._parents

    @property
    def parents(self) -> tuple[Scalar, ...]:
        """The operands that require grad (constants are not recorded)."""
        return self._parents

    @property
    def local_grads(self) -> tuple[float, ...]:
        """``d self / d parent`` for each of :attr:`parents`, computed in the forward pass."""
        return self._local_grads

    @property
    def op(self) -> Op | None:
        """The operation that computed this Scalar, or None for a leaf.

        >>> x = Scalar(2.0).requires_grad_()
        >>> (x * 3).op, (x * x).op, x.op
        (Op(kind='mul', const=3.0), Op(kind='mul', const=None), None)
        """
        tag = self._op
        if tag is None:
            return None
        if type(tag) is str:
            return Op(tag)
        return Op(*tag)

    def zero_grad(self) -> None:
        """Reset ``derivative`` to ``None``."""
        self.derivative = None

    def detach(self) -> Scalar:
        """A new constant with the same value, cut off from the graph."""
        return _constant(self.data)

    def backward(self, d_output: float = 1.0) -> None:
        """Accumulate ``d_output * d self / d leaf`` into the ``derivative`` of every leaf.

        Leaves accumulate across calls (like ``.grad`` in PyTorch); intermediate nodes keep
        ``derivative = None``. Raises ``RuntimeError`` if ``self`` does not require grad.
        """
        backpropagate(self, d_output)

    def __repr__(self) -> str:
        d = self.derivative
        derivative = None if d is None else round(d, 4)
        return (
            f"Scalar(name={self.name}, unique_id={self.unique_id}, "
            f"data={self.data:.4f}, derivative={derivative})"
        )

    # ------------------------------------------------------------------ a Scalar as a Python number
    # Each acts on the value alone, as the same operation on a float would; none is recorded.
    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        return self.data != 0.0

    def __int__(self) -> int:
        return int(self.data)

    def __trunc__(self) -> int:
        return math.trunc(self.data)

    def __floor__(self) -> int:
        return math.floor(self.data)

    def __ceil__(self) -> int:
        return math.ceil(self.data)

    def __round__(self, ndigits: int | None = None) -> float | int:
        return round(self.data, ndigits)

    def __format__(self, spec: str) -> str:
        """``f"{s:.4f}"`` formats the value; an empty spec (``f"{s}"``) gives ``str(s)``."""
        return format(self.data, spec) if spec else str(self)

    # ------------------------------------------------------------------ arithmetic
    # Each binary dunder takes the fast path for Scalar, float and int operands, converts any
    # other real number (NumPy scalars, Fraction) to float, and returns NotImplemented for the
    # rest so that Python raises its usual TypeError naming both operand types.

    def __add__(self, other: Scalar | float) -> Scalar:
        if isinstance(other, Scalar):
            # Inlined node construction: ``+`` and ``*`` are the hot path of every layer.
            out = _new(Scalar)
            out.data = self.data + other.data
            out.derivative = None
            out._name = None
            out.unique_id = _next_id()
            if self._requires_grad:
                out._requires_grad = True
                if other._requires_grad:
                    out._parents = (self, other)
                    out._local_grads = _ONES
                    out._op = "add"
                else:
                    out._parents = (self,)
                    out._local_grads = _ONE
                    out._op = ("add", other.data)
            elif other._requires_grad:
                out._requires_grad = True
                out._parents = (other,)
                out._local_grads = _ONE
                out._op = ("add", self.data)
            else:
                out._requires_grad = False
                out._parents = out._local_grads = _EMPTY
                out._op = None
            return out
        tp = type(other)
        if tp is not float:
            other = float(other) if tp is int else _as_number(other)  # type: ignore[assignment]
            if other is None:
                return NotImplemented
        return _unary(self.data + other, self, 1.0, ("add", other))

    def __radd__(self, other: float) -> Scalar:
        return self.__add__(other)

    def __mul__(self, other: Scalar | float) -> Scalar:
        if isinstance(other, Scalar):
            a = self.data
            b = other.data
            out = _new(Scalar)
            out.data = a * b
            out.derivative = None
            out._name = None
            out.unique_id = _next_id()
            if self._requires_grad:
                out._requires_grad = True
                if other._requires_grad:
                    out._parents = (self, other)
                    out._local_grads = (b, a)
                    out._op = "mul"
                else:
                    out._parents = (self,)
                    out._local_grads = (b,)
                    out._op = ("mul", b)
            elif other._requires_grad:
                out._requires_grad = True
                out._parents = (other,)
                out._local_grads = (a,)
                out._op = ("mul", a)
            else:
                out._requires_grad = False
                out._parents = out._local_grads = _EMPTY
                out._op = None
            return out
        tp = type(other)
        if tp is not float:
            other = float(other) if tp is int else _as_number(other)  # type: ignore[assignment]
            if other is None:
                return NotImplemented
        return _unary(self.data * other, self, other, ("mul", other))

    def __rmul__(self, other: float) -> Scalar:
        return self.__mul__(other)

    def __sub__(self, other: Scalar | float) -> Scalar:
        if isinstance(other, Scalar):
            return _binary(self.data - other.data, self, other, 1.0, -1.0, "sub", "rsub")
        c = _operand(other)
        if c is None:
            return NotImplemented
        return _unary(self.data - c, self, 1.0, ("sub", c))

    def __rsub__(self, other: float) -> Scalar:
        c = _operand(other)
        if c is None:
            return NotImplemented
        return _unary(c - self.data, self, -1.0, ("rsub", c))

    def __truediv__(self, other: Scalar | float) -> Scalar:
        if isinstance(other, Scalar):
            b = other.data
            out = _div(self.data, b)
            return _binary(out, self, other, _div(1.0, b), _div(-out, b), "div", "rdiv")
        c = _operand(other)
        if c is None:
            return NotImplemented
        return _unary(_div(self.data, c), self, _div(1.0, c), ("div", c))

    def __rtruediv__(self, other: float) -> Scalar:
        c = _operand(other)
        if c is None:
            return NotImplemented
        x = self.data
        out = _div(c, x)
        return _unary(out, self, _div(-out, x), ("rdiv", c))

    def __pow__(self, other: Scalar | float) -> Scalar:
        a = self.data
        if isinstance(other, Scalar):
            b = other.data
            out = _pow(a, b)
            d_exponent = _d_pow_exponent(a, b, out) if other._requires_grad else 0.0
            d_base = _d_pow_base(a, b) if self._requires_grad else 0.0
            return _binary(out, self, other, d_base, d_exponent, "pow", "rpow")
        b = _operand(other)
        if b is None:
            return NotImplemented
        if b == 2.0:
            return _unary(a * a, self, 2.0 * a, ("pow", b))
        return _unary(_pow(a, b), self, _d_pow_base(a, b) if self._requires_grad else 0.0, ("pow", b))

    def __rpow__(self, other: float) -> Scalar:
        c = _operand(other)
        if c is None:
            return NotImplemented
        out = _pow(c, self.data)
        return _unary(
            out, self, _d_pow_exponent(c, self.data, out) if self._requires_grad else 0.0, ("rpow", c)
        )

    def __neg__(self) -> Scalar:
        return _unary(-self.data, self, -1.0, "neg")

    def __pos__(self) -> Scalar:
        return _unary(self.data, self, 1.0, "pos")

    # ------------------------------------------------------------------ functions
    def exp(self) -> Scalar:
        """``e ** self``; overflows to ``inf``."""
        try:
            out = _exp(self.data)
        except OverflowError:
            out = _INF
        return _unary(out, self, out, "exp")

    def log(self) -> Scalar:
        """Natural logarithm: ``-inf`` (derivative ``inf``) at 0, ``nan`` (derivative ``1 / x``) below."""
        x = self.data
        if x > 0.0:
            return _unary(_log(x), self, 1.0 / x, "log")
        if x == 0.0:
            return _unary(-_INF, self, math.copysign(_INF, x), "log")  # 1 / x: -inf at -0.0
        return _unary(_NAN, self, 1.0 / x if x < 0.0 else x, "log")  # negative or nan

    def sqrt(self) -> Scalar:
        """Square root: derivative ``inf`` at 0, ``nan`` for negatives."""
        x = self.data
        if x > 0.0:
            out = _sqrt(x)
            return _unary(out, self, 0.5 / out, "sqrt")
        if x == 0.0:
            return _unary(x, self, math.copysign(_INF, x), "sqrt")  # sqrt(-0.0) is -0.0
        return _unary(_NAN, self, _NAN, "sqrt")  # negative or nan

    def tanh(self) -> Scalar:
        """Hyperbolic tangent."""
        out = _tanh(self.data)
        return _unary(out, self, (1.0 - out) * (1.0 + out), "tanh")  # 1 - out**2 without cancellation

    def sigmoid(self) -> Scalar:
        """Logistic sigmoid ``1 / (1 + e ** -x)``, computed without overflow for any ``x``."""
        x = self.data
        if x >= 0.0:
            out = 1.0 / (1.0 + _exp(-x))
        else:
            e = _exp(x)
            out = e / (1.0 + e)
        return _unary(out, self, out * (1.0 - out), "sigmoid")

    def relu(self) -> Scalar:
        """``max(x, 0)``; derivative 0 at 0. ``relu(nan)`` is ``nan`` (derivative 1, as in PyTorch)."""
        x = self.data
        if x <= 0.0:
            return _unary(0.0, self, 0.0, "relu")
        return _unary(x, self, 1.0, "relu")

    def sin(self) -> Scalar:
        """Sine; ``nan`` at ``±inf``."""
        x = self.data
        if x - x != 0.0:  # inf or nan, where math.sin raises or gives nan
            return _unary(_NAN, self, _NAN, "sin")
        return _unary(_sin(x), self, _cos(x), "sin")

    def cos(self) -> Scalar:
        """Cosine; ``nan`` at ``±inf``."""
        x = self.data
        if x - x != 0.0:
            return _unary(_NAN, self, _NAN, "cos")
        return _unary(_cos(x), self, -_sin(x), "cos")

    def abs(self) -> Scalar:
        """Absolute value; derivative 0 at 0."""
        x = self.data
        return _unary(abs(x), self, 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0), "abs")

    __abs__ = abs

    # ------------------------------------------------------------------ comparisons
    # As for floats: values are compared and the answer is a bool, which carries no gradient (``x * (x > 0)``
    # still works: True is 1). Hashing stays by identity, so two Scalars of equal value are still two
    # dictionary keys during backpropagation (PyTorch tensors do the same).
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        c = _compare_operand(other)
        return NotImplemented if c is None else self.data == c

    def __ne__(self, other: object) -> bool:
        c = _compare_operand(other)
        return NotImplemented if c is None else self.data != c

    def __lt__(self, other: Scalar | float) -> bool:
        c = _compare_operand(other)
        return NotImplemented if c is None else self.data < c

    def __gt__(self, other: Scalar | float) -> bool:
        c = _compare_operand(other)
        return NotImplemented if c is None else self.data > c

    def __le__(self, other: Scalar | float) -> bool:
        c = _compare_operand(other)
        return NotImplemented if c is None else self.data <= c

    def __ge__(self, other: Scalar | float) -> bool:
        c = _compare_operand(other)
        return NotImplemented if c is None else self.data >= c


# ---------------------------------------------------------------------- node construction
def _constant(data: float) -> Scalar:
    out = _new(Scalar)
    out.data = data
    out.derivative = None
    out._name = None
    out.unique_id = _next_id()
    out._requires_grad = False
    out._parents = out._local_grads = _EMPTY
    out._op = None
    return out


def _unary(data: float, a: Scalar, local: float, op: str | tuple[str, float]) -> Scalar:
    """A node with one operand ``a``, ``d out / d a = local``, made by ``op`` (see :attr:`Scalar.op`)."""
    out = _new(Scalar)
    out.data = data
    out.derivative = None
    out._name = None
    out.unique_id = _next_id()
    if a._requires_grad:
        out._requires_grad = True
        out._parents = (a,)
        out._local_grads = (local,)
        out._op = op
    else:
        out._requires_grad = False
        out._parents = out._local_grads = _EMPTY
        out._op = None
    return out


def _binary(
    data: float, a: Scalar, b: Scalar, local_a: float, local_b: float, op: str, reflected: str
) -> Scalar:
    """``a op b``; an operand that does not require grad is left out and recorded as a constant.

    With only ``a`` kept the op is ``(op, b.data)``; with only ``b`` it is ``(reflected, a.data)``
    (``a - b`` with a constant ``a`` is ``("rsub", a)``).
    """
    out = _new(Scalar)
    out.data = data
    out.derivative = None
    out._name = None
    out.unique_id = _next_id()
    if a._requires_grad:
        out._requires_grad = True
        if b._requires_grad:
            out._parents = (a, b)
            out._local_grads = (local_a, local_b)
            out._op = op
        else:
            out._parents = (a,)
            out._local_grads = (local_a,)
            out._op = (op, b.data)
    elif b._requires_grad:
        out._requires_grad = True
        out._parents = (b,)
        out._local_grads = (local_b,)
        out._op = (reflected, a.data)
    else:
        out._requires_grad = False
        out._parents = out._local_grads = _EMPTY
        out._op = None
    return out


def add_n(values: Iterable[Scalar | float]) -> Scalar:
    """The sum of Scalars (and numbers) as a single node with one edge per Scalar that requires grad.

    Same value and derivatives as ``sum(values)``, which builds a chain of ``len(values)``
    two-operand additions; this builds one node, so the graph is smaller and backpropagation
    shorter. The terms are added left to right, as ``sum`` does.

    >>> a, b = Scalar(1.0).requires_grad_(), Scalar(2.0).requires_grad_()
    >>> total = add_n([a, b, a, 0.5])
    >>> total.data, total.parents == (a, b, a)
    (4.5, True)
    >>> total.backward(); a.derivative, b.derivative
    (2.0, 1.0)
    """
    data = 0.0
    parents = []
    keep = parents.append
    constant = None  # the sum of the terms that are not parents, if any
    for value in values:
        if isinstance(value, Scalar):
            data += value.data
            if value._requires_grad:
                keep(value)
                continue
            number = value.data
        else:
            number = _operand(value)
            if number is None:
                raise TypeError(f"add_n takes Scalars and real numbers, got {type(value).__name__}")
            data += number
        constant = number if constant is None else constant + number
    out = _new(Scalar)
    out.data = data
    out.derivative = None
    out._name = None
    out.unique_id = _next_id()
    if parents:
        out._requires_grad = True
        out._parents = tuple(parents)
        out._local_grads = _ONE * len(parents)
        out._op = "add_n" if constant is None else ("add_n", constant)
    else:
        out._requires_grad = False
        out._parents = out._local_grads = _EMPTY
        out._op = None
    return out


def from_op(
    data: float,
    operands: tuple[Scalar, ...],
    local_grads: tuple[float, ...],
    op: str = "from_op",
    const: float | None = None,
) -> Scalar:
    """Build the result of a custom operation from its value and its local derivatives.

    ``local_grads[k]`` is ``d data / d operands[k]`` at the current values. Operands that do
    not require grad are dropped; the result requires grad iff one of them does. ``op`` (and
    ``const``, a number the operation used) name the operation in :attr:`Scalar.op`, which is
    what ``chainrule.explain`` shows. This is how fused operations (e.g. the losses in
    :mod:`chainrule.scalar.losses`) are written.

    >>> x = Scalar(3.0).requires_grad_()
    >>> y = from_op(x.data**2, (x,), (2 * x.data,), op="square")
    >>> y.backward(); x.derivative, y.op
    (6.0, Op(kind='square', const=None))
    """
    if not isinstance(op, str) or not op:
        raise TypeError(f"op must be a non-empty str, got {op!r}")
    if const is not None:
        number = _operand(const)
        if number is None:
            raise TypeError(f"const must be a real number or None, got {type(const).__name__}")
        const = number
    if len(operands) != len(local_grads):
        raise ValueError(f"got {len(operands)} operands but {len(local_grads)} local derivatives")
    for operand in operands:
        if not isinstance(operand, Scalar):
            raise TypeError(f"operands must be Scalars, got {type(operand).__name__}")
    kept = [(s, float(g)) for s, g in zip(operands, local_grads) if s._requires_grad]
    out = _constant(float(data))
    if kept:
        out._requires_grad = True
        out._parents = tuple(s for s, _ in kept)
        out._local_grads = tuple(g for _, g in kept)
        out._op = op if const is None else (op, const)
    return out


# ---------------------------------------------------------------------- operand helpers
def _operand(other: object) -> float | None:
    """A Python number operand as a float, or None if ``other`` is not a real number."""
    tp = type(other)
    if tp is float:
        return other  # type: ignore[return-value]
    if tp is int:
        return float(other)  # type: ignore[arg-type]
    return _as_number(other)


def _compare_operand(other: object) -> float | None:
    if isinstance(other, Scalar):
        return other.data
    return _operand(other)


def _div(a: float, b: float) -> float:
    """``a / b`` as IEEE floats: ``±inf`` for a non-zero ``a`` over ``±0``, ``nan`` for ``0 / 0``."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _pow(a: float, b: float) -> float:
    """``a ** b`` as IEEE floats (C's ``pow``): overflow is ``±inf``; a negative base to a fraction, nan."""
    try:
        out = a**b
    except OverflowError:  # |out| too large: negative only for a negative base to an odd power
        return -_INF if a < 0.0 and _is_odd(b) else _INF
    except ZeroDivisionError:  # 0 ** negative
        return -_INF if math.copysign(1.0, a) < 0.0 and _is_odd(b) else _INF
    return _NAN if type(out) is complex else out


def _is_odd(b: float) -> bool:
    return math.isfinite(b) and b == int(b) and int(b) % 2 == 1


def _d_pow_base(a: float, b: float) -> float:
    """``d (a ** b) / d a = b * a ** (b - 1)``, and 0 for ``b == 0`` (as PyTorch, even at ``a == 0``)."""
    if b == 0.0:
        return 0.0
    return b * _pow(a, b - 1.0)


def _d_pow_exponent(a: float, b: float, out: float) -> float:
    """``d (a ** b) / d b = a ** b * log(a)``: 0 where ``a == 0 <= b`` (as PyTorch), nan where ``a < 0``."""
    if a > 0.0:
        return out * _log(a)
    if a == 0.0:
        return 0.0 if b >= 0.0 else -out * _INF
    return _NAN
