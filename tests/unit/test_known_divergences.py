"""Each difference the differential oracle excuses on purpose is documented in docs/porting.rst."""
from __future__ import annotations

import re
from pathlib import Path

from tests.differential import known

PORTING = Path(__file__).resolve().parents[2] / "docs" / "porting.rst"


def _sections() -> set[str]:
    # A definition-list term: a line at the left margin followed by an indented line.
    lines = PORTING.read_text().splitlines()
    return {line.strip("`") for line, after in zip(lines, lines[1:])
            if line and not line[0].isspace() and after.startswith("    ")}


def test_every_divergence_kept_on_purpose_names_a_porting_section():
    sections = _sections()
    missing = [(d.name, d.section) for d in known.ON_PURPOSE if d.section not in sections]
    assert not missing, f"not a section of {PORTING.name}: {missing}"


def test_nothing_is_excused_as_pending_a_fix():
    assert known.PENDING_FIXES == []


def test_names_are_unique():
    names = [d.name for d in known.ON_PURPOSE + known.PENDING_FIXES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9-]+", n) for n in names)
