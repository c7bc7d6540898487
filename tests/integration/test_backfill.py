"""Backfills and verification against the real server: live writes race the copy and win; a killed
backfill resumes; a transform may move rows to another key."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import CQLEngineException
from cqlengine.migrate import BackfillError, Stamped, backfill, mirror, verify
from cqlengine.migrate.checkpoints import BackfillCheckpoint
from cqlengine.models import Model

BIG = 50_000


class Account(Model):
    """The old design: one partition per account."""
    __table_name__ = "bf_accounts"
    id = columns.Integer(partition_key=True)
    region = columns.Text()
    name = columns.Text()
    balance = columns.Integer()


class AccountByRegion(Model):
    """The new design: accounts partitioned by region (the transform changes the primary key)."""
    __table_name__ = "bf_accounts_by_region"
    region = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True)
    name = columns.Text()
    balance = columns.Integer()


def by_region(account):
    return AccountByRegion(region=account.region, id=account.id, name=account.name, balance=account.balance)


class Item(Model):
    __table_name__ = "bf_items"
    id = columns.Integer(partition_key=True)
    label = columns.Text()
    qty = columns.Integer()


class ItemCopy(Model):
    __table_name__ = "bf_items_copy"
    id = columns.Integer(partition_key=True)
    label = columns.Text()
    qty = columns.Integer()


REGIONS = ["eu", "us", "ap", "sa", "af"]


@pytest.fixture(scope="module")
def tables(cqlengine_connection):
    for model in (Account, AccountByRegion, Item, ItemCopy):
        management.sync_table(model)
    return cqlengine_connection.default_keyspace


def truncate(*models):
    for model in models:
        connection.execute(f"TRUNCATE {model.column_family_name()}")


def writetime(model, column, **key):
    where = " AND ".join(f"{k} = ?" for k in key)
    row = connection.execute(f"SELECT WRITETIME({column}) AS wt FROM {model.column_family_name()} WHERE {where}",
                             list(key.values())).one()
    return None if row is None else row["wt"]


def test_a_backfill_racing_live_writes_ends_with_no_difference(tables):
    truncate(Account, AccountByRegion)
    Account.objects.bulk_create([Account(id=i, region=REGIONS[i % 5], name=f"a{i}", balance=i)
                                 for i in range(BIG)], concurrency=200)
    writes = mirror(Account, AccountByRegion, by_region)  # the writes branch is deployed
    deleted: set[int] = set()
    created: set[int] = set()
    moved = updated = 0
    stop = threading.Event()
    failures: list[BaseException] = []

    lock = threading.Lock()

    def live_writer(seed):
        nonlocal moved, updated
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                key = rng.randrange(BIG // 2) * 2 + seed  # each writer its own keys
                op = rng.random()
                if key in deleted:
                    continue
                if op < 0.3:
                    Account.get(id=key).delete()  # a delete the copy must not resurrect
                    with lock:
                        deleted.add(key)
                elif op < 0.6:
                    account = Account.get(id=key)
                    account.update(region=rng.choice(REGIONS), balance=-key)  # moves the target row
                    with lock:
                        moved += 1
                elif op < 0.9:
                    Account.objects(id=key).update(name=f"live{key}")  # a queryset update, mirrored too
                    with lock:
                        updated += 1
                else:
                    with lock:
                        new = BIG + len(created)
                        created.add(new)
                    Account.create(id=new, region="eu", name="new", balance=0)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    writers = [threading.Thread(target=live_writer, args=(seed,)) for seed in (0, 1)]
    for writer in writers:
        writer.start()
    try:
        # rate: the copy takes long enough (about 10 s) for the live writes to race it all along
        summary = backfill(Account, AccountByRegion, by_region, name="race", restart=True, splits=16, readers=4,
                           concurrency=64, rate=5000, progress=False)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
        writes.stop()
    assert not failures
    print(f"\n{summary}\nlive writes during it: {len(deleted)} deletes, {moved} moves, {updated} updates, "
          f"{len(created)} creates")
    assert summary.complete and summary.failed == 0
    assert len(deleted) > 100 and moved > 100 and updated > 100  # the race was real
    report = verify(Account, AccountByRegion, by_region)
    print(report)
    assert report.ok and report.extra == 0 and report.compared == BIG - len(deleted) + len(created)
    survivors = {(row.region, row.id) for row in AccountByRegion.objects.all()}
    assert not {i for _, i in survivors} & deleted  # no deleted key came back
    assert len(survivors) == report.compared  # and no stale copy of a moved row stayed behind


def test_verify_reports_each_kind_of_difference(tables):
    truncate(Item, ItemCopy)
    Item.objects.bulk_create([Item(id=i, label=f"l{i}", qty=i) for i in range(200)])
    backfill(Item, ItemCopy, name="items-verify", restart=True, progress=False)
    assert verify(Item, ItemCopy).ok
    ItemCopy.objects(id=3).update(label="wrong")
    ItemCopy.objects(id=4).delete()
    ItemCopy.create(id=999, label="stray")
    report = verify(Item, ItemCopy, keep=10)
    assert (report.missing, report.different, report.extra) == (1, 1, 1)
    kinds = {d.kind: d for d in report.differences}
    assert kinds["missing"].key == (4,) and kinds["extra"].key == (999,)
    assert kinds["different"].columns == {"label": ("l3", "wrong")}
    sampled = verify(Item, ItemCopy, sample=0.5, splits=8, seed=1)
    assert sampled.sampled and sampled.splits_checked == 4 and sampled.extra == 0
    assert 0 < sampled.source_rows < 200


def test_copies_carry_the_source_write_timestamps_and_ttls(tables):
    truncate(Item, ItemCopy)
    Item.objects.timestamp(datetime(2021, 5, 1, tzinfo=timezone.utc)).create(id=1, label="old", qty=1)
    Item.objects.ttl(3600).create(id=2, label="short-lived")
    Item.create(id=3, label="two stamps")
    Item.objects.timestamp(datetime(2022, 1, 1, tzinfo=timezone.utc)).filter(id=3).update(qty=7)
    backfill(Item, ItemCopy, name="items-stamps", restart=True, progress=False)
    assert writetime(ItemCopy, "label", id=1) == writetime(Item, "label", id=1) == 1619827200000000
    assert writetime(ItemCopy, "label", id=3) == writetime(Item, "label", id=3)
    assert writetime(ItemCopy, "qty", id=3) == writetime(Item, "qty", id=3) == 1640995200000000
    ttl = connection.execute(f"SELECT TTL(label) AS t FROM {ItemCopy.column_family_name()} WHERE id = 2").one()["t"]
    assert 3500 < ttl <= 3600
    # a live write newer than the copy wins whatever order they arrive in
    ItemCopy.objects(id=1).update(label="live")
    backfill(Item, ItemCopy, name="items-stamps", restart=True, progress=False)
    assert ItemCopy.get(id=1).label == "live"


def test_rows_from_elsewhere_are_written_with_their_own_timestamps(tables):
    truncate(ItemCopy)
    rows = [Stamped({"id": i, "label": f"s{i}", "qty": i}, datetime(2020, 1, 1 + i, tzinfo=timezone.utc))
            for i in range(5)] + [{"id": 9, "label": "unstamped"}]
    summary = backfill(rows, ItemCopy, name="rows", restart=True, progress=False)
    assert (summary.rows_read, summary.written) == (6, 6)
    assert writetime(ItemCopy, "label", id=2) == int(datetime(2020, 1, 3, tzinfo=timezone.utc).timestamp() * 1e6)
    skip_odd = backfill(rows, ItemCopy, lambda r: None if isinstance(r, dict) and r["id"] % 2 else r,
                        name="rows-odd", restart=True, progress=False)
    assert skip_odd.skipped == 3 and skip_odd.written == 3
    assert verify([r.values if isinstance(r, Stamped) else r for r in rows], ItemCopy, extras=False).ok


def test_rows_from_elsewhere_resume_after_their_last_key_whatever_changed_before_it(tables):
    """The source fails midway; before the resume, rows are deleted and added before the checkpoint."""
    truncate(ItemCopy)
    source = {i: Stamped({"id": i, "label": f"e{i}", "qty": i}, 1_600_000_000_000_000 + i) for i in range(300)}

    def read(fail_after=None):
        for count, i in enumerate(sorted(source)):
            if fail_after is not None and count == fail_after:
                raise ConnectionError("the old store went away")
            yield source[i]

    with pytest.raises(BackfillError, match="the old store went away") as stopped:
        backfill(read(fail_after=250), ItemCopy, name="rows-keyed", key=lambda r: r["id"], concurrency=100,
                 restart=True, progress=False)
    assert stopped.value.summary.rows_read == 200  # two pages recorded; the third never completed
    for i in (5, 6, 7):
        del source[i]  # deleted by the old store (a live delete would also delete the copy)
        ItemCopy.objects(id=i).delete()
    source[-1] = Stamped({"id": -1, "label": "new", "qty": 0}, 1_700_000_000_000_000)  # added before the place
    ItemCopy.create(id=-1, label="new", qty=0)  # ... and written by the application's own write path
    resumed = backfill(read(), ItemCopy, name="rows-keyed", key=lambda r: r["id"], resume=True, progress=False)
    assert resumed.resumed and resumed.complete and resumed.read_now == 100  # ids 200..299: none lost
    assert verify([r.values for r in source.values()], ItemCopy).ok

    # Without key= there is no place a changing source keeps: the resume copies every row again.
    with pytest.raises(BackfillError):
        backfill(read(fail_after=150), ItemCopy, name="rows-unkeyed", restart=True, concurrency=100,
                 progress=False)
    del source[10]
    ItemCopy.objects(id=10).delete()
    again = backfill(read(), ItemCopy, name="rows-unkeyed", resume=True, progress=False)
    assert again.complete and again.read_now == len(source) == 297
    assert verify([r.values for r in source.values()], ItemCopy).ok


def test_rows_from_elsewhere_that_fail_stop_with_the_summary(tables):
    rows = [{"id": i, "label": "x"} for i in (3, 1, 2)]
    with pytest.raises(BackfillError, match="ascending") as stopped:
        backfill(rows, ItemCopy, name="rows-unordered", key=lambda r: r["id"], restart=True, progress=False)
    assert stopped.value.summary.rows_read == 0  # nothing recorded
    bad_row = "row 3: Mirror.rows -> ItemCopy.*transform failed.*division by zero"
    with pytest.raises(BackfillError, match=bad_row) as failed:
        backfill(rows, ItemCopy, lambda r: 1 / 0 if r["id"] == 2 else r, name="rows-bad", restart=True,
                 progress=False)
    assert not failed.value.summary.complete
    with pytest.raises(BackfillError, match="key.. must give"):
        backfill(rows, ItemCopy, name="rows-uuid-key", key=lambda r: uuid.uuid4(), restart=True, progress=False)


def test_a_started_backfill_is_not_run_again_by_mistake_and_a_failing_one_keeps_its_place(tables):
    truncate(Item, ItemCopy)
    Item.objects.bulk_create([Item(id=i, label=f"l{i}", qty=i) for i in range(300)])
    backfill(Item, ItemCopy, name="items-again", restart=True, progress=False)
    with pytest.raises(CQLEngineException, match="resume=True"):
        backfill(Item, ItemCopy, name="items-again", progress=False)
    assert backfill(Item, ItemCopy, name="items-again", resume=True, progress=False).read_now == 0

    def fails_on_150(item):
        if item.id == 150:
            raise ValueError("bad row")
        return {"id": item.id, "label": item.label, "qty": item.qty}

    with pytest.raises(BackfillError, match="bad row") as stopped:
        backfill(Item, ItemCopy, fails_on_150, name="items-fail", restart=True, splits=4, readers=1,
                 progress=False)
    assert not stopped.value.summary.complete
    done = backfill(Item, ItemCopy, name="items-fail", resume=True, progress=False)  # fixed: resumes
    assert done.complete and done.rows_read == 300 and done.read_now < 300


def test_a_killed_backfill_resumes_where_it_stopped(tables):
    """The copy runs in another process, killed with SIGKILL midway; the resume copies the rest."""
    truncate(Item, ItemCopy)
    total = 20_000
    Item.objects.bulk_create([Item(id=i, label=f"l{i}", qty=i) for i in range(total)], concurrency=200)
    keyspace = connection.get_connection().default_keyspace
    cluster = connection.get_cluster()
    env = {**os.environ, "BF_KEYSPACE": keyspace, "BF_HOST": cluster.contact_points[0], "BF_PORT": str(cluster.port)}
    worker = subprocess.Popen([sys.executable, "-m", "tests.integration.backfill_worker"], env=env,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    checkpoints = BackfillCheckpoint.objects.filter(name="killed")
    recorded = 0
    deadline = time.monotonic() + 120
    try:
        while recorded < total // 4:
            assert worker.poll() is None, worker.stdout.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.2)
            recorded = sum(r.rows_read or 0 for r in checkpoints.all())
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    before = sum(r.rows_read or 0 for r in checkpoints.all())
    assert total // 4 <= before < total
    summary = backfill(Item, ItemCopy, name="killed", resume=True, progress=False)
    print(f"\nkilled after {before} rows were recorded; {summary}")
    assert summary.resumed and summary.complete
    assert summary.read_now == total - before  # the checkpoint was honoured: nothing recorded was read again
    assert summary.rows_read == summary.written == total  # every row counted once
    assert ItemCopy.objects.count() == total
    assert verify(Item, ItemCopy).ok
    # the pages written but not recorded before the kill were written again with the same timestamps
    sample = random.Random(3).sample(range(total), 50)
    assert all(writetime(ItemCopy, "label", id=i) == writetime(Item, "label", id=i) for i in sample)


class Tagged(Model):
    """Key columns and multi-cell values only: nothing with one WRITETIME to date a copy by."""
    __table_name__ = "bf_tagged"
    id = columns.Integer(partition_key=True)
    tags = columns.Set(columns.Text)


class TaggedCopy(Model):
    __table_name__ = "bf_tagged_copy"
    id = columns.Integer(partition_key=True)
    tags = columns.Set(columns.Text)


def test_live_writes_dated_before_the_read_but_landing_after_it_still_win(tables):
    """A mirrored write takes its timestamp, the backfill reads the row, then the write lands: the
    copy of what has no write time of its own (a key-only row, a set's elements) must lose to it."""
    for model in (Tagged, TaggedCopy):
        management.sync_table(model)
    truncate(Tagged, TaggedCopy)
    Tagged.create(id=1, tags={"a"})
    Tagged.create(id=2, tags={"a"})
    Tagged.create(id=3)  # key only
    writes = mirror(Tagged, TaggedCopy)
    picked = time.time_ns() // 1000  # the live writes' timestamps, taken before the backfill reads

    def copy_while_live_writes_land(row):
        if row.id == 1:
            Tagged.objects(id=1).timestamp(picked).update(tags__add={"b"})
        elif row.id == 3:
            Tagged.objects(id=3).timestamp(picked).delete()
        return {"id": row.id, "tags": row.tags}

    try:
        backfill(Tagged, TaggedCopy, copy_while_live_writes_land, name="tagged", restart=True, readers=1,
                 progress=False)
    finally:
        writes.stop()
    assert TaggedCopy.get(id=1).tags == {"a", "b"}  # the element added live survives the copy's INSERT
    assert TaggedCopy.objects(id=3).count() == 0  # the deleted key-only row is not resurrected
    assert verify(Tagged, TaggedCopy).ok


def test_a_layout_that_does_not_cover_the_ring_is_refused_and_bad_arguments_are(tables):
    truncate(Item, ItemCopy)
    Item.objects.bulk_create([Item(id=i, label=f"l{i}", qty=i) for i in range(50)])
    with pytest.raises(BackfillError):
        backfill(Item, ItemCopy, lambda i: 1 / 0, name="layout", restart=True, splits=8, progress=False)
    assert BackfillCheckpoint.objects.filter(name="layout").count() >= 8  # the whole layout, in one batch
    BackfillCheckpoint.objects.filter(name="layout", split=3).delete()  # as if part of it were lost
    with pytest.raises(CQLEngineException, match="do not cover the token ring"):
        backfill(Item, ItemCopy, name="layout", resume=True, progress=False)
    assert backfill(Item, ItemCopy, name="layout", restart=True, progress=False).written == 50
    with pytest.raises(CQLEngineException, match="retries"):
        backfill(Item, ItemCopy, name="bad-retries", retries=-1, progress=False)
    with pytest.raises(CQLEngineException, match="key= is for rows from elsewhere"):
        backfill(Item, ItemCopy, name="bad-key", key=lambda r: r.id, progress=False)


def test_verify_reads_a_differing_row_again_where_the_scan_reads(tables):
    other = f"{tables}_other"
    management.create_keyspace_simple(other, 1)
    try:
        management.sync_table(Item, keyspaces=[other])
        truncate(Item, ItemCopy)  # the model's own keyspace has no rows at all
        Item.objects.using(keyspace=other).create(id=1, label="right")
        ItemCopy.create(id=1, label="wrong")
        report = verify(Item.objects.using(keyspace=other), ItemCopy)
        assert report.different == 1 and not report.ok
    finally:
        connection.execute(f"DROP KEYSPACE IF EXISTS {other}", timeout=60)
