"""The differential program corpus: every program runs on torch and on chainrule and must return the same.

See ``corpus_harness.py`` for the rules and ``FINDINGS.md`` for the divergences it found.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import corpus_data  # noqa: E402, F401 - each module registers its programs
import corpus_edges  # noqa: E402, F401
import corpus_grad_mode  # noqa: E402, F401
import corpus_hooks_functions  # noqa: E402, F401
import corpus_indexing  # noqa: E402, F401
import corpus_layers  # noqa: E402, F401
import corpus_losses  # noqa: E402, F401
import corpus_methods  # noqa: E402, F401
import corpus_misc  # noqa: E402, F401
import corpus_modules  # noqa: E402, F401
import corpus_numbers  # noqa: E402, F401
import corpus_scalar  # noqa: E402, F401
import corpus_tensors  # noqa: E402, F401
import corpus_training  # noqa: E402, F401
from corpus_harness import PROGRAMS, XFAIL, run_both  # noqa: E402


def _params() -> list:
    marks = {name: pytest.mark.xfail(strict=True, reason=reason) for name, reason in XFAIL.items()}
    return [pytest.param(name, marks=marks.get(name, ())) for name in sorted(PROGRAMS)]


@pytest.mark.parametrize("name", _params())
def test_program_gives_torchs_results(name: str) -> None:
    run_both(PROGRAMS[name])


def test_the_corpus_is_large_enough() -> None:
    assert len(PROGRAMS) >= 80
