"""chainrule's scalar engine: autodiff on single floats, small enough to read in one sitting.

>>> from chainrule.scalar import Scalar, topological_sort
>>> x1 = Scalar(1.0, name="x1").requires_grad_()
>>> y = 3 * x1 + 1
>>> y.backward()
>>> x1.derivative
3.0

Submodules: :mod:`~chainrule.scalar.nn` (Module, Linear, MLP), :mod:`~chainrule.scalar.optim`
(SGD, Momentum, Adam), :mod:`~chainrule.scalar.losses`, :mod:`~chainrule.scalar.datasets` and
:mod:`~chainrule.scalar.train` (``fit``). The package imports nothing outside the standard
library.
"""

from chainrule.scalar import datasets, graph, losses, nn, optim, train
from chainrule.scalar.graph import backpropagate, topological_sort
from chainrule.scalar.scalar import Scalar, add_n, from_op

__all__ = [
    "Scalar",
    "add_n",
    "backpropagate",
    "datasets",
    "from_op",
    "graph",
    "losses",
    "nn",
    "optim",
    "topological_sort",
    "train",
]
