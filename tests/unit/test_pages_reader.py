"""How the page test reads a page's blocks (``tests/pages.py``): what a reader sees rendered, in order."""
from __future__ import annotations

import pytest

from tests.pages import PageError, read_page

PAGE = '''Title
=====

.. page setup

   from cqlengine import connection
   connection.setup(["127.0.0.1"], default_keyspace="k")

Some text::

    x = 1

    y = x + 1

.. code-block:: console

    pip install cqlengine-mapper

.. partial: a sketch

.. code-block:: python

    not python at all

.. literalinclude:: sample.py
   :language: python
   :start-after: # [two]
   :end-before: # [/two]

Closing words.
'''

SAMPLE = "a = 1\n# [two]\nb = 2\n\nc = 3\n# [/two]\nd = 4\n"


@pytest.fixture
def page(tmp_path):
    (tmp_path / "sample.py").write_text(SAMPLE)
    path = tmp_path / "page.rst"
    path.write_text(PAGE)
    return read_page(path)


def test_blocks_come_in_page_order_with_their_language_and_line(page):
    assert [(b.language, b.line) for b in page.blocks] == [("literal", 9), ("console", 15), ("python", 21),
                                                           ("python", 25)]
    assert page.blocks[0].code == "x = 1\n\ny = x + 1"
    assert page.blocks[1].code == "pip install cqlengine-mapper"


def test_a_literalinclude_is_cut_as_sphinx_cuts_it(page):
    assert page.blocks[3].code == "b = 2\n\nc = 3"


def test_the_setup_is_hidden_and_first_and_partial_blocks_are_left_out(page):
    assert page.setup.splitlines()[1] == 'connection.setup(["127.0.0.1"], default_keyspace="k")'
    assert page.blocks[2].partial == "a sketch"
    assert [b.line for b in page.python] == [25]
    script = page.script()
    assert script.startswith("from cqlengine import connection")
    assert "not python at all" not in script and "b = 2" in script and "x = 1" not in script


def test_a_partial_mark_far_from_a_block_is_an_error(tmp_path):
    path = tmp_path / "page.rst"
    path.write_text(".. partial: lost\n\nA paragraph.\n\n.. code-block:: python\n\n    x = 1\n")
    with pytest.raises(PageError, match="just before a block"):
        read_page(path)


def test_an_include_that_cuts_at_a_missing_mark_is_an_error(tmp_path):
    (tmp_path / "sample.py").write_text("a = 1\n")
    path = tmp_path / "page.rst"
    path.write_text(".. literalinclude:: sample.py\n   :start-after: # [nowhere]\n")
    with pytest.raises(PageError, match="page.rst:1"):
        read_page(path)
