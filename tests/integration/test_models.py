"""Model persistence against the real server: writes, options, LWT, batches, polymorphism."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cassandra import ConsistencyLevel, OperationTimedOut, Unavailable
from cassandra.cluster import NoHostAvailable

from cqlengine import columns, connection, management
from cqlengine.exceptions import DoesNotExist, LWTException, PolymorphicModelException, ValidationError
from cqlengine.models import Model
from cqlengine.query import BatchQuery

# ---------------------------------------------------------------- models


class Person(Model):
    __table_name__ = "models_person"
    id = columns.UUID(primary_key=True, default=uuid.uuid4)
    name = columns.Text(required=True, max_length=20)
    age = columns.TinyInt()
    email = columns.Text(db_field="mail")
    tags = columns.Set(columns.Text)
    scores = columns.List(columns.Integer)


class Pet(Model):
    __table_name__ = "pet"
    owner_id = columns.UUID(primary_key=True)
    pet_id = columns.UUID(primary_key=True, default=uuid.uuid4)
    pet_type = columns.Text(polymorphic_key=True)
    name = columns.Text()


class Cat(Pet):
    __polymorphic_key__ = "cat"
    cuteness = columns.Float()


class Dog(Pet):
    __polymorphic_key__ = "dog"
    fierceness = columns.Float()


class Animal(Model):
    __table_name__ = "animal_indexed"
    owner_id = columns.UUID(primary_key=True)
    animal_id = columns.UUID(primary_key=True, default=uuid.uuid4)
    animal_type = columns.Text(polymorphic_key=True, index=True)
    name = columns.Text()


class Kitten(Animal):
    __polymorphic_key__ = "cat"
    cuteness = columns.Float()


class Hound(Animal):
    __polymorphic_key__ = "dog"
    fierceness = columns.Float()


class VarIntDemo(Model):
    row_id = columns.Integer(primary_key=True)
    bignum = columns.VarInt()


class Expiring(Model):
    __table_name__ = "models_expiring"
    __default_ttl__ = 3600
    id = columns.Integer(primary_key=True)
    body = columns.Text()


class PageViews(Model):
    __table_name__ = "models_page_views"
    page = columns.Text(primary_key=True)
    views = columns.Counter()


MODELS = [Person, Pet, Cat, Dog, Animal, Kitten, Hound, VarIntDemo, Expiring, PageViews]


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    for model in MODELS:
        management.sync_table(model)
    yield cqlengine_connection.default_keyspace
    for model in (Person, Pet, Animal, VarIntDemo, Expiring, PageViews):
        management.drop_table(model)


@pytest.fixture(scope="module")
def other_ks(ks):
    name = f"models_other_{uuid.uuid4().hex[:8]}"
    management.create_keyspace_simple(name, 1)
    management.sync_table(Person, keyspaces=[name])
    yield name
    management.drop_keyspace(name)


def raw(cql, params=None):
    return connection.execute(cql, params)


def executed():
    return connection.get_connection().stats.executed


def writetimes(ks, pid):
    return raw(f"SELECT WRITETIME(name) AS wn, WRITETIME(age) AS wa, WRITETIME(mail) AS wm "
               f"FROM {ks}.models_person WHERE id = ?", [pid]).one()


# ---------------------------------------------------------------- create / get / save / update / delete


def test_create_and_get(ks):
    p = Person.create(name="ann", age=30, email="a@x", tags={"a"}, scores=[1, 2])
    got = Person.get(id=p.id)
    assert got == p
    assert (got.name, got.age, got.email, got.tags, got.scores) == ("ann", 30, "a@x", {"a"}, [1, 2])
    row = raw(f"SELECT mail FROM {ks}.models_person WHERE id = ?", [p.id]).one()
    assert row["mail"] == "a@x"  # db_field is the CQL name


def test_get_missing_raises_does_not_exist(ks):
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=uuid.uuid4())
    with pytest.raises(DoesNotExist):  # the library-wide base catches every model's
        Person.get(id=uuid.uuid4())
    with pytest.raises(Person.MultipleObjectsReturned):
        Person.objects.filter(name="mor").allow_filtering().get() if (
            Person.create(name="mor") and Person.create(name="mor")) else None


def test_save_inserts(ks, cql_log):
    p = Person(name="bob", age=5)
    p.save()
    assert any(line.lstrip("[default] ").startswith("INSERT") for line in cql_log)
    assert Person.get(id=p.id).name == "bob"


def test_update_sends_only_changed_columns(ks, cql_log):
    p = Person.create(name="cy", age=1, email="c@x")
    before = writetimes(ks, p.id)
    time.sleep(0.002)
    cql_log.clear()
    p.update(age=2)
    updates = [line for line in cql_log if "UPDATE" in line]
    assert len(updates) == 1
    assert "age" in updates[0] and "name" not in updates[0] and "mail" not in updates[0]
    after = writetimes(ks, p.id)
    assert after["wa"] > before["wa"]
    assert after["wn"] == before["wn"] and after["wm"] == before["wm"]
    assert Person.get(id=p.id).age == 2


def test_update_of_fresh_instance_touches_only_given_columns(ks):
    p = Person.create(name="dee", age=1, email="d@x")
    Person(id=p.id, name="dee").update(age=9)
    got = Person.get(id=p.id)
    assert (got.name, got.age, got.email) == ("dee", 9, "d@x")


def test_update_refuses_primary_key_and_unknown(ks):
    p = Person.create(name="eve")
    before = executed()
    with pytest.raises(ValidationError, match="primary key"):
        p.update(id=uuid.uuid4())
    with pytest.raises(ValidationError, match="unknown column"):
        p.update(nope=1)
    assert executed() == before


def test_save_of_loaded_instance_writes_only_changed(ks, cql_log):
    Person.create(name="fay", age=3, email="f@x")
    p = Person.objects.filter(name="fay").allow_filtering().get()
    before = writetimes(ks, p.id)
    time.sleep(0.002)
    cql_log.clear()
    p.email = "new@x"
    p.save()
    writes = [line for line in cql_log if "UPDATE" in line or "INSERT" in line]
    assert len(writes) == 1 and "UPDATE" in writes[0] and "mail" in writes[0]
    assert "name" not in writes[0] and "age" not in writes[0]
    after = writetimes(ks, p.id)
    assert after["wm"] > before["wm"] and after["wn"] == before["wn"] and after["wa"] == before["wa"]
    # nothing changed: nothing sent
    cql_log.clear()
    n = executed()
    p.save()
    assert executed() == n and not cql_log


def test_setting_none_deletes_the_cell(ks):
    p = Person.create(name="gus", age=4, email="g@x", tags={"x"})
    p.email = None
    p.tags = set()
    p.save()
    row = raw(f"SELECT mail, tags, WRITETIME(age) AS wa FROM {ks}.models_person WHERE id = ?", [p.id]).one()
    assert row["mail"] is None and row["tags"] is None and row["wa"] is not None
    got = Person.get(id=p.id)
    assert got.email is None and got.tags == set() and got.age == 4
    got.update(age=None)
    assert raw(f"SELECT age FROM {ks}.models_person WHERE id = ?", [p.id]).one()["age"] is None


def test_collection_mutation_saved(ks):
    p = Person.create(name="hal", tags={"a"}, scores=[1])
    got = Person.get(id=p.id)
    got.tags.add("b")
    got.scores.append(2)
    got.save()
    again = Person.get(id=p.id)
    assert again.tags == {"a", "b"} and again.scores == [1, 2]


def test_delete(ks):
    p = Person.create(name="ida")
    p.delete()
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)


def test_changing_the_primary_key_writes_a_new_row(ks):
    p = Person.create(name="jo", age=1)
    old = p.id
    got = Person.get(id=old)
    got.id = uuid.uuid4()
    got.save()
    assert Person.get(id=got.id).name == "jo" and Person.get(id=got.id).age == 1
    assert Person.get(id=old).name == "jo"  # the old row stays: a new key is a new row


# ---------------------------------------------------------------- ttl / timestamp / consistency / timeout


def test_ttl_on_create_save_and_update(ks):
    p = Person.ttl(100).create(name="kay", age=1)
    row = raw(f"SELECT TTL(name) AS t FROM {ks}.models_person WHERE id = ?", [p.id]).one()
    assert 90 < row["t"] <= 100
    q = Person(name="lee").ttl(200)
    q.save()
    assert 190 < raw(f"SELECT TTL(name) AS t FROM {ks}.models_person WHERE id = ?", [q.id]).one()["t"] <= 200
    q.ttl(300).update(age=3)
    row = raw(f"SELECT TTL(age) AS ta, TTL(name) AS tn FROM {ks}.models_person WHERE id = ?", [q.id]).one()
    assert 290 < row["ta"] <= 300 and row["tn"] <= 200


def test_default_ttl_table_option(ks):
    Expiring.create(id=1, body="x")
    row = raw(f"SELECT TTL(body) AS t FROM {ks}.models_expiring WHERE id = 1").one()
    assert 3500 < row["t"] <= 3600


def test_timestamp_int_datetime_and_timedelta(ks):
    p = Person(name="max").timestamp(1_000_000)
    p.save()
    assert writetimes(ks, p.id)["wn"] == 1_000_000

    when = datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=timezone.utc)
    p2 = Person(name="ned").timestamp(when)
    p2.save()
    assert writetimes(ks, p2.id)["wn"] == int(when.timestamp()) * 1_000_000 + 789000
    naive = datetime(2001, 2, 3, 4, 5, 6)
    p2.timestamp(naive).update(age=7)
    assert writetimes(ks, p2.id)["wa"] == int(naive.replace(tzinfo=timezone.utc).timestamp()) * 1_000_000

    now_us = int(time.time() * 1_000_000)
    p3 = Person(name="oli").timestamp(timedelta(hours=1))
    p3.save()
    wt = writetimes(ks, p3.id)["wn"]
    assert now_us + 3590 * 10**6 < wt < now_us + 3610 * 10**6
    # a write dated earlier than the cell is shadowed
    p3.name = "shadowed"
    p3.save()
    assert Person.get(id=p3.id).name == "oli"


def test_timestamp_is_one_shot(ks):
    p = Person(name="pat").timestamp(1_000_000)
    p.save()
    p.update(age=1)
    assert writetimes(ks, p.id)["wa"] > 1_000_000


def test_future_timestamp_delete_locks_out_updates(ks):
    p = Person.create(name="quin", age=1)
    p.timestamp(timedelta(seconds=60)).delete()
    Person(id=p.id, name="quin").update(age=2)
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)


def test_consistency_is_sent(ks):
    p = Person(name="ray")
    with pytest.raises((Unavailable, NoHostAvailable), match="consistency level THREE"):
        p.consistency(ConsistencyLevel.THREE).save()
    p.consistency(ConsistencyLevel.ONE).save()
    assert Person.consistency(ConsistencyLevel.ONE).get(id=p.id).name == "ray"
    with pytest.raises((Unavailable, NoHostAvailable), match="consistency level THREE"):
        Person.objects.consistency(ConsistencyLevel.THREE).get(id=p.id)


def test_timeout_is_sent(ks):
    p = Person(name="sam")
    with pytest.raises(OperationTimedOut):
        p.timeout(1e-9).save()
    p.timeout(10).save()
    p.timeout(None).update(age=1)
    assert Person.get(id=p.id).age == 1


# ---------------------------------------------------------------- lightweight transactions


def test_if_not_exists(ks):
    pid = uuid.uuid4()
    Person.if_not_exists().create(id=pid, name="tom", age=1)
    with pytest.raises(LWTException) as info:
        Person.if_not_exists().create(id=pid, name="other", age=2)
    assert info.value.existing["name"] == "tom" and info.value.existing["age"] == 1
    assert Person.get(id=pid).name == "tom"
    with pytest.raises(LWTException):
        Person(id=pid, name="third").if_not_exists().save()


def test_if_exists(ks):
    p = Person(name="uma")
    with pytest.raises(LWTException):
        p.if_exists().update(age=3)
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)
    # Cassandra dates a paxos write with a millisecond-grained server clock, so a plain write just before it
    # may carry a later timestamp and win: keep every write of this row conditional.
    p.if_not_exists().save()
    p.if_exists().update(age=4)
    assert Person.get(id=p.id).age == 4
    p.if_exists().delete()
    with pytest.raises(LWTException):
        p.if_exists().delete()


def test_iff(ks):
    p = Person.if_not_exists().create(name="vic", age=10)  # all-paxos row: see test_if_exists
    p.iff(age=10).update(age=11)
    assert Person.get(id=p.id).age == 11
    with pytest.raises(LWTException) as info:
        p.iff(age=10).update(age=12)
    assert info.value.existing == {"[applied]": False, "age": 11}  # the whole row, as the peer
    p.age = 13
    with pytest.raises(LWTException):
        p.iff(name="nobody").save()
    assert Person.get(id=p.id).age == 11
    p.iff(age__gt=5).save()
    assert Person.get(id=p.id).age == 13
    with pytest.raises(LWTException):
        p.iff(age=0).delete()
    p.iff(age=13).delete()
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)


# ---------------------------------------------------------------- batch / using


def test_batch(ks):
    old = Person.create(name="wes")
    fresh = Person(name="xia")
    with BatchQuery() as b:
        Person.batch(b).create(name="yan", id=(yan := uuid.uuid4()))
        fresh.batch(b).save()
        old.batch(b).delete()
        assert len(b.queries) == 3
        with pytest.raises(Person.DoesNotExist):
            Person.get(id=yan)
        n = executed()
    assert executed() == n + 1  # one BATCH statement
    assert Person.get(id=yan).name == "yan" and Person.get(id=fresh.id).name == "xia"
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=old.id)


def test_batch_not_sent_on_exception(ks):
    p = Person(name="zed")
    with pytest.raises(RuntimeError):
        with BatchQuery() as b:
            p.batch(b).save()
            raise RuntimeError
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)


def test_batch_with_timestamp(ks):
    p = Person(name="abe")
    with BatchQuery(timestamp=datetime(2002, 1, 1, tzinfo=timezone.utc)) as b:
        p.batch(b).save()
    assert writetimes(ks, p.id)["wn"] == int(datetime(2002, 1, 1, tzinfo=timezone.utc).timestamp()) * 10**6


def test_using_keyspace(ks, other_ks):
    p = Person(name="bea").using(keyspace=other_ks)
    p.save()
    assert raw(f"SELECT name FROM {other_ks}.models_person WHERE id = ?", [p.id]).one()["name"] == "bea"
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)
    assert Person.objects.using(keyspace=other_ks).get(id=p.id).name == "bea"
    got = Person.using(keyspace=other_ks).get(id=p.id)
    q = Person.using(keyspace=other_ks).create(name="cal")
    assert raw(f"SELECT name FROM {other_ks}.models_person WHERE id = ?", [q.id]).one()["name"] == "cal"
    got.using(keyspace=other_ks).update(age=5)
    assert raw(f"SELECT age FROM {other_ks}.models_person WHERE id = ?", [p.id]).one()["age"] == 5
    got.using(keyspace=other_ks).delete()
    assert raw(f"SELECT name FROM {other_ks}.models_person WHERE id = ?", [p.id]).one() is None


def test_instance_loaded_through_using_writes_back_there(ks, other_ks):
    p = Person.using(keyspace=other_ks).create(name="dan", age=1)
    got = Person.objects.using(keyspace=other_ks).get(id=p.id)
    got.age = 2
    got.save()
    assert raw(f"SELECT age FROM {other_ks}.models_person WHERE id = ?", [p.id]).one()["age"] == 2
    with pytest.raises(Person.DoesNotExist):
        Person.get(id=p.id)


# ---------------------------------------------------------------- bad input: nothing sent


@pytest.mark.parametrize("kwargs, pattern", [
    ({"name": 5}, r"Person\.name: 5 is not a str"),
    ({"name": "x" * 21}, r"Person\.name: 'x{21}' is longer than max_length 20"),
    ({"name": "ok", "age": 128}, r"Person\.age: 128 is out of range for tinyint"),
    ({"name": "ok", "age": "3"}, r"Person\.age: '3' is not an integer"),
    ({}, r"Person\.name: required"),
    ({"name": ""}, r"Person\.name: '' is shorter than min_length 1"),
    ({"name": "ok", "tags": {"a", 1}}, r"Person\.tags element: 1 is not a str"),
    ({"name": "ok", "scores": [1, 2**40]}, r"Person\.scores\[1\]: 1099511627776 is out of range"),
    ({"name": "ok", "id": "not-a-uuid"}, r"Person\.id: 'not-a-uuid' is not a valid UUID"),
    ({"name": "ok", "nope": 1}, r"Person: unknown column\(s\) 'nope'"),
])
def test_bad_input_raises_before_sending(ks, kwargs, pattern):
    before = executed()
    with pytest.raises(ValidationError, match=pattern):
        Person.create(**kwargs)
    with pytest.raises(ValidationError, match=pattern):
        Person.if_not_exists().create(**kwargs)
    with pytest.raises(ValidationError):
        with BatchQuery() as b:
            Person.batch(b).create(name="fine")
            Person.batch(b).create(**kwargs)
    assert executed() == before


def test_bad_update_raises_before_sending(ks):
    p = Person.create(name="eli")
    before = executed()
    with pytest.raises(ValidationError, match=r"Person\.age: 1000 is out of range"):
        p.update(age=1000)
    p.age = 1000
    with pytest.raises(ValidationError, match=r"Person\.age"):
        p.save()
    with pytest.raises(ValidationError, match=r"Person\.age"):
        p.iff(age="x")
        p.delete()
    assert executed() == before


def test_bad_timestamp_raises_before_sending(ks):
    before = executed()
    with pytest.raises(ValidationError, match="timestamp"):
        Person(name="fio").timestamp("soon").save()
    assert executed() == before


# ---------------------------------------------------------------- polymorphism (the seed's example)


def test_polymorphic_table_has_union_of_columns(ks):
    rows = raw("SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
               [ks, "pet"])
    assert {r["column_name"] for r in rows} == {"owner_id", "pet_id", "pet_type", "name", "cuteness",
                                                "fierceness"}


def test_polymorphic_query_returns_subclasses(ks):
    owner_id = uuid.uuid4()
    Cat.create(owner_id=owner_id, name="fluffles", cuteness=100.1)
    Dog.create(owner_id=owner_id, name="destructo", fierceness=5000.001)
    pets = list(Pet.objects(owner_id=owner_id))
    assert sorted(type(p).__name__ for p in pets) == ["Cat", "Dog"]
    cat = next(p for p in pets if isinstance(p, Cat))
    dog = next(p for p in pets if isinstance(p, Dog))
    assert cat.name == "fluffles" and cat.cuteness == pytest.approx(100.1, rel=1e-6) and cat.pet_type == "cat"
    assert dog.name == "destructo" and dog.fierceness == pytest.approx(5000.001, rel=1e-6)
    assert dog.pet_type == "dog"
    assert not hasattr(cat, "fierceness") and "fierceness" not in cat.keys()
    assert repr(dog) == f"<Dog owner_id={owner_id!r}, pet_id={dog.pet_id!r}>"
    row = raw(f"SELECT pet_type FROM {ks}.pet WHERE owner_id = ? AND pet_id = ?", [owner_id, cat.pet_id]).one()
    assert row["pet_type"] == "cat"
    assert type(Pet.get(owner_id=owner_id, pet_id=dog.pet_id)) is Dog


def test_subclass_query_on_other_type_raises(ks):
    owner_id = uuid.uuid4()
    Cat.create(owner_id=owner_id, name="fluffles", cuteness=100.1)
    with pytest.raises(PolymorphicModelException):
        list(Dog.objects(owner_id=owner_id))
    assert type(Cat.get(owner_id=owner_id)) is Cat


def test_loaded_subclass_instance_updates(ks):
    owner_id = uuid.uuid4()
    Dog.create(owner_id=owner_id, name="rex", fierceness=1.0)
    dog = Pet.get(owner_id=owner_id)
    dog.fierceness = 2.0
    dog.save()
    assert Dog.get(owner_id=owner_id).fierceness == 2.0
    with pytest.raises(ValidationError):
        dog.update(pet_type="cat")


def test_indexed_polymorphic_key_filters_subclass_queries(ks, cql_log):
    owner_id = uuid.uuid4()
    Kitten.create(owner_id=owner_id, name="fluffles", cuteness=100.1)
    Hound.create(owner_id=owner_id, name="destructo", fierceness=5000.001)
    Hound.create(owner_id=owner_id, name="rex", fierceness=1.5)
    cql_log.clear()
    hounds = list(Hound.objects(owner_id=owner_id))
    assert sorted(h.name for h in hounds) == ["destructo", "rex"]
    assert all(type(h) is Hound for h in hounds)
    select = next(line for line in cql_log if "SELECT" in line)
    assert "animal_type" in select.split("WHERE", 1)[1]
    assert [k.name for k in Kitten.objects(owner_id=owner_id)] == ["fluffles"]
    assert sorted(type(a).__name__ for a in Animal.objects(owner_id=owner_id)) == ["Hound", "Hound", "Kitten"]
    assert Hound.objects(owner_id=owner_id).count() == 2


def test_saving_the_base_raises(ks):
    before = executed()
    with pytest.raises(ValidationError, match=r"Dog\.pet_type: 'cat' is not Dog's __polymorphic_key__ 'dog'"):
        Dog.create(owner_id=uuid.uuid4(), pet_type="cat")
    with pytest.raises(PolymorphicModelException):
        Pet.create(owner_id=uuid.uuid4(), name="generic")
    with pytest.raises(PolymorphicModelException):
        Pet(owner_id=uuid.uuid4(), name="generic").save()
    assert executed() == before


# ---------------------------------------------------------------- VarInt


@pytest.mark.parametrize("value", [10**300 + 7, -(10**300) - 7, 2**64, -(2**63) - 1, 0, 2**1000 - 1])
def test_varint_roundtrip(ks, value):
    VarIntDemo.create(row_id=1, bignum=value)
    got = VarIntDemo.get(row_id=1)
    assert got.bignum == value and type(got.bignum) is int
    assert raw(f"SELECT bignum FROM {ks}.var_int_demo WHERE row_id = 1").one()["bignum"] == value


# ---------------------------------------------------------------- counters


def test_counter_create_makes_a_row_even_at_zero(ks):
    PageViews.create(page="/zero")
    assert PageViews.get(page="/zero").views == 0
    PageViews.create(page="/five", views=5)
    got = PageViews.get(page="/five")
    got.views += 3
    got.save()
    assert PageViews.get(page="/five").views == 8
    got.update(views=6)
    assert PageViews.get(page="/five").views == 6
    n = executed()
    got.save()  # unchanged: nothing sent
    assert executed() == n


def test_from_row_and_render_are_public_doors(cqlengine_connection):
    class Doorway(Model):
        __table_name__ = "doorway_rows"
        k = columns.Integer(primary_key=True)
        tags = columns.Set(columns.Text)

    management.sync_table(Doorway)
    Doorway.create(k=1, tags={"a"})
    qs = Doorway.objects(k=1)
    cql, params = qs.render()
    assert "WHERE" in cql and "?" in cql and params == [1]
    row = connection.execute(cql, params).one()
    obj = Doorway.from_row(row)
    assert obj == Doorway.get(k=1) and obj.get_changed_columns() == []
    obj.tags.add("b")
    obj.save()  # loaded: only the changed column is written
    assert Doorway.get(k=1).tags == {"a", "b"}


def test_create_goes_through_a_custom_queryset(cqlengine_connection):
    from cqlengine.query import ModelQuerySet

    class Defaulting(ModelQuerySet):
        def create(self, **values):
            values.setdefault("v", 42)
            return super().create(**values)

    class Custom(Model):
        __table_name__ = "custom_queryset_rows"
        __queryset__ = Defaulting
        k = columns.Integer(primary_key=True)
        v = columns.Integer()

    management.sync_table(Custom)
    assert Custom.create(k=1).v == 42 == Custom.objects.create(k=2).v
