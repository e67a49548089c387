"""``chainrule.nn``: modules, layers, losses, ``init`` and ``functional``, mirroring ``torch.nn``.

Constructor arguments, parameter shapes and ``state_dict`` keys match ``torch.nn``, so a torch state dict
loads directly: ``model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})``.

>>> import chainrule as cr
>>> from chainrule import nn
>>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
>>> net
Sequential(
  (0): Linear(in_features=2, out_features=8, bias=True)
  (1): ReLU()
  (2): Linear(in_features=8, out_features=1, bias=True)
)
"""

from chainrule.nn import functional, init, utils
from chainrule.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from chainrule.nn.layers import *  # noqa: F403
from chainrule.nn.layers import __all__ as _layers_all
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = [
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "Sequential",
    "functional",
    "init",
    "utils",
    *_layers_all,
]
