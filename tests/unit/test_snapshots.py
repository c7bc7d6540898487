"""Change tracking sees in-place changes of every kind of value, without deepcopy."""
from __future__ import annotations

import copy

import pytest

from cqlengine import columns
from cqlengine.models import Model
from cqlengine.usertype import UserType


class Spot(UserType):
    name = columns.Text()
    marks = columns.List(columns.Integer)


class Holder(Model):
    __table_name__ = "snapshot_holder"
    k = columns.Integer(primary_key=True)
    title = columns.Text()
    tags = columns.Set(columns.Text)
    entries = columns.List(columns.Integer)
    scores = columns.Map(columns.Text, columns.Integer)
    nested = columns.Map(columns.Text, columns.List(columns.Integer, frozen=True))
    pair = columns.Tuple(columns.Integer, columns.List(columns.Integer, frozen=True))
    spot = columns.UserDefinedType(Spot)
    spots = columns.List(columns.UserDefinedType(Spot))


def loaded() -> Holder:
    row = {"k": 1, "title": "t", "tags": {"a"}, "entries": [1, 2], "scores": {"x": 1},
           "nested": {"n": [1]}, "pair": (1, [2]), "spot": {"name": "s", "marks": [1]},
           "spots": [{"name": "s1", "marks": [1]}]}
    holder = Holder._construct_instance(row)
    assert holder.get_changed_columns() == []
    return holder


@pytest.mark.parametrize("change, column", [
    (lambda h: h.tags.add("b"), "tags"),
    (lambda h: h.entries.append(3), "entries"),
    (lambda h: h.scores.update(y=2), "scores"),
    (lambda h: h.nested["n"].append(2), "nested"),
    (lambda h: h.pair[1].append(3), "pair"),
    (lambda h: setattr(h.spot, "name", "other"), "spot"),
    (lambda h: h.spot.marks.append(2), "spot"),
    (lambda h: h.spots[0].marks.append(2), "spots"),
    (lambda h: setattr(h, "title", "u"), "title"),
])
def test_an_in_place_change_is_a_change(change, column):
    holder = loaded()
    change(holder)
    assert holder.get_changed_columns() == [column]


def test_snapshots_never_deepcopy(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("deepcopy in change tracking")

    monkeypatch.setattr(copy, "deepcopy", refuse)
    holder = loaded()
    holder.entries.append(9)
    assert holder.get_changed_columns() == ["entries"]


def test_scalar_columns_are_not_copied():
    assert set(Holder._snapshot_copiers()) == {"tags", "entries", "scores", "nested", "pair", "spot", "spots"}
