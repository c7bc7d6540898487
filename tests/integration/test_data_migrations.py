"""Data migrations against the real node: a key change carried by a generated migration (create the new
table, wait for the writes branch, backfill, verify, wait for the switch), with live writes racing it,
a backfill stopped midway resumed, and a rollback."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from cqlengine import columns
from cqlengine.management import create_keyspace_simple, drop_keyspace, get_table
from cqlengine.migrate.compare import verify
from cqlengine.migrations import (
    Backfill,
    Deployed,
    MigrationWaiting,
    Verify,
    applied_migrations,
    apply_migrations,
    load_migrations,
    make_migration,
    rollback_migration,
)
from cqlengine.mirroring import mirror
from cqlengine.models import Model

NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def to_v2(user: Any) -> dict[str, Any]:
    """The int id becomes a uuid (the same one every time), kept as legacy_id too."""
    return {"id": uuid.uuid5(NAMESPACE, str(user.id)), "legacy_id": user.id, "name": user.name}


def models(keyspace: str) -> tuple[type[Model], type[Model]]:
    class User(Model):
        __keyspace__ = keyspace
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)
        name = columns.Text()

    class UserV2(Model):
        __keyspace__ = keyspace
        __table_name__ = "users_v2"
        id = columns.UUID(partition_key=True)
        legacy_id = columns.Integer()
        name = columns.Text()

    return User, UserV2


@pytest.fixture
def keyspace(cqlengine_connection) -> Iterator[str]:
    name = f"dmig_{uuid.uuid4().hex[:10]}"
    create_keyspace_simple(name, replication_factor=1)
    try:
        yield name
    finally:
        drop_keyspace(name)


@pytest.fixture
def two_versions(keyspace, tmp_path) -> Iterator[tuple[Path, type[Model], type[Model], str]]:
    """0001 makes users; 200 users written; the writes branch declared (mirror) and 0002 made from it."""
    folder = tmp_path / "migrations"
    User, UserV2 = models(keyspace)
    make_migration([User], folder)
    apply_migrations(folder, keyspace)
    for i in range(200):
        User.create(id=i, name=f"user {i}")
    writes_branch = mirror(User, UserV2, to_v2)
    try:
        make_migration([User, UserV2], folder, name="users by uuid")
        yield folder, User, UserV2, "0002_users_by_uuid"
    finally:
        writes_branch.stop()


def test_the_generated_migration_creates_waits_copies_checks_and_waits_for_the_switch(two_versions):
    folder, _, _, name = two_versions
    migration = load_migrations(folder)[-1]
    assert migration.name == name
    reference = f"{to_v2.__module__}:to_v2"
    assert [type(op).__name__ for op in migration.operations] == ["CreateTable", "Deployed", "Backfill", "Verify",
                                                                  "Deployed"]
    assert migration.operations[2] == Backfill("users", "users_v2", reference)
    assert migration.operations[3] == Verify("users", "users_v2", reference)
    gate = migration.operations[1]
    assert isinstance(gate, Deployed) and "every write of users also goes to users_v2" in gate.what
    text = migration.path.read_text()
    assert "from cqlengine.migrations.data import Backfill, Deployed, Verify" in text
    assert f"transform={reference!r}" in text


def test_a_key_change_is_carried_with_live_writes_racing_it(keyspace, two_versions):
    folder, User, UserV2, name = two_versions
    # Confirming before the gate is reached does not pass it: the writes branch needs the table first.
    with pytest.raises(MigrationWaiting, match="writes branch") as first:
        apply_migrations(folder, keyspace, deployed=[name])
    assert first.value.migration == name and first.value.finished == []
    assert get_table(keyspace, "users_v2") is not None
    assert UserV2.objects.count() == 0
    assert applied_migrations(keyspace)[name].statements_done == 1

    stop = threading.Event()
    written: dict[str, int] = {"create": 0, "update": 0, "delete": 0}

    def live_writes() -> None:  # the deployed writes branch: every write mirrored
        i = 0
        while not stop.is_set():
            i += 1
            User.create(id=1000 + i, name=f"new {i}")
            written["create"] += 1
            User.objects.get(id=i % 200).update(name=f"renamed {i}")
            written["update"] += 1
            if i % 5 == 0:
                User.objects.get(id=1000 + i - 1).delete()
                written["delete"] += 1

    writer = threading.Thread(target=live_writes)
    writer.start()
    try:
        with pytest.raises(MigrationWaiting, match="reads branch"):
            apply_migrations(folder, keyspace, deployed=[name])  # backfill and verify, with the writer running
    finally:
        stop.set()
        writer.join()
    assert written["create"] > 0 and written["update"] > 0, written
    print("live writes during the migration:", written)
    report = verify(User, UserV2, to_v2)
    assert report.ok and report.source_rows == User.objects.count() == UserV2.objects.count(), str(report)
    print(report)
    assert UserV2.objects.get(id=to_v2(User.objects.get(id=7))["id"]).legacy_id == 7
    assert apply_migrations(folder, keyspace, deployed=[name]) == [name]  # the switch: done
    row = applied_migrations(keyspace)[name]
    assert row.applied_at is not None and row.statements_done == 5


def test_a_backfill_stopped_midway_resumes_from_its_checkpoint(keyspace, two_versions):
    folder, User, UserV2, name = two_versions
    with pytest.raises(MigrationWaiting):
        apply_migrations(folder, keyspace)

    class Stopped(Exception):
        pass

    def stop_after_some(summary: Any) -> None:
        if summary.written >= 50:
            raise Stopped(summary.written)

    with pytest.raises(Stopped):
        apply_migrations(folder, keyspace, deployed=[name], progress=stop_after_some)
    assert applied_migrations(keyspace)[name].statements_done == 2  # stopped in the backfill
    copied = UserV2.objects.count()
    assert 0 < copied < 200
    steps: list[str] = []
    with pytest.raises(MigrationWaiting, match="reads branch"):  # the run finds it stopped in the copy, not at a gate
        apply_migrations(folder, keyspace, before_statement=lambda m, i, text: steps.append(text))
    assert steps == ["-- backfill users_v2 from users", "-- verify users_v2 against users",
                     "-- wait until the reads branch is deployed: the application reads users_v2 (UserV2) and no "
                     "longer writes users"]
    assert UserV2.objects.count() == 200


def test_rollback_drops_the_new_table_and_forgets_the_copy(keyspace, two_versions):
    folder, User, UserV2, name = two_versions
    assert apply_migrations(folder, keyspace, deployed=True) == [name]  # no application: every gate passes
    assert UserV2.objects.count() == 200
    assert rollback_migration(folder, keyspace, force=True) == name
    assert get_table(keyspace, "users_v2") is None
    with pytest.raises(MigrationWaiting, match="writes branch"):
        apply_migrations(folder, keyspace)
    assert apply_migrations(folder, keyspace, deployed=True) == [name]
    assert UserV2.objects.count() == 200  # copied again: the first copy's checkpoint was cleared


SHOP_V1 = '''
import uuid
from cqlengine import columns
from cqlengine.models import Model

class User(Model):
    __table_name__ = "users"
    id = columns.Integer(partition_key=True)
    name = columns.Text()
'''

SHOP_V2 = SHOP_V1 + '''
from cqlengine.mirroring import mirror

class UserV2(Model):
    __table_name__ = "users_v2"
    id = columns.UUID(partition_key=True)
    legacy_id = columns.Integer()
    name = columns.Text()

def to_v2(user):
    return {"id": uuid.uuid5(uuid.NAMESPACE_OID, str(user.id)), "legacy_id": user.id, "name": user.name}

mirror(User, UserV2, to_v2)
'''


def test_the_command_line_waits_at_each_gate_and_says_so(keyspace, tmp_path):
    from tests.integration.test_schema_migrations import _cli

    (tmp_path / "shop.py").write_text(SHOP_V1)
    assert _cli("make", "shop.py", cwd=tmp_path).returncode == 0
    assert _cli("apply", "--keyspace", keyspace, cwd=tmp_path).returncode == 0
    (tmp_path / "shop.py").write_text(SHOP_V2)
    made = _cli("make", "shop.py", "--name", "users v2", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[1:] == [
        "  - create table users_v2 (3 columns)",
        "  - wait until the writes branch is deployed: every write of users also goes to users_v2 "
        "(mirror(User, UserV2, shop:to_v2))",
        "  - backfill users_v2 from users",
        "  - verify users_v2 against users",
        "  - wait until the reads branch is deployed: the application reads users_v2 (UserV2) and no longer "
        "writes users"]
    sql = _cli("sql", "--keyspace", keyspace, cwd=tmp_path)
    assert "-- data step, run by apply: backfill users_v2 from users" in sql.stdout, sql.stdout
    first = _cli("apply", "--keyspace", keyspace, cwd=tmp_path)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "waiting: 0002_users_v2 waits until the writes branch is deployed" in first.stdout
    assert "--deployed 0002_users_v2" in first.stdout
    status = _cli("status", "--keyspace", keyspace, cwd=tmp_path)
    assert "0002_users_v2  stopped after 1 of 5 steps: waits until the writes branch" in status.stdout, status.stdout
    assert status.returncode == 2
    second = _cli("apply", "--keyspace", keyspace, "--deployed", "0002_users_v2", cwd=tmp_path)
    assert second.returncode == 3 and "waits until the reads branch is deployed" in second.stdout, second.stderr
    assert "0002_users_v2: -- verify users_v2 against users" in second.stdout
    last = _cli("apply", "--keyspace", keyspace, "--deployed", "0002_users_v2", cwd=tmp_path)
    assert last.returncode == 0 and "applied 1 migration(s): 0002_users_v2" in last.stdout, last.stderr
    print("\n".join(p.stdout for p in (made, first, status, second, last)))
