"""Bulk writes against the real server: bounded concurrency, validation first, every failure reported."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cqlengine import columns, connection, management
from cqlengine.bulk import BulkWriteError
from cqlengine.exceptions import LWTException, ValidationError
from cqlengine.models import Model


class Reading(Model):
    __table_name__ = "bulk_readings"
    sensor = columns.Text(partition_key=True)
    seq = columns.Integer(primary_key=True)
    value = columns.Double(required=True)
    tags = columns.Set(columns.Text)


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Reading)
    return cqlengine_connection.default_keyspace


def executed() -> int:
    return connection.get_connection().stats.executed


def test_bulk_create_writes_every_instance_and_marks_them_written(ks):
    readings = [Reading(sensor="a", seq=i, value=i / 2, tags={f"t{i}"}) for i in range(300)]
    before = executed()
    assert Reading.objects.bulk_create(readings, concurrency=20) == readings
    assert executed() - before == 300
    assert Reading.objects(sensor="a").count() == 300
    assert all(r.get_changed_columns() == [] for r in readings)
    readings[7].value = 99.0
    readings[7].tags.add("x")
    before = executed()
    Reading.objects.bulk_update(readings, concurrency=5)  # only the changed instance is sent
    assert executed() - before == 1
    got = Reading.get(sensor="a", seq=7)
    assert (got.value, got.tags) == (99.0, {"t7", "x"})
    Reading.objects.bulk_delete(readings[:100])
    assert Reading.objects(sensor="a").count() == 200


def test_mappings_and_queryset_options_apply(ks):
    Reading.objects.ttl(3600).timestamp(timedelta(0)).bulk_create([{"sensor": "m", "seq": i, "value": 1.0}
                                                                   for i in range(5)])
    row = connection.execute(f"SELECT TTL(value) AS t FROM {ks}.bulk_readings WHERE sensor = ? AND seq = ?",
                             ["m", 3]).one()
    assert 3500 < row["t"] <= 3600


def test_an_invalid_instance_sends_nothing(ks):
    readings = [Reading(sensor="v", seq=i, value=1.0) for i in range(10)] + [Reading(sensor="v", seq=10)]
    before = executed()
    with pytest.raises(ValidationError, match="Reading.value"):
        Reading.objects.bulk_create(readings)
    assert executed() == before
    assert Reading.objects(sensor="v").count() == 0


def test_every_failure_is_reported_with_its_instance_and_the_rest_is_written(ks):
    Reading.if_not_exists().create(sensor="f", seq=1, value=1.0)
    Reading.if_not_exists().create(sensor="f", seq=3, value=3.0)
    readings = [Reading(sensor="f", seq=i, value=float(i * 10)).if_not_exists() for i in range(5)]
    with pytest.raises(BulkWriteError) as info:
        Reading.objects.bulk_create(readings)
    failed = {f.instance.seq: f.error for f in info.value.failures}
    assert sorted(failed) == [1, 3] and all(isinstance(e, LWTException) for e in failed.values())
    assert sorted(r.seq for r in info.value.written) == [0, 2, 4]
    assert "2 of 5 write(s) failed" in str(info.value)
    assert {r.seq: r.value for r in Reading.objects(sensor="f")} == {0: 0.0, 1: 1.0, 2: 20.0, 3: 3.0, 4: 40.0}


def test_a_batched_or_timed_instance_is_refused(ks):
    from cqlengine.query import BatchQuery

    with pytest.raises(ValidationError, match="is batched"):
        Reading.objects.bulk_create([Reading(sensor="b", seq=1, value=1.0).batch(BatchQuery())])
    with pytest.raises(ValidationError, match="own timeout"):
        Reading.objects.bulk_create([Reading(sensor="b", seq=1, value=1.0).timeout(5)])
    with pytest.raises(ValidationError, match="is not a Reading"):
        Reading.objects.bulk_delete([object()])


def test_async_twins(ks):
    async def scenario():
        readings = [Reading(sensor="async", seq=i, value=1.0) for i in range(50)]
        await Reading.objects.abulk_create(readings, concurrency=10)
        readings[0].value = 2.0
        await Reading.objects.abulk_update(readings)
        await Reading.objects.abulk_delete(readings[25:])
        return await Reading.objects(sensor="async").acount(), (await Reading.objects.aget(sensor="async", seq=0)).value

    assert asyncio.run(scenario()) == (25, 2.0)


def test_queryset_options_apply_to_instances_saved_before(ks):
    first = Reading.create(sensor="o", seq=1, value=1.0)
    first.value = 2.0
    Reading.objects.ttl(1000).bulk_update([first])
    row = connection.execute(f"SELECT TTL(value) AS t FROM {ks}.bulk_readings WHERE sensor = ? AND seq = ?",
                             ["o", 1]).one()
    assert row["t"] is not None and 900 < row["t"] <= 1000


def test_using_reaches_the_write_and_stays_with_the_written_instance(ks):
    other = f"{ks}_bulk"
    management.create_keyspace_simple(other, 1)
    try:
        management.sync_table(Reading, keyspaces=[other])
        saved = Reading.create(sensor="u", seq=1, value=1.0)  # saved before, in the default keyspace
        saved.value = 5.0
        Reading.objects.using(keyspace=other).bulk_update([saved])
        assert Reading.objects.using(keyspace=other).get(sensor="u", seq=1).value == 5.0
        assert Reading.get(sensor="u", seq=1).value == 1.0
        saved.value = 6.0
        saved.save()  # goes where it was written
        assert Reading.objects.using(keyspace=other).get(sensor="u", seq=1).value == 6.0
    finally:
        management.drop_keyspace(other)


def test_a_refused_bulk_call_leaves_the_instances_options_alone(ks):
    planned = Reading(sensor="r", seq=1, value=1.0)
    with pytest.raises(ValidationError):
        Reading.objects.ttl(5).if_not_exists().bulk_create([planned, Reading(sensor="r", seq=2)])
    assert planned._options.ttl is None and not planned._options.if_not_exists
    planned.save()
    assert connection.execute(f"SELECT TTL(value) AS t FROM {ks}.bulk_readings WHERE sensor = ? AND seq = ?",
                              ["r", 1]).one()["t"] is None
