"""Every page is a test: its Python blocks run in page order, as a reader pastes them, against the real node.

The only code a page runs that it does not show is its declared ``.. page
setup`` (connecting, picking a keyspace); a block it marks ``.. partial:``
is counted and not run. See ``tests/pages.py`` for how blocks are read.
"""
from __future__ import annotations

from collections import Counter

import pytest

from tests.integration.scripts import SETUP, run_script
from tests.pages import NOT_PYTHON, PYTHON, pages, read_page

PAGES = {path: read_page(path) for path in pages()}
RUNNABLE = [page for page in PAGES.values() if page.python]


def test_every_block_says_its_language():
    unsaid = [f"{block.where} ({block.language})" for page in PAGES.values() for block in page.blocks
              if block.language not in PYTHON | NOT_PYTHON]
    assert not unsaid, ("blocks without a language the suite knows (write '.. code-block:: python' or "
                        "'.. code-block:: console' instead of '::'): " + ", ".join(unsaid))


def test_partial_blocks_are_few():
    partial = [block.where for page in PAGES.values() for block in page.blocks if block.partial is not None]
    python = sum(1 for page in PAGES.values() for block in page.blocks if block.language in PYTHON)
    counts = Counter(block.language for page in PAGES.values() for block in page.blocks)
    print(f"\npages: {len(PAGES)}; Python blocks run: {python - len(partial)}, marked partial: {len(partial)}; "
          f"other blocks (shell, output): {sum(n for lang, n in counts.items() if lang not in PYTHON)}")
    assert len(partial) <= python // 10, partial


@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.path.relative_to(p.path.parents[1] if p.path.parent.name ==
                                                                          "guides" else p.path.parent))
                                                for p in RUNNABLE])
def test_a_page_runs_as_pasted(page, cassandra, cqlengine_connection, tmp_path):
    script = page.script()
    assert SETUP in script, f"{page.path.name} connects nowhere: its blocks or its page setup must call {SETUP}, ...)"
    result = run_script(script, cassandra, tmp_path, f"page_{page.path.stem}.py")  # not logging.py: stdlib
    assert result.returncode == 0, f"{page.path.name}, run as pasted, failed:\n{result.stdout}\n{result.stderr}"
