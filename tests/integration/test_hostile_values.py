"""Values no column can store raise ValidationError naming where they went, and nothing is sent."""
from __future__ import annotations

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import ValidationError
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class Note(Model):
    __table_name__ = "hostile_notes"
    k = columns.Integer(primary_key=True)
    body = columns.Text()
    tags = columns.Set(columns.Text())
    nums = columns.List(columns.Integer())


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Note)
    return cqlengine_connection.default_keyspace


@pytest.fixture
def sent():
    stats = connection.get_connection().stats
    before = stats.executed
    return lambda: stats.executed - before


LONE = "a\ud800b"  # a lone surrogate: a Python str that UTF-8 cannot encode


@pytest.mark.parametrize("write", [
    lambda: Note.create(k=1, body=LONE),
    lambda: Note.objects(k=1).update(body=LONE),
    lambda: Note(k=1, body="fine").update(body=LONE),
    lambda: Note.objects.allow_filtering().get(k=1, body=LONE),
    lambda: connection.execute(f"SELECT * FROM {Note.column_family_name()} WHERE k = ? AND body = ? ALLOW FILTERING",
                               [1, LONE]),
], ids=["create", "queryset update", "instance update", "filter", "execute"])
def test_a_lone_surrogate_is_a_validation_error_and_nothing_is_sent(ks, sent, write):
    with pytest.raises(ValidationError, match=r"hostile_notes\.body: 'a\\ud800b' cannot be stored as text"):
        write()
    assert sent() == 0


def test_a_lone_surrogate_in_a_batch_sends_no_member(ks, sent):
    with pytest.raises(ValidationError, match="cannot be stored as text"):
        with BatchQuery() as batch:
            Note.batch(batch).create(k=2, body="fine")
            Note.batch(batch).create(k=3, body=LONE)
    assert sent() == 0 and Note.objects(k=2).first() is None


def test_a_lone_surrogate_inside_a_collection_is_refused_too(ks, sent):
    with pytest.raises(ValidationError, match="cannot be stored as text"):
        Note.create(k=4, tags={LONE})
    assert sent() == 0


def test_a_value_nested_thousands_deep_is_refused_with_a_short_message(ks, sent):
    deep: list = []
    cursor = deep
    for _ in range(5000):
        cursor.append([])
        cursor = cursor[0]
    with pytest.raises(ValidationError, match=r"Note\.nums\[0\]: \[\[\[\[.*is not an integer") as refused:
        Note.create(k=5, nums=deep)
    assert len(str(refused.value)) < 300 and sent() == 0


def test_text_an_ascii_column_cannot_hold_names_its_encoding(ks):
    table = Note.column_family_name()
    connection.execute(f"ALTER TABLE {table} ADD code ascii")
    stats = connection.get_connection().stats
    before = stats.executed
    with pytest.raises(ValidationError, match="hostile_notes.code: 'café' cannot be stored as text: ascii cannot"):
        connection.execute(f"INSERT INTO {table} (k, code) VALUES (?, ?)", [9, "café"])
    assert stats.executed == before
