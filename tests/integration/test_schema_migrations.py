"""Schema migrations against the real node: apply, history, checksums, the lock, resuming, rollback."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from cqlengine import columns, connection
from cqlengine.exceptions import CQLEngineException
from cqlengine.management import create_keyspace_simple, drop_keyspace, get_table
from cqlengine.migrations import (
    MigrationLocked,
    MigrationTampered,
    applied_migrations,
    apply_migrations,
    load_migrations,
    make_migration,
    rollback_migration,
)
from cqlengine.models import Model

ROOT = Path(__file__).resolve().parents[2]


def users(version: int) -> list[type[Model]]:
    class User(Model):
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)
        name = columns.Text()
        if version >= 2:
            email = columns.Text(index=True)
            visits = columns.Integer()

    return [User]


@pytest.fixture
def keyspace(cqlengine_connection) -> Iterator[str]:
    name = f"mig_{uuid.uuid4().hex[:10]}"
    create_keyspace_simple(name, replication_factor=1)
    try:
        yield name
    finally:
        drop_keyspace(name)


def columns_of(keyspace: str, table: str) -> list[str]:
    info = get_table(keyspace, table)
    return sorted(info.columns) if info is not None else []


def test_pending_migrations_are_applied_once_and_recorded(keyspace, tmp_path):
    folder = tmp_path / "migrations"
    make_migration(users(1), folder)
    make_migration(users(2), folder)
    assert apply_migrations(folder, keyspace) == ["0001_initial", "0002_add_column_email_text_to_users_and_more"]
    assert columns_of(keyspace, "users") == ["email", "id", "name", "visits"]
    history = applied_migrations(keyspace)
    assert sorted(history) == ["0001_initial", "0002_add_column_email_text_to_users_and_more"]
    first = history["0001_initial"]
    assert first.applied_at is not None and first.statements_done == 1 and first.duration_ms is not None
    assert first.checksum == load_migrations(folder)[0].checksum and ":" in (first.applied_by or "")
    assert apply_migrations(folder, keyspace) == []  # nothing pending: nothing sent


def test_apply_stops_at_the_target(keyspace, tmp_path):
    folder = tmp_path / "migrations"
    make_migration(users(1), folder)
    make_migration(users(2), folder)
    assert apply_migrations(folder, keyspace, target="0001_initial") == ["0001_initial"]
    assert columns_of(keyspace, "users") == ["id", "name"]
    assert apply_migrations(folder, keyspace) == ["0002_add_column_email_text_to_users_and_more"]


def test_a_file_changed_after_it_was_applied_is_refused_by_name(keyspace, tmp_path):
    folder = tmp_path / "migrations"
    path = make_migration(users(1), folder)
    make_migration(users(2), folder)
    assert path is not None
    apply_migrations(folder, keyspace, target="0001_initial")
    path.write_text(path.read_text().replace("type='text'", "type='ascii'"))
    with pytest.raises(MigrationTampered, match=r"0001_initial\.py: changed after it was applied"):
        apply_migrations(folder, keyspace)
    assert columns_of(keyspace, "users") == ["id", "name"]  # nothing of 0002 was sent


def _script(body: str, keyspace: str, folder: Path) -> list[str]:
    hosts = connection.get_cluster().contact_points
    port = connection.get_cluster().port
    code = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from cqlengine import connection
        from cqlengine.migrations import apply_migrations, MigrationLocked
        connection.setup({list(hosts)!r}, port={port})
        folder, keyspace = Path({str(folder)!r}), {keyspace!r}
    """) + textwrap.dedent(body)
    return [sys.executable, "-c", code]


def test_a_second_run_at_once_reports_the_holder_or_waits_for_it(keyspace, tmp_path):
    folder = tmp_path / "migrations"
    make_migration(users(1), folder)
    make_migration(users(2), folder)
    started = tmp_path / "started"
    seen: dict[str, Any] = {}

    def in_the_middle(migration: Any, index: int, cql: str) -> None:
        if seen:
            return
        started.touch()
        # Another process tries now, while this one holds the lock: it is refused, naming the holder.
        other = subprocess.run(_script("""
            try:
                apply_migrations(folder, keyspace, wait=0)
                print("applied")
            except MigrationLocked as exc:
                print("locked:", exc.holder)
        """, keyspace, folder), capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        seen["other"] = other.stdout.strip() + other.stderr[-2000:]

    assert len(apply_migrations(folder, keyspace, before_statement=in_the_middle)) == 2
    assert seen["other"].startswith("locked: ") and ":" in seen["other"], seen["other"]
    # A run that waits gets the lock once the holder is done, and finds nothing left to do.
    waiter = subprocess.run(_script("print(apply_migrations(folder, keyspace, wait=30))", keyspace, folder),
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert waiter.stdout.strip() == "[]", waiter.stderr[-2000:]


def test_a_run_killed_midway_is_resumed_after_its_last_statement_done(keyspace, tmp_path):
    folder = tmp_path / "migrations"
    make_migration(users(1), folder)
    make_migration(users(2), folder)  # three statements: ADD email, CREATE INDEX, ADD visits
    killed = subprocess.run(_script("""
        def crash(migration, index, cql):
            if migration.name.startswith("0002") and index == 2:
                os._exit(9)  # killed: no cleanup, the lease is left to expire
        apply_migrations(folder, keyspace, lease_seconds=3, before_statement=crash)
    """, keyspace, folder), capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == 9, killed.stderr[-2000:]
    history = applied_migrations(keyspace)
    assert history["0001_initial"].applied_at is not None
    assert history["0002_add_column_email_text_to_users_and_more"].statements_done == 2
    assert history["0002_add_column_email_text_to_users_and_more"].applied_at is None
    with pytest.raises(MigrationLocked):
        apply_migrations(folder, keyspace, wait=0)  # the crashed run's lease has not expired yet
    sent: list[str] = []
    done = apply_migrations(folder, keyspace, wait=30, before_statement=lambda m, i, cql: sent.append(cql))
    assert done == ["0002_add_column_email_text_to_users_and_more"]
    assert len(sent) == 1 and "ADD visits" in sent[0]  # the statements done were not sent again
    assert columns_of(keyspace, "users") == ["email", "id", "name", "visits"]


def test_rollback_undoes_the_last_migration_and_refuses_to_drop_data_unless_forced(keyspace, tmp_path):
    folder = tmp_path / "migrations"
    make_migration(users(1), folder)
    make_migration(users(2), folder)
    apply_migrations(folder, keyspace)
    with pytest.raises(CQLEngineException, match="would drop column visits from users"):
        rollback_migration(folder, keyspace)
    assert columns_of(keyspace, "users") == ["email", "id", "name", "visits"]
    assert rollback_migration(folder, keyspace, force=True) == "0002_add_column_email_text_to_users_and_more"
    assert columns_of(keyspace, "users") == ["id", "name"]
    assert sorted(applied_migrations(keyspace)) == ["0001_initial"]
    assert apply_migrations(folder, keyspace) == ["0002_add_column_email_text_to_users_and_more"]
    assert columns_of(keyspace, "users") == ["email", "id", "name", "visits"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    cluster = connection.get_cluster()
    hosts = ["--hosts", *cluster.contact_points, "--port", str(cluster.port)] if args[0] != "make" else []
    return subprocess.run([sys.executable, "-m", "cqlengine", "migrations", *args, *hosts], cwd=cwd,
                          capture_output=True, text=True, timeout=180, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_command_line_makes_applies_reports_and_notices_drift(keyspace, tmp_path):
    (tmp_path / "shop.py").write_text(textwrap.dedent("""
        from cqlengine import columns
        from cqlengine.models import Model

        class Order(Model):
            __table_name__ = "orders"
            customer = columns.Text(partition_key=True)
            order_id = columns.Integer(primary_key=True)
            total = columns.Decimal()
    """))
    made = _cli("make", "shop.py", cwd=tmp_path)
    assert made.returncode == 0 and "wrote migrations/0001_initial.py" in made.stdout, made.stderr
    assert _cli("make", "shop.py", cwd=tmp_path).stdout.startswith("no changes")
    status = _cli("status", "--keyspace", keyspace, cwd=tmp_path)
    assert status.returncode == 2 and "0001_initial  pending" in status.stdout, status.stderr
    sql = _cli("sql", "--keyspace", keyspace, cwd=tmp_path)
    assert f"CREATE TABLE {keyspace}.orders (customer text, order_id int, total decimal" in sql.stdout
    applied = _cli("apply", "--keyspace", keyspace, cwd=tmp_path)
    assert applied.returncode == 0 and "applied 1 migration(s): 0001_initial" in applied.stdout, applied.stderr
    status = _cli("status", "--keyspace", keyspace, cwd=tmp_path)
    assert status.returncode == 0 and "0001_initial  applied" in status.stdout, status.stderr
    connection.execute(f"ALTER TABLE {keyspace}.orders DROP total")  # changed behind the migrations' back
    status = _cli("status", "--keyspace", keyspace, cwd=tmp_path)
    assert status.returncode == 1 and "drift: table orders: add column total decimal" in status.stdout, status.stdout


def test_a_view_is_created_by_its_migration_read_through_and_rolled_back(keyspace, tmp_path):
    from cqlengine.management import get_view
    from cqlengine.views import MaterializedView

    class Member(Model):
        __keyspace__ = keyspace
        __table_name__ = "members"
        id = columns.Integer(partition_key=True)
        email = columns.Text()

    class MemberByEmail(MaterializedView):
        __base_model__ = Member
        __table_name__ = "members_by_email"
        email = columns.Text(partition_key=True)
        id = columns.Integer(primary_key=True)

    folder = tmp_path / "migrations"
    make_migration([Member], folder)
    make_migration([Member, MemberByEmail], folder, name="by email")
    assert apply_migrations(folder, keyspace) == ["0001_initial", "0002_by_email"]
    Member.create(id=1, email="a@example.com")
    assert MemberByEmail.objects(email="a@example.com").get().id == 1
    with pytest.raises(CQLEngineException, match="would drop materialized view members_by_email"):
        rollback_migration(folder, keyspace)
    assert rollback_migration(folder, keyspace, force=True) == "0002_by_email"
    assert get_view(keyspace, "members_by_email") is None
    assert Member.objects(id=1).get().email == "a@example.com"  # the table and its rows stay
