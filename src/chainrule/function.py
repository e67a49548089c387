"""``chainrule.function``: the op base class' home before ``chainrule.autograd`` (kept as an alias).

>>> from chainrule.function import Function
>>> Function is __import__("chainrule").Function
True
"""

from chainrule.autograd.function import Function

__all__ = ["Function"]
