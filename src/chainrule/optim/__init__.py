"""Optimizers with ``torch.optim``'s names, defaults, update rules and state dicts.

>>> import chainrule as cr
>>> w = cr.tensor([3.0], requires_grad=True)
>>> opt = cr.optim.Adam([w], lr=0.5)
>>> for _ in range(50):
...     opt.zero_grad()
...     ((w - 1.0) ** 2).sum().backward()
...     opt.step()
>>> abs(w.item() - 1.0) < 0.1
True
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
