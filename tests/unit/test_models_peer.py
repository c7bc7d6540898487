"""Behaviour ported code expects from the peer's models and querysets, checked without a server."""
from __future__ import annotations

import pytest

from cqlengine import columns
from cqlengine.exceptions import CQLEngineException, ModelDefinitionException, QueryException, ValidationError
from cqlengine.models import Model, TimeoutWithBatch
from cqlengine.query import BatchQuery, ContextQuery


class Plain(Model):
    __keyspace__ = "ks"
    __table_name__ = "plain"
    k = columns.Integer(primary_key=True)
    v = columns.Text(default="dflt")
    m = columns.Map(columns.Text, columns.Integer)
    fm = columns.Map(columns.Text, columns.Integer, frozen=True)


class Composite(Model):
    __keyspace__ = "ks"
    __table_name__ = "composite"
    a = columns.Integer(partition_key=True)
    b = columns.Text(partition_key=True)
    x = columns.Integer(primary_key=True)
    v = columns.Text()


class Ordered(Model):
    __keyspace__ = "ks"
    __table_name__ = "ordered"
    p = columns.Integer(partition_key=True)
    c1 = columns.Integer(primary_key=True)
    c2 = columns.Integer(primary_key=True, clustering_order="DESC")
    c3 = columns.Integer(primary_key=True)


def update_cql(qs, **values) -> tuple[str, list]:
    return qs._update_statement(values).render()


def select_cql(qs) -> str:
    return str(qs)


# ---------------------------------------------------------------- pk


def test_pk_of_a_one_column_partition_key_is_its_value_and_expression():
    assert Plain(k=3).pk == 3
    row = Plain(k=3)
    row.pk = 4
    assert row.k == 4
    assert select_cql(Plain.filter(Plain.pk == 4)) == select_cql(Plain.filter(k=4))


def test_pk_of_a_composite_partition_key_is_a_tuple():
    row = Composite(a=1, b="x", x=9)
    assert row.pk == (1, "x")
    row.pk = (2, "y")
    assert (row.a, row.b, row.x) == (2, "y", 9)
    with pytest.raises(ValidationError, match=r"Composite\.pk: 5 is not a sequence of 2 values.*a, b"):
        row.pk = 5
    with pytest.raises(AttributeError, match="Composite.pk"):
        del row.pk


def test_filter_pk_names_the_partition_key():
    assert select_cql(Plain.objects.filter(pk=1)) == select_cql(Plain.objects.filter(k=1))
    with pytest.raises(QueryException, match=r"Composite: pk is the composite partition key \(a, b\)"):
        Composite.objects.filter(pk=(1, "x"))


def test_a_column_named_pk_is_allowed_and_is_what_pk_means():
    class KeyedByPk(Model):
        __keyspace__ = "ks"  # a statement needs a keyspace (KeyspaceNotSet otherwise, as the peer raises)
        __table_name__ = "keyed_by_pk"
        pk = columns.Integer(primary_key=True)
        v = columns.Text()

    class NonKeyPk(Model):
        __keyspace__ = "ks"
        __table_name__ = "non_key_pk"
        id = columns.Integer(primary_key=True)
        pk = columns.Text()

    assert KeyedByPk(pk=5).pk == 5
    assert "WHERE pk = ?" in select_cql(KeyedByPk.objects.filter(pk=5))
    # A non-key column named pk is that column: its value, its filter.
    row = NonKeyPk(id=1, pk="z")
    assert row.pk == "z" and row["pk"] == "z"
    assert "WHERE pk = ?" in select_cql(NonKeyPk.objects.filter(pk="z").allow_filtering())


def test_other_inherited_names_still_clash():
    with pytest.raises(ModelDefinitionException, match="save"):
        type("Clash", (Model,), {"id": columns.Integer(primary_key=True), "save": columns.Text()})


# ---------------------------------------------------------------- del


def test_del_of_a_primary_key_column_raises_attribute_error():
    row = Composite(a=1, b="x", x=9, v="v")
    for name in ("a", "b", "x"):
        with pytest.raises(AttributeError, match=rf"Composite\.{name}: a primary key column cannot be deleted"):
            delattr(row, name)
    assert (row.a, row.b, row.x) == (1, "x", 9)
    del row.v
    assert row.v is None


# ---------------------------------------------------------------- explicit None and defaults


def test_an_explicit_none_is_kept_over_the_default():
    assert Plain(k=1).v == "dflt"
    assert Plain(k=1, v=None).v is None
    row = Plain(k=1, v=None)
    row.validate()
    assert row.v is None


# ---------------------------------------------------------------- maps


def test_map_update_with_a_none_value_removes_that_key_with_bound_values():
    cql, params = update_cql(Plain.objects(k=1), m__update={"a": None, "c": 3})
    assert cql == "UPDATE ks.plain SET m = m + ?, m = m - ? WHERE k = ?"
    assert params == [{"c": 3}, {"a"}, 1]
    cql, params = update_cql(Plain.objects(k=1), m__update={"a": None})
    assert cql == "UPDATE ks.plain SET m = m - ? WHERE k = ?"
    assert params == [{"a"}, 1]


def test_map_given_without_an_operator_is_merged_key_by_key_and_none_deletes_its_key():
    # The peer sends m['a'] = null, m['b'] = 2: the keys not named keep their values.
    cql, params = update_cql(Plain.objects(k=1), m={"a": None, "b": 2})
    assert cql == "UPDATE ks.plain SET m = m + ?, m = m - ? WHERE k = ?"
    assert params == [{"b": 2}, {"a"}, 1]
    assert update_cql(Plain.objects(k=1), m={"b": 2}) == ("UPDATE ks.plain SET m = m + ? WHERE k = ?", [{"b": 2}, 1])


def test_an_empty_map_given_without_an_operator_empties_the_column():
    assert update_cql(Plain.objects(k=1), m={}) == ("UPDATE ks.plain SET m = ? WHERE k = ?", [{}, 1])


def test_a_frozen_map_given_without_an_operator_is_replaced_whole():
    assert update_cql(Plain.objects(k=1), fm={"b": 2}) == ("UPDATE ks.plain SET fm = ? WHERE k = ?", [{"b": 2}, 1])


def test_a_frozen_map_still_refuses_none_values():
    with pytest.raises(ValidationError, match="None is not allowed as a map value"):
        update_cql(Plain.objects(k=1), fm={"a": None})


@pytest.mark.parametrize("keys", [["a"], ("a",), "a", {"a": 1}])
def test_map_remove_takes_a_set(keys):
    with pytest.raises(ValidationError, match=r"Plain\.m__remove: .* is not a set"):
        update_cql(Plain.objects(k=1), m__remove=keys)


def test_map_remove_with_a_set():
    for keys in ({"a"}, frozenset({"a"})):
        assert update_cql(Plain.objects(k=1), m__remove=keys) == ("UPDATE ks.plain SET m = m - ? WHERE k = ?",
                                                                  [{"a"}, 1])


def test_instance_map_none_values_are_dropped_on_validate():
    row = Plain(k=1, m={"a": None, "b": 2})
    row.validate()
    assert row.m == {"b": 2}


# ---------------------------------------------------------------- order_by


@pytest.mark.parametrize("filters, order", [
    ({"c1": 1}, ("c2",)),
    ({"c1": 1}, ("-c2", "c3")),
    ({"c1": 1}, ("-c1", "c2", "-c3")),
    ({"c1": 1, "c2": 2}, ("c3",)),
    ({"c1": 1, "c2": 2}, ("-c1", "-c3")),
    ({"c1": 1, "c2": 2}, ("c2", "-c3")),
    ({"c1": 1}, ("c2", "c2")),
])
def test_order_by_may_skip_columns_restricted_by_equality(filters, order):
    assert "ORDER BY" in select_cql(Ordered.objects(p=1, **filters).order_by(*order))


@pytest.mark.parametrize("filters, order, words", [
    ({}, ("c2",), ("c1 not restricted by =",)),
    ({"c1__in": [1, 2]}, ("c2",), ("c1 not restricted by =",)),
    ({"c1": 1}, ("c3",), ("c2 not restricted by =",)),
    ({"c1": 1, "c2": 2}, ("c3", "c1"), ("in order",)),
    ({"c1": 1}, ("c2", "c3"), ("directions",)),
    ({"c1": 1, "c2": 2}, ("-c1", "c3"), ("directions",)),
    ({"c1": 1}, ("c2", "-c2"), ("Ordered.c2", "both directions")),
])
def test_order_by_refuses_what_cassandra_refuses(filters, order, words):
    with pytest.raises(QueryException) as info:
        select_cql(Ordered.objects(p=1, **filters).order_by(*order))
    for word in ("Ordered", *words):
        assert word in str(info.value)


# ---------------------------------------------------------------- timeout and batch


def test_timeout_and_batch_on_one_instance_are_refused_either_way():
    batch = BatchQuery()
    with pytest.raises(TimeoutWithBatch, match=r"Plain\.timeout\(1\): this instance is batched"):
        Plain(k=1).batch(batch).timeout(1)
    with pytest.raises(TimeoutWithBatch, match=r"Plain\.batch\(\): this instance has timeout 1"):
        Plain(k=1).timeout(1).batch(batch)
    with pytest.raises(AssertionError):  # what the peer raises
        Plain(k=1).timeout(None).batch(batch)
    assert issubclass(TimeoutWithBatch, CQLEngineException)
    Plain(k=1).batch(None).timeout(1)
    Plain(k=1).timeout(1).batch(None)


def test_timeout_on_a_batched_queryset_is_accepted():
    batch = BatchQuery()
    assert Plain.batch(batch).timeout(1)._options.batch is batch
    assert Plain.objects(k=1).timeout(1).batch(batch)._options.timeout == 1


# ---------------------------------------------------------------- ContextQuery


def test_context_query_gives_a_model_class_in_the_keyspace():
    with ContextQuery(Plain, keyspace="other") as model:
        assert isinstance(model, type) and issubclass(model, Plain)
        assert model.__keyspace__ == "other"
        assert model.__name__ == "Plain"
        assert model._raw_column_family_name() == "plain"
        assert " FROM other.plain WHERE k = ?" in select_cql(model.objects(k=1))
        assert model(k=1)._options.table(model)[0] == "other"
        assert model.DoesNotExist is Plain.DoesNotExist
    assert Plain.__keyspace__ == "ks"


def test_context_query_of_a_polymorphic_model_registers_nothing():
    class Pet(Model):
        __table_name__ = "ctx_pets"
        id = columns.Integer(primary_key=True)
        kind = columns.Text(polymorphic_key=True)

    class Cat(Pet):
        __polymorphic_key__ = "cat"

    with ContextQuery(Pet, Cat, keyspace="other", connection="elsewhere") as (pet, cat):
        assert (pet.__keyspace__, cat.__connection__) == ("other", "elsewhere")
        assert cat.__polymorphic_key__ == "cat"
        assert pet.objects._options.keyspace == "other"
    assert Pet._discriminator_map == {"cat": Cat}
    assert Pet._family == [Pet, Cat]
