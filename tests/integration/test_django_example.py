"""The Django integration against the real node: examples/django_shop's own tests (Django's test client, the
keyspace of the test runner), its manage.py commands and their exit statuses, and gunicorn --preload serving a
view that queries from two workers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cqlengine import connection
from cqlengine.management import create_keyspace_simple, drop_keyspace
from cqlengine.statements import qualified_table
from tests.integration.servers import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "django_shop"
DEADLINE = 60.0


@pytest.fixture
def shop(cassandra, cqlengine_connection):
    """The project's environment: this node, and a keyspace of the test's own for its models."""
    keyspace = f"shop_{uuid.uuid4().hex[:10]}"
    create_keyspace_simple(keyspace, replication_factor=1)
    env = {**os.environ, "SHOP_KEYSPACE": keyspace, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(ROOT)]),
           "CQLENGINE_TEST_HOSTS": ",".join(f"{h}:{cassandra.port}" for h in cassandra.contact_points)}
    try:
        yield env, keyspace
    finally:
        drop_keyspace(keyspace)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_project_s_tests_pass_in_a_keyspace_of_their_own(shop):
    env, keyspace = shop
    before = {r["keyspace_name"] for r in connection.execute("SELECT keyspace_name FROM system_schema.keyspaces")}
    run = manage(env, "test", "notes", "-v", "2")
    print(run.stderr.strip().splitlines()[-3:])
    assert run.returncode == 0 and "Ran 4 tests" in run.stderr and "\nOK" in run.stderr, run.stdout + run.stderr
    after = {r["keyspace_name"] for r in connection.execute("SELECT keyspace_name FROM system_schema.keyspaces")}
    assert after == before  # the run's keyspace was dropped; the project's own was never touched
    assert connection.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
                              [keyspace]).all() == []


def test_sync_and_migrations_commands_exit_as_the_command_line_does(shop, tmp_path):
    env, keyspace = shop
    assert manage(env, "cqlengine_sync", "--plan").returncode == 2
    assert manage(env, "cqlengine_sync").returncode == 0
    assert manage(env, "cqlengine_sync", "--plan").returncode == 0
    folder = tmp_path / "migrations"
    made = manage(env, "cqlengine_migrations", "make", "--folder", str(folder))
    assert made.returncode == 0 and "0001_initial" in made.stdout, made.stdout + made.stderr
    status = manage(env, "cqlengine_migrations", "status", "--folder", str(folder))
    assert status.returncode == 2 and "0001_initial  pending" in status.stdout, status.stdout + status.stderr
    bad = dict(env, SHOP_KEYSPACE="no_such_keyspace_here")
    refused = manage(bad, "cqlengine_sync")
    assert refused.returncode == 1 and "error:" in refused.stderr


def test_gunicorn_preload_serves_a_view_that_queries_from_two_workers(shop):
    env, keyspace = shop
    assert manage(env, "cqlengine_sync").returncode == 0
    for i in range(3):
        connection.execute(f"INSERT INTO {qualified_table(keyspace, 'shop_notes')} (owner, note_id, title) "
                           "VALUES (?, now(), ?)",
                           ["eve", f"t{i}"])
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "shop.wsgi:application"]
    with serving(argv, PROJECT, env, port, DEADLINE):
        def ask(_: int) -> dict:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/whoami/eve/", timeout=30) as answer:
                return dict(json.loads(answer.read()))

        answers: list[dict] = []
        until = time.monotonic() + DEADLINE
        while len({a["pid"] for a in answers}) < 2 and time.monotonic() < until:
            with ThreadPoolExecutor(8) as pool:
                answers += list(pool.map(ask, range(16)))
        assert {a["notes"] for a in answers} == {3}
        assert len({a["pid"] for a in answers}) == 2, "both workers served queries"
