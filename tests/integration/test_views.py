"""Materialized views against the real server: created by sync_table, read as models, never written."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import uuid
from typing import Any, Callable

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import CQLEngineException, ReadOnlyModel, SchemaMismatch
from cqlengine.management import get_table, get_view
from cqlengine.models import Model
from cqlengine.query import BatchQuery
from cqlengine.views import MaterializedView


class User(Model):
    __table_name__ = "views_users"
    id = columns.Integer(primary_key=True)
    email = columns.Text()
    name = columns.Text()


class UserByEmail(MaterializedView):
    __base_model__ = User
    __table_name__ = "views_users_by_email"
    email = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True, clustering_order="DESC")
    name = columns.Text()


#: The same view declared otherwise: without ``name``, ``id`` ascending.
class UserByEmailChanged(MaterializedView):
    __base_model__ = User
    __table_name__ = "views_users_by_email"
    email = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True)


ROWS = [(1, "a@x", "Ann"), (2, "b@x", "Bob"), (3, "a@x", "Ada"), (4, "a@x", "Al")]


@pytest.fixture(scope="module")
def ks(cqlengine_connection) -> str:
    management.sync_table(User)
    for id_, email, name in ROWS[:2]:  # rows written before the view: sync_table waits until it holds them
        User.create(id=id_, email=email, name=name)
    plan = management.sync_table(UserByEmail)
    assert plan.kinds() == ["create_view"]
    for id_, email, name in ROWS[2:]:  # rows written after: Cassandra writes the view with the base
        User.create(id=id_, email=email, name=name)
    return cqlengine_connection.default_keyspace


def contents() -> tuple[list[Any], list[Any]]:
    base = sorted((u.id, u.email, u.name) for u in User.objects.all())
    view = sorted((v.email, v.id, v.name) for v in UserByEmail.objects.all())
    return base, view


def sent_writes(lines: list[str]) -> list[str]:
    """The writes and schema changes among the statements logged as sent (``[connection] CQL``)."""
    assert any("] SELECT" in line for line in lines), "the statement log saw no read either"
    words = ("INSERT", "UPDATE", "DELETE", "BEGIN", "CREATE", "ALTER", "DROP")
    return [line for line in lines if any(f"] {word}" in line for word in words)]


def test_reads_go_through_the_view(ks):
    by_a = UserByEmail.objects.filter(email="a@x")
    assert [(v.id, v.name) for v in by_a] == [(4, "Al"), (3, "Ada"), (1, "Ann")]  # clustering order DESC
    assert [v.id for v in by_a.order_by("id")] == [1, 3, 4]
    assert by_a.count() == 3 and UserByEmail.objects(email="b@x").count() == 1
    got = UserByEmail.get(email="b@x", id=2)
    assert (type(got), got.name) == (UserByEmail, "Bob")
    with pytest.raises(UserByEmail.DoesNotExist):
        UserByEmail.get(email="nobody@x", id=1)
    with pytest.raises(UserByEmail.MultipleObjectsReturned):
        UserByEmail.objects.get(email="a@x")
    assert by_a.first().id == 4 and list(by_a.limit(2).values_list("id", flat=True)) == [4, 3]
    page = by_a.page(2)
    assert [v.id for v in page] == [4, 3] and [v.id for v in by_a.page(2, cursor=page.cursor)] == [1]
    assert [v.id for v in by_a.using(keyspace=ks)] == [4, 3, 1]


def test_async_reads_go_through_the_view(ks):
    async def scenario() -> tuple[Any, ...]:
        got = await UserByEmail.objects.aget(email="a@x", id=3)
        also = await UserByEmail.aget(email="a@x", id=3)
        count = await UserByEmail.objects(email="a@x").acount()
        ids = [v.id async for v in UserByEmail.objects(email="a@x")]
        first = await UserByEmail.objects(email="b@x").afirst()
        return got, also, count, ids, first

    got, also, count, ids, first = asyncio.run(scenario())
    assert got == also and got.name == "Ada" and count == 3 and ids == [4, 3, 1] and first.id == 2


def test_the_view_follows_the_base(ks):
    User.create(id=9, email="z@x", name="Zed")
    User.objects(id=9).update(email="y@x")  # the view's key changed: its row moves
    assert [v.id for v in UserByEmail.objects(email="z@x")] == []
    assert UserByEmail.get(email="y@x", id=9).name == "Zed"
    User.objects(id=9).delete()
    assert UserByEmail.objects(email="y@x").count() == 0


def test_sync_again_sends_nothing(ks, cql_log):
    plan = management.sync_table(UserByEmail)
    assert not plan and not plan.conflicts and f"view {ks}.views_users_by_email" in plan.checked
    assert sent_writes(cql_log) == []
    assert management.plan(User, UserByEmail).changes == []


def test_a_changed_declaration_is_a_conflict_and_nothing_is_sent(ks, cql_log):
    plan = management.plan(UserByEmailChanged)
    said = "\n".join(map(str, plan.conflicts))
    assert "PRIMARY KEY: primary key differs" in said and "columns: selected columns differ" in said
    assert "model UserByEmailChanged" in said
    dry = management.sync_table(UserByEmailChanged, dry_run=True)  # listed, not raised
    assert dry.conflicts == plan.conflicts and not dry.changes
    with pytest.raises(SchemaMismatch, match="views_users_by_email"):
        management.sync_table(UserByEmailChanged)
    assert sent_writes(cql_log) == []
    assert [c.name for c in get_view(ks, "views_users_by_email").clustering_key] == ["id"]
    assert get_view(ks, "views_users_by_email").clustering_key[0].clustering_order == "desc"


def loaded() -> UserByEmail:
    return UserByEmail.get(email="a@x", id=1)


def batched(write: Callable[[BatchQuery], Any]) -> Callable[[], Any]:
    def run() -> None:
        batch = BatchQuery()
        try:
            write(batch)
        finally:
            assert batch.queries == []
            batch.execute()  # empty: sends nothing
    return run


WRITES: dict[str, Callable[[], Any]] = {
    "create": lambda: UserByEmail.create(email="new@x", id=7, name="New"),
    "acreate": lambda: asyncio.run(UserByEmail.acreate(email="new@x", id=7, name="New")),
    "instance save": lambda: UserByEmail(email="new@x", id=7, name="New").save(),
    "loaded save": lambda: setattr(loaded(), "name", "X") or loaded().save(),
    "instance update": lambda: loaded().update(name="X"),
    "instance aupdate": lambda: asyncio.run(loaded().aupdate(name="X")),
    "instance delete": lambda: loaded().delete(),
    "instance adelete": lambda: asyncio.run(loaded().adelete()),
    "queryset update": lambda: UserByEmail.objects(email="a@x", id=1).update(name="X"),
    "queryset aupdate": lambda: asyncio.run(UserByEmail.objects(email="a@x", id=1).aupdate(name="X")),
    "queryset delete": lambda: UserByEmail.objects(email="a@x").delete(),
    "queryset adelete": lambda: asyncio.run(UserByEmail.objects(email="a@x").adelete()),
    "bulk_create": lambda: UserByEmail.objects.bulk_create([{"email": "new@x", "id": 7}]),
    "bulk_update": lambda: UserByEmail.objects.bulk_update([loaded()]),
    "bulk_delete": lambda: UserByEmail.objects.bulk_delete([loaded()]),
    "abulk_delete": lambda: asyncio.run(UserByEmail.objects.abulk_delete([loaded()])),
    "if_not_exists create": lambda: UserByEmail.if_not_exists().create(email="new@x", id=7),
    "instance if_not_exists save": lambda: UserByEmail(email="new@x", id=7).if_not_exists().save(),
    "iff update": lambda: UserByEmail.objects(email="a@x", id=1).iff(name="Ann").update(name="X"),
    "instance iff update": lambda: loaded().iff(name="Ann").update(name="X"),
    "ttl": lambda: UserByEmail.ttl(60).create(email="new@x", id=7),
    "timestamp delete": lambda: UserByEmail.objects(email="a@x").timestamp(1).delete(),
    "batch create": batched(lambda b: UserByEmail.batch(b).create(email="new@x", id=7)),
    "batch queryset delete": batched(lambda b: UserByEmail.objects(email="a@x").batch(b).delete()),
    "batch instance save": batched(lambda b: loaded().batch(b).save()),
    "batch instance delete": batched(lambda b: loaded().batch(b).delete()),
}


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_each_write_is_refused_with_nothing_sent(ks, cql_log, write):
    before = contents()
    with pytest.raises(ReadOnlyModel, match="views are read-only .* write User instead; nothing was sent"):
        write()
    assert sent_writes(cql_log) == []
    assert contents() == before


def test_a_view_without_its_base_table_is_refused(ks):
    class Orphan(Model):
        __table_name__ = "views_orphans"
        id = columns.Integer(primary_key=True)
        tag = columns.Text()

    class OrphanByTag(MaterializedView):
        __base_model__ = Orphan
        tag = columns.Text(partition_key=True)
        id = columns.Integer(primary_key=True)

    with pytest.raises(CQLEngineException, match=r"base table .*views_orphans does not exist; sync_table\(Orphan\)"):
        management.sync_table(OrphanByTag)
    assert get_table(ks, "views_orphans") is None and get_view(ks, "orphan_by_tag") is None
    dry = management.plan(OrphanByTag, Orphan)  # created in the same plan: views come after tables
    assert dry.kinds() == ["create_table", "create_view"] and get_view(ks, "orphan_by_tag") is None


def test_drop_table_drops_the_view_and_refuses_a_base_with_views(ks):
    class Item(Model):
        __table_name__ = "views_items"
        id = columns.Integer(primary_key=True)
        kind = columns.Text()

    class ItemByKind(MaterializedView):
        __base_model__ = Item
        __table_name__ = "views_items_by_kind"
        kind = columns.Text(partition_key=True)
        id = columns.Integer(primary_key=True)

    management.sync_table(Item)
    assert management.sync_table(ItemByKind, dry_run=True).kinds() == ["create_view"]
    assert get_view(ks, "views_items_by_kind") is None  # a dry run sends nothing
    management.sync_table(ItemByKind)
    with pytest.raises(CQLEngineException, match=rf"view\(s\) {ks}.views_items_by_kind depend on table"):
        management.drop_table(Item)
    assert get_table(ks, "views_items") is not None
    management.drop_table(ItemByKind)
    assert get_view(ks, "views_items_by_kind") is None
    management.drop_table(ItemByKind)  # nothing left to drop: nothing sent
    management.drop_table(Item)
    assert get_table(ks, "views_items") is None


BASE_MODULE = """
from cqlengine import columns
from cqlengine.models import Model

class Gadget(Model):
    __keyspace__ = {ks!r}
    __table_name__ = "views_gadgets"
    id = columns.Integer(primary_key=True)
    maker = columns.Text()
"""

VIEW_MODULE = """
from cqlengine import columns
from cqlengine.views import MaterializedView
from {base} import Gadget

class GadgetByMaker(MaterializedView):
    __base_model__ = Gadget
    __table_name__ = "views_gadgets_by_maker"
    maker = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True)
"""


def test_the_command_line_syncs_views_after_tables(ks, cassandra, tmp_path):
    base = f"views_base_{uuid.uuid4().hex[:8]}"
    view = f"views_view_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{base}.py").write_text(textwrap.dedent(BASE_MODULE.format(ks=ks)))
    (tmp_path / f"{view}.py").write_text(textwrap.dedent(VIEW_MODULE.format(base=base)))
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "cqlengine", "sync", "--hosts", *cassandra.contact_points,
           "--port", str(cassandra.port), view, base]  # the view's module first
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.index("create table") < out.stdout.index("create materialized view")
    assert get_view(ks, "views_gadgets_by_maker").base_table == "views_gadgets"
    again = subprocess.run([*cmd, "--plan"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "in sync" in again.stdout, again.stdout + again.stderr
    connection.execute(f"DROP MATERIALIZED VIEW {ks}.views_gadgets_by_maker")
