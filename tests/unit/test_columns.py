"""Unit tests for cqlengine.columns (no server)."""
from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import math
import uuid
from collections import namedtuple
from decimal import Decimal

import pytest
from cassandra import InvalidRequest
from cassandra import util as cutil
from hypothesis import given
from hypothesis import strategies as st

from cqlengine import columns
from cqlengine.exceptions import ModelDefinitionException, ValidationError
from cqlengine.usertype import UserType


def bound(col: columns.Column, model: str = "Person", attr: str = "field") -> columns.Column:
    col.set_name(model, attr)
    return col


def error_of(col: columns.Column, value: object) -> str:
    with pytest.raises(ValidationError) as info:
        col.validate(value)
    return str(info.value)


# ---------------------------------------------------------------------------
# Column basics


class TestColumnBasics:
    def test_position_increases(self):
        a, b, c = columns.Integer(), columns.Text(), columns.UUID()
        assert a.position < b.position < c.position

    def test_partition_key_implies_primary_key(self):
        col = columns.Integer(partition_key=True)
        assert col.partition_key and col.primary_key and col.is_primary_key

    def test_flags_default(self):
        col = columns.Text()
        assert not (col.primary_key or col.partition_key or col.index or col.custom_index or col.static)
        assert not (col.required or col.polymorphic_key or col.is_counter or col.is_collection)
        assert col.clustering_order is None and col.db_field is None and col.can_be_key

    def test_discriminator_column_is_polymorphic_key(self):
        assert columns.Text(discriminator_column=True).polymorphic_key
        assert columns.Text(polymorphic_key=True).discriminator_column

    def test_set_name_and_db_field(self):
        col = columns.Integer(db_field="a_g_e")
        assert col.model_name is None and col.attr_name is None
        col.set_name("Person", "age")
        assert (col.model_name, col.attr_name, col.db_field_name, col.column_name) == (
            "Person", "age", "a_g_e", "a_g_e")
        plain = bound(columns.Integer(), attr="age")
        assert plain.db_field_name == plain.column_name == "age"

    def test_unbound_error_uses_class_name(self):
        assert error_of(columns.Integer(), "x").startswith("Integer: 'x'")

    def test_error_names_attr_when_no_model(self):
        col = columns.Integer()
        col.set_column_name("age")
        assert error_of(col, "x").startswith("age: 'x'")

    def test_required(self):
        col = bound(columns.Integer(required=True), attr="name")
        assert error_of(col, None) == "Person.name: required, got None"
        assert bound(columns.Integer()).validate(None) is None

    def test_primary_key_implicitly_required(self):
        col = bound(columns.UUID(primary_key=True), attr="id")
        assert error_of(col, None).startswith("Person.id: required, got None")
        # Also the server's InvalidRequest, which ported code catches for a null key.
        with pytest.raises(InvalidRequest):
            col.validate(None)
        assert "required" in error_of(bound(columns.Text(partition_key=True)), None)

    def test_defaults(self):
        assert columns.Integer().get_default() is None
        assert not columns.Integer().has_default
        assert columns.Integer(default=5).get_default() == 5
        col = columns.UUID(default=uuid.uuid4)
        assert col.has_default and isinstance(col.get_default(), uuid.UUID)
        assert col.get_default() != col.get_default()

    def test_deepcopy_keeps_callable_default(self):
        def make() -> int:
            return 42

        col = bound(columns.Integer(default=make, primary_key=True), attr="n")
        clone = copy.deepcopy(col)
        assert clone is not col
        assert clone.default is make and clone.get_default() == 42
        assert clone.position == col.position and clone.primary_key
        lam = copy.deepcopy(columns.List(columns.Text, default=lambda: ["x"]))
        assert lam.get_default() == ["x"] and isinstance(lam.value_col, columns.Text)

    def test_deepcopy_collection_and_udt(self):
        class Pt(UserType):
            x = columns.Integer()

        col = copy.deepcopy(columns.Map(columns.Text, columns.UserDefinedType(Pt)))
        assert col.value_col.user_type is Pt
        assert col.cql_type() == "map<text, frozen<pt>>"

    def test_clustering_order_checked(self):
        assert columns.Integer(primary_key=True, clustering_order="DESC").clustering_order == "DESC"
        columns.Integer(primary_key=True, clustering_order="asc")
        with pytest.raises(ModelDefinitionException, match="clustering_order"):
            columns.Integer(clustering_order="sideways")

    def test_static_primary_key_refused(self):
        with pytest.raises(ModelDefinitionException, match="static"):
            columns.Integer(primary_key=True, static=True)
        assert columns.Integer(static=True).static

    def test_repr(self):
        col = bound(columns.Integer(primary_key=True, db_field="a"), attr="age")
        text = repr(col)
        assert "Integer" in text and "Person.age" in text and "primary_key" in text and "int" in text
        assert "Text" in repr(columns.Text())

    def test_to_database_none(self):
        for col in (columns.Integer(), columns.Text(), columns.DateTime(), columns.UUID(),
                    columns.List(columns.Integer), columns.Map(columns.Text, columns.Integer),
                    columns.Tuple(columns.Integer), columns.Date(), columns.Decimal()):
            assert col.to_database(None) is None

    def test_long_value_repr_is_truncated(self):
        msg = error_of(bound(columns.Integer()), "x" * 5000)
        assert len(msg) < 400 and "..." in msg


# ---------------------------------------------------------------------------
# text / bytes / bool


class TestText:
    def test_accepts_str(self):
        assert columns.Text().validate("héllo") == "héllo"

    def test_rejects_non_str(self):
        msg = error_of(bound(columns.Text(), attr="name"), 5)
        assert msg.startswith("Person.name: 5 ") and "str" in msg
        error_of(columns.Text(), b"bytes")

    def test_min_max_length(self):
        col = bound(columns.Text(min_length=2, max_length=4), attr="name")
        assert col.validate("ab") == "ab" and col.validate("abcd") == "abcd"
        msg = error_of(col, "a")
        assert "Person.name" in msg and "'a'" in msg and "min_length 2" in msg
        msg = error_of(col, "abcde")
        assert "'abcde'" in msg and "max_length 4" in msg

    def test_required_implies_min_length_1(self):
        col = bound(columns.Text(required=True))
        assert "min_length 1" in error_of(col, "")
        assert columns.Text().validate("") == ""

    def test_bad_lengths_refused(self):
        with pytest.raises(ModelDefinitionException):
            columns.Text(min_length=5, max_length=2)
        with pytest.raises(ModelDefinitionException):
            columns.Text(max_length=-1)

    def test_db_type(self):
        assert columns.Text().cql_type() == "text"


class TestAscii:
    def test_accepts_ascii(self):
        assert columns.Ascii().validate("plain ascii ~") == "plain ascii ~"
        assert columns.Ascii.db_type == "ascii"

    def test_rejects_non_ascii(self):
        msg = error_of(bound(columns.Ascii(), attr="code"), "café")
        assert "Person.code" in msg and "'café'" in msg and "non-ASCII" in msg

    def test_lengths(self):
        assert "max_length" in error_of(columns.Ascii(max_length=1), "ab")


class TestBlob:
    def test_accepts_bytes_like(self):
        col = columns.Blob()
        assert col.validate(b"ab") == b"ab"
        assert col.validate(bytearray(b"ab")) == b"ab"
        assert col.validate(memoryview(b"ab")) == b"ab"
        assert col.to_database(bytearray(b"x")) == b"x"
        assert columns.Bytes is columns.Blob and col.cql_type() == "blob"

    def test_rejects_str(self):
        msg = error_of(bound(columns.Blob(), attr="data"), "text")
        assert "Person.data" in msg and "'text'" in msg and "bytes" in msg


class TestBoolean:
    def test_accepts(self):
        col = columns.Boolean()
        assert col.validate(True) is True and col.validate(False) is False
        assert col.validate(1) is True and col.validate(0) is False
        assert col.to_python(1) is True and col.to_python(None) is None
        assert col.cql_type() == "boolean"

    @pytest.mark.parametrize("bad", [2, -1, "true", "", 1.0, [], None.__class__])
    def test_rejects(self, bad):
        msg = error_of(bound(columns.Boolean(), attr="flag"), bad)
        assert msg.startswith("Person.flag: ") and "bool" in msg


# ---------------------------------------------------------------------------
# integers

INT_TYPES = [
    (columns.TinyInt, "tinyint", 8),
    (columns.SmallInt, "smallint", 16),
    (columns.Integer, "int", 32),
    (columns.BigInt, "bigint", 64),
    (columns.Counter, "counter", 64),
]


class TestIntegers:
    @pytest.mark.parametrize("cls,name,bits", INT_TYPES)
    def test_edges(self, cls, name, bits):
        col = bound(cls(), attr="n")
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        assert col.validate(lo) == lo and col.validate(hi) == hi and col.validate(0) == 0
        assert col.cql_type() == name
        for bad in (lo - 1, hi + 1):
            msg = error_of(col, bad)
            assert msg == f"Person.n: {bad} is out of range for {name} ({lo}..{hi})"

    def test_int_message_example(self):
        col = bound(columns.Integer(), attr="age")
        assert error_of(col, 2147483648) == (
            "Person.age: 2147483648 is out of range for int (-2147483648..2147483647)")

    @pytest.mark.parametrize("cls", [c for c, _, _ in INT_TYPES] + [columns.VarInt])
    @pytest.mark.parametrize("bad", [True, False, 1.0, "5", Decimal(1), None.__class__])
    def test_rejects_non_int(self, cls, bad):
        msg = error_of(bound(cls(), attr="n"), bad)
        assert msg.startswith(f"Person.n: {bad!r}") and "not an integer" in msg

    def test_int_subclass_becomes_int(self):
        import enum

        class E(enum.IntEnum):
            A = 3

        value = columns.Integer().validate(E.A)
        assert value == 3 and type(value) is int

    def test_varint_huge(self):
        col = columns.VarInt()
        big = int("9" * 300)
        assert col.validate(big) == big and col.validate(-big) == -big
        assert col.to_python(col.to_database(-big)) == -big
        assert col.cql_type() == "varint"

    def test_to_python(self):
        assert columns.Integer().to_python(5) == 5
        assert columns.Integer().to_python(None) is None


class TestCounter:
    def test_flags(self):
        col = columns.Counter()
        assert col.is_counter and not col.can_be_key and col.db_type == "counter"
        assert col.get_default() == 0
        assert not columns.Integer().is_counter

    def test_default_zero_or_none_only(self):
        assert columns.Counter(default=0).get_default() == 0
        assert columns.Counter(default=None).get_default() == 0
        with pytest.raises(ModelDefinitionException, match="default"):
            columns.Counter(default=5)

    def test_not_primary_key(self):
        with pytest.raises(ModelDefinitionException, match="primary key"):
            columns.Counter(primary_key=True)
        with pytest.raises(ModelDefinitionException):
            columns.Counter(partition_key=True)

    def test_not_indexed(self):
        with pytest.raises(ModelDefinitionException):
            columns.Counter(index=True)

    def test_not_in_collection(self):
        with pytest.raises(ModelDefinitionException, match="counter"):
            columns.List(columns.Counter)


# ---------------------------------------------------------------------------
# floats / decimal


class TestFloat:
    def test_types(self):
        assert columns.Float().cql_type() == "float"
        assert columns.Float(double_precision=True).cql_type() == "double"
        assert columns.Double().cql_type() == "double"
        assert columns.Float.db_type == "float"

    def test_accepts(self):
        col = columns.Double()
        assert col.validate(1) == 1.0 and isinstance(col.validate(1), float)
        assert col.validate(1.5) == 1.5
        assert math.isnan(col.validate(float("nan")))
        assert col.validate(float("inf")) == float("inf")
        assert col.validate(1e300) == 1e300

    @pytest.mark.parametrize("bad", ["1.5", True, Decimal("1.5"), None.__class__])
    def test_rejects(self, bad):
        msg = error_of(bound(columns.Float(), attr="f"), bad)
        assert msg.startswith("Person.f: ") and "not a number" in msg

    def test_single_precision_range(self):
        col = bound(columns.Float(), attr="f")
        assert col.validate(3.0e38) == 3.0e38
        assert "out of range for float" in error_of(col, 1e39)
        assert col.validate(float("-inf")) == float("-inf")
        assert columns.Double().validate(1e39) == 1e39

    def test_huge_int(self):
        assert "out of range" in error_of(columns.Double(), 10**400)


class TestDecimal:
    def test_accepts(self):
        col = columns.Decimal()
        assert col.validate(Decimal("1.25")) == Decimal("1.25")
        assert col.validate(3) == Decimal(3)
        assert col.validate("12.50") == Decimal("12.50")
        assert col.validate(0.1) == Decimal("0.1")
        assert col.to_database(5) == Decimal(5)
        assert col.to_python(Decimal("2")) == Decimal("2")
        assert col.cql_type() == "decimal"

    @pytest.mark.parametrize("bad", ["abc", True, [1], Decimal("NaN"), "Infinity", float("inf")])
    def test_rejects(self, bad):
        msg = error_of(bound(columns.Decimal(), attr="d"), bad)
        assert msg.startswith("Person.d: ") and "decimal" in msg


# ---------------------------------------------------------------------------
# dates and times


UTC = dt.timezone.utc


class TestDateTime:
    def test_naive_is_utc(self):
        col = columns.DateTime()
        value = dt.datetime(2024, 5, 6, 7, 8, 9, 123000)
        assert col.validate(value) == value
        assert col.to_python(col.to_database(value)) == value
        assert col.cql_type() == "timestamp"

    def test_aware_converted_to_naive_utc(self):
        col = columns.DateTime()
        tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
        aware = dt.datetime(2024, 1, 1, 12, 0, tzinfo=tz)
        expected = dt.datetime(2024, 1, 1, 6, 30)
        assert col.validate(aware) == expected and col.validate(aware).tzinfo is None
        assert col.to_python(col.to_database(aware)) == expected
        assert col.validate(dt.datetime(2024, 1, 1, tzinfo=UTC)) == dt.datetime(2024, 1, 1)

    def test_driver_aware_read_back(self):
        col = columns.DateTime()
        value = dt.datetime(2020, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        assert col.to_python(value) == dt.datetime(2020, 1, 1)

    def test_date_is_midnight(self):
        col = columns.DateTime()
        assert col.validate(dt.date(2024, 2, 29)) == dt.datetime(2024, 2, 29)
        assert col.to_database(dt.date(2024, 2, 29)) == dt.datetime(2024, 2, 29)

    def test_microseconds_truncated(self):
        col = columns.DateTime()
        value = dt.datetime(2024, 1, 1, 0, 0, 0, 123456)
        assert col.to_database(value) == dt.datetime(2024, 1, 1, 0, 0, 0, 123000)
        before_epoch = dt.datetime(1960, 1, 1, 0, 0, 0, 999999)
        assert col.to_database(before_epoch).microsecond == 999000

    @pytest.mark.parametrize("bad", ["2024-01-01", True, dt.time(1, 2)])  # numbers: seconds (test_columns_peer)
    def test_rejects(self, bad):
        msg = error_of(bound(columns.DateTime(), attr="at"), bad)
        assert msg.startswith(f"Person.at: {bad!r}") and "datetime" in msg

    def test_to_python_number_is_seconds(self):
        assert columns.DateTime().to_python(86400) == dt.datetime(1970, 1, 2)
        assert columns.DateTime().to_python(None) is None


class TestDate:
    def test_accepts(self):
        col = columns.Date()
        d = dt.date(2024, 3, 1)
        assert col.validate(d) == d
        assert col.validate(dt.datetime(2024, 3, 1, 23, 59)) == d
        assert col.validate(cutil.Date(d)) == d
        assert col.validate(0) == dt.date(1970, 1, 1)
        assert col.validate(-1) == dt.date(1969, 12, 31)
        assert col.cql_type() == "date"

    def test_out_of_datetime_range_kept_as_driver_date(self):
        col = columns.Date()
        far = cutil.Date(10**7)
        assert col.validate(far) is far
        assert col.to_python(far) is far

    def test_round_trip(self):
        col = columns.Date()
        d = dt.date(1999, 12, 31)
        db = col.to_database(d)
        assert col.to_python(cutil.Date(db)) == d
        # ints are days since epoch, never the raw wire value
        assert isinstance(col.to_database(5), cutil.Date)
        assert col.to_python(cutil.Date(5)) == dt.date(1970, 1, 6)
        assert col.to_database(dt.datetime(2000, 1, 1, 5)) == dt.date(2000, 1, 1)

    def test_rejects(self):
        col = bound(columns.Date(), attr="born")
        msg = error_of(col, "2024-01-01")
        assert msg.startswith("Person.born: '2024-01-01'") and "not a date" in msg
        assert "out of range" in error_of(col, 1 << 31)
        error_of(col, True)


class TestTime:
    def test_accepts(self):
        col = columns.Time()
        t = dt.time(12, 30, 15, 250)
        assert col.validate(t) == t
        assert col.validate(cutil.Time(t)) == t
        assert col.validate(3_600 * 10**9) == dt.time(1)
        assert col.cql_type() == "time"

    def test_nanoseconds_kept(self):
        col = columns.Time()
        value = col.validate(1)
        assert isinstance(value, cutil.Time) and value.nanosecond_time == 1
        assert col.to_python(cutil.Time(1)).nanosecond_time == 1

    def test_round_trip(self):
        col = columns.Time()
        t = dt.time(23, 59, 59, 999999)
        assert col.to_python(cutil.Time(col.to_database(t))) == t
        assert col.to_python(None) is None

    def test_rejects(self):
        col = bound(columns.Time(), attr="at")
        assert "out of range" in error_of(col, 86_400 * 10**9)
        assert "out of range" in error_of(col, -1)
        assert "time zone" in error_of(col, dt.time(1, tzinfo=UTC))
        msg = error_of(col, "12:00")
        assert msg.startswith("Person.at: '12:00'") and "not a time" in msg


class TestDuration:
    def test_accepts(self):
        col = columns.Duration()
        d = cutil.Duration(1, 2, 3)
        assert col.validate(d) is d and col.to_python(d) is d and col.to_database(d) is d
        assert col.cql_type() == "duration" and not col.can_be_key

    def test_timedelta(self):
        col = columns.Duration()
        assert col.validate(dt.timedelta(days=2, seconds=1)) == cutil.Duration(0, 2, 10**9)
        assert col.validate(dt.timedelta(microseconds=-5)) == cutil.Duration(0, 0, -5000)
        assert col.to_database(dt.timedelta(days=-1)) == cutil.Duration(0, -1, 0)

    def test_rejects(self):
        msg = error_of(bound(columns.Duration(), attr="d"), 5)
        assert msg.startswith("Person.d: 5") and "duration" in msg


# ---------------------------------------------------------------------------
# uuids and inet


class TestUUID:
    def test_accepts(self):
        col = columns.UUID()
        u = uuid.uuid4()
        assert col.validate(u) is u
        assert col.validate(str(u)) == u
        assert col.to_database(str(u)) == u
        assert col.to_python(str(u)) == u and col.to_python(u) is u
        assert col.validate(uuid.uuid1()).version == 1
        assert col.cql_type() == "uuid"

    def test_rejects(self):
        col = bound(columns.UUID(), attr="id")
        msg = error_of(col, "not-a-uuid")
        assert msg.startswith("Person.id: 'not-a-uuid'") and "UUID" in msg
        assert "UUID" in error_of(col, 12)

    def test_timeuuid(self):
        col = bound(columns.TimeUUID(), attr="ts")
        u1 = uuid.uuid1()
        assert col.validate(u1) is u1 and col.validate(str(u1)) == u1
        u4 = uuid.uuid4()
        msg = error_of(col, u4)
        assert msg.startswith(f"Person.ts: {u4!r}") and "version 1" in msg and "got 4" in msg
        assert col.cql_type() == "timeuuid"


class TestInet:
    @pytest.mark.parametrize("addr", ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::8a2e:370:7334"])
    def test_accepts(self, addr):
        assert columns.Inet().validate(addr) == addr

    def test_address_objects_become_strings(self):
        col = columns.Inet()
        assert col.validate(ipaddress.ip_address("192.168.0.1")) == "192.168.0.1"
        assert col.to_database(ipaddress.ip_address("::1")) == "::1"
        assert col.cql_type() == "inet"

    @pytest.mark.parametrize("bad", ["256.0.0.1", "localhost", "1.2.3", 12345])
    def test_rejects(self, bad):
        msg = error_of(bound(columns.Inet(), attr="ip"), bad)
        assert msg.startswith(f"Person.ip: {bad!r}") and ("IP" in msg)


# ---------------------------------------------------------------------------
# collections


class TestCollections:
    def test_element_class_or_instance(self):
        assert columns.List(columns.Integer).cql_type() == "list<int>"
        assert columns.List(columns.Integer()).cql_type() == "list<int>"
        assert columns.Set(columns.Text).cql_type() == "set<text>"
        assert columns.Map(columns.Text, columns.BigInt).cql_type() == "map<text, bigint>"

    def test_not_a_column_type(self):
        with pytest.raises(ModelDefinitionException):
            columns.List(int)
        with pytest.raises(ModelDefinitionException):
            columns.List(columns.Column)

    def test_flags(self):
        for col in (columns.List(columns.Integer), columns.Set(columns.Integer),
                    columns.Map(columns.Integer, columns.Integer)):
            assert col.is_collection and not col.can_be_key
        frozen = columns.List(columns.Integer, frozen=True)
        assert frozen.can_be_key and frozen.is_collection
        assert columns.Tuple(columns.Integer).can_be_key
        assert not columns.Tuple(columns.Integer).is_collection

    def test_frozen_rendering(self):
        assert columns.List(columns.Integer, frozen=True).cql_type() == "frozen<list<int>>"
        assert columns.Set(columns.Text, frozen=True).cql_type() == "frozen<set<text>>"
        assert columns.Map(columns.Text, columns.Integer, frozen=True).cql_type() == "frozen<map<text, int>>"

    def test_nested_rendered_frozen(self):
        assert columns.List(columns.List(columns.Integer)).cql_type() == "list<frozen<list<int>>>"
        nested = columns.Map(columns.Text, columns.Map(columns.Text, columns.Set(columns.Integer)))
        assert nested.cql_type() == "map<text, frozen<map<text, frozen<set<int>>>>>"
        tup = columns.Tuple(columns.Integer, columns.Text)
        assert tup.cql_type() == "tuple<int, text>"
        assert columns.Tuple(columns.Integer, frozen=True).cql_type() == "frozen<tuple<int>>"
        assert columns.List(tup).cql_type() == "list<frozen<tuple<int, text>>>"
        assert columns.Tuple(columns.List(columns.Integer)).cql_type() == "tuple<frozen<list<int>>>"
        assert columns.Set(columns.Tuple(columns.Integer)).cql_type() == "set<frozen<tuple<int>>>"

    def test_unhashable_set_element_refused(self):
        with pytest.raises(ModelDefinitionException, match="hashable"):
            columns.Set(columns.List(columns.Integer))
        with pytest.raises(ModelDefinitionException, match="hashable"):
            columns.Map(columns.Set(columns.Integer), columns.Integer)
        with pytest.raises(ModelDefinitionException):
            columns.Set(columns.Tuple(columns.Integer, columns.List(columns.Integer)))

    def test_defaults_are_fresh_empty_collections(self):
        col = columns.List(columns.Integer)
        a, b = col.get_default(), col.get_default()
        assert a == [] and a is not b
        assert columns.Set(columns.Integer).get_default() == set()
        assert columns.Map(columns.Integer, columns.Integer).get_default() == {}
        assert columns.List(columns.Integer, default=None).get_default() is None

    def test_null_reads_back_empty(self):
        assert columns.List(columns.Integer).to_python(None) == []
        assert columns.Set(columns.Integer).to_python(None) == set()
        assert columns.Map(columns.Integer, columns.Integer).to_python(None) == {}
        assert columns.Tuple(columns.Integer).to_python(None) is None

    def test_val_is_null(self):
        col = columns.List(columns.Integer)
        assert col._val_is_null([]) and col._val_is_null(None) and not col._val_is_null([1])
        assert not columns.List(columns.Integer, frozen=True)._val_is_null([])


class TestList:
    def test_validate(self):
        col = bound(columns.List(columns.Integer), attr="tags")
        assert col.validate([1, 2]) == [1, 2]
        assert col.validate((1, 2)) == [1, 2]
        assert col.validate(None) is None

    def test_element_error_names_index(self):
        col = bound(columns.List(columns.Integer), attr="tags")
        assert error_of(col, [1, 2, "x"]) == "Person.tags[2]: 'x' is not an integer (int needs an int)"
        assert error_of(col, [1, 2**40]).startswith("Person.tags[1]: 1099511627776 is out of range")
        assert error_of(col, [None]) == "Person.tags[0]: None is not allowed in a list"

    def test_rejects_non_list(self):
        col = bound(columns.List(columns.Text), attr="tags")
        for bad in ("abc", {1}, {"a": 1}, 5):
            assert error_of(col, bad).startswith(f"Person.tags: {bad!r} is not a list")

    def test_size_limit(self):
        col = bound(columns.List(columns.Integer), attr="tags")
        assert "65535" in error_of(col, [0] * 65536)

    def test_elements_cleaned(self):
        col = columns.List(columns.UUID)
        u = uuid.uuid4()
        assert col.validate([str(u)]) == [u]

    def test_conversions(self):
        col = columns.List(columns.DateTime)
        tz = dt.timezone(dt.timedelta(hours=-2))
        value = [dt.datetime(2020, 1, 1, tzinfo=tz)]
        assert col.to_database(value) == [dt.datetime(2020, 1, 1, 2)]
        assert col.to_python((dt.datetime(2020, 1, 1),)) == [dt.datetime(2020, 1, 1)]

    def test_required_list(self):
        col = bound(columns.List(columns.Integer, required=True), attr="tags")
        assert error_of(col, None) == "Person.tags: required, got None"


class TestSet:
    def test_validate(self):
        col = bound(columns.Set(columns.Text), attr="tags")
        assert col.validate({"a", "b"}) == {"a", "b"}
        assert col.validate(frozenset({"a"})) == {"a"}
        assert col.validate(cutil.SortedSet(["a", "b"])) == {"a", "b"}

    def test_strict(self):
        col = bound(columns.Set(columns.Text), attr="tags")
        assert "is not a set" in error_of(col, ["a"])
        assert columns.Set(columns.Text, strict=False).validate(["a", "a"]) == {"a"}

    def test_element_errors(self):
        col = bound(columns.Set(columns.Integer), attr="tags")
        assert error_of(col, {"x"}) == "Person.tags element: 'x' is not an integer (int needs an int)"
        assert "None is not allowed" in error_of(col, {None})

    def test_conversions(self):
        col = columns.Set(columns.UUID)
        u = uuid.uuid4()
        assert col.to_database({str(u)}) == {u}
        out = col.to_python(cutil.SortedSet([u]))
        assert out == {u} and type(out) is set


class TestMap:
    def test_validate(self):
        col = bound(columns.Map(columns.Text, columns.Integer), attr="scores")
        assert col.validate({"a": 1}) == {"a": 1}

    def test_errors_name_key(self):
        col = bound(columns.Map(columns.Text, columns.Integer), attr="scores")
        assert error_of(col, {"math": "A"}) == (
            "Person.scores['math']: 'A' is not an integer (int needs an int)")
        assert error_of(col, {3: 1}) == "Person.scores key: 3 is not a str (text needs a str)"
        assert "None is not allowed as a map value" in error_of(col, {"a": None})
        assert error_of(col, [("a", 1)]).startswith("Person.scores: [('a', 1)] is not a dict")

    def test_driver_ordered_map(self):
        col = columns.Map(columns.Text, columns.Integer)
        om = cutil.OrderedMap([("a", 1), ("b", 2)])
        out = col.to_python(om)
        assert out == {"a": 1, "b": 2} and type(out) is dict
        assert col.validate(om) == {"a": 1, "b": 2}

    def test_driver_ordered_map_serialized_key(self):
        from cassandra.cqltypes import Int32Type

        col = columns.Map(columns.Integer, columns.Text)
        om = cutil.OrderedMapSerializedKey(Int32Type, 4)
        om._insert_unchecked(1, Int32Type.serialize(1, 4), "one")
        out = col.to_python(om)
        assert out == {1: "one"} and type(out) is dict

    def test_conversions(self):
        col = columns.Map(columns.UUID, columns.Date)
        u = uuid.uuid4()
        assert col.to_database({str(u): 0}) == {u: cutil.Date(0)}
        assert col.to_python({u: cutil.Date(1)}) == {u: dt.date(1970, 1, 2)}


class TestTuple:
    def test_validate(self):
        col = bound(columns.Tuple(columns.Integer, columns.Text), attr="point")
        assert col.validate((1, "a")) == (1, "a")
        assert col.validate([1, "a"]) == (1, "a")
        assert col.validate((None, "a")) == (None, "a")

    def test_errors(self):
        col = bound(columns.Tuple(columns.Integer, columns.Text), attr="point")
        assert error_of(col, (1, 2)) == "Person.point[1]: 2 is not a str (text needs a str)"
        assert "has 3 elements, more than the 2 of tuple<int, text>" in error_of(col, (1, "a", 3))
        assert "is not a tuple" in error_of(col, "ab")

    def test_conversions(self):
        col = columns.Tuple(columns.UUID, columns.Date)
        u = uuid.uuid4()
        assert col.to_database([str(u), None]) == (u, None)
        assert col.to_python((u, cutil.Date(0))) == (u, dt.date(1970, 1, 1))

    def test_requires_types(self):
        with pytest.raises(ModelDefinitionException):
            columns.Tuple()


# ---------------------------------------------------------------------------
# user-defined types


class Address(UserType):
    street = columns.Text()
    zipcode = columns.Integer()
    tags = columns.Set(columns.Text, frozen=True)


class GeoPoint(UserType):
    lat = columns.Double()
    lon = columns.Double(db_field="lng")


class WithList(UserType):
    numbers = columns.List(columns.Integer)


class TestUserDefinedTypeColumn:
    def test_cql_type(self):
        assert columns.UserDefinedType(Address).cql_type() == "frozen<address>"  # frozen by default, as the peer
        assert columns.UserDefinedType(Address, frozen=False).cql_type() == "address"
        assert columns.UserDefinedType(Address, frozen=True).cql_type() == "frozen<address>"
        assert columns.UserDefinedType(Address, primary_key=True).cql_type() == "frozen<address>"
        assert columns.List(columns.UserDefinedType(Address)).cql_type() == "list<frozen<address>>"
        assert columns.Map(columns.Text, columns.UserDefinedType(GeoPoint)).cql_type() == (
            "map<text, frozen<geo_point>>")
        # a non-frozen collection field forces the UDT column frozen
        assert columns.UserDefinedType(WithList, frozen=False).cql_type() == "frozen<with_list>"

    def test_quoting(self):
        class Odd(UserType):
            __type_name__ = "select"
            a = columns.Integer()

        assert columns.UserDefinedType(Odd, frozen=False).cql_type() == '"select"'
        assert columns.List(columns.UserDefinedType(Odd)).cql_type() == 'list<frozen<"select">>'
        assert columns._quote('we"ird') == '"we""ird"'
        assert columns._quote("Upper") == '"Upper"'
        assert columns._quote("fine_1") == "fine_1"

    def test_not_a_user_type(self):
        with pytest.raises(ModelDefinitionException):
            columns.UserDefinedType(int)

    def test_can_be_key(self):
        assert columns.UserDefinedType(Address).can_be_key

    def test_to_database_by_field_name(self):
        # By name, not position: the driver then fills the server's fields by their names,
        # whatever the order of the model's fields.
        col = columns.UserDefinedType(GeoPoint)
        bound = col.to_database(GeoPoint(lon=2.5, lat=1.5))
        assert bound.cqlengine_fields == (("lat", 1.5), ("lng", 2.5))
        assert (bound.lng, bound.lat, bound.not_a_field) == (2.5, 1.5, None)
        with pytest.raises(TypeError):
            bound[0]  # not indexable: the driver must not read it by position
        col = columns.UserDefinedType(Address)
        value = Address(zipcode=12345, street="Main")
        assert col.to_database(value).cqlengine_fields == (("street", "Main"), ("zipcode", 12345), ("tags", ()))
        assert col.to_database({"street": "x"}) == col.to_database(Address(street="x"))

    def test_to_python_from_namedtuple(self):
        col = columns.UserDefinedType(GeoPoint)
        Row = namedtuple("geo_point", ["lat", "lng"])
        assert col.to_python(Row(lat=1.0, lng=2.0)) == GeoPoint(lat=1.0, lon=2.0)
        Reordered = namedtuple("geo_point", ["lng", "lat"])
        assert col.to_python(Reordered(lng=2.0, lat=1.0)) == GeoPoint(lat=1.0, lon=2.0)

    def test_to_python_from_tuple_and_mapping(self):
        col = columns.UserDefinedType(Address)
        got = col.to_python(("Main", 5, cutil.SortedSet(["a"])))
        assert got == Address(street="Main", zipcode=5, tags={"a"})
        assert type(got.tags) is set
        assert col.to_python(("Main",)) == Address(street="Main", zipcode=None, tags=set())
        assert col.to_python({"street": "x", "zipcode": 1}).zipcode == 1
        assert col.to_python(None) is None

    def test_validate(self):
        col = bound(columns.UserDefinedType(Address), attr="home")
        value = Address(street="Main", zipcode=1)
        assert col.validate(value) is value
        assert error_of(col, Address(street=5)) == "Person.home.street: 5 is not a str (text needs a str)"
        msg = error_of(col, GeoPoint(lat=1.0))
        assert msg.startswith("Person.home: GeoPoint(") and "is not an instance of Address" in msg
        assert col.validate({"street": "x"}) == Address(street="x")

    def test_nested_udt(self):
        class Shop(UserType):
            name = columns.Text()
            where = columns.UserDefinedType(Address)

        assert Shop._fields["where"].cql_type() == "frozen<address>"
        col = bound(columns.UserDefinedType(Shop), attr="shop")
        value = Shop(name="x", where=Address(street="s", zipcode=1))
        inner = col.to_database(value).where
        assert inner.cqlengine_fields == (("street", "s"), ("zipcode", 1), ("tags", ()))
        assert col.to_database(value).name == "x"
        Inner = namedtuple("address", ["street", "zipcode", "tags"])
        Outer = namedtuple("shop", ["name", "where"])
        assert col.to_python(Outer("x", Inner("s", 1, None))) == value
        bad = Shop(name="x", where=Address(zipcode="z"))
        assert error_of(col, bad) == "Person.shop.where.zipcode: 'z' is not an integer (int needs an int)"

    def test_resolve_udts(self):
        class Shop2(UserType):
            where = columns.UserDefinedType(Address)

        col = columns.Map(columns.Text, columns.UserDefinedType(Shop2))
        assert columns.resolve_udts(col) == [Address, Shop2]
        assert columns.resolve_udts(columns.Integer()) == []

    def test_set_of_udt_refused(self):
        with pytest.raises(ModelDefinitionException, match="hashable"):
            columns.Set(columns.UserDefinedType(Address))


# ---------------------------------------------------------------------------
# property tests


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_integer_round_trip(v):
    col = columns.Integer()
    assert col.to_python(col.to_database(col.validate(v))) == v


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_bigint_round_trip(v):
    col = columns.BigInt()
    assert col.to_python(col.to_database(col.validate(v))) == v


@given(st.integers())
def test_varint_round_trip(v):
    col = columns.VarInt()
    assert col.to_python(col.to_database(col.validate(v))) == v


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_smallint_accepts_exactly_its_range(v):
    col = columns.SmallInt()
    if -(2**15) <= v < 2**15:
        assert col.validate(v) == v
    else:
        with pytest.raises(ValidationError, match="out of range for smallint"):
            col.validate(v)


@given(st.text())
def test_text_round_trip(v):
    col = columns.Text()
    assert col.to_python(col.to_database(col.validate(v))) == v


@given(st.floats())
def test_double_round_trip(v):
    col = columns.Double()
    out = col.to_python(col.to_database(col.validate(v)))
    assert (math.isnan(v) and math.isnan(out)) or out == v


@given(st.floats(width=32))
def test_float_round_trip(v):
    col = columns.Float()
    out = col.to_python(col.to_database(col.validate(v)))
    assert (math.isnan(v) and math.isnan(out)) or out == v


@given(st.datetimes(timezones=st.none() | st.just(UTC)))
def test_datetime_round_trip_to_millis(v):
    col = columns.DateTime()
    out = col.to_python(col.to_database(col.validate(v)))
    expected = v.replace(tzinfo=None, microsecond=v.microsecond // 1000 * 1000)
    assert out == expected


@given(st.lists(st.integers(min_value=-(2**31), max_value=2**31 - 1)))
def test_list_round_trip(v):
    col = columns.List(columns.Integer)
    assert col.to_python(col.to_database(col.validate(v))) == v


@given(st.dictionaries(st.text(), st.integers(min_value=-(2**63), max_value=2**63 - 1)))
def test_map_round_trip(v):
    col = columns.Map(columns.Text, columns.BigInt)
    assert col.to_python(col.to_database(col.validate(v))) == v


# ---------------------------------------------------------------------------
# what to_database returns must serialize with the driver's own codecs, and
# what the driver deserializes must come back through to_python (no server).


def _driver_round_trip(col: columns.Column, cass_type, value):
    proto = 4
    wire = cass_type.to_binary(col.to_database(col.validate(value)), proto)
    return col.to_python(cass_type.from_binary(wire, proto))


class TestDriverCodecs:
    def test_scalars(self):
        from cassandra import cqltypes as ct

        u1 = uuid.uuid1()
        cases = [
            (columns.Integer(), ct.Int32Type, -5, -5),
            (columns.VarInt(), ct.IntegerType, -(10**300), -(10**300)),
            (columns.Text(), ct.UTF8Type, "héllo", "héllo"),
            (columns.Blob(), ct.BytesType, bytearray(b"\x00\x01"), b"\x00\x01"),
            (columns.Boolean(), ct.BooleanType, 1, True),
            (columns.Decimal(), ct.DecimalType, "1.50", Decimal("1.50")),
            (columns.TimeUUID(), ct.TimeUUIDType, str(u1), u1),
            (columns.Inet(), ct.InetAddressType, "::1", "::1"),
            (columns.Date(), ct.SimpleDateType, 0, dt.date(1970, 1, 1)),
            (columns.Date(), ct.SimpleDateType, dt.date(1900, 2, 3), dt.date(1900, 2, 3)),
            (columns.Time(), ct.TimeType, dt.time(1, 2, 3, 4), dt.time(1, 2, 3, 4)),
            (columns.Duration(), ct.DurationType, dt.timedelta(days=1), cutil.Duration(0, 1, 0)),
            (columns.DateTime(), ct.DateType,
             dt.datetime(1960, 5, 6, 7, 8, 9, 999999, tzinfo=dt.timezone(dt.timedelta(hours=2))),
             dt.datetime(1960, 5, 6, 5, 8, 9, 999000)),
        ]
        for col, cass_type, value, expected in cases:
            assert _driver_round_trip(col, cass_type, value) == expected, (col, value)

    def test_collections(self):
        from cassandra import cqltypes as ct

        col = columns.Map(columns.Text, columns.List(columns.Date))
        cass = ct.MapType.apply_parameters([ct.UTF8Type, ct.ListType.apply_parameters([ct.SimpleDateType])])
        value = {"a": [dt.date(2000, 1, 1), 1]}
        assert _driver_round_trip(col, cass, value) == {"a": [dt.date(2000, 1, 1), dt.date(1970, 1, 2)]}

        col = columns.Set(columns.UUID)
        u = uuid.uuid4()
        assert _driver_round_trip(col, ct.SetType.apply_parameters([ct.UUIDType]), {str(u)}) == {u}

        col = columns.Tuple(columns.Integer, columns.Text)
        cass = ct.TupleType.apply_parameters([ct.Int32Type, ct.UTF8Type])
        assert _driver_round_trip(col, cass, [1, None]) == (1, None)

    def test_udt(self):
        from cassandra import cqltypes as ct

        class Place(UserType):
            name = columns.Text()
            spot = columns.Tuple(columns.Double, columns.Double, db_field="at")
            visits = columns.List(columns.DateTime)

        udt = ct.UserType.make_udt_class(
            "ks", "place", ["name", "at", "visits"],
            [ct.UTF8Type, ct.TupleType.apply_parameters([ct.DoubleType, ct.DoubleType]),
             ct.ListType.apply_parameters([ct.DateType])])
        col = columns.UserDefinedType(Place)
        value = Place(name="x", spot=(1.0, 2.0), visits=[dt.datetime(2020, 1, 1)])
        assert _driver_round_trip(col, udt, value) == value
        empty = Place(name="y")
        assert _driver_round_trip(col, udt, empty) == Place(name="y", visits=[])


def test_a_collection_subclass_keeps_its_cql_kind():
    class Marks(columns.List):
        pass

    class Tags(columns.Set):
        pass

    class Scores(columns.Map):
        pass

    class Pair(columns.Tuple):
        pass

    assert Marks(columns.Integer).cql_type() == "list<int>"
    assert Tags(columns.Text, frozen=True).cql_type() == "frozen<set<text>>"
    assert Scores(columns.Text, columns.Integer).cql_type() == "map<text, int>"
    assert Pair(columns.Integer, columns.Text).cql_type() == "tuple<int, text>"
