"""Schema migration files made from models: the operations, the files, the state they fold to (no server)."""
from __future__ import annotations

import uuid

import pytest

from cqlengine import columns
from cqlengine.exceptions import CQLEngineException
from cqlengine.migrations import (
    Backfill,
    Deployed,
    MigrationConflict,
    MigrationFileError,
    Verify,
    changes,
    load_migrations,
    make_migration,
    pending_operations,
    state_of,
    state_of_models,
)
from cqlengine.migrations.operations import AddColumn, CreateIndex, CreateTable, CreateType, DropColumn
from cqlengine.mirroring import mirror
from cqlengine.models import Model
from cqlengine.usertype import UserType


class Address(UserType):
    street = columns.Text()
    zip_code = columns.Text()


def users_v1() -> type[Model]:
    class User(Model):
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)
        name = columns.Text()

    return User


def users_v2() -> type[Model]:
    class User(Model):
        __table_name__ = "users"
        __options__ = {"comment": "application users"}
        id = columns.Integer(partition_key=True)
        name = columns.Text()
        email = columns.Text(custom_index=True)
        home = columns.UserDefinedType(Address)

    return User


def events() -> type[Model]:
    class Event(Model):
        __table_name__ = "events"
        day = columns.Date(partition_key=True)
        at = columns.DateTime(primary_key=True, clustering_order="DESC")
        what = columns.Text()

    return Event


def test_the_first_migration_creates_every_table_and_reads_back_as_the_models(tmp_path):
    path = make_migration([users_v1(), events()], tmp_path / "migrations")
    assert path is not None and path.name == "0001_initial.py"
    assert (tmp_path / "migrations" / "__init__.py").exists()
    [migration] = load_migrations(tmp_path / "migrations")
    assert migration.previous is None
    assert [type(op) for op in migration.operations] == [CreateTable, CreateTable]
    assert state_of([migration]) == state_of_models([users_v1(), events()])
    assert migration.statements("shop")[0] == (
        'CREATE TABLE shop."users" (id int, name text, PRIMARY KEY ((id)))')  # users is a CQL keyword
    assert "CLUSTERING ORDER BY (at DESC)" in migration.statements("shop")[1]


def test_no_change_writes_nothing_and_the_next_one_holds_only_the_difference(tmp_path):
    folder = tmp_path / "migrations"
    make_migration([users_v1()], folder)
    assert make_migration([users_v1()], folder) is None
    path = make_migration([users_v2()], folder, name="Email and home!")
    assert path is not None and path.name == "0002_email_and_home.py"
    first, second = load_migrations(folder)
    assert second.previous == first.name
    kinds = [type(op).__name__ for op in second.operations]
    assert kinds == ["CreateType", "AddColumn", "AddColumn", "AlterTableOptions"]
    cql = second.statements("shop")
    assert cql[0] == "CREATE TYPE shop.address (street text, zip_code text)"
    assert """CREATE CUSTOM INDEX users_email_sai ON shop."users" (email) USING 'StorageAttachedIndex'""" in cql
    assert cql[-1] == """ALTER TABLE shop."users" WITH comment = 'application users'"""
    assert not second.destructive
    assert state_of([first, second]) == state_of_models([users_v2()])


def test_what_the_models_lost_is_dropped_and_marked_destructive(tmp_path):
    folder = tmp_path / "migrations"
    make_migration([users_v2(), events()], folder)
    operations = pending_operations([users_v1()], folder)
    assert [type(op).__name__ for op in operations] == ["DropColumn", "DropColumn", "DropTable", "DropType"]
    assert all(op.destructive for op in operations)
    drop_email = operations[0]
    assert isinstance(drop_email, DropColumn)
    # Cassandra refuses to drop an indexed column: the index goes first.
    assert drop_email.statements("shop") == ["DROP INDEX IF EXISTS shop.users_email_sai",
                                             'ALTER TABLE shop."users" DROP email']
    assert isinstance(drop_email.reverse(), AddColumn) and isinstance(operations[2].reverse(), CreateTable)


def test_a_change_cassandra_cannot_make_in_place_writes_nothing_and_says_each(tmp_path):
    folder = tmp_path / "migrations"
    make_migration([users_v1(), events()], folder)

    class User(Model):
        __table_name__ = "users"
        id = columns.UUID(partition_key=True)
        name = columns.Integer()

    class Event(Model):
        __table_name__ = "events"
        day = columns.Date(partition_key=True)
        at = columns.DateTime(primary_key=True)  # the order was DESC
        what = columns.Text()

    with pytest.raises(MigrationConflict) as refused:
        make_migration([User, Event], folder)
    assert refused.value.problems == [
        "table users column id: int becomes uuid",
        "table users column name: text becomes int",
        "table events: clustering key or order changes",
    ]
    assert [p.name for p in sorted(folder.iterdir())] == ["0001_initial.py", "__init__.py"]


def test_the_same_models_always_give_the_same_file(tmp_path):
    one = make_migration([users_v2(), events()], tmp_path / "a")
    two = make_migration([users_v2(), events()], tmp_path / "b")
    assert one is not None and two is not None
    assert one.read_text() == two.read_text()
    assert load_migrations(tmp_path / "a")[0].checksum == load_migrations(tmp_path / "b")[0].checksum


def test_an_index_added_to_a_column_is_an_operation_of_its_own(tmp_path):
    folder = tmp_path / "migrations"
    make_migration([users_v1()], folder)

    class User(Model):
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)
        name = columns.Text(index=True)

    [op] = pending_operations([User], folder)
    assert isinstance(op, CreateIndex) and not op.sai
    assert op.statements("shop") == ['CREATE INDEX users_name_idx ON shop."users" (name)']


def test_a_broken_sequence_of_files_is_refused_with_the_file_named(tmp_path):
    folder = tmp_path / "migrations"
    make_migration([users_v1()], folder)
    make_migration([users_v2()], folder)
    second = folder / "0002_create_type_address_and_more.py"
    assert second.exists()
    second.write_text(second.read_text().replace("previous = '0001_initial'", "previous = None"))
    with pytest.raises(MigrationFileError, match="0002_create_type_address_and_more.py: previous is None"):
        load_migrations(folder)
    (folder / "Bad Name.py").write_text("operations = []\n")
    with pytest.raises(MigrationFileError, match="NNNN_name.py"):
        load_migrations(folder)


def test_a_type_is_created_before_the_table_that_uses_it(tmp_path):
    operations = pending_operations([users_v2()], tmp_path / "migrations")
    assert [type(op) for op in operations] == [CreateType, CreateTable]


def test_the_file_the_guide_shows_is_the_file_made(tmp_path):
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "guides" / "schema_migrations.rst").read_text()
    mark = "The file it wrote:\n\n.. code-block:: text\n\n"
    start = guide.index(mark) + len(mark)
    shown = "\n".join(line[4:] for line in guide[start:guide.index("The model changes;")].rstrip().splitlines())

    class Order(Model):
        __table_name__ = "orders"
        customer = columns.Text(partition_key=True)
        order_id = columns.Integer(primary_key=True)
        total = columns.Decimal()

    path = make_migration([Order], tmp_path / "migrations")
    assert path is not None and path.read_text().rstrip() == shown


def by_uuid(user: object) -> dict[str, object]:
    return {"id": uuid.uuid5(uuid.NAMESPACE_URL, str(user.id)), "name": user.name}


def users_and_their_copy() -> tuple[type[Model], type[Model]]:
    class User(Model):
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)
        name = columns.Text()

    class UserByUuid(Model):
        __table_name__ = "users_by_uuid"
        id = columns.UUID(partition_key=True)
        name = columns.Text()

    return User, UserByUuid


def test_a_new_table_mirrored_from_an_old_one_gets_the_data_steps_and_the_same_file_each_time(tmp_path):
    files = []
    for folder in (tmp_path / "a", tmp_path / "b"):
        User, UserByUuid = users_and_their_copy()
        make_migration([User], folder)
        assert [type(op).__name__ for op in pending_operations([User, UserByUuid], folder)] == ["CreateTable"]
        writes_branch = mirror(User, UserByUuid, by_uuid)
        try:
            path = make_migration([User, UserByUuid], folder, name="by uuid")
        finally:
            writes_branch.stop()
        assert path is not None
        files.append(path.read_bytes())
    assert files[0] == files[1]
    ops = load_migrations(tmp_path / "a")[-1].operations
    reference = f"{__name__}:by_uuid"
    assert ops[1:] == (
        Deployed("the writes branch is deployed: every write of users also goes to users_by_uuid "
                 f"(mirror(User, UserByUuid, {reference}))"),
        Backfill("users", "users_by_uuid", reference), Verify("users", "users_by_uuid", reference),
        Deployed("the reads branch is deployed: the application reads users_by_uuid (UserByUuid) and no longer "
                 "writes users"))
    assert load_migrations(tmp_path / "a")[-1].statements("ks") == [
        "CREATE TABLE ks.users_by_uuid (id uuid, name text, PRIMARY KEY ((id)))"]


def test_a_copy_into_a_table_the_files_already_hold_is_no_data_migration(tmp_path):
    User, UserByUuid = users_and_their_copy()
    make_migration([User, UserByUuid], tmp_path)
    writes_branch = mirror(User, UserByUuid)
    try:
        assert make_migration([User, UserByUuid], tmp_path) is None
    finally:
        writes_branch.stop()


def test_a_transform_a_file_cannot_name_is_refused_and_nothing_is_written(tmp_path):
    User, UserByUuid = users_and_their_copy()
    make_migration([User], tmp_path)
    writes_branch = mirror(User, UserByUuid, lambda user: {"id": uuid.uuid4(), "name": user.name})
    try:
        with pytest.raises(CQLEngineException, match="cannot be named in a migration file"):
            make_migration([User, UserByUuid], tmp_path)
    finally:
        writes_branch.stop()
    assert [m.name for m in load_migrations(tmp_path)] == ["0001_initial"]


def test_a_key_change_in_place_says_how_to_carry_it():
    class Before(Model):
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)

    class After(Model):
        __table_name__ = "users"
        id = columns.UUID(partition_key=True)

    with pytest.raises(MigrationConflict, match=r"column id: int becomes uuid[\s\S]*another __table_name__"):
        changes(state_of_models([Before]), state_of_models([After]))


def user_views(version: int) -> list[type]:
    from cqlengine.views import MaterializedView

    class User(Model):
        __table_name__ = "users"
        id = columns.Integer(partition_key=True)
        email = columns.Text()
        name = columns.Text()

    class UserByEmail(MaterializedView):
        __base_model__ = User
        __table_name__ = "users_by_email"
        email = columns.Text(partition_key=True)
        id = columns.Integer(primary_key=True)
        if version >= 2:
            name = columns.Text()

    return [User, UserByEmail]


def test_a_view_is_made_after_its_table_dropped_before_it_and_a_changed_one_is_a_conflict(tmp_path):
    make_migration(user_views(1), tmp_path)
    first = load_migrations(tmp_path)[0]
    assert [op.describe() for op in first.operations] == [
        "create table users (3 columns)", "create materialized view users_by_email of users"]
    assert first.statements("ks")[1] == (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS ks.users_by_email AS SELECT email, id FROM ks.\"users\" WHERE email IS "
        "NOT NULL AND id IS NOT NULL PRIMARY KEY ((email), id) WITH CLUSTERING ORDER BY (id ASC)")
    assert "from cqlengine.ddl import ViewSpec" in first.path.read_text()
    assert state_of([first]).views["users_by_email"] == first.operations[1].view
    with pytest.raises(MigrationConflict, match="view users_by_email: its definition changes"):
        make_migration(user_views(2), tmp_path)
    make_migration([], tmp_path, name="nothing left")
    gone = load_migrations(tmp_path)[-1].operations
    assert [op.describe() for op in gone] == ["drop materialized view users_by_email", "drop table users"]
    assert all(op.destructive for op in gone)
