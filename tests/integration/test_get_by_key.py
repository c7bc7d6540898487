"""get() by the whole primary key takes a short path: the same answers as the general one."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from cassandra import ConsistencyLevel

from cqlengine import columns, connection, management
from cqlengine.exceptions import ValidationError
from cqlengine.models import Model


class Slot(Model):
    __table_name__ = "get_by_key_slots"
    day = columns.Integer(partition_key=True, db_field="d")
    hour = columns.Integer(primary_key=True)
    room = columns.Text(primary_key=True, db_field="r")
    who = columns.Text()


class Pet(Model):
    __table_name__ = "get_by_key_pets"
    owner = columns.UUID(partition_key=True)
    kind = columns.Text(polymorphic_key=True)
    name = columns.Text()


class Cat(Pet):
    __polymorphic_key__ = "cat"
    lives = columns.Integer()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Slot)
    management.sync_table(Cat)
    Slot.create(day=1, hour=9, room="a", who="x")
    Slot.create(day=1, hour=9, room="b", who="y")
    return cqlengine_connection.default_keyspace


def test_the_same_answers_as_the_general_path(ks):
    assert Slot.get(day=1, hour=9, room="b").who == "y"
    assert Slot.objects.get(room="a", hour=9, day=1).who == "x"  # any keyword order
    assert Slot.get(day=1, hour=9, room="b") == Slot.objects.filter(day=1, hour=9, room="b").first()
    with pytest.raises(Slot.DoesNotExist):
        Slot.get(day=1, hour=9, room="zz")
    with pytest.raises(Slot.MultipleObjectsReturned):
        Slot.get(day=1, hour=9)  # not the whole key: the general path
    with pytest.raises(ValidationError, match="Slot.hour"):
        Slot.get(day=1, hour="nine", room="a")


def test_one_statement_per_get_and_the_loaded_instance_saves_what_changes(ks):
    stats = connection.get_connection().stats
    before = stats.executed
    slot = Slot.get(day=1, hour=9, room="a")
    assert stats.executed == before + 1 and slot.get_changed_columns() == []
    slot.who = "z"
    slot.save()
    assert Slot.get(day=1, hour=9, room="a").who == "z"


def test_options_reach_the_short_path(ks):
    with pytest.raises(Exception, match="(?i)unavailable|replica"):
        Slot.objects.consistency(ConsistencyLevel.THREE).get(day=1, hour=9, room="a")  # one node
    other = f"{ks}_other"
    management.create_keyspace_simple(other, 1)
    try:
        management.sync_table(Slot, keyspaces=[other])
        Slot.objects.using(keyspace=other).create(day=2, hour=1, room="r", who="there")
        found = Slot.objects.using(keyspace=other).get(day=2, hour=1, room="r")
        assert found.who == "there"
        with pytest.raises(Slot.DoesNotExist):
            Slot.get(day=2, hour=1, room="r")  # not in the default keyspace
        found.who = "back"
        found.save()  # written back where it was read
        assert Slot.objects.using(keyspace=other).get(day=2, hour=1, room="r").who == "back"
    finally:
        management.drop_keyspace(other)


def test_a_polymorphic_base_reads_the_rows_own_class(ks):
    owner = uuid.uuid4()
    Cat.create(owner=owner, name="tom", lives=9)
    pet = Pet.get(owner=owner)
    assert type(pet) is Cat and pet.lives == 9
    assert type(Cat.get(owner=owner)) is Cat  # a subclass: the general path, which checks the class


def test_async_twin(ks):
    async def scenario():
        slot = await Slot.objects.aget(day=1, hour=9, room="b")
        with pytest.raises(Slot.DoesNotExist):
            await Slot.objects.aget(day=1, hour=9, room="none")
        return slot.who

    assert asyncio.run(scenario()) == "y"
