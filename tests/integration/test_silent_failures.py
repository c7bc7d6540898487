"""Writes that sent nothing and reads that kept a failed result: each checked on the real server."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from cassandra import InvalidRequest

from cqlengine import columns, connection, management
from cqlengine.exceptions import LWTException, QueryException, ValidationError
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class Item(Model):
    __table_name__ = "silent_items"
    k = columns.Integer(partition_key=True)
    v = columns.Text()
    n = columns.Integer()


class Tally(Model):
    __table_name__ = "silent_tally"
    k = columns.Integer(partition_key=True)
    hits = columns.Counter()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Item)
    management.sync_table(Tally)
    return cqlengine_connection.default_keyspace


@pytest.fixture
def key() -> int:
    """A fresh partition key, so tests never see each other's rows."""
    return uuid.uuid4().int % 2**31


def executed() -> int:
    return connection.get_connection().stats.executed


def row(k: int) -> Any:
    found = Item.objects(k=k).first()
    return None if found is None else (found.v, found.n)


# ---------------------------------------------------------------- writes of new instances


def test_update_without_arguments_writes_the_constructor_values(ks, key):
    Item(k=key, v="z").update()
    assert row(key) == ("z", None)


def test_if_exists_update_of_a_missing_row_raises(ks, key):
    with pytest.raises(LWTException):
        Item(k=key, v="a").if_exists().update()
    assert row(key) is None


def test_iff_update_of_a_missing_row_raises(ks, key):
    with pytest.raises(LWTException):
        Item(k=key, v="a").iff(v="b").update()
    assert row(key) is None


def test_update_without_arguments_leaves_unset_columns_alone(ks, key):
    Item.create(k=key, v="old", n=1)
    Item(k=key, n=2).update()
    assert row(key) == ("old", 2)


def test_a_column_named_as_none_is_cleared(ks, key):
    Item.create(k=key, v="old", n=1)
    Item(k=key).update(v=None)
    assert row(key) == (None, 1)


def test_update_of_a_key_only_instance_raises_and_sends_nothing(ks, key):
    before = executed()
    with pytest.raises(ValidationError, match=rf"Item\(k={key}\)\.update: nothing to write.*primary key"):
        Item(k=key).update()
    assert executed() == before


def test_conditional_save_of_a_key_only_instance_raises_and_sends_nothing(ks, key):
    before = executed()
    with pytest.raises(ValidationError, match=r"Item\(k=.*\)\.save: nothing to write.*if_exists\(\)/iff\(\)"):
        Item(k=key).if_exists().save()
    with pytest.raises(ValidationError, match="nothing to write"):
        Item(k=key).iff(v="x").save()
    assert executed() == before
    assert row(key) is None


def test_the_condition_outlives_a_refusal_that_sent_nothing(ks, key):
    item = Item(k=key)
    with pytest.raises(ValidationError):
        item.if_exists().save()
    with pytest.raises(ValidationError):
        item.save()  # still conditional: nothing was sent, so nothing was spent (as the peer)
    item.if_exists(False).save()  # a plain INSERT once the caller drops the condition
    assert row(key) == (None, None)


def test_a_new_counter_row_is_written_by_update(ks, key):
    Tally(k=key).update()
    assert Tally.objects(k=key).get().hits == 0


# ---------------------------------------------------------------- loaded instances


def test_save_of_a_loaded_unchanged_instance_sends_nothing(ks, key):
    Item.create(k=key, v="a")
    item = Item.get(k=key)
    before = executed()
    item.save()
    item.update()
    assert executed() == before


def test_conditional_save_of_a_loaded_unchanged_instance_raises(ks, key):
    Item.create(k=key, v="a")
    item = Item.get(k=key)
    Item.objects(k=key).delete()
    with pytest.raises(ValidationError, match="nothing to write: no column changed"):
        item.if_exists().save()
    with pytest.raises(ValidationError, match="nothing to write"):
        item.iff(v="a").update()


def test_conditional_save_of_a_loaded_changed_instance_checks_its_condition(ks, key):
    Item.create(k=key, v="a")
    item = Item.get(k=key)
    Item.objects(k=key).delete()
    item.v = "b"
    with pytest.raises(LWTException):
        item.if_exists().save()
    assert row(key) is None


# ---------------------------------------------------------------- batches


def test_a_new_instance_updated_in_a_batch_is_written(ks, key):
    with BatchQuery() as batch:
        Item(k=key, v="batched").batch(batch).update()
        assert len(batch.queries) == 1
    assert row(key) == ("batched", None)


def test_a_key_only_update_in_a_batch_raises_before_the_batch_runs(ks, key):
    batch = BatchQuery()
    with pytest.raises(ValidationError, match="nothing to write"):
        Item(k=key).batch(batch).update()
    assert batch.queries == []


# ---------------------------------------------------------------- asyncio twins


def test_async_writes_of_new_instances(ks, key):
    async def scenario() -> None:
        await Item(k=key, v="async").aupdate()
        with pytest.raises(LWTException):
            await Item(k=key + 1, v="x").if_exists().aupdate()
        with pytest.raises(ValidationError, match="update: nothing to write"):
            await Item(k=key + 2).aupdate()
        with pytest.raises(ValidationError, match="save: nothing to write"):
            await Item(k=key + 2).if_exists().asave()
        created = await Item.acreate(k=key + 3)
        assert created.k == key + 3

    asyncio.run(scenario())
    assert row(key) == ("async", None)
    assert row(key + 1) is None and row(key + 2) is None
    assert row(key + 3) == (None, None)


# ---------------------------------------------------------------- parity


def test_update_of_a_new_instance_writes_in_both_mappers(mapper):
    c = mapper.columns
    model = type("U", (mapper.Model,), {
        "__table_name__": mapper.table_name("silent_upd"), "__keyspace__": mapper.keyspace,
        "k": c.Integer(primary_key=True), "v": c.Text(),
    })
    mapper.management.sync_table(model)
    try:
        model(k=11, v="z").update()
        assert model.objects(k=11).get().v == "z"
        with pytest.raises(mapper.query.LWTException):
            model(k=12, v="a").if_exists().update()
        assert model.objects(k=12).count() == 0
    finally:
        mapper.management.drop_table(model)


# ---------------------------------------------------------------- failed iteration


def _paged_model() -> type[Model]:
    """A table of its own (the tests drop it), with ten rows in one partition."""
    model: Any = type("Paged", (Model,), {
        "__table_name__": f"silent_paged_{uuid.uuid4().hex[:8]}",
        "k": columns.Integer(partition_key=True), "c": columns.Integer(primary_key=True),
    })
    management.sync_table(model)
    for c in range(10):
        model.create(k=1, c=c)
    return model


def test_a_failed_iteration_is_not_kept_as_the_result(ks):
    model = _paged_model()
    qs = model.objects(k=1).fetch_size(2)
    seen = []
    with pytest.raises(InvalidRequest, match="does not exist"):
        for obj in qs:
            seen.append(obj.c)
            if len(seen) == 2:
                management.drop_table(model)  # page 2 now fails on the server
    assert seen == [0, 1]
    # Every later use queries again (and fails again) rather than answering from the two rows.
    with pytest.raises(InvalidRequest):
        list(qs)
    with pytest.raises(InvalidRequest):
        len(qs)
    with pytest.raises(InvalidRequest):
        bool(qs)
    with pytest.raises(InvalidRequest):
        qs[5]
    with pytest.raises(InvalidRequest):
        qs.count()
    with pytest.raises(InvalidRequest):
        qs.first()


@pytest.fixture
def second_page_fails_once(monkeypatch):
    """The next paged read's second page fails; later reads go through untouched."""
    armed = [True]
    real = connection.next_page

    def next_page(result: Any) -> Any:
        if armed[0]:
            armed[0] = False
            raise InvalidRequest("page 2 failed")
        return real(result)

    monkeypatch.setattr(connection, "next_page", next_page)


def test_after_a_failed_iteration_the_next_one_reads_every_row(ks, second_page_fails_once):
    model = _paged_model()
    qs = model.objects(k=1).fetch_size(2)
    with pytest.raises(InvalidRequest, match="page 2 failed"):
        list(qs)
    assert [obj.c for obj in qs] == list(range(10))
    assert len(qs) == 10 and qs.count() == 10 and qs[9].c == 9
    management.drop_table(model)


def test_a_failure_seen_by_an_inner_loop_ends_the_outer_one(ks, second_page_fails_once):
    model = _paged_model()
    qs = model.objects(k=1).fetch_size(2)
    outer = []
    with pytest.raises(QueryException, match="Paged: the query failed in another loop"):
        for obj in qs:
            outer.append(obj.c)
            if len(outer) == 1:
                with pytest.raises(InvalidRequest):
                    list(qs)
    assert outer == [0, 1]  # the rows it had been given were real; it never goes past them
    assert len(qs) == 10
    management.drop_table(model)


def test_break_is_not_a_failure_and_the_loop_resumes(ks):
    model = _paged_model()
    qs = model.objects(k=1).fetch_size(2)
    for _ in qs:
        break
    assert [obj.c for obj in qs] == list(range(10))
    management.drop_table(model)


# ---------------------------------------------------------------- negative indexes


def test_negative_indexes_and_slices_match_the_peer(mapper):
    c = mapper.columns
    model = type("Neg", (mapper.Model,), {
        "__table_name__": mapper.table_name("silent_neg"), "__keyspace__": mapper.keyspace,
        "k": c.Integer(partition_key=True), "c": c.Integer(primary_key=True),
    })
    mapper.management.sync_table(model)
    try:
        for i in range(5):
            model.create(k=1, c=i)

        def cks(rows: Any) -> list[int]:
            return [r.c for r in rows]

        assert model.objects(k=1)[-1].c == 4
        assert model.objects(k=1)[-5].c == 0
        assert cks(model.objects(k=1)[-3:]) == [2, 3, 4]
        assert cks(model.objects(k=1)[1:-1]) == [1, 2, 3]
        assert cks(model.objects(k=1)[-4:-2]) == [1, 2]
        assert cks(model.objects(k=1)[0:5:2]) == [0, 2, 4]
        if mapper.name == "ours":
            # Out of range from the end: the peer wraps -6 round to the last row; ours says so.
            with pytest.raises(IndexError, match="5 row"):
                model.objects(k=1)[-6]
        qs = model.objects(k=1)
        list(qs)
        assert qs[-2].c == 3 and cks(qs[-2:]) == [3, 4]  # from the cache as well
    finally:
        mapper.management.drop_table(model)


# -- what a failed write keeps, what a write through a queryset forgets ------------------


class Account(Model):
    __table_name__ = "silent_accounts"
    k = columns.Integer(partition_key=True)
    n = columns.Integer()
    v = columns.Text(required=True)


class Entry(Model):
    __table_name__ = "silent_entries"
    k = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)
    v = columns.Text()


@pytest.fixture(scope="module")
def more_tables(ks):
    management.sync_table(Account)
    management.sync_table(Entry)
    return ks


def test_a_save_refused_before_sending_keeps_its_condition(more_tables, key):
    Account.if_not_exists().create(k=key, n=1, v="original")
    again = Account(k=key, n=2).if_not_exists()
    with pytest.raises(ValidationError):
        again.save()  # v is required: nothing sent
    again.v = "clobber"
    with pytest.raises(LWTException):
        again.save()  # still IF NOT EXISTS: the existing row is not overwritten
    assert Account.get(k=key).v == "original"
    again.v = "second try"
    again.save()  # the condition was checked once: spent
    assert Account.get(k=key).v == "second try"


def test_a_failed_iff_keeps_its_condition_for_the_retry(more_tables, key):
    Account.if_not_exists().create(k=key, n=2, v="original")
    row = Account(k=key, v=None).iff(n=5)
    with pytest.raises(ValidationError):
        row.save()
    row.v = "changed"
    with pytest.raises(LWTException):
        row.save()
    assert Account.get(k=key).v == "original"


def test_a_querysets_cache_is_dropped_by_its_own_delete_and_update(more_tables, key):
    for c in range(3):
        Entry.create(k=key, c=c, v="a")
    qs = Entry.objects(k=key)
    assert len(qs) == 3
    qs.filter(c=1).update(v="b")
    one = Entry.objects(k=key, c=1)
    assert [e.v for e in one] == ["b"]
    one.update(v="c")
    assert [e.v for e in one] == ["c"]
    qs.delete()
    assert (qs.count(), bool(qs), qs.exists(), qs.first(), len(qs)) == (0, False, False, None, 0)


def test_exists_counts_a_row_whose_selected_value_is_null(more_tables, key):
    Entry.create(k=key, c=0)
    flat = Entry.objects(k=key).values_list("v", flat=True)
    assert flat.exists() and list(flat) == [None] and flat.exists()


def test_a_page_state_the_server_refuses_is_a_query_error_and_the_connection_serves(more_tables, key):
    for c in range(6):
        Entry.create(k=key, c=c)
    forged = bytes([0, 3]) + b"\xff\xff\xff" + bytes([2, 2])  # well formed, with a garbage row mark
    with pytest.raises(QueryException, match="server refused the page state"):
        Entry.objects(k=key).page(2, paging_state=forged)

    async def apage():
        with pytest.raises(QueryException, match="server refused the page state"):
            await Entry.objects(k=key).apage(2, paging_state=forged)
    asyncio.run(apage())
    assert len(Entry.objects(k=key).page(2).rows) == 2


def test_counter_increments_of_a_batch_never_applied_are_kept(ks, key):
    Tally(k=key).update()
    tally = Tally.get(k=key)
    tally.hits += 5
    with pytest.raises(RuntimeError):
        with BatchQuery(batch_type="COUNTER") as b:
            tally.batch(b).save()
            raise RuntimeError("the block failed: the batch is discarded")
    assert Tally.get(k=key).hits == 0
    tally.save()  # the 5 is still a change to write
    assert Tally.get(k=key).hits == 5
    tally.hits += 2
    refused = BatchQuery()  # LOGGED: Cassandra refuses counter writes in it
    tally.batch(refused).save()
    with pytest.raises(InvalidRequest):
        refused.execute()
    tally.save()
    assert Tally.get(k=key).hits == 7


def test_a_timestamp_on_an_unchanged_instance_is_refused_not_dropped(more_tables, key):
    from datetime import timedelta

    Entry.create(k=key, c=0, v="a")
    loaded = Entry.get(k=key, c=0)
    before = connection.get_connection().stats.executed
    with pytest.raises(ValidationError, match=r"nothing to write.*timestamp\(\) dates a write"):
        loaded.timestamp(timedelta(days=1)).save()
    assert connection.get_connection().stats.executed == before
    with pytest.raises(ValidationError, match="timestamp"):
        loaded.save()  # the timestamp is still asked for: nothing was sent
    loaded.timestamp(None).save()  # nothing to write and nothing asked: sends nothing
    assert connection.get_connection().stats.executed == before


def test_a_ttl_on_a_queryset_delete_is_refused_not_dropped(more_tables, key):
    Entry.create(k=key, c=0, v="a")
    with pytest.raises(QueryException, match="no DELETE ... USING TTL"):
        Entry.objects(k=key).ttl(30).delete()
    assert Entry.objects(k=key).count() == 1


def test_counter_saved_twice_into_a_discarded_batch_keeps_both_increments(ks, key):
    Tally(k=key).update()
    tally = Tally.get(k=key)
    with pytest.raises(RuntimeError):
        with BatchQuery(batch_type="COUNTER") as b:
            tally.hits += 5
            tally.batch(b).save()
            tally.hits += 3
            tally.batch(b).save()
            raise RuntimeError("discarded")
    tally.save()
    assert Tally.get(k=key).hits == 8
