"""Aggregates against the real node: the values, typed; groups over several pages; the async twin; and
each refusal checked against the server's own (the CQL we would have sent is refused there too)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from cassandra import InvalidRequest

from cqlengine import columns, connection
from cqlengine.aggregates import Avg, Count, Max, Min, Sum
from cqlengine.exceptions import QueryException
from cqlengine.management import drop_table, sync_table
from cqlengine.models import Model


class Reading(Model):
    sensor = columns.Text(partition_key=True)
    day = columns.Integer(primary_key=True)
    seq = columns.Integer(primary_key=True)
    value = columns.Integer()
    price = columns.Decimal()
    at = columns.DateTime()
    label = columns.Text()


class Pet(Model):
    __table_name__ = "agg_pets"
    owner = columns.Integer(partition_key=True)
    name = columns.Text(primary_key=True)
    kind = columns.Text(discriminator_column=True)
    age = columns.Integer()


class Cat(Pet):
    __discriminator_value__ = "cat"


class Dog(Pet):
    __discriminator_value__ = "dog"


@pytest.fixture(scope="module", autouse=True)
def tables(cqlengine_connection):
    sync_table(Reading)
    sync_table(Pet)
    for sensor in "ab":
        for day in range(3):
            for seq in range(4):
                Reading.create(sensor=sensor, day=day, seq=seq, value=day * 10 + seq, price=Decimal(seq) / 4,
                               at=datetime(2026, 1, 1 + day, seq, tzinfo=timezone.utc),
                               label=None if seq == 3 else f"l{seq}")
    Cat.create(owner=1, name="tom", age=3)
    Dog.create(owner=1, name="rex", age=5)
    yield
    drop_table(Reading)
    drop_table(Pet)


def test_the_aggregates_of_a_partition_are_the_server_s_in_the_column_types():
    found = Reading.objects(sensor="a").aggregate(n=Count(), labelled=Count("label"), total=Sum("value"),
                                                  mean=Avg("value"), cost=Sum("price"), first=Min("at"),
                                                  last=Max("at"))
    values = [r.value for r in Reading.objects(sensor="a")]
    assert found == {"n": 12, "labelled": 9, "total": sum(values), "mean": sum(values) // 12,
                     "cost": Decimal("4.50"), "first": datetime(2026, 1, 1, 0), "last": datetime(2026, 1, 3, 3)}
    assert isinstance(found["cost"], Decimal) and isinstance(found["first"], datetime)


def test_no_rows_give_a_count_of_zero_and_no_extremes():
    assert Reading.objects(sensor="zz").aggregate(n=Count(), top=Max("value")) == {"n": 0, "top": None}


def test_groups_read_over_every_page_and_the_async_twin_gives_the_same():
    grouped = Reading.objects.group_by("sensor", "day").fetch_size(2).aggregate(n=Count(), top=Max("value"))
    assert sorted((g["sensor"], g["day"], g["n"], g["top"]) for g in grouped) == [
        (s, d, 4, d * 10 + 3) for s in "ab" for d in range(3)]
    awaited = asyncio.run(Reading.objects.group_by("sensor", "day").fetch_size(2).aaggregate(n=Count(),
                                                                                             top=Max("value")))
    assert awaited == grouped
    assert Reading.objects(sensor="b", day=1).group_by("seq").aggregate(v=Sum("value")) == [
        {"seq": s, "v": 10 + s} for s in range(4)]


@pytest.mark.parametrize("queryset, aggregates, cql", [
    (Reading.objects.group_by("value"), {"n": Count()}, "SELECT value, COUNT(*) FROM {t} GROUP BY value"),
    (Reading.objects.group_by("sensor", "seq"), {"n": Count()},
     "SELECT sensor, seq, COUNT(*) FROM {t} GROUP BY sensor, seq"),
    (Reading.objects.group_by("day"), {"n": Count()}, "SELECT day, COUNT(*) FROM {t} GROUP BY day"),
    (Reading.objects, {"s": Sum("label")}, "SELECT SUM(label) FROM {t}"),
])
def test_each_refusal_is_one_the_server_makes_too(queryset, aggregates, cql):
    with pytest.raises(QueryException):
        queryset.aggregate(**aggregates)
    with pytest.raises(InvalidRequest):
        connection.execute(cql.format(t=Reading.column_family_name()))


def test_a_subclass_sharing_its_table_is_refused_rather_than_mixed_with_the_others():
    assert Pet.objects(owner=1).aggregate(n=Count(), oldest=Max("age")) == {"n": 2, "oldest": 5}
    with pytest.raises(QueryException, match="Cat.aggregate: Cassandra would aggregate rows this queryset does not"):
        Cat.objects(owner=1).aggregate(n=Count())
