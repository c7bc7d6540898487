"""Running a script of the docs against the test node, in keyspaces of its own that are dropped afterwards."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from cqlengine import connection
from cqlengine.statements import quote_identifier

ROOT = Path(__file__).resolve().parents[2]
#: How every script of the docs connects, as a reader would: the suite points it at the test node.
SETUP = 'connection.setup(["127.0.0.1"]'


def run_script(code: str, cassandra, tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    """Run ``code`` against the test node, in keyspaces of its own, which are dropped afterwards.

    Each keyspace the script creates is renamed with a suffix unique to this run, so that two test
    runs against one node (or a reader's own keyspace of that name) never meet.
    """
    assert SETUP in code, f"{name} must connect with {SETUP}, ...)"
    code = code.replace(SETUP, f"connection.setup({list(cassandra.contact_points)!r}, port={cassandra.port}")
    suffix = uuid.uuid4().hex[:8]
    made = sorted(set(re.findall(r'(?:default_keyspace=|create_keyspace\w*\()"(\w+)"', code)))
    assert made, f"{name} names no keyspace of its own"
    for keyspace in made:
        code = re.sub(rf"\b{keyspace}\b", f"{keyspace}_{suffix}", code)
    script = tmp_path / name
    script.write_text(code)
    try:
        return subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                              timeout=180, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        for keyspace in made:
            connection.execute(f"DROP KEYSPACE IF EXISTS {quote_identifier(f'{keyspace}_{suffix}')}", timeout=60)
