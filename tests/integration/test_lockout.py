"""The future-dated delete as a cheap lock-out (group_membership), end to end."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from cqlengine import columns, connection, management
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class GroupMembership(Model):
    user_id = columns.Integer(primary_key=True)
    group_id = columns.Integer(primary_key=True)
    admin = columns.Boolean()
    last_visited = columns.DateTime()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(GroupMembership)
    return cqlengine_connection.default_keyspace


def now_micros() -> int:
    return time.time_ns() // 1000


def writetime(ks: str, user_id: int, group_id: int = 1):
    row = connection.execute(
        f"SELECT WRITETIME(last_visited) AS wt FROM {ks}.group_membership WHERE user_id = ? AND group_id = ?",
        [user_id, group_id]).one()
    return None if row is None else row["wt"]


def rows(user_id: int) -> list[GroupMembership]:
    return list(GroupMembership.objects(user_id=user_id, group_id=1))


def member(user_id: int) -> GroupMembership:
    return GroupMembership.create(user_id=user_id, group_id=1, admin=True, last_visited=datetime(2013, 12, 25))


def test_queryset_future_delete_locks_out_a_later_update(ks):
    member(1)
    GroupMembership.objects(user_id=1, group_id=1).timestamp(timedelta(seconds=60)).delete()
    # The racing writer: the user visits the group a moment after being removed.
    GroupMembership.objects(user_id=1, group_id=1).update(last_visited=datetime.now(timezone.utc))
    assert rows(1) == []
    # Even a write itself dated 50 s ahead falls inside the window and is shadowed.
    GroupMembership.objects(user_id=1, group_id=1).timestamp(timedelta(seconds=50)).update(admin=False)
    assert rows(1) == []


def test_instance_future_delete_then_save_leaves_no_row(ks):
    m = member(2)
    m.timestamp(timedelta(seconds=60)).delete()
    m.last_visited = datetime.now(timezone.utc)
    m.save()
    assert rows(2) == []
    m.update(admin=False)
    assert rows(2) == []


def test_without_the_lockout_the_race_resurrects_the_row(ks):
    m = member(3)
    GroupMembership.objects(user_id=3, group_id=1).delete()
    GroupMembership.objects(user_id=3, group_id=1).update(last_visited=datetime(2013, 12, 26))
    [row] = rows(3)
    assert row.last_visited == datetime(2013, 12, 26) and row.admin is None  # a half row came back

    m = member(4)
    m.delete()
    m.save()
    assert len(rows(4)) == 1


def test_the_lockout_lifts_after_its_window(ks):
    member(5)
    GroupMembership.objects(user_id=5, group_id=1).timestamp(timedelta(seconds=2)).delete()
    GroupMembership.objects(user_id=5, group_id=1).update(admin=True)
    assert rows(5) == []
    time.sleep(2.5)
    GroupMembership.objects(user_id=5, group_id=1).update(admin=False)
    [row] = rows(5)
    assert row.admin is False


def test_the_tombstone_is_dated_now_plus_the_delta(ks):
    member(6)
    before = now_micros()
    GroupMembership.objects(user_id=6, group_id=1).timestamp(timedelta(seconds=60)).delete()
    after = now_micros()
    # Probe the tombstone's timestamp with writes dated just before and after the window.
    GroupMembership.objects(user_id=6, group_id=1).timestamp(before + 60_000_000 - 1).update(admin=True)
    assert rows(6) == []
    GroupMembership.objects(user_id=6, group_id=1).timestamp(after + 60_000_000 + 1).update(admin=True)
    assert len(rows(6)) == 1


def test_writetime_shows_the_timestamps_sent(ks):
    # int: microseconds since the epoch, exactly.
    GroupMembership.objects(user_id=7, group_id=1).timestamp(1_388_101_196_179_000).update(
        last_visited=datetime(2013, 12, 26))
    assert writetime(ks, 7) == 1_388_101_196_179_000
    # datetime: absolute (naive means UTC).
    GroupMembership.objects(user_id=8, group_id=1).timestamp(datetime(2014, 1, 2, 3, 4, 5, 6)).update(
        last_visited=datetime(2013, 12, 26))
    assert writetime(ks, 8) == int(datetime(2014, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()) * 10**6 + 6
    # timedelta: relative to now.
    before = now_micros()
    GroupMembership.objects(user_id=9, group_id=1).timestamp(timedelta(seconds=60)).update(
        last_visited=datetime(2013, 12, 26))
    after = now_micros()
    assert before + 60_000_000 <= writetime(ks, 9) <= after + 60_000_000
    # Instances: save() and update() carry their timestamp too.
    m = GroupMembership(user_id=10, group_id=1, last_visited=datetime(2013, 12, 26))
    m.timestamp(datetime(2015, 1, 1, tzinfo=timezone.utc)).save()
    assert writetime(ks, 10) == int(datetime(2015, 1, 1, tzinfo=timezone.utc).timestamp()) * 10**6
    m.timestamp(1_500_000_000_000_000).update(last_visited=datetime(2013, 12, 27))
    assert writetime(ks, 10) == 1_500_000_000_000_000
    # A timestamp is one-shot: the next write is dated now.
    before = now_micros()
    m.update(last_visited=datetime(2013, 12, 28))
    assert before <= writetime(ks, 10) <= now_micros()


def test_batch_timestamp_lockout(ks):
    member(11)
    with BatchQuery(timestamp=timedelta(seconds=60)) as b:
        GroupMembership.objects(user_id=11, group_id=1).batch(b).delete()
    GroupMembership.objects(user_id=11, group_id=1).update(admin=False)
    assert rows(11) == []
