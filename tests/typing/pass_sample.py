"""User code that type-checks cleanly (mypy and pyright): see tests/unit/test_typing.py.

Columns are annotated with their column type so that type checkers also know the
model's keywords (``Event(...)``, ``Event.create(...)``); ``Literal[True]`` marks a
column that always holds a value (a key or ``required=True``).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Optional

from cqlengine import columns
from cqlengine.models import Model, TypedModel
from cqlengine.query import QuerySet
from cqlengine.usertype import UserType

Key = Literal[True]
Opt = Literal[False]


class Address(UserType):
    street = columns.Text()
    zipcode = columns.Integer(required=True)


class Event(TypedModel):
    source: columns.Text[Key] = columns.Text(partition_key=True)
    seq: columns.Integer[Key] = columns.Integer(primary_key=True)
    id: columns.UUID[Opt] = columns.UUID(default=uuid.uuid4)
    title: columns.Text[Key] = columns.Text(required=True)
    note: columns.Text[Opt] = columns.Text()
    at: columns.DateTime[Opt] = columns.DateTime()
    day: columns.Date[Opt] = columns.Date()
    price: columns.Decimal[Opt] = columns.Decimal()
    big: columns.VarInt[Opt] = columns.VarInt()
    raw: columns.Blob[Opt] = columns.Blob()
    done: columns.Boolean[Opt] = columns.Boolean()
    ratio: columns.Double[Opt] = columns.Double()
    tags: columns.Set[str] = columns.Set(columns.Text)
    scores: columns.List[int] = columns.List(columns.Integer)
    counts: columns.Map[str, int] = columns.Map(columns.Text, columns.Integer)
    home: columns.UserDefinedType[Address, Opt] = columns.UserDefinedType(Address)


class Hits(TypedModel):
    page: columns.Text[Key] = columns.Text(primary_key=True)
    total: columns.Counter = columns.Counter()


class Plain(Model):
    """Columns without annotations: reads are still typed (mypy also takes any keyword)."""

    id = columns.UUID(primary_key=True)
    seq = columns.Integer()
    tags = columns.Set(columns.Text)
    nested = columns.List(columns.Map(columns.Text, columns.Set(columns.Integer)))
    home = columns.UserDefinedType(Address, required=True)


def reads(event: Event, plain: Plain) -> None:
    source: str = event.source
    seq: int = event.seq
    title: str = event.title
    note: Optional[str] = event.note
    ident: Optional[uuid.UUID] = event.id
    at: Optional[datetime] = event.at
    day: Optional[date] = event.day
    price: Optional[Decimal] = event.price
    big: Optional[int] = event.big
    raw: Optional[bytes] = event.raw
    done: Optional[bool] = event.done
    ratio: Optional[float] = event.ratio
    tags: set[str] = event.tags
    scores: list[int] = event.scores
    counts: dict[str, int] = event.counts
    home: Optional[Address] = event.home
    if event.home is not None:
        street: Optional[str] = event.home.street
        zipcode: int = event.home.zipcode
        print(street, zipcode)
    plain_id: uuid.UUID = plain.id
    plain_seq: Optional[int] = plain.seq
    plain_tags: set[str] = plain.tags
    nested: list[dict[str, set[int]]] = plain.nested
    plain_home: Address = plain.home
    print(source, seq, title, note, ident, at, day, price, big, raw, done, ratio, tags, scores, counts, home,
          plain_id, plain_seq, plain_tags, nested, plain_home)


def writes() -> None:
    event = Event(source="web", seq=1, title="hello", tags={"a"}, counts={"x": 1})
    event.note = "a note"
    event.note = None
    event.seq = 2
    event.at = datetime(2024, 1, 1)
    event.home = Address(street="Main", zipcode=12345)
    event.save()
    created: Event = Event.create(source="web", seq=2, title="again", price=Decimal("1.5"))
    hits = Hits.create(page="/")
    total: int = hits.total
    # A plain Model (no annotations, the peer's style) takes any keyword, in both checkers.
    plain = Plain(id=uuid.uuid4(), seq=1, tags={"x"})
    plain_created: Plain = Plain.create(id=uuid.uuid4(), seq=2)
    print(created, total, plain, plain_created)


def queries() -> None:
    qs: QuerySet[Event] = Event.objects(source="web")
    chained: QuerySet[Event] = qs.filter(Event.seq > 3).order_by("-seq").limit(10)
    first: Optional[Event] = chained.first()
    if first is not None:
        title: str = first.title
        print(title)
    one: Event = Event.get(source="web", seq=1)
    also: Event = Event.objects.get(Event.seq == 1, source="web")
    ranged: Event = Event.objects.get(source="web", seq__gte=1)  # operators: through objects
    plain_by_expression: Plain = Plain.get(Plain.seq == 1, id=uuid.uuid4())  # a plain Model takes anything
    print(ranged, plain_by_expression)
    every: list[Event] = list(Event.all())
    for event in Event.filter(source="web"):
        n: int = event.seq
        print(n)
    by_index: Event = Event.objects(source="web")[0]
    by_slice: list[Event] = Event.objects(source="web")[0:2]
    count: int = Event.objects(source="web").count()
    key_is_key: bool = Event._columns["seq"].primary_key and Event.seq.primary_key
    print(one, also, every, by_index, by_slice, count, key_is_key)


def values() -> None:
    # values_list() yields values, not instances: with flat=True the field's value, else a list of values.
    for title in Event.objects(source="web").values_list("title", flat=True):
        print(title)
    for row in Event.objects(source="web").values_list("seq", "title").limit(5):
        seq_and_title: list[Any] = row
        print(seq_and_title)
    firsts: Optional[list[Any]] = Event.objects(source="web").values_list("seq", "title").first()
    titles: list[Any] = list(Event.objects(source="web").values_list("title", flat=True).order_by("seq"))
    page_rows: list[list[Any]] = Event.objects(source="web").values_list("seq", "note").page(10).rows
    print(firsts, titles, page_rows)


async def async_queries() -> None:
    created: Event = await Event.acreate(source="web", seq=3, title="async")
    got: Event = await Event.objects.aget(source="web", seq=3)
    by_keys: Event = await Event.aget(source="web", seq=3)
    print(by_keys)
    first: Optional[Event] = await Event.objects(source="web").afirst()
    every: list[Event] = await Event.objects(source="web").aall()
    async for event in Event.objects(source="web"):
        title: str = event.title
        print(title)
    saved: Event = await created.asave()
    print(got, first, every, saved)
