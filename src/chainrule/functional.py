"""``chainrule.functional``: whole Jacobians and Hessians, now in ``chainrule.autograd.functional``
(kept as an alias, as ``torch.autograd.functional``'s names)."""

from chainrule.autograd.functional import hessian, jacobian

__all__ = ["hessian", "jacobian"]
