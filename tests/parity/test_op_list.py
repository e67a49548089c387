"""The README's list of ops covered by the parity suite is today's registry (``list_ops.py --readme``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from list_ops import op_count, readme_paragraph  # noqa: E402


def test_readme_lists_every_op_of_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_paragraph() in readme, "README's op list is stale: python tests/parity/list_ops.py --readme"


def test_readme_states_the_number_of_ops():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"for each of these (\d+) ops", readme)
    assert stated is not None, "README: 'for each of these N ops' not found"
    assert int(stated.group(1)) == op_count()
