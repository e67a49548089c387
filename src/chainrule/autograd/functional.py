"""``torch.autograd.functional``: whole Jacobians and Hessians (see ``chainrule.functional``)."""

from chainrule.functional import hessian, jacobian

__all__ = ["hessian", "jacobian"]
