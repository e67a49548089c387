"""``Scalar``: one float, its derivative, and the edges of the graph that produced it.

Read it next to micrograd's ``engine.py``. Every operation computes its value *and* its local
derivatives (``d out / d parent``, plain floats) during the forward pass and hands them to one
helper, :func:`_node`, which records them on the result. :meth:`Scalar.backward` is then
:func:`~chainrule.scalar.graph.topological_sort` and one loop of multiply-adds over those
records. No closures, no reference from a node to itself, hence no reference cycles: every graph
is freed by reference counting the moment it is dropped (the cyclic garbage collector never has
to run).

Only Scalars that require grad are recorded as parents: a constant operand (a Python number
or a Scalar without ``requires_grad``) contributes its value and nothing else, and a result
requires grad if and only if one of its operands does.

Each node that has parents also records the operation that made it (:attr:`Scalar.op`): a kind
such as ``"mul"`` and, when a constant operand took part, that constant (``x * 3`` is
``Op("mul", 3.0)``). Backpropagation never reads it; ``chainrule.explain`` uses it to name and
replay each op.

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

from chainrule.scalar.graph import topological_sort

__all__ = ["Op", "Scalar", "add_n", "from_op"]

_next_id = itertools.count().__next__
_new = object.__new__
_INF = math.inf
_NAN = math.nan

# ``c op x`` with a constant ``c`` is recorded under these names (``3 - x`` is ``rsub``); ``add``
# and ``mul`` keep theirs, since ``3 + x`` is ``x + 3``.
_REFLECTED = {"sub": "rsub", "div": "rdiv", "pow": "rpow"}


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


class Scalar:
    """A float that records how it was computed, for reverse-mode automatic differentiation.

    >>> x = Scalar(2.0, name="x").requires_grad_()
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.derivative
    7.0
    """

    # A graph holds many small nodes: slots keep each one compact and its attributes quick to reach.
    __slots__ = (
        "_const",
        "_grad",
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
        value = _value(data)
        if value is None or isinstance(data, Scalar):
            raise TypeError(f"Scalar data must be a real number, got {type(data).__name__}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Scalar name must be a str or None, got {type(name).__name__}")
        self.data = value
        self.derivative = None
        self.unique_id = _next_id()
        self._name = name
        self._requires_grad = False
        self._parents = self._local_grads = ()
        self._op = self._const = None

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
        return None if self._op is None else Op(self._op, self._const)

    def zero_grad(self) -> None:
        """Reset ``derivative`` to ``None``."""
        self.derivative = None

    def detach(self) -> Scalar:
        """A new constant with the same value, cut off from the graph."""
        return _node(self.data)

    # ------------------------------------------------------------------ backpropagation
    def backward(self, d_output: float = 1.0) -> None:
        """Accumulate ``d_output * d self / d leaf`` into the ``derivative`` of every leaf.

        Leaves accumulate across calls (like ``.grad`` in PyTorch); intermediate nodes keep
        ``derivative = None``. Raises ``RuntimeError`` if ``self`` does not require grad.
        """
        if not self._requires_grad:
            raise RuntimeError(
                f"Scalar {self.name!r} does not require grad and has no path to a Scalar that does; "
                "call requires_grad_() on a leaf before building the expression"
            )
        order = topological_sort(self)
        # ``_grad`` is d self / d node, summed over the node's consumers: a slot apart from
        # ``derivative``, so intermediate nodes keep ``derivative = None`` (as non-leaf tensors do in
        # PyTorch). Zeroed first, so that an earlier call stopped halfway (Ctrl-C) leaves nothing behind.
        for node in order:
            node._grad = 0.0
        self._grad = _seed(d_output)
        for node in order:
            # Every consumer of ``node`` came earlier in the order, so ``node._grad`` is complete.
            grad = node._grad
            if node._parents:
                for parent, local_grad in zip(node._parents, node._local_grads):
                    parent._grad += local_grad * grad  # the chain rule
            else:  # a leaf: add this call's gradient to what earlier calls left
                node.derivative = grad if node.derivative is None else node.derivative + grad

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
    # ``x op y`` (two Scalars) is recorded by _binary; ``x op 3`` and ``3 op x`` (a number on either
    # side) by _unary, with the number as the op's constant. Any other operand gives NotImplemented,
    # so that Python raises its usual TypeError naming both operand types.
    def __add__(self, other: Scalar | float) -> Scalar:
        if isinstance(other, Scalar):
            return _binary(self.data + other.data, "add", self, other, 1.0, 1.0)
        c = _value(other)
        if c is None:
            return NotImplemented
        return _unary(self.data + c, "add", self, 1.0, c)

    __radd__ = __add__  # ``3 + x`` is ``x + 3``

    def __mul__(self, other: Scalar | float) -> Scalar:
        a = self.data
        if isinstance(other, Scalar):
            b = other.data
            return _binary(a * b, "mul", self, other, b, a)
        c = _value(other)
        if c is None:
            return NotImplemented
        return _unary(a * c, "mul", self, c, c)

    __rmul__ = __mul__  # ``3 * x`` is ``x * 3``

    def __sub__(self, other: Scalar | float) -> Scalar:
        if isinstance(other, Scalar):
            return _binary(self.data - other.data, "sub", self, other, 1.0, -1.0)
        c = _value(other)
        if c is None:
            return NotImplemented
        return _unary(self.data - c, "sub", self, 1.0, c)

    def __rsub__(self, other: float) -> Scalar:
        c = _value(other)
        if c is None:
            return NotImplemented
        return _unary(c - self.data, "rsub", self, -1.0, c)

    def __truediv__(self, other: Scalar | float) -> Scalar:
        a = self.data
        if isinstance(other, Scalar):
            b = other.data
            out = _ieee_div(a, b)
            return _binary(out, "div", self, other, _ieee_div(1.0, b), _ieee_div(-out, b))
        c = _value(other)
        if c is None:
            return NotImplemented
        return _unary(_ieee_div(a, c), "div", self, _ieee_div(1.0, c), c)

    def __rtruediv__(self, other: float) -> Scalar:
        c = _value(other)
        if c is None:
            return NotImplemented
        x = self.data
        out = _ieee_div(c, x)
        return _unary(out, "rdiv", self, _ieee_div(-out, x), c)

    def __pow__(self, other: Scalar | float) -> Scalar:
        a = self.data
        if isinstance(other, Scalar):
            b = other.data
            out = _ieee_pow(a, b)
            return _binary(out, "pow", self, other, _d_pow_base(a, b), _d_pow_exponent(a, b, out))
        c = _value(other)
        if c is None:
            return NotImplemented
        return _unary(_ieee_pow(a, c), "pow", self, _d_pow_base(a, c), c)

    def __rpow__(self, other: float) -> Scalar:
        c = _value(other)
        if c is None:
            return NotImplemented
        out = _ieee_pow(c, self.data)
        return _unary(out, "rpow", self, _d_pow_exponent(c, self.data, out), c)

    def __neg__(self) -> Scalar:
        return _unary(-self.data, "neg", self, -1.0)

    def __pos__(self) -> Scalar:
        return _unary(self.data, "pos", self, 1.0)

    # ------------------------------------------------------------------ functions
    def exp(self) -> Scalar:
        """``e ** self``; overflows to ``inf``."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            out = _INF
        return _unary(out, "exp", self, out)

    def log(self) -> Scalar:
        """Natural logarithm: ``-inf`` (derivative ``inf``) at 0, ``nan`` (derivative ``1 / x``) below."""
        x = self.data
        if x > 0.0:
            return _unary(math.log(x), "log", self, 1.0 / x)
        if x == 0.0:
            return _unary(-_INF, "log", self, math.copysign(_INF, x))  # 1 / x: -inf at -0.0
        return _unary(_NAN, "log", self, 1.0 / x if x < 0.0 else x)  # negative or nan

    def sqrt(self) -> Scalar:
        """Square root: derivative ``inf`` at 0, ``nan`` for negatives."""
        x = self.data
        if x > 0.0:
            out = math.sqrt(x)
            return _unary(out, "sqrt", self, 0.5 / out)
        if x == 0.0:
            return _unary(x, "sqrt", self, math.copysign(_INF, x))  # sqrt(-0.0) is -0.0
        return _unary(_NAN, "sqrt", self, _NAN)  # negative or nan

    def tanh(self) -> Scalar:
        """Hyperbolic tangent."""
        out = math.tanh(self.data)
        return _unary(out, "tanh", self, (1.0 - out) * (1.0 + out))  # 1 - out**2 without cancellation

    def sigmoid(self) -> Scalar:
        """Logistic sigmoid ``1 / (1 + e ** -x)``, computed without overflow for any ``x``."""
        x = self.data
        if x >= 0.0:
            out = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            out = e / (1.0 + e)
        return _unary(out, "sigmoid", self, out * (1.0 - out))

    def relu(self) -> Scalar:
        """``max(x, 0)``; derivative 0 at 0. ``relu(nan)`` is ``nan`` (derivative 1, as in PyTorch)."""
        x = self.data
        if x <= 0.0:
            return _unary(0.0, "relu", self, 0.0)
        return _unary(x, "relu", self, 1.0)

    def sin(self) -> Scalar:
        """Sine; ``nan`` at ``±inf``."""
        x = self.data
        if x - x != 0.0:  # inf or nan, where math.sin raises or gives nan
            return _unary(_NAN, "sin", self, _NAN)
        return _unary(math.sin(x), "sin", self, math.cos(x))

    def cos(self) -> Scalar:
        """Cosine; ``nan`` at ``±inf``."""
        x = self.data
        if x - x != 0.0:
            return _unary(_NAN, "cos", self, _NAN)
        return _unary(math.cos(x), "cos", self, -math.sin(x))

    def abs(self) -> Scalar:
        """Absolute value; derivative 0 at 0."""
        x = self.data
        return _unary(abs(x), "abs", self, 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0))

    __abs__ = abs

    # ------------------------------------------------------------------ comparisons
    # As for floats: values are compared and the answer is a bool, which carries no gradient (``x * (x > 0)``
    # still works: True is 1). Hashing stays by identity, so two Scalars of equal value are still two
    # dictionary keys during backpropagation (PyTorch tensors do the same).
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        c = _value(other)
        return NotImplemented if c is None else self.data == c

    def __ne__(self, other: object) -> bool:
        c = _value(other)
        return NotImplemented if c is None else self.data != c

    def __lt__(self, other: Scalar | float) -> bool:
        c = _value(other)
        return NotImplemented if c is None else self.data < c

    def __gt__(self, other: Scalar | float) -> bool:
        c = _value(other)
        return NotImplemented if c is None else self.data > c

    def __le__(self, other: Scalar | float) -> bool:
        c = _value(other)
        return NotImplemented if c is None else self.data <= c

    def __ge__(self, other: Scalar | float) -> bool:
        c = _value(other)
        return NotImplemented if c is None else self.data >= c


# ---------------------------------------------------------------------- making a node
def _node(
    data: float,
    op: str | None = None,
    parents: tuple[Scalar, ...] = (),
    local_grads: tuple[float, ...] = (),
    const: float | None = None,
) -> Scalar:
    """The result of an operation: the one place every node of a graph is made.

    ``parents`` are the operands that require grad and ``local_grads[k]`` is
    ``d data / d parents[k]``; ``op`` names the operation and ``const`` is the constant it used,
    if any (see :attr:`Scalar.op`). With no parents (every operand was a constant) the result
    is a constant too and records nothing.
    """
    if not parents:
        op, local_grads, const = None, (), None
    out = _new(Scalar)  # not Scalar(data): __init__ checks what users pass in
    out.data = data
    out.derivative = None
    out.unique_id = _next_id()
    out._name = None
    out._requires_grad = parents != ()  # a result requires grad iff one of its operands does
    out._parents = parents
    out._local_grads = local_grads
    out._op = op
    out._const = const
    return out


def _unary(data: float, op: str, x: Scalar, local_grad: float, const: float | None = None) -> Scalar:
    """The result of an op on ``x`` (and the number ``const``, if any), with ``d data / d x = local_grad``."""
    return _node(data, op, (x,) if x._requires_grad else (), (local_grad,), const)


def _binary(data: float, op: str, a: Scalar, b: Scalar, d_a: float, d_b: float) -> Scalar:
    """The result of ``a op b``, with ``d data / d a = d_a`` and ``d data / d b = d_b``.

    A Scalar that does not require grad is a constant: it is no parent, and its value is recorded
    as the op's ``const``, as a number's would be (``x - c`` is ``("sub", c)``, ``c - x`` is
    ``("rsub", c)``).
    """
    if a._requires_grad and b._requires_grad:
        return _node(data, op, (a, b), (d_a, d_b))
    if a._requires_grad:
        return _node(data, op, (a,), (d_a,), b.data)
    if b._requires_grad:
        return _node(data, _REFLECTED.get(op, op), (b,), (d_b,), a.data)
    return _node(data)


# ---------------------------------------------------------------------- many-operand ops
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
    constant = None  # the sum of the terms that are not parents, if any
    for value in values:
        if isinstance(value, Scalar) and value._requires_grad:
            parents.append(value)
            data += value.data
            continue
        number = _value(value)
        if number is None:
            raise TypeError(f"add_n takes Scalars and real numbers, got {type(value).__name__}")
        data += number
        constant = number if constant is None else constant + number
    return _node(data, "add_n", tuple(parents), (1.0,) * len(parents), constant)


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
        number = _value(const)
        if number is None or isinstance(const, Scalar):
            raise TypeError(f"const must be a real number or None, got {type(const).__name__}")
        const = number
    if len(operands) != len(local_grads):
        raise ValueError(f"got {len(operands)} operands but {len(local_grads)} local derivatives")
    for operand in operands:
        if not isinstance(operand, Scalar):
            raise TypeError(f"operands must be Scalars, got {type(operand).__name__}")
    kept = [(s, float(g)) for s, g in zip(operands, local_grads) if s._requires_grad]
    parents = tuple(s for s, _ in kept)
    return _node(float(data), op, parents, tuple(g for _, g in kept), const)


# ---------------------------------------------------------------------- float helpers
def _value(x: object) -> float | None:
    """The value of an operand as a float (a Scalar's ``data``, a real number), else None."""
    if isinstance(x, Scalar):
        return x.data
    if type(x) is float:  # the usual number, ahead of the much slower check against numbers.Real
        return x
    if isinstance(x, numbers.Real):  # int, bool, NumPy scalars, Fraction...
        return float(x)
    return None


def _seed(d_output: object) -> float:
    """The gradient that :meth:`Scalar.backward` starts from: a real number, or a Scalar's value."""
    value = _value(d_output)
    if value is None:
        raise TypeError(f"d_output must be a real number, got {type(d_output).__name__}")
    return value


def _ieee_div(a: float, b: float) -> float:
    """``a / b`` as IEEE floats: ``±inf`` for a non-zero ``a`` over ``±0``, ``nan`` for ``0 / 0``."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _ieee_pow(a: float, b: float) -> float:
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
    return b * _ieee_pow(a, b - 1.0)


def _d_pow_exponent(a: float, b: float, out: float) -> float:
    """``d (a ** b) / d b = a ** b * log(a)``: 0 where ``a == 0 <= b`` (as PyTorch), nan where ``a < 0``."""
    if a > 0.0:
        return out * math.log(a)
    if a == 0.0:
        return 0.0 if b >= 0.0 else -out * _INF
    return _NAN
