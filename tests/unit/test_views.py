"""Materialized views without a server: the declaration rules, the CQL rendered, the spec, the plan, refusals."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

from cqlengine import columns, ddl
from cqlengine.exceptions import ReadOnlyModel, ViewDefinitionException
from cqlengine.management import ColumnInfo, TableInfo, ViewInfo, plan_view
from cqlengine.models import Model
from cqlengine.query import BatchQuery
from cqlengine.views import MaterializedView, ViewSpec, is_view, view_keyspace, view_spec

KS = "ks"


class User(Model):
    __table_name__ = "users"
    id = columns.Integer(primary_key=True)
    email = columns.Text()
    name = columns.Text(db_field="Name")
    age = columns.Integer()


class UserByEmail(MaterializedView):
    __base_model__ = User
    __table_name__ = "users_by_email"
    email = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True, clustering_order="DESC")
    full_name = columns.Text(db_field="Name")


class Post(Model):
    __keyspace__ = "blog"
    author = columns.Text(partition_key=True)
    at = columns.Integer(primary_key=True)
    title = columns.Text()
    pinned = columns.Boolean(static=True)


class PostByTitle(MaterializedView):
    __base_model__ = Post
    title = columns.Text(partition_key=True)
    author = columns.Text(primary_key=True)
    at = columns.Integer(primary_key=True)


# -- the spec and the CQL -----------------------------------------------------------------------


def test_the_spec_names_the_view_its_base_its_key_and_its_filter():
    assert view_spec(UserByEmail) == ViewSpec(
        name="users_by_email", base_table="users", columns=("email", "id", "Name"), partition_key=("email",),
        clustering_key=("id",), clustering_orders=("DESC",), where="email IS NOT NULL AND id IS NOT NULL",
        types=("text", "int", "text"),
    )
    spec = view_spec(PostByTitle)
    assert (spec.name, spec.base_table) == ("post_by_title", "post")
    assert spec.clustering_key == ("author", "at") and spec.clustering_orders == ("ASC", "ASC")


def test_the_spec_is_frozen_and_refuses_what_is_not_a_view():
    spec = view_spec(UserByEmail)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    for not_a_view in (User, MaterializedView, object):
        with pytest.raises(Exception, match="not a concrete materialized view"):
            view_spec(not_a_view)  # type: ignore[arg-type]


def test_create_and_drop_render_exactly():
    spec = view_spec(UserByEmail)
    assert ddl.create_view(KS, spec) == (
        'CREATE MATERIALIZED VIEW IF NOT EXISTS ks.users_by_email AS SELECT email, id, "Name" FROM ks."users" '
        "WHERE email IS NOT NULL AND id IS NOT NULL PRIMARY KEY ((email), id) WITH CLUSTERING ORDER BY (id DESC)"
    )
    assert ddl.drop_view(KS, spec) == "DROP MATERIALIZED VIEW IF EXISTS ks.users_by_email"


def test_identifiers_are_quoted_in_every_part():
    spec = ViewSpec(name="By Mail", base_table="user", columns=("Mail", "key", "n"), partition_key=("Mail",),
                    clustering_key=("key",), clustering_orders=("ASC",), where=ddl.view_where(["Mail", "key"]))
    assert ddl.create_view("My KS", spec) == (
        'CREATE MATERIALIZED VIEW IF NOT EXISTS "My KS"."By Mail" AS SELECT "Mail", "key", n FROM "My KS"."user" '
        'WHERE "Mail" IS NOT NULL AND "key" IS NOT NULL PRIMARY KEY (("Mail"), "key") '
        'WITH CLUSTERING ORDER BY ("key" ASC)'
    )
    assert ddl.drop_view(None, spec) == 'DROP MATERIALIZED VIEW IF EXISTS "By Mail"'


def test_a_view_without_clustering_has_no_order_clause():
    spec = ViewSpec(name="v", base_table="t", columns=("a",), partition_key=("a",))
    assert ddl.create_view(KS, spec) == (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS ks.v AS SELECT a FROM ks.t WHERE a IS NOT NULL PRIMARY KEY ((a))")


def test_the_renderer_refuses_a_spec_that_cannot_be_a_view():
    with pytest.raises(Exception, match="partition key"):
        ddl.create_view(KS, ViewSpec(name="v", base_table="t", columns=("a",), partition_key=()))
    with pytest.raises(Exception, match="one clustering order per clustering column"):
        ddl.create_view(KS, ViewSpec(name="v", base_table="t", columns=("a", "b"), partition_key=("a",),
                                     clustering_key=("b",)))


# -- the rules of a declaration -----------------------------------------------------------------


def declare(**attrs: Any) -> type:
    """A view class made from ``attrs`` (a view of User unless ``__base_model__`` says otherwise)."""
    attrs.setdefault("__base_model__", User)
    return type("Bad", (MaterializedView,), attrs)


RULES: list[tuple[Callable[[], Any], tuple[str, ...]]] = [
    (lambda: type("Bad", (MaterializedView,), {"id": columns.Integer(primary_key=True)}),
     ("Bad", "needs __base_model__")),
    (lambda: declare(__base_model__=dict, id=columns.Integer(primary_key=True)),
     ("Bad", "must be a Model class")),
    (lambda: declare(__base_model__=UserByEmail, id=columns.Integer(primary_key=True)),
     ("Bad", "no view of a view")),
    (lambda: declare(__base_model__=Model, id=columns.Integer(primary_key=True)),
     ("Bad", "Model is abstract")),
    (lambda: declare(id=columns.Integer(primary_key=True), mail=columns.Text()),
     ("Bad.mail", "'mail'", "not a column of User", "by their CQL names")),
    (lambda: declare(id=columns.Integer(primary_key=True), email=columns.Ascii()),
     ("Bad.email", "'email'", "ascii here but text in User", "base column's type")),
    (lambda: declare(id=columns.Integer(primary_key=True), email=columns.Text(index=True)),
     ("Bad.email", "'email'", "indexed", "cannot index a materialized view")),
    (lambda: declare(email=columns.Text(partition_key=True)),
     ("Bad", "every primary key column of User", "missing: id", "primary_key=True")),
    (lambda: declare(email=columns.Text(partition_key=True), id=columns.Integer()),
     ("Bad", "missing: id")),
    (lambda: declare(email=columns.Text(partition_key=True), age=columns.Integer(primary_key=True),
                     id=columns.Integer(primary_key=True)),
     ("Bad", "adds email, age", "at most one such column")),
    (lambda: declare(id=columns.Integer(primary_key=True), __options__={"comment": "x"}),
     ("Bad", "__options__", "not supported")),
    (lambda: declare(id=columns.Integer(primary_key=True), __default_ttl__=10),
     ("Bad", "__default_ttl__", "refuses a default TTL")),
    (lambda: declare(__base_model__=Post, author=columns.Text(partition_key=True),
                     at=columns.Integer(primary_key=True), pinned=columns.Boolean()),
     ("Bad.pinned", "'pinned'", "static in Post", "cannot include a static column")),
    (lambda: declare(__base_model__=Post, __keyspace__="other", author=columns.Text(partition_key=True),
                     at=columns.Integer(primary_key=True)),
     ("Bad", "'other'", "'blog'", "base table's keyspace")),
    (lambda: declare(id=columns.Integer(primary_key=True), email=columns.Text(polymorphic_key=True)),
     ("Bad", "'email'", "polymorphic_key", "not polymorphic")),
]


@pytest.mark.parametrize("make, said", RULES, ids=[said[-1] for _, said in RULES])
def test_each_rule_is_checked_when_the_class_is_made_and_named(make, said):
    with pytest.raises(ViewDefinitionException) as caught:
        make()
    for part in said:
        assert part in str(caught.value)


def test_a_polymorphic_or_counter_base_is_refused():
    class Pet(Model):
        id = columns.Integer(primary_key=True)
        kind = columns.Text(polymorphic_key=True)

    class Hits(Model):
        page = columns.Text(primary_key=True)
        n = columns.Counter()

    with pytest.raises(ViewDefinitionException, match="Pet is polymorphic: views of a polymorphic"):
        declare(__base_model__=Pet, id=columns.Integer(primary_key=True))
    with pytest.raises(ViewDefinitionException, match="Hits has counter columns: Cassandra has no materialized"):
        declare(__base_model__=Hits, page=columns.Text(primary_key=True))


def test_a_view_keeps_every_key_column_of_its_base_and_may_add_one():
    same_key = declare(id=columns.Integer(primary_key=True), email=columns.Text())
    assert view_spec(same_key).partition_key == ("id",)
    rekeyed = declare(age=columns.Integer(partition_key=True), id=columns.Integer(primary_key=True))
    assert view_spec(rekeyed).partition_key == ("age",) and view_spec(rekeyed).clustering_key == ("id",)
    assert is_view(rekeyed) and not is_view(User) and not is_view(rekeyed())


# -- where a view lives -------------------------------------------------------------------------


def test_the_keyspace_is_the_views_else_the_bases(monkeypatch):
    assert view_keyspace(PostByTitle) == "blog" and PostByTitle._get_keyspace() == "blog"
    assert view_keyspace(UserByEmail) is None
    own = declare(__keyspace__="mine", id=columns.Integer(primary_key=True))
    assert own._get_keyspace() == "mine"
    monkeypatch.setattr(User, "__keyspace__", "later")  # read when the view is used, not when it is made
    assert view_keyspace(UserByEmail) == "later" and UserByEmail._get_keyspace() == "later"


def test_the_connection_is_the_bases_unless_the_view_names_one():
    class Remote(Model):
        __connection__ = "analytics"
        id = columns.Integer(primary_key=True)

    assert declare(__base_model__=Remote, id=columns.Integer(primary_key=True)).__connection__ == "analytics"
    named = declare(__base_model__=Remote, __connection__="other", id=columns.Integer(primary_key=True))
    assert named.__connection__ == "other"


def test_reads_render_as_a_models_do():
    qs = UserByEmail.objects.filter(email="a@x").using(keyspace=KS)
    assert qs.render() == ('SELECT email, id, "Name" FROM ks.users_by_email WHERE email = ?', ["a@x"])
    ordered = qs.order_by("id").limit(2).render()[0]
    assert ordered.endswith("WHERE email = ? ORDER BY id ASC LIMIT ?")
    row = UserByEmail.from_row({"email": "a@x", "id": 1, "Name": "Ann"})
    assert (row.email, row.id, row.full_name) == ("a@x", 1, "Ann")


# -- writes: every one refused before anything is sent (no connection is set up here) -------------


def loaded() -> UserByEmail:
    return UserByEmail.from_row({"email": "a@x", "id": 1, "Name": "Ann"})


WRITES: dict[str, Callable[[], Any]] = {
    "create": lambda: UserByEmail.create(email="a@x", id=1),
    "objects.create": lambda: UserByEmail.objects.create(email="a@x", id=1),
    "save new": lambda: UserByEmail(email="a@x", id=1).save(),
    "save loaded, unchanged": lambda: loaded().save(),
    "instance update": lambda: loaded().update(full_name="Bo"),
    "instance delete": lambda: loaded().delete(),
    "queryset update": lambda: UserByEmail.objects(email="a@x").update(full_name="Bo"),
    "queryset delete": lambda: UserByEmail.objects(email="a@x").delete(),
    "bulk_create": lambda: UserByEmail.objects.bulk_create([UserByEmail(email="a@x", id=1)]),
    "bulk_update": lambda: UserByEmail.objects.bulk_update([loaded()]),
    "bulk_delete": lambda: UserByEmail.objects.bulk_delete([loaded()]),
    "if_not_exists": lambda: UserByEmail.if_not_exists(),
    "if_exists": lambda: UserByEmail.objects.if_exists(),
    "iff": lambda: UserByEmail.objects.iff(full_name="Ann"),
    "ttl": lambda: UserByEmail.ttl(60),
    "timestamp": lambda: UserByEmail.objects.timestamp(1),
    "instance if_not_exists().save()": lambda: UserByEmail(email="a@x", id=1).if_not_exists().save(),
    "instance ttl().update()": lambda: loaded().ttl(5).update(full_name="Bo"),
    "acreate": lambda: asyncio.run(UserByEmail.acreate(email="a@x", id=1)),
    "asave": lambda: asyncio.run(loaded().asave()),
    "aupdate": lambda: asyncio.run(loaded().aupdate(full_name="Bo")),
    "adelete": lambda: asyncio.run(loaded().adelete()),
    "queryset aupdate": lambda: asyncio.run(UserByEmail.objects(email="a@x").aupdate(full_name="Bo")),
    "queryset adelete": lambda: asyncio.run(UserByEmail.objects(email="a@x").adelete()),
    "abulk_create": lambda: asyncio.run(UserByEmail.objects.abulk_create([UserByEmail(email="a@x", id=1)])),
}


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_every_write_is_refused_saying_views_are_read_only(write):
    with pytest.raises(ReadOnlyModel) as caught:
        write()
    said = str(caught.value)
    assert said.startswith("UserByEmail.") and "views are read-only" in said and "write User instead" in said
    assert "nothing was sent" in said


def test_a_batch_never_receives_a_views_write():
    batch = BatchQuery()
    with pytest.raises(ReadOnlyModel):
        UserByEmail.objects.batch(batch)
    with pytest.raises(ReadOnlyModel):
        UserByEmail.batch(batch)
    with pytest.raises(ReadOnlyModel):
        loaded().batch(batch).save()
    with pytest.raises(ReadOnlyModel):
        loaded().batch(batch).delete()
    assert batch.queries == []


def test_the_one_check_refuses_a_statement_built_for_a_view_by_any_path():
    from cqlengine.writes import NO_OPTIONS

    with pytest.raises(ReadOnlyModel, match="UserByEmail.insert"):
        NO_OPTIONS.statement_args(UserByEmail, "insert")


# -- the plan, from hand-made live schema ---------------------------------------------------------


def live_view(**overrides: Any) -> ViewInfo:
    cols = [ColumnInfo("email", "text", "partition_key", 0), ColumnInfo("id", "int", "clustering", 0, "desc"),
            ColumnInfo("Name", "text")]
    info = ViewInfo(KS, "users_by_email", columns={c.name: c for c in cols}, base_table="users",
                    where_clause="email IS NOT NULL AND id IS NOT NULL")
    for name, value in overrides.items():
        setattr(info, name, value)
    return info


def live_users(*without: str) -> TableInfo:
    cols = [ColumnInfo("id", "int", "partition_key", 0), ColumnInfo("email", "text"), ColumnInfo("Name", "text"),
            ColumnInfo("age", "int")]
    return TableInfo(KS, "users", columns={c.name: c for c in cols if c.name not in without})


def test_a_missing_view_is_created_and_an_equal_one_left_alone():
    spec = view_spec(UserByEmail)
    created = plan_view(KS, spec, None, live_users(), model_name="UserByEmail")
    assert created.kinds() == ["create_view"] and created.changes[0].cql == ddl.create_view(KS, spec)
    assert created.changes[0].target == "users_by_email"
    same = plan_view(KS, spec, live_view(), live_users(), model_name="UserByEmail")
    assert not same and not same.conflicts and str(same) == "in sync: view ks.users_by_email"
    spaced = live_view(where_clause="email  IS NOT NULL and  id IS NOT NULL")
    assert not plan_view(KS, spec, spaced, live_users()).conflicts


def test_a_base_without_the_columns_is_a_conflict():
    plan = plan_view(KS, view_spec(UserByEmail), None, live_users("Name"), model_name="UserByEmail")
    assert not plan.changes
    (conflict,) = plan.conflicts
    assert "view ks.users_by_email column Name: the base table lacks it" in str(conflict)


def test_a_table_of_the_views_name_is_a_conflict():
    plan = plan_view(KS, view_spec(UserByEmail), None, live_users(), name_taken=True)
    assert not plan.changes and "a table has this name" in str(plan.conflicts[0])


@pytest.mark.parametrize("change, said", [
    ({"base_table": "people"}, "base table: base table differs"),
    ({"columns": {"email": ColumnInfo("email", "text", "partition_key", 0),
                  "id": ColumnInfo("id", "int", "clustering", 0, "asc"), "Name": ColumnInfo("Name", "text")}},
     "PRIMARY KEY: primary key differs"),
    ({"columns": {"email": ColumnInfo("email", "text", "partition_key", 0),
                  "id": ColumnInfo("id", "int", "clustering", 0, "desc")}}, "columns: selected columns differ"),
    ({"columns": {"email": ColumnInfo("email", "text", "partition_key", 0),
                  "id": ColumnInfo("id", "int", "clustering", 0, "desc"), "Name": ColumnInfo("Name", "ascii")}},
     "column Name: type differs"),
    ({"where_clause": "email IS NOT NULL AND id IS NOT NULL AND \"Name\" = 'x'"}, "WHERE: filter differs"),
])
def test_a_view_that_differs_is_a_conflict_naming_what(change, said):
    plan = plan_view(KS, view_spec(UserByEmail), live_view(**change), live_users(), model_name="UserByEmail")
    assert not plan.changes
    text = "\n".join(map(str, plan.conflicts))
    assert f"view ks.users_by_email {said}" in text and "model UserByEmail" in text
    assert "drop_table(the view) and sync_table(the view) rebuild it" in text


def test_a_view_cannot_be_declared_a_mirror_target():
    from cqlengine.mirroring import MirrorError, mirror

    with pytest.raises(MirrorError, match="mirror: UserByEmail cannot be written"):
        mirror(User, UserByEmail)
    assert User._mirrors == ()
