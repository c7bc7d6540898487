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


def test_an_entry_applying_to_a_queued_write_excuses_the_state_its_batch_leaves():
    queued = known.Step("save", "row", values={"v": 1}, history=frozenset({"deleted"}), batched=True)
    notes = known.queued(queued)
    assert notes == {known.QUEUED + "written-after-delete"}
    batch = known.Step("batch", "exit", history=frozenset(notes))
    assert known.excused(batch, "rows").name == "written-after-delete"
    assert known.excused(batch, "exception") is None  # told by the batch's outcome, not by what was queued
    assert known.excused(known.Step("batch", "exit"), "rows") is None
