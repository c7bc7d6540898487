"""Values a column vouches for skip validation and conversion on writes: exactly those it would return unchanged."""
from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cqlengine import columns
from cqlengine.exceptions import ValidationError
from cqlengine.models import Model

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.binary(max_size=8), st.uuids(),
    st.lists(st.integers(), max_size=2), st.sets(st.text(max_size=2), max_size=2),
)


class Upper(columns.Text):
    """A column of the caller's own: it changes values, so it vouches for none."""

    def _clean(self, value: Any, label: str) -> Any:
        return super()._clean(value, label).upper()


def named(col: columns.Column) -> columns.Column:
    col.set_name("Plain", "c")
    return col


PLAIN_COLUMNS = [
    columns.Text, columns.Integer, columns.BigInt, columns.SmallInt, columns.TinyInt, columns.VarInt,
    columns.Boolean, columns.Double, columns.UUID, columns.Blob, lambda: columns.Float(double_precision=True),
]
OTHER_COLUMNS = [
    columns.Ascii, columns.Float, columns.TimeUUID, columns.DateTime, columns.Decimal, Upper, columns.Date,
    columns.Inet, columns.Counter, lambda: columns.Text(max_length=3), lambda: columns.Text(min_length=1),
    lambda: columns.Set(columns.Text),
]


@pytest.mark.parametrize("make", PLAIN_COLUMNS)
def test_the_common_types_vouch_for_their_own_values(make):
    types, _ = make().plain_values()
    assert types


@pytest.mark.parametrize("make", OTHER_COLUMNS)
def test_types_that_change_or_restrict_values_vouch_for_none_or_bound_them(make):
    types, bounds = make().plain_values()
    assert not types or bounds is not None  # only a bounded int range may remain (a counter is a bigint)


def _outcome(call: Any) -> Any:
    try:
        value = call()
    except ValidationError as exc:
        return ("refused", str(exc))
    return ("nan",) if isinstance(value, float) and math.isnan(value) else ("value", type(value), value)


@settings(max_examples=400)
@given(st.sampled_from(PLAIN_COLUMNS + OTHER_COLUMNS), ANY_VALUE)
def test_database_value_is_validate_then_to_database(make, value):
    col = named(make())
    assert _outcome(lambda: col.database_value(value)) == _outcome(lambda: col.to_database(col.validate(value)))
    types, bounds = col.plain_values()
    if type(value) in types and (bounds is None or bounds[0] <= value <= bounds[1]):
        assert col.validate(value) is value and col.to_database(value) is value


def test_integer_bounds_are_the_types_own():
    assert columns.Integer().plain_values() == ((int,), (-2**31, 2**31 - 1))
    assert columns.TinyInt().plain_values()[1] == (-128, 127)
    with pytest.raises(ValidationError, match="out of range"):
        named(columns.Integer()).database_value(2**31)


class Plain(Model):
    __table_name__ = "plain_values"
    k = columns.Integer(primary_key=True)
    name = columns.Text()
    shout = Upper()
    n = columns.TinyInt()
    u = columns.UUID()


def test_a_model_skips_only_what_its_columns_vouch_for():
    row = Plain(k=1, name="x", shout="quiet", n=5, u=uuid.uuid4())
    row.validate()
    assert row.shout == "QUIET"  # the caller's column was called
    with pytest.raises(ValidationError, match="Plain.n"):
        Plain(k=1, n=300).validate()  # an int, but out of tinyint's range
    with pytest.raises(ValidationError, match="Plain.k"):
        Plain(k=None).validate()  # None passes as it is only where the column takes it
    assert Plain(k=1, name=None).validate() is None
