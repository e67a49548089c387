"""Every chainrule op that PyTorch's OpInfo database (``op_db``) names, on torch's own sample inputs.

For each mapped entry and sample (see ``harness.py``): float64 values and gradients for a seeded random
cotangent (``test_values``), second order where OpInfo says ``supports_gradgrad`` (``test_gradgrad``), the
Tensor method / Python operator / aliases (``test_variants``) and float32 values and dtypes
(``test_float32``), all against torch 2.13.0 within ``torch.testing.assert_close``'s tolerances.

``make test`` runs the first ``harness.DEFAULT_SAMPLES`` samples of each entry; ``make test-deep``
(``CHAINRULE_DEEP=1``) every sample plus ``op.reference_inputs`` (extreme values, NaN/inf, promotion).
Today's failures are listed in ``known_failures.py`` and run as ``xfail(strict=True)`` expecting their
category's exception: a fix is an XPASS (delete the line), a failure in another category fails. Deliberate
differences (``deliberate.py``, documented in docs/promises.md) run the same way.
``python -m tests.opinfo.summary`` prints the counts.
"""

from __future__ import annotations

import os

import pytest

from . import harness
from .deliberate import DELIBERATE
from .known_failures import KNOWN_FAILURES

DEEP = bool(os.environ.get("CHAINRULE_DEEP"))
_REASON = harness.unavailable()

pytestmark = [
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
    pytest.mark.filterwarnings("ignore::UserWarning"),  # torch's own warnings on some samples
]


def _params(check: str) -> list[object]:
    if _REASON is not None:
        return []
    out = []
    for case in harness.cases(DEEP):
        if case[0] != check:
            continue
        marks = []
        _, key, sid = case
        if sid.startswith("r") or int(sid[1:]) >= harness.DEFAULT_SAMPLES:
            marks.append(pytest.mark.deep)
        known = KNOWN_FAILURES.get(case) or DELIBERATE.get(case)
        if known:
            category, detail = known
            marks.append(pytest.mark.xfail(strict=True, raises=harness.CATEGORIES[category], reason=detail))
        out.append(pytest.param(key, sid, id=f"{key}-{sid}", marks=marks))
    return out


def _run(check: str, key: str, sid: str) -> None:
    try:
        harness.run(check, key, sid, deep=DEEP)
    except harness.SkipSample as e:
        pytest.skip(str(e))


@pytest.mark.parametrize(("key", "sid"), _params("values"))
def test_values(key: str, sid: str) -> None:
    _run("values", key, sid)


@pytest.mark.parametrize(("key", "sid"), _params("gradgrad"))
def test_gradgrad(key: str, sid: str) -> None:
    _run("gradgrad", key, sid)


@pytest.mark.parametrize(("key", "sid"), _params("variants"))
def test_variants(key: str, sid: str) -> None:
    _run("variants", key, sid)


@pytest.mark.parametrize(("key", "sid"), _params("float32"))
def test_float32(key: str, sid: str) -> None:
    _run("float32", key, sid)


# ---- in-place variants (h-inplace): OpInfo's inplace_variant against Tensor.<name>_ (values, float64)
@pytest.mark.parametrize(("key", "sid"), _params("inplace"))
def test_inplace(key: str, sid: str) -> None:
    _run("inplace", key, sid)


def test_known_failures_name_real_cases() -> None:
    """Every listed failure is a case that exists (a renamed entry or a removed sample leaves the list)."""
    if _REASON is not None:
        pytest.skip(_REASON)
    existing = set(harness.cases(DEEP))
    stale = [
        case
        for case in [*KNOWN_FAILURES, *DELIBERATE]
        if case not in existing
        and (DEEP or not (case[2].startswith("r") or int(case[2][1:]) >= harness.DEFAULT_SAMPLES))
    ]
    assert not stale, f"known_failures.py lists cases that do not exist: {stale[:10]}"


def test_the_oracle_catches_each_kind_of_failure() -> None:
    """The harness is not vacuous: a wrong value, gradient, dtype or an error is reported in its category."""
    if _REASON is not None:
        pytest.skip(_REASON)
    import chainrule as cr

    op = harness.op_db()["exp"]
    wrong = {
        harness.Mismatch: lambda x: cr.exp(x) * 1.001,
        harness.GradMismatch: lambda x: cr.exp(x.detach()) + 0 * x,  # right values, zero gradient
        harness.DtypeMismatch: lambda x: cr.exp(x).float(),
        harness.Raises: lambda x: x.no_such_method(),
    }
    sid, sample = harness.samples("exp", "float64", False)[0]
    for failure, fn in wrong.items():
        entry = harness.Entry("exp", op, fn, "a wrong exp")
        with pytest.raises(failure):
            harness.check_values(entry, sample, ("values", "exp", sid))
    harness.check_values(harness.Entry("exp", op, cr.exp, "chainrule.exp"), sample, ("values", "exp", sid))
