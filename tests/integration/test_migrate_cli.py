"""``python -m cqlengine migrate backfill|verify`` in a subprocess against the real server."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from cqlengine import connection

MODELS = """
from cqlengine import columns
from cqlengine.models import Model

class Old(Model):
    __keyspace__ = {ks!r}
    id = columns.Integer(partition_key=True)
    first = columns.Text()
    last = columns.Text()

class New(Model):
    __keyspace__ = {ks!r}
    last = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True)
    full_name = columns.Text()

def to_new(old):
    return {{"last": old.last, "id": old.id, "full_name": f"{{old.first}} {{old.last}}"}}
"""


@pytest.fixture
def migrate(cassandra, cqlengine_keyspace, tmp_path):
    module = f"migrate_models_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(MODELS.format(ks=cqlengine_keyspace)))
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    sys.path.insert(0, str(tmp_path))
    models = __import__(module)
    from cqlengine import management

    management.sync_table(models.Old)
    management.sync_table(models.New)
    models.Old.objects.bulk_create([models.Old(id=i, first=f"f{i}", last=f"l{i % 7}") for i in range(500)])

    def run(step: str, *args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "cqlengine", "migrate", step, f"{module}:Old", f"{module}:New",
               "--transform", f"{module}:to_new", "--hosts", *cassandra.contact_points,
               "--port", str(cassandra.port), *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    yield run, models
    sys.path.remove(str(tmp_path))


def test_backfill_then_verify_from_the_command_line(migrate):
    run, models = migrate
    out = run("verify")
    assert out.returncode == 3, out.stderr  # nothing copied yet: every row is missing
    assert "missing 500" in out.stdout and "DIFFERENCES" in out.stdout

    out = run("backfill", "--concurrency", "16", "--rate", "5000", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "complete; rows read 500, written 500, skipped 0, failed 0" in out.stdout
    assert models.New.get(last="l3", id=3).full_name == "f3 l3"

    out = run("backfill", "--no-progress")  # a second run must say what it means
    assert out.returncode == 1 and "--resume" in out.stderr
    out = run("backfill", "--resume", "--no-progress")
    assert out.returncode == 0 and "rows read 500" in out.stdout and "0 rows in" in out.stdout

    out = run("verify", "--sample", "0.5", "--seed", "2")
    assert out.returncode == 0 and "(sampled)" in out.stdout and "OK" in out.stdout
    models.New.objects(last="l1", id=1).update(full_name="changed by hand")
    out = run("verify", "--show", "5")
    assert out.returncode == 3
    assert "different: ('l1', 1) (full_name: expected 'f1 l1', found 'changed by hand')" in out.stdout


def test_bad_arguments_exit_1_with_the_reason(migrate, cassandra):
    run, _ = migrate
    out = subprocess.run([sys.executable, "-m", "cqlengine", "migrate", "verify", "nosuchmodule:Old", "x:New"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "cannot import nosuchmodule" in out.stderr
    out = run("verify", "--sample", "2")
    assert out.returncode == 1 and "sample must be" in out.stderr
    out = subprocess.run([sys.executable, "-m", "cqlengine", "migrate"], capture_output=True, text=True)
    assert out.returncode == 1 and "backfill" in out.stdout
    assert connection.get_connection() is not None
