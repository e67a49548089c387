"""``chainrule.special``: torch.special's names for chainrule's special functions.

>>> import chainrule as cr
>>> cr.special.expit(cr.tensor([0.0])).tolist()
[0.5]
"""

from typing import Any

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
from chainrule.tensor import Tensor

# isort: split
# h-special: the Bessel/Airy functions, the orthogonal polynomials and softmax/log_softmax
from chainrule.ops.special_bessel import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    spherical_bessel_j0,
)
from chainrule.ops.special_polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """``special.softmax(input, dim)``: ``nn.functional.softmax`` with ``dim`` required."""
    from chainrule.nn.functional import softmax as _softmax  # noqa: PLC0415

    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """``special.log_softmax(input, dim)``: ``nn.functional.log_softmax`` with ``dim`` required."""
    from chainrule.nn.functional import log_softmax as _log_softmax  # noqa: PLC0415

    return _log_softmax(input, dim, dtype=dtype)


# end h-special

expit = sigmoid
gammaln = lgamma
psi = digamma
multigammaln = mvlgamma

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp", "exp2", "expit", "expm1", "gammaln", "i0",
    "i0e", "i1", "i1e", "log1p", "log_ndtr", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "sinc", "xlog1py", "xlogy", "zeta",
]  # fmt: skip
__all__ += [  # h-special
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p", "log_softmax",
    "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
    "softmax", "spherical_bessel_j0",
]  # fmt: skip
