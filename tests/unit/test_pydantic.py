"""The Pydantic bridge without a server: fields from columns, and every column type through JSON and back."""
from __future__ import annotations

import math
import uuid
from decimal import Decimal

import pytest
from cassandra import util as cutil
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cqlengine import columns
from cqlengine.models import Model
from cqlengine.usertype import UserType
from tests.integration.test_roundtrip import AllTypes, RtAddress, addresses, row_values

pytestmark = pytest.mark.filterwarnings("ignore")

#: The values a JSON API carries: Python's own dates and times (not cassandra.util.Date/Time's wider
#: range), addresses as text, durations as cassandra.util.Duration.
json_values = row_values.map(lambda values: {
    k: v for k, v in values.items() if k not in ("c_date", "c_time", "c_inet", "c_duration")}) \
    .flatmap(lambda values: st.fixed_dictionaries({}, optional={
        "c_date": st.dates(), "c_time": st.times(), "c_inet": st.ip_addresses().map(str),
        "c_duration": st.builds(cutil.Duration, st.integers(-(2**31), 2**31 - 1),
                                st.integers(-(2**31), 2**31 - 1), st.integers(-(2**63), 2**63 - 1)),
    }).map(lambda more: {**values, **more}))


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    if isinstance(a, RtAddress) and isinstance(b, RtAddress):
        return all(same(a._values[k], b._values[k]) for k in a._fields)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, cutil.Duration):
        return (a.months, a.days, a.nanoseconds) == (b.months, b.days, b.nanoseconds)
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_every_column_type_goes_through_json_and_comes_back_the_same(values):
    instance = AllTypes(id=uuid.uuid4(), **values)
    instance.validate()
    payload = instance.to_pydantic().model_dump_json()
    back = AllTypes.from_pydantic(AllTypes.pydantic().model_validate_json(payload))
    back.validate()
    for name in AllTypes._columns:
        assert same(instance._values[name], back._values[name]), (name, instance._values[name], back._values[name])


class Profile(UserType):
    city = columns.Text()
    tags = columns.Set(columns.Text)


class Member(Model):
    __keyspace__ = "ks"
    id = columns.Integer(partition_key=True)
    handle = columns.Text(required=True, min_length=2, max_length=8)
    age = columns.TinyInt()
    score = columns.Double(default=0.5)
    joined = columns.UUID(default=uuid.uuid4)
    profile = columns.UserDefinedType(Profile)
    embedding = columns.Vector(3)
    friends = columns.List(columns.Integer)


def test_fields_say_what_the_columns_say():
    schema = Member.pydantic().model_json_schema()
    assert sorted(schema["required"]) == ["handle", "id"]
    props = schema["properties"]
    assert (props["handle"]["minLength"], props["handle"]["maxLength"]) == (2, 8)
    assert props["age"]["anyOf"][0] == {"maximum": 127, "minimum": -128, "type": "integer"}
    assert props["score"]["default"] == 0.5 and "default" not in props["joined"]
    assert props["friends"]["default"] == [] if "default" in props["friends"] else True
    assert schema["$defs"]["Profile"]["properties"]["city"]["anyOf"][0] == {"type": "string"}
    assert Member.pydantic() is Member.pydantic()  # made once


def test_invalid_input_is_refused_by_pydantic_naming_the_field():
    Out = Member.pydantic()
    with pytest.raises(ValidationError, match="handle"):
        Out(id=1, handle="x")
    with pytest.raises(ValidationError, match="age"):
        Out(id=1, handle="ann", age=300)
    with pytest.raises(ValidationError, match="embedding"):
        Out(id=1, handle="ann", embedding=[1.0, 2.0])


def test_nested_user_types_and_excluded_fields():
    member = Member(id=1, handle="ann", profile=Profile(city="Oslo", tags={"a"}), embedding=[1.0, 2.0, 3.0])
    out = member.to_pydantic()
    assert out.profile.city == "Oslo" and out.profile.tags == {"a"}
    back = Member.from_pydantic(out)
    assert isinstance(back.profile, Profile) and back.profile.tags == {"a"} and back.embedding == [1.0, 2.0, 3.0]
    Public = Member.pydantic(name="MemberPublic", exclude=("embedding",))
    assert "embedding" not in Public.model_fields and Public.__name__ == "MemberPublic"
    assert member.to_pydantic(Public).model_dump()["handle"] == "ann"
    with pytest.raises(ValueError, match="no column 'nope' to exclude"):
        Member.pydantic(exclude=("nope",))
    assert Member.from_pydantic({"id": 2, "handle": "bob"}).handle == "bob"
    with pytest.raises(ValueError, match="Member.from_pydantic: no column 'x'"):
        Member.from_pydantic({"id": 2, "x": 1})


def test_the_core_imports_no_pydantic():
    import subprocess
    import sys

    code = ("import sys, cqlengine, cqlengine.models, cqlengine.query, cqlengine.management; "
            "print('pydantic' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


_ = addresses  # the strategy of nested user types is part of row_values
