"""Each statement tells the driver whether it may be retried: reads and plain writes may; increments,
list appends and prepends, and lightweight transactions may not; a queryset can say otherwise."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cqlengine import columns, connection, management
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class Visit(Model):
    __table_name__ = "idempotence_visits"
    id = columns.Integer(primary_key=True)
    name = columns.Text()
    pages = columns.List(columns.Text())
    tags = columns.Set(columns.Text())
    scores = columns.Map(columns.Text(), columns.Integer())


class Hits(Model):
    __table_name__ = "idempotence_hits"
    id = columns.Integer(primary_key=True)
    n = columns.Counter()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Visit)
    management.sync_table(Hits)
    return cqlengine_connection.default_keyspace


@pytest.fixture
def flags(ks, monkeypatch):
    """(first word of the CQL, the driver flag) of every statement sent."""
    seen: list[tuple[str, bool]] = []
    session = connection.get_session()
    real = session.execute_async  # session.execute sends through it too

    def spy(statement: Any, *args: Any, **kwargs: Any) -> Any:
        text = getattr(statement, "query_string", None) or getattr(
            getattr(statement, "prepared_statement", None), "query_string", "BATCH")
        seen.append((text.split()[0], statement.is_idempotent))
        return real(statement, *args, **kwargs)

    monkeypatch.setattr(session, "execute_async", spy)
    if connection.get_connection().transport is not None:  # CQLENGINE_TEST_TRANSPORT=acsylla
        from cqlengine.connection import acsylla_transport

        real_acsylla = acsylla_transport._bound  # every statement acsylla sends is bound there first

        def acsylla_spy(send: Any, *args: Any) -> Any:
            seen.append((send.query.split()[0], send.idempotent))
            return real_acsylla(send, *args)

        monkeypatch.setattr(acsylla_transport, "_bound", acsylla_spy)
    return seen


def test_reads_and_plain_writes_may_be_retried(flags):
    Visit.create(id=1, name="a", pages=["p"], tags={"t"}, scores={"s": 1})
    obj = Visit.objects.get(id=1)
    obj.name = "b"
    obj.save()
    Visit.objects(id=1).update(name="c", tags__add={"u"}, scores__update={"x": 2}, pages__remove=["p"])
    list(Visit.objects(id=1))
    Visit.objects(id=1).count()
    Visit.objects(id=1).delete()
    assert flags == [("INSERT", True), ("SELECT", True), ("UPDATE", True), ("UPDATE", True), ("SELECT", True),
                     ("SELECT", True), ("DELETE", True)]


@pytest.mark.parametrize("write", [
    lambda: Visit.objects(id=2).update(pages__append=["p"]),
    lambda: Visit.objects(id=2).update(pages__prepend=["p"]),
    lambda: Hits.objects(id=2).update(n=1),
    lambda: Hits.create(id=3, n=2),
    lambda: Visit.objects.if_not_exists().create(id=4, name="a"),
    lambda: Visit.objects(id=4).iff(name="a").update(name="b"),
    lambda: Visit.objects(id=4).if_exists().delete(),
], ids=["append", "prepend", "counter update", "counter create", "if not exists", "iff", "if exists"])
def test_writes_that_a_retry_could_apply_twice_may_not(flags, write):
    try:
        write()
    except Exception:  # noqa: BLE001 - a condition not met still sent its statement
        pass
    assert flags and all(flag is False for _, flag in flags), flags


def test_a_queryset_says_otherwise(flags):
    Visit.objects.idempotent(False).create(id=5, name="a")
    list(Visit.objects(id=5).idempotent(False))
    Visit.objects(id=5).idempotent(True).update(pages__append=["p"])
    Visit.objects(id=5).idempotent(None).update(pages__append=["q"])
    assert flags == [("INSERT", False), ("SELECT", False), ("UPDATE", True), ("UPDATE", False)]


def test_batches_bulk_and_asyncio_carry_the_flag(flags):
    with BatchQuery() as batch:
        Visit.batch(batch).create(id=6, name="a")
    with BatchQuery() as batch:
        Visit.batch(batch).create(id=7, name="a")
        Visit.objects(id=7).batch(batch).update(pages__append=["p"])
    Visit.objects.bulk_create([Visit(id=8, name="a")])
    asyncio.run(Visit.objects.aget(id=8))
    asyncio.run(Visit.objects(id=8).aupdate(pages__append=["p"]))
    assert flags == [("BATCH", True), ("BATCH", False), ("INSERT", True), ("SELECT", True), ("UPDATE", False)]


def test_a_callers_statement_keeps_its_own_flag_unless_told(ks):
    from cassandra.query import SimpleStatement

    statement = SimpleStatement(f"SELECT * FROM {Visit.column_family_name()} WHERE id = 1")
    statement.is_idempotent = True
    assert connection.execute(statement).response_future.query.is_idempotent is True
    result = connection.execute(statement, idempotent=False)
    assert result.response_future.query.is_idempotent is False and statement.is_idempotent is True


def test_a_batch_member_that_may_not_be_retried_makes_the_batch_so(flags):
    from cqlengine.models import OptionIgnoredInBatch

    with BatchQuery() as batch:
        Visit.objects(id=9).idempotent(False).batch(batch).update(name="x")
    assert flags == [("BATCH", False)]
    with pytest.raises(OptionIgnoredInBatch, match="execution profile"):
        with BatchQuery() as batch:
            Visit.objects(id=9).execution_profile("any").batch(batch).update(name="x")
