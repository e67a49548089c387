"""``chainrule.special``: torch.special's names for chainrule's special functions.

>>> import chainrule as cr
>>> cr.special.expit(cr.tensor([0.0])).tolist()
[0.5]
"""

from chainrule.ops.elementwise import erf, exp, expm1, log1p, round, sigmoid
from chainrule.ops.elementwise_compose import logit
from chainrule.ops.elementwise_math import exp2, sinc
from chainrule.ops.reduce import logsumexp
from chainrule.ops.special_functions import (
    digamma,
    entr,
    erfc,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    lgamma,
    log_ndtr,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
    xlog1py,
    xlogy,
    zeta,
)

expit = sigmoid
gammaln = lgamma
psi = digamma
multigammaln = mvlgamma

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp", "exp2", "expit", "expm1", "gammaln", "i0",
    "i0e", "i1", "i1e", "log1p", "log_ndtr", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "sinc", "xlog1py", "xlogy", "zeta",
]  # fmt: skip
