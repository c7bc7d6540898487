"""Every code sample of the docs, and every example of ``make demo``, runs against the real server.

A sample is a whole script in ``docs/samples/`` (the guides include it with
``literalinclude``); it connects with ``connection.setup(["127.0.0.1"], ...)``
as a reader would, and states what it shows with ``assert``. Here the
contact point is swapped for the test node's, each script runs in its own
interpreter, and the keyspaces it made are dropped afterwards. What each
page shows, in page order, is run by ``test_pages.py``.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cqlengine import connection
from cqlengine.statements import quote_identifier
from tests.integration.scripts import ROOT, run_script

SAMPLES = sorted((ROOT / "docs" / "samples").glob("*.py"))


def test_there_are_samples():
    assert len(SAMPLES) >= 8, SAMPLES


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_a_docs_sample_runs(sample: Path, cassandra, cqlengine_connection, tmp_path):
    result = run_script(sample.read_text(), cassandra, tmp_path, sample.name)
    assert result.returncode == 0, f"{sample.name} failed:\n{result.stdout}\n{result.stderr}"


def test_the_testing_guides_example_is_the_module_the_suite_runs():
    text = (ROOT / "docs" / "guides" / "testing.rst").read_text()
    block = re.search(r"\.\. code-block:: python\n\n((?:(?: {4}.*)?\n)+)", text)
    assert block, "the testing guide has no example module"
    shown = "\n".join(line[4:] for line in block.group(1).splitlines()).strip()
    runs = (ROOT / "tests" / "integration" / "test_docs_testing_example.py").read_text().strip()
    assert shown == runs


EXAMPLES = sorted((ROOT / "examples").glob("[0-9]*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_an_example_of_make_demo_runs(example: Path, cassandra, cqlengine_connection):
    hosts = ",".join(f"{host}:{cassandra.port}" for host in cassandra.contact_points)
    keyspace = f"cqlengine_demo_{uuid.uuid4().hex[:8]}"  # of this run alone (make demo's is cqlengine_demo)
    try:
        result = subprocess.run([sys.executable, str(example)], cwd=example.parent, capture_output=True, text=True,
                                timeout=180, env={**os.environ, "PYTHONPATH": str(ROOT), "CQLENGINE_TEST_HOSTS": hosts,
                                                  "CQLENGINE_DEMO_KEYSPACE": keyspace})
    finally:
        connection.execute(f"DROP KEYSPACE IF EXISTS {quote_identifier(keyspace)}", timeout=60)
    assert result.returncode == 0, f"{example.name} failed:\n{result.stdout}\n{result.stderr}"
