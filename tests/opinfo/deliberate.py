"""Where chainrule differs from torch on purpose, on an OpInfo sample: each case, the failure category the
harness reports for it, and why. The same differences are listed in docs/promises.md (section 11).

``test_opinfo.py`` runs each as an ``xfail(strict=True)`` of exactly that category, so a difference stays the
documented one (a change in behaviour, either way, fails the test); ``python -m tests.opinfo.summary``
counts them apart from the failures.
"""

# ruff: noqa: E501
DELIBERATE: dict[tuple[str, str, str], tuple[str, str]] = {
    ("gradgrad", "linalg.norm.subgradients_at_zero", "s0"): (
        "grad mismatch",
        "the second derivative of a norm at exactly 0: chainrule gives 0 (continuing the subgradient 0 its first derivative uses there), torch nan",
    ),
    # ---- in-place variants (h-inplace)
    ("inplace", "addbmm", "s1"): (
        "raises",
        "torch's addbmm_ resizes a (1,) self to the (5, 10) result (its addmm_/baddbmm_ refuse, as every in-place op does); chainrule's addbmm_ refuses too",
    ),
}
