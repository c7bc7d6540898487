"""The API reference: one page per public module, each opening with its table of names."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "docs" / "api"


def listed() -> list[str]:
    """The pages the reference's index lists, in order."""
    index = (API / "index.rst").read_text()
    return re.findall(r"^   ([\w.]+)$", index, flags=re.MULTILINE)


def test_every_listed_page_documents_its_module_and_opens_with_its_table():
    pages = [name for name in listed() if name != "internals"]
    assert len(pages) >= 20, pages
    for name in pages:
        text = (API / f"{name}.rst").read_text()
        module = f"cqlengine.{name}"
        importlib.import_module(module)
        assert text.splitlines()[0] == module
        assert f".. module-summary:: {module}" in text and f".. automodule:: {module}" in text, name
        assert text.index("module-summary") < text.index("automodule"), f"{name}: the table comes first"


def test_no_page_is_left_out_of_the_index():
    on_disk = {p.stem for p in API.glob("*.rst")} - {"index"}
    assert on_disk == set(listed())


def test_the_peer_is_named_before_the_reference_uses_the_word():
    index = (API / "index.rst").read_text()
    assert '"the peer" is ``cassandra.cqlengine``' in index
