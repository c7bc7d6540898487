"""Schema migration files made from models: the operations, the files, the state they fold to (no server)."""
from __future__ import annotations

import pytest

from cqlengine import columns
from cqlengine.migrations import (
    MigrationConflict,
    MigrationFileError,
    load_migrations,
    make_migration,
    pending_operations,
    state_of,
    state_of_models,
)
from cqlengine.migrations.operations import AddColumn, CreateIndex, CreateTable, CreateType, DropColumn
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
