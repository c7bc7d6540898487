"""Optimistic locking (columns.Version), signals and audit columns against the real node."""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cqlengine import columns, connection
from cqlengine.bulk import BulkWriteError
from cqlengine.exceptions import LWTException, ValidationError, VersionConflict
from cqlengine.management import drop_table, sync_table
from cqlengine.mirroring import mirror
from cqlengine.models import Model
from cqlengine.query import BatchQuery
from cqlengine.signals import post_delete, post_save, pre_delete, pre_save


class Account(Model):
    __table_name__ = "lifecycle_accounts"
    id = columns.Integer(partition_key=True)
    entry = columns.Integer(primary_key=True, default=0)
    balance = columns.Integer()
    version = columns.Version()


class Note(Model):
    __table_name__ = "lifecycle_notes"
    id = columns.Integer(partition_key=True)
    text = columns.Text()
    created_at = columns.DateTime(auto_now_add=True)
    updated_at = columns.DateTime(auto_now=True)


class NoteCopy(Model):
    __table_name__ = "lifecycle_note_copies"
    id = columns.Integer(partition_key=True)
    text = columns.Text()
    created_at = columns.DateTime(auto_now_add=True)
    updated_at = columns.DateTime(auto_now=True)


@pytest.fixture(scope="module", autouse=True)
def tables(cqlengine_connection):
    for model in (Account, Note, NoteCopy):
        sync_table(model)
    yield
    for model in (Account, Note, NoteCopy):
        drop_table(model)


def rows(model: type[Model], **keys: Any) -> list[dict[str, Any]]:
    cql = f"SELECT * FROM {model.column_family_name()} WHERE " + " AND ".join(f"{k} = ?" for k in keys)
    return [dict(r) for r in connection.execute(cql, list(keys.values()))]


# -- Version ---------------------------------------------------------------------------------------------


def test_threads_racing_on_one_row_have_one_winner_per_version_and_lose_no_update():
    Account.create(id=1, balance=0)
    threads, increments = 8, 25
    wins: list[int] = []
    conflicts = [0]
    lock = threading.Lock()

    def deposit() -> None:
        done = 0
        while done < increments:
            account = Account.get(id=1, entry=0)
            account.balance += 1
            try:
                account.save()
            except VersionConflict:
                with lock:
                    conflicts[0] += 1
                continue
            with lock:
                wins.append(account.version)
            done += 1

    workers = [threading.Thread(target=deposit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    final = Account.get(id=1, entry=0)
    print(f"\n{threads} threads x {increments} deposits: {len(wins)} saves won, {conflicts[0]} lost a race "
          f"and retried; balance {final.balance}, version {final.version}")
    assert final.balance == threads * increments  # no update lost
    assert sorted(wins) == list(range(2, threads * increments + 2))  # each version won once
    assert final.version == threads * increments + 1


def test_a_lost_race_names_the_versions_and_leaves_the_instance_as_it_was():
    Account.create(id=2, balance=10)
    mine, theirs = Account.get(id=2, entry=0), Account.get(id=2, entry=0)
    theirs.update(balance=20)
    mine.balance = 15
    with pytest.raises(VersionConflict) as lost:
        mine.save()
    assert (lost.value.model, lost.value.key, lost.value.expected, lost.value.current) == \
        ("Account", {"id": 2, "entry": 0}, 1, 2)
    assert "Account(id=2, entry=0): not written, expected version 1, the row is at version 2" in str(lost.value)
    assert isinstance(lost.value, LWTException)
    assert (mine.version, mine.balance, mine.get_changed_columns()) == (1, 15, ["balance"])
    assert rows(Account, id=2)[0]["balance"] == 20
    with pytest.raises(VersionConflict, match="the row exists already, at version 2"):
        Account.create(id=2, balance=0)
    with pytest.raises(VersionConflict, match="expected version 1"):
        mine.delete()
    assert rows(Account, id=2)
    fresh = Account.get(id=2, entry=0)
    fresh.delete()
    assert rows(Account, id=2) == []


def test_a_version_is_checked_in_a_batch_asynchronously_and_in_bulk():
    Account.create(id=3, entry=0, balance=0)
    Account.create(id=3, entry=1, balance=0)
    a, b = Account.get(id=3, entry=0), Account.get(id=3, entry=1)
    with BatchQuery() as batch:  # one partition: a conditional batch
        a.batch(batch).update(balance=1)
        b.batch(batch).update(balance=1)
    assert (a.version, b.version) == (2, 2)
    stale = Account.get(id=3, entry=0)
    a.update(balance=2)
    with pytest.raises(LWTException):
        with BatchQuery() as batch:
            stale.batch(batch).update(balance=99)
            b.batch(batch).update(balance=99)
    assert (stale.version, b.version, b.balance) == (2, 2, 99)  # the batch did not run: nothing counts as written
    assert [r["balance"] for r in rows(Account, id=3)] == [2, 1]

    async def racing() -> None:
        one, two = await Account.objects.aget(id=3, entry=1), await Account.objects.aget(id=3, entry=1)
        await one.aupdate(balance=5)
        with pytest.raises(VersionConflict):
            await two.aupdate(balance=6)

    asyncio.run(racing())
    fresh = Account.get(id=3, entry=0)
    stale = Account.get(id=3, entry=1)
    Account.get(id=3, entry=1).update(balance=7)
    fresh.balance, stale.balance = 10, 11
    with pytest.raises(BulkWriteError) as failed:
        Account.objects.bulk_update([fresh, stale])
    assert failed.value.written == [fresh] and fresh.version == 4
    assert [type(f.error) for f in failed.value.failures] == [VersionConflict]
    assert failed.value.failures[0].instance is stale and stale.version == 3


def test_writes_that_would_skip_the_version_are_refused_before_sending():
    Account.create(id=4, balance=0)
    with pytest.raises(ValidationError, match=r"Account\(id=4, entry=0\).update: the row's version is not known"):
        Account(id=4, entry=0).update(balance=1)
    with pytest.raises(ValidationError, match="Account.objects.update: it would write the rows without checking"):
        Account.objects(id=4, entry=0).update(balance=1)
    account = Account.get(id=4, entry=0)
    account.version = 7
    with pytest.raises(ValidationError, match="the version is set by each write"):
        account.save()
    assert rows(Account, id=4)[0]["version"] == 1
    Account(id=4, entry=0, version=1).update(balance=3)  # a version given is checked
    assert rows(Account, id=4)[0]["version"] == 2


# -- signals ---------------------------------------------------------------------------------------------


@pytest.fixture
def received():
    seen: list[tuple[Any, ...]] = []

    def pre(sender, instance, batch, **kw):  # noqa: ANN001
        seen.append(("pre_save", instance.id, kw.get("created"), batch is not None))

    def post(sender, instance, batch, **kw):  # noqa: ANN001
        seen.append(("post_save", instance.id, kw.get("created"), batch is not None))

    def pre_del(sender, instance, batch, **kw):  # noqa: ANN001
        seen.append(("pre_delete", instance.id))

    def post_del(sender, instance, batch, **kw):  # noqa: ANN001
        seen.append(("post_delete", instance.id))

    pairs = [(pre_save, pre), (post_save, post), (pre_delete, pre_del), (post_delete, post_del)]
    for signal, receiver in pairs:
        signal.connect(receiver, sender=Note)
    yield seen
    for signal, receiver in pairs:
        assert signal.disconnect(receiver, sender=Note)


def test_each_write_of_an_instance_sends_its_signals(received):
    note = Note.create(id=10, text="a")
    note.update(text="b")
    Note.objects.bulk_create([Note(id=11, text="c")])
    Note.objects(id=11).update(text="d")  # a queryset write: no instance, no signal
    note.delete()
    assert received == [("pre_save", 10, True, False), ("post_save", 10, True, False),
                        ("pre_save", 10, False, False), ("post_save", 10, False, False),
                        ("pre_save", 11, True, False), ("post_save", 11, True, False),
                        ("pre_delete", 10), ("post_delete", 10)]


def test_a_batched_write_sends_post_save_when_the_batch_has_run(received):
    batch = BatchQuery()
    Note.batch(batch).create(id=12, text="a")
    assert received == [("pre_save", 12, True, True)]
    batch.execute()
    assert received == [("pre_save", 12, True, True), ("post_save", 12, True, True)]


def test_a_pre_save_that_raises_stops_the_write_with_nothing_sent(received):
    def refuse(sender, instance, **kw):  # noqa: ANN001
        raise RuntimeError("not today")

    pre_save.connect(refuse, sender=Note)
    try:
        with pytest.raises(RuntimeError, match="not today"):
            Note.create(id=13, text="a")
        with pytest.raises(RuntimeError):
            Note.objects.bulk_create([Note(id=14, text="b"), Note(id=15, text="c")])
    finally:
        pre_save.disconnect(refuse, sender=Note)
    assert rows(Note, id=13) == rows(Note, id=14) == rows(Note, id=15) == []
    assert not any(event[0] == "post_save" for event in received)


# -- audit columns --------------------------------------------------------------------------------------


def test_created_at_is_set_once_and_updated_at_on_every_write():
    note = Note.create(id=20, text="a")
    created, first = note.created_at, note.updated_at
    assert created == first and abs(datetime.now(timezone.utc).replace(tzinfo=None) - created) < timedelta(seconds=5)
    stored = rows(Note, id=20)[0]
    assert (stored["created_at"], stored["updated_at"]) == (created, first)
    note.update(text="b")
    later = Note.get(id=20)
    assert later.created_at == created and later.updated_at >= first and later.updated_at == note.updated_at
    Note.objects(id=20).update(text="c")
    assert Note.get(id=20).created_at == created and Note.get(id=20).updated_at >= later.updated_at


def test_the_write_s_own_timestamp_is_the_audit_time():
    when = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    note = Note(id=21, text="a").timestamp(when)
    note.save()
    assert note.created_at == note.updated_at == when.replace(tzinfo=None)
    assert rows(Note, id=21)[0]["updated_at"] == when.replace(tzinfo=None)
    Note.objects(id=21).timestamp(when + timedelta(seconds=1)).update(text="b")
    assert rows(Note, id=21)[0]["updated_at"] == (when + timedelta(seconds=1)).replace(tzinfo=None)


def test_a_mirror_writes_the_source_s_times_not_its_own():
    writes_branch = mirror(Note, NoteCopy)
    try:
        old = datetime(2020, 5, 5, 5, 5, 5)
        note = Note(id=22, text="a", created_at=old)
        note.save()
        copy = rows(NoteCopy, id=22)[0]
        assert copy["created_at"] == old == note.created_at
        assert copy["updated_at"] == note.updated_at
    finally:
        writes_branch.stop()



def test_pre_save_of_update_sees_the_values_it_writes_and_may_change_them():
    def shout(sender, instance, **kw):  # noqa: ANN001
        instance.text = instance.text.upper()

    pre_save.connect(shout, sender=Note)
    try:
        note = Note.create(id=30, text="a")
        note.update(text="b")
    finally:
        pre_save.disconnect(shout, sender=Note)
    assert (note.text, rows(Note, id=30)[0]["text"]) == ("B", "B")


def test_a_backfill_copies_the_source_s_times_not_new_ones():
    from cqlengine.migrate.history import backfill

    old = datetime(2019, 1, 1, 12, 0, 0)
    Note.objects(id=40).timestamp(old).update(text="old", created_at=old)  # written long ago, as it were
    source = rows(Note, id=40)[0]
    backfill(Note, NoteCopy, name=f"notes-{datetime.now().timestamp():.0f}", progress=False)
    copy = rows(NoteCopy, id=40)[0]
    assert copy["created_at"] == source["created_at"] == old
    assert copy["updated_at"] == source["updated_at"] == old


def test_bulk_and_awaited_creates_stamp_both_times_as_create_does():
    Note.objects.bulk_create([Note(id=50, text="a"), Note(id=51, text="b")])
    asyncio.run(Note.objects.acreate(id=52, text="c"))
    for key in (50, 51, 52):
        stored = rows(Note, id=key)[0]
        assert stored["created_at"] is not None and stored["created_at"] == stored["updated_at"], key
