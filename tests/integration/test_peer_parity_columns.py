"""Column behaviour a porting user relies on, run against ours and the peer on the same node.

Tables are created once per mapper (``_tables``): each test body then writes
and reads rows of its own keys.
"""
from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest
from cassandra import InvalidRequest

from cqlengine import columns, connection, management
from cqlengine.models import Model
from cqlengine.usertype import UserType

_KEYS = itertools.count(1)
_TABLES: dict[str, dict[str, Any]] = {}


def _tables(mapper) -> dict[str, Any]:
    """The models of this module for ``mapper``, their tables and types created once."""
    if mapper.name in _TABLES:
        return _TABLES[mapper.name]
    c = mapper.columns

    class Address(mapper.UserType):
        __type_name__ = mapper.table_name("pc_address")
        street = c.Text()
        zipcode = c.Integer()

    class Bag(mapper.UserType):
        __type_name__ = mapper.table_name("pc_bag")
        name = c.Text()
        tags = c.Set(c.Text)
        nums = c.List(c.Integer)
        scores = c.Map(c.Text, c.Integer)

    class Values(mapper.Model):
        __table_name__ = mapper.table_name("pc_values")
        id = c.Integer(primary_key=True)
        at = c.DateTime()
        txt = c.Text()
        code = c.Ascii()
        nick = c.Text(min_length=1, default="-")
        triple = c.Tuple(c.Integer, c.Text, c.Integer)
        bag = c.UserDefinedType(Bag)

    class Places(mapper.Model):
        __table_name__ = mapper.table_name("pc_places")
        k = c.Integer(primary_key=True)
        addr = c.UserDefinedType(Address, primary_key=True)
        other = c.UserDefinedType(Address, index=True)

    class Keyed(mapper.Model):
        __abstract__ = True
        a1 = c.Integer(primary_key=True)
        a2 = c.Text()

    class Sorted(mapper.Model):
        __abstract__ = True
        b1 = c.Integer(primary_key=True)
        b2 = c.Text()

    class Both(Keyed, Sorted):
        __table_name__ = mapper.table_name("pc_both")
        c1 = c.Text()

    found = {"Address": Address, "Bag": Bag, "Values": Values, "Places": Places, "Both": Both}
    for model in (Values, Places, Both):
        mapper.management.sync_table(model)
    _TABLES[mapper.name] = found
    return found


def _live_columns(keyspace: str, table: str) -> dict[str, tuple[str, str, int]]:
    rows = connection.execute(
        "SELECT column_name, type, kind, position FROM system_schema.columns "
        "WHERE keyspace_name = ? AND table_name = ?", [keyspace, table])
    return {r["column_name"]: (r["type"], r["kind"], r["position"]) for r in rows}


def _create(model, **values):
    """create() and the row read back by get()."""
    key = next(_KEYS)
    created = model.create(id=key, **values)
    return created, model.get(id=key)


# ------------------------------------------------------------------ 1. DateTime numbers


@pytest.mark.parametrize("seconds, expected", [
    (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20)),
    (1_700_000_000.5, datetime(2023, 11, 14, 22, 13, 20, 500000)),
    (-1.25, datetime(1969, 12, 31, 23, 59, 58, 750000)),
])
def test_datetime_takes_seconds_since_the_epoch(mapper, seconds, expected):
    values = _tables(mapper)["Values"]
    created, read = _create(values, at=seconds)
    assert created.at == expected
    assert read.at == expected


# ------------------------------------------------------------------ 2. bytearray text


def test_text_and_ascii_take_a_bytearray(mapper):
    values = _tables(mapper)["Values"]
    instance = values(id=0, txt=bytearray("hé".encode()), code=bytearray(b"ab"))
    instance.validate()  # both accept it
    if mapper.name == "peer":
        # The peer writes a bytearray as a blob literal, which Cassandra refuses for text.
        with pytest.raises(InvalidRequest, match="HEX"):
            _create(values, txt=bytearray("hé".encode()))
        return
    created, read = _create(values, txt=bytearray("hé".encode()), code=bytearray(b"ab"))
    assert (read.txt, read.code) == ("hé", "ab") == (created.txt, created.code)


# ------------------------------------------------------------------ 3. min_length and None


def test_min_length_refuses_none(mapper):
    values = _tables(mapper)["Values"]
    with pytest.raises(mapper.exceptions.ValidationError):
        values.create(id=next(_KEYS), nick=None)
    _, read = _create(values, nick="x")
    assert read.nick == "x"


# ------------------------------------------------------------------ 4. tuple arity


def test_short_tuple_reads_back_padded(mapper):
    values = _tables(mapper)["Values"]
    _, read = _create(values, triple=(1,))
    assert read.triple == (1, None, None)
    _, read = _create(values, triple=[1, "a"])
    assert read.triple == (1, "a", None)


def test_empty_tuple_is_null(mapper):
    values = _tables(mapper)["Values"]
    _, read = _create(values, triple=())
    assert read.triple is None


def test_long_tuple_is_refused(mapper):
    values = _tables(mapper)["Values"]
    instance = values(id=next(_KEYS))
    instance.triple = (1, "a", 3, 4)
    with pytest.raises(TypeError):
        instance.save()
    if mapper.name == "peer":
        # Given to the constructor, the peer drops the extra elements without a word.
        _, read = _create(values, triple=(1, "a", 3, 4))
        assert read.triple == (1, "a", 3)
    else:
        with pytest.raises(TypeError):
            values.create(id=next(_KEYS), triple=(1, "a", 3, 4))


# ------------------------------------------------------------------ 5. frozen UDT columns


def test_udt_columns_are_created_frozen(mapper):
    found = _tables(mapper)
    live = _live_columns(mapper.keyspace, found["Values"].__table_name__)
    assert live["bag"][0] == f"frozen<{found['Bag'].__type_name__}>"
    live = _live_columns(mapper.keyspace, found["Places"].__table_name__)
    address = found["Address"].__type_name__
    assert live["other"][0] == live["addr"][0] == f"frozen<{address}>"


def test_udt_holding_collections_round_trips(mapper):
    found = _tables(mapper)
    bag = found["Bag"](name="b", tags={"x", "y"}, nums=[3, 1, 3], scores={"a": 1})
    _, read = _create(found["Values"], bag=bag)
    got = read.bag
    assert (got.name, got.tags, got.nums, got.scores) == ("b", {"x", "y"}, [3, 1, 3], {"a": 1})
    _, read = _create(found["Values"], bag=found["Bag"](name="empty"))
    assert (read.bag.name, read.bag.tags, read.bag.nums, read.bag.scores) == ("empty", set(), [], {})


# ------------------------------------------------------------------ 6. filter on a UDT value


def test_filter_on_a_udt_value(mapper):
    found = _tables(mapper)
    places, address = found["Places"], found["Address"]
    key = next(_KEYS)
    places.create(k=key, addr=address(street="Main", zipcode=1), other=address(street="Side", zipcode=2))
    places.create(k=key, addr=address(street="Main", zipcode=3), other=address(street="Far", zipcode=4))

    by_key = list(places.objects(k=key, addr=address(street="Main", zipcode=1)))
    assert [p.other.street for p in by_key] == ["Side"]
    by_index = list(places.objects(other=address(street="Far", zipcode=4)))
    assert [(p.k, p.addr.zipcode) for p in by_index] == [(key, 3)]
    assert places.get(k=key, addr=address(street="Main", zipcode=3)).other.zipcode == 4
    assert not list(places.objects(k=key, addr=address(street="Main")))  # a frozen value matches whole


# ------------------------------------------------------------------ 7. a type gains a field


def test_user_type_redefined_with_an_added_field(mapper):
    c = mapper.columns
    type_name, table = mapper.table_name("pc_evolving"), mapper.table_name("pc_evolve")

    class Spot(mapper.UserType):
        __type_name__ = type_name
        street = c.Text()

    class Home(mapper.Model):
        __table_name__ = table
        id = c.Integer(primary_key=True)
        spot = c.UserDefinedType(Spot)
        spots = c.List(c.UserDefinedType(Spot))

    mapper.management.sync_table(Home)
    Home.create(id=1, spot=Spot(street="old"), spots=[Spot(street="old")])
    assert Home.get(id=1).spot.street == "old"

    class Spot(mapper.UserType):  # type: ignore[no-redef]
        __type_name__ = type_name
        street = c.Text()
        zipcode = c.Integer()

    class Home(mapper.Model):  # type: ignore[no-redef]
        __table_name__ = table
        id = c.Integer(primary_key=True)
        spot = c.UserDefinedType(Spot)
        spots = c.List(c.UserDefinedType(Spot))

    mapper.management.sync_type(mapper.keyspace, Spot)
    mapper.management.sync_table(Home)
    Home.create(id=2, spot=Spot(street="new", zipcode=5), spots=[Spot(street="new", zipcode=6)])
    read = Home.get(id=2)
    assert (read.spot.street, read.spot.zipcode) == ("new", 5)
    assert [(s.street, s.zipcode) for s in read.spots] == [("new", 6)]
    old = Home.get(id=1)
    assert (old.spot.street, old.spot.zipcode) == ("old", None)


def test_a_type_changed_by_another_client_is_bound_with_its_new_fields(cqlengine_connection):
    # The ALTER TYPE comes from outside our schema management: the statements prepared
    # before it must not keep binding the old field list.
    keyspace = cqlengine_connection.default_keyspace

    class Tag(UserType):
        __type_name__ = "pc_outside_tag"
        label = columns.Text()

    class Tagged(Model):
        __table_name__ = "pc_outside_tagged"
        id = columns.Integer(primary_key=True)
        tag = columns.UserDefinedType(Tag)

    management.sync_table(Tagged)
    Tagged.create(id=1, tag=Tag(label="a"))

    connection.get_session().execute(f"ALTER TYPE {keyspace}.pc_outside_tag ADD weight int")
    assert connection.get_cluster().control_connection.wait_for_schema_agreement()

    class Tag(UserType):  # type: ignore[no-redef]
        __type_name__ = "pc_outside_tag"
        label = columns.Text()
        weight = columns.Integer()

    class Tagged(Model):  # type: ignore[no-redef]
        __table_name__ = "pc_outside_tagged"
        id = columns.Integer(primary_key=True)
        tag = columns.UserDefinedType(Tag)

    Tagged.create(id=2, tag=Tag(label="b", weight=7))
    assert Tagged.get(id=2).tag.weight == 7


# ------------------------------------------------------------------ 9. column order


def test_multiple_inheritance_orders_the_primary_key_as_the_bases(mapper):
    both = _tables(mapper)["Both"]
    live = _live_columns(mapper.keyspace, both.__table_name__)
    partition = sorted((pos, name) for name, (_, kind, pos) in live.items() if kind == "partition_key")
    assert [name for _, name in partition] == ["a1", "b1"]


# ------------------------------------------------------------------ 5. tables created before the change


# A module-level fixture of class scope (a classmethod fixture cannot be read on Python 3.9).
@pytest.fixture(scope="class")
def legacy(cqlengine_connection):
    keyspace = cqlengine_connection.default_keyspace

    class Legacy(UserType):
        __type_name__ = "pc_legacy_address"
        street = columns.Text()

    class Owner(Model):
        __table_name__ = "pc_legacy_owner"
        id = columns.Integer(primary_key=True)
        home = columns.UserDefinedType(Legacy)

    management.sync_type(keyspace, Legacy)
    # What sync_table created before: a non-frozen column.
    connection.execute(f"CREATE TABLE {keyspace}.pc_legacy_owner (id int PRIMARY KEY, home pc_legacy_address)")
    return Legacy, Owner, keyspace


class TestTableCreatedWithANonFrozenUdtColumn:
    """A table created while ours defaulted to non-frozen UDT columns keeps working, unchanged."""

    def test_live_column_is_not_frozen(self, legacy):
        _, _, keyspace = legacy
        assert _live_columns(keyspace, "pc_legacy_owner")["home"][0] == "pc_legacy_address"

    def test_plan_is_in_sync(self, legacy):
        _, owner, _ = legacy
        plan = management.plan(owner)
        assert not plan and not plan.conflicts
        management.sync_table(owner)  # neither raises nor changes anything

    def test_values_round_trip(self, legacy):
        address, owner, _ = legacy
        owner.create(id=1, home=address(street="Main"))
        assert owner.get(id=1).home.street == "Main"

    def test_an_explicitly_frozen_model_is_a_conflict(self, legacy):
        address, _, _ = legacy

        class Strict(Model):
            __table_name__ = "pc_legacy_owner"
            id = columns.Integer(primary_key=True)
            home = columns.UserDefinedType(address, frozen=True)

        assert [c.problem for c in management.plan(Strict).conflicts] == ["type differs"]
