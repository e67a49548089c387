"""Modules for the scalar engine: ``Module``, ``Linear`` and a binary-classification MLP.

>>> from chainrule.scalar.nn import MLPConfig, MLPBinaryClassifyNetFactory, ActivationType
>>> net = MLPBinaryClassifyNetFactory(MLPConfig(2, 1, 3, 1, ActivationType.TANH, seed=0))
>>> [name for name, _ in net.named_parameters()][:2]
['layer_input_hidden_0.weight_0_0', 'layer_input_hidden_0.weight_0_1']
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chainrule.scalar.scalar import Scalar, add_n

__all__ = [
    "ActivationType",
    "Linear",
    "MLPBinaryClassifyNet",
    "MLPBinaryClassifyNetFactory",
    "MLPConfig",
    "Module",
]


class Module:
    """Base class: Scalars and Modules assigned as attributes are registered, in assignment order.

    A ``Scalar`` attribute is a *parameter* (assigning it switches ``requires_grad`` on); a
    ``Module`` attribute is a *child*. ``named_parameters()`` lists this module's own
    parameters and then each child's, depth first, like PyTorch.

    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = Scalar(2.0, name="scale")
    ...         self.shift = Scalar(1.0, name="shift")
    ...
    ...     def forward(self, x):
    ...         return self.scale * x + self.shift
    >>> [name for name, _ in Affine().named_parameters()]
    ['scale', 'shift']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params, modules = self.__dict__.get("_parameters"), self.__dict__.get("_modules")
        if params is None or modules is None:
            if isinstance(value, (Scalar, Module)):
                raise RuntimeError(
                    f"cannot assign {name!r} before Module.__init__() is called "
                    f"(call super().__init__() first in {type(self).__name__}.__init__)"
                )
            object.__setattr__(self, name, value)
            return
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Scalar):
            value.requires_grad_()
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        object.__delattr__(self, name)

    def add_parameter(self, name: str, value: Scalar) -> Scalar:
        """Register ``value`` as the parameter ``name`` (also an attribute); returns it."""
        _check_name(name)
        if not isinstance(value, Scalar):
            raise TypeError(f"parameter {name!r} must be a Scalar, got {type(value).__name__}")
        setattr(self, name, value)
        return value

    def add_module(self, name: str, module: Module) -> Module:
        """Register ``module`` as the child ``name`` (also an attribute); returns it."""
        _check_name(name)
        if not isinstance(module, Module):
            raise TypeError(f"child {name!r} must be a Module, got {type(module).__name__}")
        setattr(self, name, module)
        return module

    # ------------------------------------------------------------------ traversal
    def named_children(self) -> list[tuple[str, Module]]:
        """Direct children with their attribute names, in registration order."""
        return list(self.__dict__["_modules"].items())

    def children(self) -> list[Module]:
        """Direct children, in registration order."""
        return list(self.__dict__["_modules"].values())

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """This module and all descendants, depth first (pre-order), each listed once."""
        out: list[tuple[str, Module]] = []
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            out.append((name, module))
            children = list(module.__dict__["_modules"].items())
            for child_name, child in reversed(children):
                stack.append((f"{name}.{child_name}" if name else child_name, child))
        return out

    def modules(self) -> list[Module]:
        """This module and all descendants, depth first (pre-order)."""
        return [module for _, module in self.named_modules()]

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Scalar]]:
        """``(dotted name, parameter)`` pairs in registration order, each parameter listed once."""
        out: list[tuple[str, Scalar]] = []
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module.__dict__["_parameters"].items():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                out.append((f"{module_name}.{name}" if module_name else name, param))
        return out

    def parameters(self) -> list[Scalar]:
        """Every parameter, in the order of :meth:`named_parameters`."""
        return [param for _, param in self.named_parameters()]

    # ------------------------------------------------------------------ state
    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every descendant; returns ``self``."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Reset every parameter's ``derivative`` to ``None``."""
        for param in self.parameters():
            param.derivative = None

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """Shown inside the parentheses of ``repr``; override to describe the configuration."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"names must be str, got {type(name).__name__}")
    if not name.isidentifier():
        raise ValueError(f"name {name!r} is not a valid attribute name")


def _check_positive_int(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{field} must be positive, got {value}")


class Linear(Module):
    """Fully connected layer: ``out[j] = sum_i x[i] * weight_{i}_{j} + bias_{j}``.

    Weights and biases start uniform in ``[-1, 1]``, drawn from ``rng`` if given, else from
    ``random.Random(seed)`` (``seed=None``: a different draw every time). Parameters are
    registered as ``weight_{i}_{j}`` (input ``i``, output ``j``, ``i`` major) then ``bias_{j}``.
    Train them by changing their ``data``; ``forward`` keeps using the Scalars created here.
    Each output is one node per product ``x[i] * weight_{i}_{j}`` plus one :func:`add_n` node.

    >>> layer = Linear(2, 1, seed=0)
    >>> [name for name, _ in layer.named_parameters()]
    ['weight_0_0', 'weight_1_0', 'bias_0']
    >>> len(layer([1.0, 2.0]))
    1
    """

    def __init__(
        self, in_size: int, out_size: int, *, seed: int | None = None, rng: random.Random | None = None
    ) -> None:
        super().__init__()
        _check_positive_int("in_size", in_size)
        _check_positive_int("out_size", out_size)
        if rng is None:
            rng = random.Random(seed)
        elif seed is not None:
            raise ValueError("pass either seed or rng, not both")
        self.in_size = in_size
        self.out_size = out_size
        weights = []
        for i in range(in_size):
            row = []
            for j in range(out_size):
                name = f"weight_{i}_{j}"
                row.append(self.add_parameter(name, Scalar(rng.uniform(-1.0, 1.0), name=name)))
            weights.append(row)
        biases = [
            self.add_parameter(f"bias_{j}", Scalar(rng.uniform(-1.0, 1.0), name=f"bias_{j}"))
            for j in range(out_size)
        ]
        # Plain lists (not registered again): the weights feeding each output, and the biases.
        self._columns = [[weights[i][j] for i in range(in_size)] for j in range(out_size)]
        self._biases = biases

    def forward(self, xs: Sequence[Scalar | float]) -> list[Scalar]:
        """One output Scalar per unit, for ``in_size`` inputs (Scalars or floats)."""
        if len(xs) != self.in_size:
            raise ValueError(f"Linear expects {self.in_size} inputs, got {len(xs)}")
        # One node per product, then one n-ary addition per output (see ``add_n``).
        return [
            add_n([w * x for w, x in zip(column, xs)] + [bias])
            for column, bias in zip(self._columns, self._biases)
        ]

    def extra_repr(self) -> str:
        return f"in_size={self.in_size}, out_size={self.out_size}"


class ActivationType(enum.Enum):
    """Hidden-layer nonlinearity of :class:`MLPConfig`."""

    RELU = "relu"
    SIGMOID = "sigmoid"
    TANH = "tanh"

    @property
    def function(self) -> Callable[[Scalar], Scalar]:
        """The Scalar method applying this activation, e.g. ``Scalar.relu``."""
        return getattr(Scalar, self.value)


@dataclass(frozen=True)
class MLPConfig:
    """Shape of an MLP: ``hidden_layer_num`` hidden layers of ``hidden_layer_size`` units.

    ``hidden_activation`` also accepts the strings ``"relu"``, ``"sigmoid"``, ``"tanh"``;
    ``seed`` makes the initial weights reproducible.
    """

    in_size: int
    out_size: int
    hidden_layer_size: int
    hidden_layer_num: int
    hidden_activation: ActivationType = ActivationType.RELU
    seed: int | None = None

    def __post_init__(self) -> None:
        for field in ("in_size", "out_size", "hidden_layer_size", "hidden_layer_num"):
            _check_positive_int(field, getattr(self, field))
        if not isinstance(self.hidden_activation, ActivationType):
            try:
                object.__setattr__(self, "hidden_activation", ActivationType(self.hidden_activation))
            except ValueError:
                choices = ", ".join(repr(a.value) for a in ActivationType)
                raise ValueError(
                    f"hidden_activation must be an ActivationType or one of {choices}, "
                    f"got {self.hidden_activation!r}"
                ) from None
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise TypeError(f"seed must be an int or None, got {type(self.seed).__name__}")


class MLPBinaryClassifyNet(Module):
    """MLP with a sigmoid output: ``forward(xs)`` is the probability of class 1.

    Layers: ``layer_input_hidden_0``, then ``layer_hidden_{i}_{i+1}`` for each further hidden
    layer, then ``layer_hidden_output``. Build it with :func:`MLPBinaryClassifyNetFactory`.
    """

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        if not isinstance(config, MLPConfig):
            raise TypeError(f"config must be an MLPConfig, got {type(config).__name__}")
        if config.out_size != 1:
            raise ValueError(f"out_size must be 1 for a binary classifier, got {config.out_size}")
        self.config = config
        rng = random.Random(config.seed)
        size = config.hidden_layer_size
        hidden = [self.add_module("layer_input_hidden_0", Linear(config.in_size, size, rng=rng))]
        for i in range(config.hidden_layer_num - 1):
            hidden.append(self.add_module(f"layer_hidden_{i}_{i + 1}", Linear(size, size, rng=rng)))
        self.layer_hidden_output = Linear(size, config.out_size, rng=rng)
        self._hidden = hidden
        self._activation = config.hidden_activation.function

    def logit(self, xs: Sequence[Scalar | float]) -> Scalar:
        """The pre-sigmoid output (use with ``binary_cross_entropy_with_logits``)."""
        activation = self._activation
        h: Sequence[Scalar | float] = xs
        for layer in self._hidden:
            h = [activation(v) for v in layer(h)]
        return self.layer_hidden_output(h)[0]

    def forward(self, xs: Sequence[Scalar | float]) -> Scalar:
        """Probability of class 1 for one input point ``xs`` (``in_size`` Scalars or floats)."""
        return self.logit(xs).sigmoid()

    def extra_repr(self) -> str:
        return f"hidden_activation={self.config.hidden_activation.value}"


def MLPBinaryClassifyNetFactory(config: MLPConfig) -> MLPBinaryClassifyNet:
    """Build the :class:`MLPBinaryClassifyNet` described by ``config``."""
    return MLPBinaryClassifyNet(config)
