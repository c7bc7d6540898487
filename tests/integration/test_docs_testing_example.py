"""Tests of an application's models against a real Cassandra, with cqlengine's pytest plugin."""
import uuid

import pytest

from cqlengine import columns
from cqlengine.management import sync_table
from cqlengine.models import Model


class Note(Model):
    __table_name__ = "docs_example_notes"
    owner = columns.UUID(partition_key=True)
    seq = columns.Integer(primary_key=True)
    body = columns.Text()


@pytest.fixture(scope="module")
def notes(cqlengine_connection):
    """The table, once for the module, in the session's keyspace."""
    sync_table(Note)


def test_a_note_reads_back(notes):
    owner = uuid.uuid4()  # a partition of its own: tests sharing the table do not collide
    Note.create(owner=owner, seq=1, body="hello")
    assert Note.get(owner=owner, seq=1).body == "hello"


@pytest.mark.cqlengine_async  # the plugin runs it in a fresh event loop
async def test_notes_are_read_in_order(notes):
    owner = uuid.uuid4()
    for seq in (3, 1, 2):
        await Note.acreate(owner=owner, seq=seq, body=f"note {seq}")
    assert [n.seq async for n in Note.objects(owner=owner)] == [1, 2, 3]
    assert await Note.objects(owner=owner).acount() == 3


def test_an_empty_keyspace_of_its_own(cqlengine_keyspace):
    sync_table(Note)  # in this test's keyspace, dropped when the test ends
    assert Note.objects.count() == 0
    Note.create(owner=uuid.uuid4(), seq=1)
    assert Note.objects.count() == 1


def test_the_server(cassandra):
    assert cassandra.port > 0 and cassandra.contact_points
    print("Cassandra", cassandra.version, "at", cassandra.contact_points, cassandra.port)
