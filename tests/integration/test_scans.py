"""Token-range scans against the real server: splits cover the ring once, resume, run in parallel and in
other processes."""
from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import QueryException
from cqlengine.models import Model
from cqlengine.scans import SplitProgress, TokenSplit

ROWS = 3000


class Event(Model):
    __table_name__ = "scan_events"
    source = columns.Text(partition_key=True)
    day = columns.Integer(partition_key=True)
    seq = columns.Integer(primary_key=True)
    payload = columns.Text()


class Animal(Model):
    __table_name__ = "scan_animals"
    id = columns.Integer(partition_key=True)
    kind = columns.Text(discriminator_column=True)
    name = columns.Text()


class Dog(Animal):
    __discriminator_value__ = "dog"


class Cat(Animal):
    __discriminator_value__ = "cat"


@pytest.fixture(scope="module")
def events(cqlengine_connection):
    management.sync_table(Event)
    management.sync_table(Animal)
    # 600 partitions of 5 rows: pages end inside partitions
    Event.objects.bulk_create([Event(source=f"s{i % 60}", day=i // 60, seq=j, payload=f"{i}-{j}")
                               for i in range(ROWS // 5) for j in range(5)])
    return {(e.source, e.day, e.seq) for e in Event.objects.all().fetch_size(1000)}


def keys(instances):
    return [(e.source, e.day, e.seq) for e in instances]


def test_splits_cover_the_ring_once_and_count_equals_count_star(events):
    scan = Event.objects.scan(splits=16)
    splits = scan.splits
    assert len(splits) >= 16
    assert splits[0].start == -(2**63) and splits[-1].end == 2**63 - 1
    assert all(a.end == b.start for a, b in zip(splits, splits[1:]))  # no gap, no overlap
    assert all(s.replicas for s in splits)  # each served by its replicas
    assert scan.count(concurrency=4) == Event.objects.count() == ROWS
    read = keys(scan)
    assert len(read) == ROWS and set(read) == events


def test_parallel_iteration_reads_every_row_once(events):
    read = keys(Event.objects.scan(splits=8, fetch_size=97).iterate(concurrency=4))
    assert len(read) == ROWS and set(read) == events


def test_a_split_resumes_from_its_progress_mid_split(events):
    scan = Event.objects.scan(splits=2, fetch_size=7)
    split = max(scan.splits, key=TokenSplit.count)
    total = split.count()
    pages = split.pages()
    first = [next(pages) for _ in range(3)]
    pages.close()  # the reader stops here, as a killed process would
    seen = [k for page in first for k in keys(page.instances)]
    progress = first[-1].progress
    assert progress.rows == 21 and not progress.done and progress.paging_state
    # exactly where it stopped, from the paging state
    rest = [k for page in split.pages(resume=progress) for k in keys(page.instances)]
    assert len(seen) + len(rest) == total and not set(seen) & set(rest)
    # without the state: after the last partition read in full, re-reading only the one in progress
    by_token = SplitProgress(progress.index, progress.after_token, None, progress.rows)
    again = [k for page in split.pages(resume=by_token) for k in keys(page.instances)]
    assert set(seen) | set(again) == set(keys(split))
    assert len(again) - len(rest) < 5  # the rows of one partition (of 5) at most
    # a stale state falls back to the token
    stale = SplitProgress(progress.index, progress.after_token, b"\x00garbage", progress.rows)
    assert set(k for page in split.pages(resume=stale) for k in keys(page.instances)) == set(again)
    # a finished split yields nothing; another split's progress is refused
    last = list(split.pages())[-1].progress
    assert last.done and list(split.pages(resume=last)) == []
    with pytest.raises(QueryException, match="resume"):
        list(split.pages(resume=SplitProgress(split.index + 1)))


def _connect(hosts, port):
    connection.setup(hosts, port=port)  # each worker process has its own connection


def _count_in_worker(split):
    return sum(1 for _ in split)


def test_splits_pickle_and_run_in_other_processes(events):
    scan = Event.objects.using(keyspace=connection.get_connection().default_keyspace).scan(splits=4)
    splits = scan.splits
    assert pickle.loads(pickle.dumps(splits[0])) == splits[0]
    cluster = connection.get_cluster()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=_connect,
                             initargs=(list(cluster.contact_points), cluster.port)) as pool:
        counts = scan.map(_count_in_worker, executor=pool)
    assert sum(counts) == ROWS


def test_polymorphic_rows_read_as_their_subclass(events):
    Dog.create(id=1, name="rex")
    Cat.create(id=2, name="tom")
    read = sorted(Animal.objects.scan(splits=3), key=lambda a: a.id)
    assert [type(a) for a in read] == [Dog, Cat]
    with pytest.raises(QueryException, match="polymorphic base"):
        Dog.objects.scan()


def test_scan_refuses_filters_and_bad_arguments(events):
    with pytest.raises(QueryException, match="whole table"):
        Event.objects(source="a").scan()
    with pytest.raises(QueryException, match="whole table"):
        Event.objects.limit(3).scan()
    with pytest.raises(QueryException, match="splits"):
        Event.objects.scan(splits=0)
    with pytest.raises(QueryException, match="concurrency"):
        Event.objects.scan().count(concurrency=0)


def test_writetimes_come_with_each_row(events):
    Event.objects.timestamp(1_000_000).create(source="wt", day=-1, seq=0, payload="dated")
    for split in Event.objects.scan(splits=4).splits:
        for page in split.pages(writetimes=True):
            for instance, cells in zip(page.instances, page.cells):
                if instance.source == "wt":
                    assert cells == {"payload": (1_000_000, None)}
                    return
    pytest.fail("row not found")
