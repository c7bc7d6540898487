"""User code that type checkers must refuse, on exactly the lines marked with an expect comment.

tests/unit/test_typing.py runs mypy and pyright over this file: each checker must
report an error on every marked line and on no other line.
"""
from __future__ import annotations

import uuid
from typing import Literal

from cqlengine import columns
from cqlengine.models import Model, TypedModel

Key = Literal[True]
Opt = Literal[False]


class Event(TypedModel):
    source: columns.Text[Key] = columns.Text(partition_key=True)
    seq: columns.Integer[Key] = columns.Integer(primary_key=True)
    id: columns.UUID[Opt] = columns.UUID(default=uuid.uuid4)
    count: columns.Integer[Opt] = columns.Integer()
    tags: columns.Set[str] = columns.Set(columns.Text)
    wrong: columns.Integer[Key] = columns.Integer()  # expect: declared required, column is optional


class Plain(Model):
    id = columns.UUID(primary_key=True)
    seq = columns.Integer()


def bad(event: Event, plain: Plain) -> None:
    name: str = event.seq  # expect: int is not str
    event.seq = "one"  # expect: wrong field type assignment
    event.tags = {1, 2}  # expect: set[int] is not set[str]
    Event.create(source="web", seq=1, nmae="x")  # expect: unknown keyword "nmae" to create
    Event(source="web", sequ=1)  # expect: unknown keyword "sequ" to __init__
    Event(source="web", seq="1")  # expect: keyword of the wrong type
    found: Event = Event.objects(source="web").first()  # expect: first() may be None
    total: int = event.count  # expect: optional column assigned to int
    plain_seq: int = plain.seq  # expect: optional column assigned to int (unannotated model)
    ident: uuid.UUID = event.id  # expect: optional column assigned to uuid.UUID
    columns.Integer(primry_key=True)  # expect: unknown column option
    rows: list[Event] = list(Event.objects(source="web").values_list("seq", "title"))  # expect: lists, not Events
    seen: Event = Event.objects(source="web").values_list("seq", "title").limit(1)[0]  # expect: a list, not an Event
    Event.get(source="web", sqe=1)  # expect: unknown key "sqe" to get
    Event.get(source="web", seq="1")  # expect: a key of the wrong type
    print(name, found, total, plain_seq, ident, rows, seen)


async def bad_async() -> None:
    await Event.aget(sorce="web", seq=1)  # expect: unknown key "sorce" to aget
