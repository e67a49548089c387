"""NumPy kernels (float64 in, float64 out) for the special functions: no SciPy.

Each cites its method. They are the forwards of ``chainrule.ops.special_functions``.
"""

from __future__ import annotations

import math

import numpy as np

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)


def _vectorized(fn):  # noqa: ANN001, ANN202
    return np.vectorize(fn, otypes=[np.float64])


def _safe_lgamma(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, -2...): torch gives inf
        return math.inf


erf = _vectorized(math.erf)
erfc = _vectorized(math.erfc)
lgamma = _vectorized(_safe_lgamma)

# Bernoulli numbers B_2k / (2k), for the digamma asymptotic series.
_DIGAMMA_ASYM = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12, -3617 / 8160)


def digamma(x: np.ndarray) -> np.ndarray:
    """Reflection psi(x) = psi(1-x) - pi/tan(pi x) below 0.5, the recurrence psi(x) = psi(x+1) - 1/x up to
    x >= 10, then the asymptotic series ln x - 1/(2x) - sum B_2k / (2k x^2k). -inf at 0, nan at -1, -2..."""
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        neg = x < 0.5
        z = np.where(neg, 1 - x, x)
        acc = np.zeros_like(z)
        for _ in range(10):
            small = z < 10
            acc = acc - np.where(small, 1 / np.where(small, z, 1), 0)
            z = np.where(small, z + 1, z)
        w = 1 / (z * z)
        series = np.zeros_like(z)
        for c in reversed(_DIGAMMA_ASYM):
            series = (series + c) * w
        out = acc + np.log(z) - 0.5 / z - series
        refl = np.pi / np.tan(np.pi * x)
        out = np.where(neg, out - refl, out)
        out = np.where(x == 0, np.copysign(np.inf, -x), out)  # -inf at +0, inf at -0, as torch
        out = np.where((x < 0) & (x == np.floor(x)), np.nan, out)
        return np.where(x == np.inf, np.inf, np.where(x == -np.inf, np.nan, out))


# (2k)! / B_2k, the Euler-Maclaurin coefficients of Cephes' zeta.
_ZETA_A = (
    12.0,
    -720.0,
    30240.0,
    -1209600.0,
    47900160.0,
    -1.8924375803183791606e9,
    7.47242496e10,
    -2.950130727918164224e12,
    1.1646782814350067249e14,
    -4.5979787224074726105e15,
    1.8152105401943546773e17,
    -7.1661652561756670113e18,
)


def zeta(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The Hurwitz zeta function sum_k (k + q)^-s, as Cephes' ``zeta``: the direct sum until k + q > 9, then
    the Euler-Maclaurin tail with 12 Bernoulli terms. inf at s = 1 and at q = 0, -1...; nan for s < 1."""
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    with np.errstate(all="ignore"):
        a = q.copy()
        total = a ** (-s)
        finite = q[np.isfinite(q)]
        shift = int(max(9.0, np.max(9.0 - finite, initial=0.0) + 1))
        for i in range(min(shift, 100000)):
            more = (i < 9) | (a <= 9.0)
            a = np.where(more, a + 1, a)
            total = total + np.where(more, a ** (-s), 0.0)
        w = a
        b = a ** (-s)
        total = total + b * w / (s - 1) - 0.5 * b
        fac = np.ones_like(s)
        k = 0.0
        for c in _ZETA_A:
            fac = fac * (s + k)
            b = b / w
            total = total + fac * b / c
            k += 1.0
            fac = fac * (s + k)
            b = b / w
            k += 1.0
        total = np.where(q > 1e8, (1 / (s - 1) + 1 / (2 * q)) * q ** (1 - s), total)
        total = np.where((q <= 0) & (q == np.floor(q)), np.inf, total)
        total = np.where((q <= 0) & (q != np.floor(q)) & (s != np.floor(s)), np.nan, total)
        total = np.where(s == 1, np.inf, np.where(s < 1, np.nan, total))
        return total


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x) for n >= 1; digamma for n = 0. Below 0 (off the poles) by
    the reflection psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n cot(pi x): the zeta sum would need |x|
    terms."""
    if n == 0:
        return digamma(x)
    sign = (-1.0) ** (n + 1)
    x = np.asarray(x, np.float64)
    reflect = (x < 0) & (x != np.floor(x)) & np.isfinite(x)
    base = np.where(reflect, 1 - x, x)
    out = sign * math.factorial(n) * zeta(np.float64(n + 1), base)
    if reflect.any():
        out = np.where(reflect, (-1.0) ** n * out - np.pi * _cot_derivative(n, x), out)
    # torch's values at ±inf: trigamma 0 at inf and nan at -inf; nan at inf and ±inf at -inf for n >= 2
    at_pos, at_neg = (0.0, np.nan) if n == 1 else (np.nan, sign * np.inf)
    return np.where(x == np.inf, at_pos, np.where(x == -np.inf, at_neg, out))


def _cot_derivative(n: int, x: np.ndarray) -> np.ndarray:
    """d^n/dx^n cot(pi x), as a polynomial in c = cot(pi x): P_0 = c, P_(k+1) = -pi (1 + c^2) P_k'(c). The
    angle is reduced to [0, pi) first (cot has period pi), so a large |x| keeps its digits."""
    from numpy.polynomial import polynomial as poly  # noqa: PLC0415

    with np.errstate(all="ignore"):
        c = 1 / np.tan(np.pi * (x - np.floor(x)))
        coefficients = np.array([0.0, 1.0])
        for _ in range(n):
            coefficients = -np.pi * poly.polymul([1.0, 0.0, 1.0], poly.polyder(coefficients))
        return poly.polyval(c, coefficients)


def erfinv(x: np.ndarray) -> np.ndarray:
    """Giles' single-precision approximation ("Approximating the erfinv function", GPU Computing Gems,
    2011), then Newton steps on erf (on erfc for |x| > 0.5, where 1 - |x| is exact) to full precision."""
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1 - x) * (1 + x))
        w1 = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
            p1 = c + p1 * w1
        w2 = np.sqrt(w) - 3
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
            p2 = c + p2 * w2
        y = np.where(w < 5, p1, p2) * x
        ax = np.abs(x)
        tail = ax > 0.5
        for _ in range(4):
            ay = np.abs(y)
            # the tail solves log erfc(|y|) = log(1 - |x|), nearly linear in |y|; the centre erf(|y|) = |x|
            g_tail = (np.log(erfc(ay)) - np.log(1 - ax)) * (_SQRT_PI * erfcx(ay) / -2)
            slope = 2 / _SQRT_PI * np.exp(-y * y)
            g_mid = (erf(ay) - ax) / np.where(slope > 0, slope, 1)
            y = np.sign(x) * (ay - np.where(tail, g_tail, g_mid))
        y = np.where(ax == 1, np.sign(x) * np.inf, y)
        return np.where(ax > 1, np.nan, y)


def erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x): directly below x = 10, then the asymptotic series 1/(x sqrt(pi)) sum_k (-1)^k
    (2k-1)!! / (2x^2)^k (20 terms, error < 1e-22); 2 exp(x^2) - erfcx(-x) below 0."""
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        big = np.abs(x) >= 10
        ax = np.where(big, np.abs(x), 10.0)
        term = np.ones_like(ax)
        total = np.ones_like(ax)
        for k in range(1, 21):
            term = -term * (2 * k - 1) / (2 * ax * ax)
            total = total + term
        asym = total / (ax * _SQRT_PI)
        xs = np.where(big, 0.0, x)
        direct = np.exp(xs * xs) * erfc(xs)
        out = np.where(big, np.where(x > 0, asym, 2 * np.exp(x * x) - asym), direct)
        return np.where(x == np.inf, 0.0, out)


def ndtri(p: np.ndarray) -> np.ndarray:
    """The inverse of the normal CDF: Abramowitz & Stegun 26.2.23 as the start (error < 4.5e-4), then Newton
    steps on log ndtr (nearly linear in the tail), using ndtri(p) = -ndtri(1 - p) above 0.5."""
    p = np.asarray(p, np.float64)
    with np.errstate(all="ignore"):
        upper = p > 0.5
        q = np.where(upper, 1 - p, p)
        qs = np.where((q > 0) & (q <= 0.5), q, 0.5)
        t = np.sqrt(-2 * np.log(qs))
        y = -(
            t
            - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3)
        )
        for _ in range(4):
            log_cdf = np.log(0.5 * erfcx(-y / _SQRT_2)) - y * y / 2
            dlog = math.sqrt(2 / math.pi) / erfcx(-y / _SQRT_2)
            y = y - (log_cdf - np.log(qs)) / dlog
        y = np.where(upper, -y, y)
        y = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, y))
        y = np.where(p == 0.5, 0.0, y)
        return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, y)


def log_ndtr(x: np.ndarray) -> np.ndarray:
    """log Phi(x): log1p(-Phi(-x)) above -1, log(erfcx(-x/sqrt 2) / 2) - x^2/2 below (no underflow)."""
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        hi = np.log1p(-0.5 * erfc(x / _SQRT_2))
        lo = np.log(0.5 * erfcx(-x / _SQRT_2)) - x * x / 2
        return np.where(x > -1, hi, lo)


def _bessel_series(x: np.ndarray, nu: int) -> np.ndarray:
    """I_nu(x) = sum_k (x/2)^(2k+nu) / (k! (k+nu)!) for |x| <= 30 (positive terms: no cancellation)."""
    h = x / 2
    term = h**nu / math.factorial(nu)
    total = term.copy()
    for k in range(1, 90):
        term = term * h * h / (k * (k + nu))
        total = total + term
    return total


def _bessel_asym_scaled(x: np.ndarray, nu: int) -> np.ndarray:
    """e^-x I_nu(x) for x > 30: 1/sqrt(2 pi x) sum_k (-1)^k prod_j (4nu^2 - (2j-1)^2) / (k! (8x)^k)
    (DLMF 10.40.1; 30 terms, error < 1e-20)."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, 31):
        term = -term * (4 * nu * nu - (2 * k - 1) ** 2) / (k * 8 * x)
        total = total + term
    return total / np.sqrt(2 * np.pi * x)


def bessel_i(x: np.ndarray, nu: int, scaled: bool) -> np.ndarray:
    """I_0/I_1 (``scaled``: times e^-|x|), by the series below |x| = 30 and the asymptotic series above."""
    x = np.asarray(x, np.float64)
    ax = np.abs(x)
    with np.errstate(all="ignore"):
        big = ax > 30
        xs = np.where(big, 0.0, ax)
        small = _bessel_series(xs, nu) * (np.exp(-xs) if scaled else 1.0)
        xb = np.where(big, ax, 31.0)
        asym = _bessel_asym_scaled(xb, nu)
        asym = asym if scaled else np.exp(xb) * asym  # inf past exp's range (x > 709.78), as torch
        out = np.where(big, asym, small)
        out = np.where(np.isnan(x), np.nan, out)
        return np.copysign(out, x) if nu == 1 else out
