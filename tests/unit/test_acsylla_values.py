"""acsylla_values without a server.

Each reader is given what acsylla 1.2.0 returns for a value (as measured
against the server: tests/integration/test_acsylla_values.py checks it there)
and must give what cassandra-driver itself decodes from the value's bytes: its
own row parser is fed a result message holding them. Each writer must give a
value acsylla binds to the bytes cassandra-driver serializes.
"""
from __future__ import annotations

import datetime
import io
import ipaddress
import math
import os
import struct
import subprocess
import sys
import uuid
from collections import namedtuple
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pytest
from cassandra import cqltypes
from cassandra.marshal import varint_pack
from cassandra.protocol import ProtocolHandler, ResultMessage
from cassandra.util import Date, Duration, OrderedMap, OrderedMapSerializedKey, SortedSet, Time
from hypothesis import given
from hypothesis import strategies as st

from cqlengine.connection import acsylla_values as av

PV = 5
UTC = datetime.timezone.utc
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
EPOCH = datetime.datetime(1970, 1, 1)
MIN_MS, MAX_MS = -62135596800000, 253402300799999
NAN, INF = float("nan"), float("inf")

Ascii, Text, Varchar, Blob = cqltypes.AsciiType, cqltypes.UTF8Type, cqltypes.VarcharType, cqltypes.BytesType
Bool, TinyInt, SmallInt, Int = cqltypes.BooleanType, cqltypes.ByteType, cqltypes.ShortType, cqltypes.Int32Type
BigInt, Counter, Float, Double = cqltypes.LongType, cqltypes.CounterColumnType, cqltypes.FloatType, cqltypes.DoubleType
VarInt, Dec, Uuid, TimeUuid = cqltypes.IntegerType, cqltypes.DecimalType, cqltypes.UUIDType, cqltypes.TimeUUIDType
Stamp, DateT, TimeT, Dur = cqltypes.DateType, cqltypes.SimpleDateType, cqltypes.TimeType, cqltypes.DurationType
Inet = cqltypes.InetAddressType


def List(t: Any) -> Any:  # noqa: N802 - named as the CQL type
    return cqltypes.ListType.apply_parameters((t,))


def Set(t: Any) -> Any:  # noqa: N802
    return cqltypes.SetType.apply_parameters((t,))


def Map(k: Any, v: Any) -> Any:  # noqa: N802
    return cqltypes.MapType.apply_parameters((k, v))


def Tuple(*ts: Any) -> Any:  # noqa: N802
    return cqltypes.TupleType.apply_parameters(ts)


def Vector(t: Any, n: int) -> Any:  # noqa: N802
    return cqltypes.VectorType.apply_parameters((t, n), None)


def Udt(name: str, **fields: Any) -> Any:  # noqa: N802
    return cqltypes.UserType.make_udt_class("ks", name, tuple(fields), tuple(fields.values()))


def driver_reads(cqltype: Any, data: Optional[bytes]) -> Any:
    """What cassandra-driver returns for a column of ``cqltype`` holding ``data``: a ROWS result message
    (no metadata, the prepared statement's types) through the driver's own protocol handler."""
    body = struct.pack(">iiii", 2, 0x0004, 1, 1)
    body += struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data
    message = ProtocolHandler.message_types_by_opcode[ResultMessage.opcode]
    return message.recv_body(io.BytesIO(body), PV, {}, [("ks", "t", "v", cqltype)], None).parsed_rows[0][0]


def driver_round_trip(cqltype: Any, value: Any) -> Any:
    return driver_reads(cqltype, None if value is None else cqltype.to_binary(value, PV))


def read(cqltype: Any, acsylla_value: Any) -> Any:
    convert = av.reader(cqltype, PV)
    return acsylla_value if convert is None else convert(acsylla_value)


def write(cqltype: Any, value: Any) -> Any:
    convert = av.writer(cqltype, PV)
    return value if convert is None else convert(value)


def assert_same(got: Any, expected: Any) -> None:
    """The same types all the way down, the same values (NaN is NaN, -0.0 is not 0.0), the same map keys."""
    assert type(got) is type(expected), (got, expected)
    if isinstance(expected, float):
        assert struct.pack(">d", got) == struct.pack(">d", expected) or (math.isnan(got) and math.isnan(expected))
    elif isinstance(expected, OrderedMapSerializedKey):
        assert_same(got._items, expected._items)
        assert got._index == expected._index
        assert got.protocol_version == expected.protocol_version
    elif isinstance(expected, SortedSet):
        assert_same(list(got), list(expected))
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected):
            assert_same(g, e)
    elif hasattr(expected, "__dict__") and not isinstance(expected, (Date, Time, Duration, datetime.date)):
        assert_same(sorted(vars(got).items()), sorted(vars(expected).items()))
    else:
        assert got == expected, (got, expected)


def acsylla_timestamp(ms: int) -> datetime.datetime:
    """What acsylla returns for a timestamp (measured: through a float, cut to the millisecond)."""
    return av._acsylla_datetime(ms)


def acsylla_binds_timestamp(value: Any) -> int:
    """The ms acsylla stores for a bound value (measured: a datetime floored to the ms, naive as UTC; an int
    as seconds)."""
    if isinstance(value, int):
        return value * 1000
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH.replace(tzinfo=UTC)) // datetime.timedelta(milliseconds=1)


# ---------------------------------------------------------------- the module and what costs nothing

def test_it_imports_without_acsylla() -> None:
    root = Path(av.__file__).resolve().parents[2]
    code = "import sys; sys.modules['acsylla'] = None; import cqlengine.connection.acsylla_values as m; print(m.reader)"
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


AS_IS = [Ascii, Text, Varchar, Bool, TinyInt, SmallInt, Int, BigInt, Counter, Float, Double]


@pytest.mark.parametrize("cqltype", [*AS_IS, Blob, Inet, List(Int), List(List(Text))])
def test_plain_types_read_as_they_come(cqltype: Any) -> None:
    assert av.reader(cqltype) is None


def test_plain_sets_maps_and_tuples_become_the_drivers() -> None:
    assert_same(read(Set(Text), {"b", "a"}), SortedSet(["a", "b"]))
    assert type(read(Map(Text, BigInt), {"a": 1})) is OrderedMapSerializedKey
    # acsylla returns a tuple stored short as it is; the driver pads it
    assert read(Tuple(Int, Text), (1,)) == (1, None) and read(List(Tuple(Int, Blob)), [(1,)]) == [(1, None)]


@pytest.mark.parametrize("cqltype", [Text, Varchar, Bool, TinyInt, SmallInt, Int, BigInt, Counter, Double, Uuid,
                                     TimeUuid, List(Int), Set(Text), Tuple(Int, Text, Uuid), List(List(Double))])
def test_plain_types_bind_as_they_come(cqltype: Any) -> None:
    assert av.writer(cqltype) is None


def test_a_row_converts_only_its_converted_columns() -> None:
    assert av.row_reader([Int, Text, Blob, Inet, BigInt]) is None
    assert av.row_reader([]) is None
    read_row = av.row_reader([Int, Uuid, Text, VarInt])
    assert read_row is not None
    text = "kept"
    row = read_row((1, str(uuid.UUID(int=5)), text, b"\x01\x00"))
    assert row == (1, uuid.UUID(int=5), "kept", 256) and row[2] is text
    with pytest.raises(av.Unsupported, match="decimal"):
        av.row_reader([Int, Dec])


# ---------------------------------------------------------------- scalars

@given(st.integers(-(10**80), 10**80))
def test_varint(n: int) -> None:
    assert_same(read(VarInt, varint_pack(n)), driver_reads(VarInt, varint_pack(n)))
    assert write(VarInt, n) == VarInt.serialize(n, PV)


def test_varint_empty_and_null() -> None:
    assert read(VarInt, b"") is None and driver_reads(VarInt, b"") is None
    assert read(VarInt, None) is None and write(VarInt, None) is None
    assert write(VarInt, True) == b"\x01"


@given(st.uuids())
def test_uuids(value: uuid.UUID) -> None:
    for cqltype in (Uuid, TimeUuid):
        assert_same(read(cqltype, str(value)), driver_reads(cqltype, value.bytes))
    assert read(Uuid, None) is None


@given(st.dates())
def test_dates_read(value: datetime.date) -> None:
    data = DateT.serialize(value, PV)
    assert_same(read(DateT, value), driver_reads(DateT, data))


@pytest.mark.parametrize("value", [Date(0), Date(-2**31), Date(2**31 - 1), datetime.date(1, 1, 1),
                                   datetime.date(9999, 12, 31), datetime.datetime(2024, 2, 29, 23, 59),
                                   datetime.datetime(2024, 2, 29, 23, 59, tzinfo=IST), "2024-02-29", 0, 2**31,
                                   2**32 - 1])
def test_dates_bind_as_seconds(value: Any) -> None:
    days = struct.unpack(">I", DateT.serialize(value, PV))[0] - 2**31
    assert write(DateT, value) == days * 86400  # acsylla binds an int as seconds (floored to a day)
    assert write(DateT, None) is None


def test_a_date_the_driver_refuses_is_refused() -> None:
    for value in (2**32, -1):
        with pytest.raises(struct.error):
            write(DateT, value)


@given(st.integers(MIN_MS, MAX_MS) | st.integers(-(2**34) * 1000, 2**34 * 1000))
def test_timestamps_read_as_the_driver_reads_them_or_not_at_all(ms: int) -> None:
    value = acsylla_timestamp(ms)
    readings = {m for m in (ms - 1, ms, ms + 1) if MIN_MS <= m <= MAX_MS and acsylla_timestamp(m) == value}
    if readings == {ms}:
        assert_same(read(Stamp, value), driver_reads(Stamp, struct.pack(">q", ms)))
    else:
        with pytest.raises(av.Unsupported, match="timestamp"):
            read(Stamp, value)


@pytest.mark.parametrize("ms", [0, -1, 1, 999, -999, -1001, 2**32 * 1000 - 1, -(2**32) * 1000 + 1, 2**32 * 1000,
                                2**33 * 1000 - 1, MAX_MS, MAX_MS - 3, MIN_MS + 2, 4294967296123, -8788083753255])
def test_timestamps_near_the_edges(ms: int) -> None:
    assert_same(read(Stamp, acsylla_timestamp(ms)), driver_reads(Stamp, struct.pack(">q", ms)))


@given(st.integers(MIN_MS, MAX_MS))
def test_the_drivers_two_timestamp_parsers(ms: int) -> None:
    data = struct.pack(">q", ms)
    assert_same(av._datetime_pure(ms), Stamp.deserialize(data, PV))  # without the compiled extensions
    if av._driver_datetime is av._datetime_compiled:
        assert_same(av._datetime_compiled(ms), driver_reads(Stamp, data))


datetimes = st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30),
                         timezones=st.sampled_from([None, UTC, IST]))


@given(datetimes | st.integers(MIN_MS, MAX_MS) | st.floats(MIN_MS, MAX_MS) | st.dates())
def test_timestamps_bind_to_the_drivers_millisecond(value: Any) -> None:
    expected = struct.unpack(">q", Stamp.serialize(value, PV))[0]
    bound = write(Stamp, value)
    assert type(bound) is datetime.datetime
    assert acsylla_binds_timestamp(bound) == expected


def test_timestamps_truncate_towards_the_epoch_as_the_driver_does() -> None:
    before = datetime.datetime(1969, 12, 31, 23, 59, 59, 999500)
    assert acsylla_binds_timestamp(before) == -1  # acsylla floors
    assert acsylla_binds_timestamp(write(Stamp, before)) == 0  # the driver truncates
    whole = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)
    assert write(Stamp, whole) is whole  # whole milliseconds, naive: as it is


def test_timestamps_beyond_datetime() -> None:
    assert write(Stamp, 10**18) == 10**15  # whole seconds, bound as an int
    with pytest.raises(av.Unsupported, match="whole seconds"):
        write(Stamp, 10**18 + 1)
    with pytest.raises(TypeError):
        write(Stamp, "2024-01-01")  # the driver refuses a str too


def test_times_cannot_be_read() -> None:
    with pytest.raises(av.Unsupported, match="nanoseconds"):
        av.reader(TimeT)


@given(st.integers(0, 86400 * 10**9 - 1).map(Time) | st.integers(0, 86400 * 10**9 - 1) | st.times() |
       st.times(timezones=st.sampled_from([UTC, IST])))
def test_times_bind_as_text_with_nanoseconds(value: Any) -> None:
    text = write(TimeT, value)
    hours, minutes, rest = text.split(":")
    seconds, nanos = rest.split(".")
    assert len(hours) == len(minutes) == len(seconds) == 2 and len(nanos) == 9
    bound = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 10**9 + int(nanos)
    assert bound == struct.unpack(">q", TimeT.serialize(value, PV))[0]


def test_times_out_of_a_day_are_refused() -> None:
    with pytest.raises(ValueError):
        write(TimeT, 86400 * 10**9)  # by Time(), as the driver
    with pytest.raises(ValueError, match="within a day"):
        write(TimeT, -1)
    assert write(TimeT, "01:02:03.5") == "01:02:03.500000000"


# What acsylla 1.2.0 returns for durations (measured), and what the driver reads.
DURATIONS = [
    ("", Duration(0, 0, 0)), ("1mo2d3ns", Duration(1, 2, 3)), ("-1mo2d3ns", Duration(-1, -2, -3)),
    ("178956970y7mo2147483647d2562047h47m16s854ms775us807ns", Duration(2**31 - 1, 2**31 - 1, 2**63 - 1)),
    ("--178956971y4mo-2147483648d-2562048h12m43s145ms224us192ns", Duration(-2**31, -2**31, -2**63)),
    ("1us500ns", Duration(0, 0, 1500)), ("72h1ns", Duration(0, 0, 3 * 86400 * 10**9 + 1)), ("1y", Duration(12, 0, 0)),
    ("7d", Duration(0, 7, 0)), ("1h", Duration(0, 0, 3600 * 10**9)), ("1m1us", Duration(0, 0, 60 * 10**9 + 1000)),
    ("5mo1ms", Duration(5, 0, 10**6)), ("2w", Duration(0, 14, 0)),
]


@pytest.mark.parametrize("text,expected", DURATIONS)
def test_durations_read_from_acsyllas_text(text: str, expected: Duration) -> None:
    assert_same(read(Dur, text), driver_reads(Dur, Dur.serialize(expected, PV)))


def test_durations() -> None:
    assert read(Dur, None) is None
    with pytest.raises(ValueError, match="duration"):
        read(Dur, "1 fortnight")
    assert write(Dur, Duration(-1, -2, -3)) == (-1, -2, -3)
    with pytest.raises(TypeError):
        write(Dur, datetime.timedelta(days=1))  # the driver takes only a Duration


@pytest.mark.parametrize("value,bound", [("10.0.0.1", "10.0.0.1"), ("1.2.3", "1.2.0.3"), ("0x7f.1", "127.0.0.1"),
                                         ("::ffff:1.2.3.4", "::ffff:1.2.3.4"), ("2001:DB8::1", "2001:db8::1")])
def test_inet_binds_the_address_the_driver_parses(value: str, bound: str) -> None:
    address = write(Inet, value)
    assert address == ipaddress.ip_address(bound)
    assert address.packed == Inet.serialize(value, PV)
    same = ipaddress.IPv6Address("::1")
    assert write(Inet, same) is same
    with pytest.raises(ValueError):
        write(Inet, "not an address")


def test_blobs_bind_as_bytes() -> None:
    data = b"\x00\x01"
    assert write(Blob, data) is data
    assert write(Blob, bytearray(b"ab")) == b"ab" and type(write(Blob, memoryview(b"ab"))) is bytes
    assert write(Blob, None) is None


def test_ascii_with_a_nul_is_refused() -> None:
    assert write(Ascii, "abc") == "abc"
    for cqltype in (Ascii, List(Ascii), Map(Ascii, Int), Tuple(Int, Ascii)):
        value = {"a\x00": 1} if cqltype.typename == "map" else (1, "\x00") if cqltype.typename == "tuple" \
            else "\x00" if cqltype is Ascii else ["\x00"]
        with pytest.raises(av.Unsupported, match="NUL"):
            write(cqltype, value)


def test_floats_beyond_float_are_refused_as_by_the_driver() -> None:
    for value in (3.4028235677973362e38, -3.4028235677973362e38, INF, -INF, 0.1, 5, True):
        assert write(Float, value) is value
        Float.serialize(value, PV)
    assert math.isnan(write(Float, NAN))
    for value in (3.4028235677973366e38, -1e39, 10**40):
        with pytest.raises((OverflowError, struct.error)):
            Float.serialize(value, PV)
        with pytest.raises(OverflowError):
            write(Float, value)


# ---------------------------------------------------------------- what acsylla cannot carry

@pytest.mark.parametrize("cqltype,names", [
    (Dec, ["decimal"]), (List(Dec), ["list<decimal>", "decimal"]),
    (Map(Text, Tuple(Int, Dec)), ["map<text, frozen<tuple<int, decimal>>>", "decimal"]),
    (Udt("dec_t", a=Int, d=Dec), ["frozen<dec_t>", "decimal"]),
])
def test_decimals_can_be_neither_read_nor_bound(cqltype: Any, names: list[str]) -> None:
    for make in (av.reader, av.writer):
        with pytest.raises(av.Unsupported) as refused:
            make(cqltype)
        for name in names:
            assert name in str(refused.value)


@pytest.mark.parametrize("cqltype,why", [
    (TimeT, "nanoseconds"), (Tuple(Int, TimeT), "nanoseconds"), (Set(List(Int)), "unhashable"),
    (Set(Set(Int)), "unhashable"), (Set(Map(Int, Int)), "unhashable"), (Set(Udt("inner_t", a=Int)), "unhashable"),
    (Set(Tuple(Int, List(Int))), "unhashable"), (Map(List(Int), Int), "unhashable"),
    (Map(Udt("inner_t", a=Int), Int), "unhashable"), (Map(Double, Int), "-0.0"), (Map(Tuple(Int, Float), Int), "-0.0"),
])
def test_types_acsylla_cannot_read(cqltype: Any, why: str) -> None:
    with pytest.raises(av.Unsupported, match=why):
        av.reader(cqltype)
    av.writer(cqltype)  # binding them is fine


def test_wrapped_types_are_their_inner_type() -> None:
    frozen = cqltypes.FrozenType.apply_parameters((Set(Uuid),))
    assert read(frozen, {str(uuid.UUID(int=1))}) == SortedSet([uuid.UUID(int=1)])
    assert av.reader(cqltypes.ReversedType.apply_parameters((Int,))) is None
    with pytest.raises(av.Unsupported):
        av.reader(cqltypes.ReversedType.apply_parameters((Dec,)))


# ---------------------------------------------------------------- collections, tuples, user types

def _server_order(items: list[Any], cqltype: Any) -> list[Any]:
    """The order Cassandra keeps a set's elements in (nulls first in tuples, NaN last, -0.0 before 0.0)."""
    def key(value: Any, t: Any) -> Any:
        if t in (Float, Double):
            return (value != value, 0.0 if value != value else value, math.copysign(1.0, value))
        if av._kind(t) is cqltypes.TupleType:
            return tuple((0,) if v is None else (1, key(v, s)) for v, s in zip(value, t.subtypes))
        return value

    return sorted(items, key=lambda v: key(v, cqltype))


@pytest.mark.parametrize("element,values", [
    (Double, [NAN, 1.0, -0.0, -INF, INF, -1.0]), (Float, [NAN, 0.5, -INF]),
    (Tuple(Int, Text), [(1, None), (1, "a"), (None, "b"), (None, None), (0, "z")]),
    (Tuple(Double, Int), [(NAN, 1), (1.0, 2), (-0.0, 1), (None, 3)]),
    (Uuid, [uuid.UUID(int=3), uuid.UUID(int=1)]), (Stamp, [0, MAX_MS, -1, 4294967296123]), (VarInt, [0, -1, 10**30]),
    (DateT, [Date(0), Date(-5)]), (Inet, ["10.0.0.1", "::1"]), (Blob, [b"", b"\x01"]),
])
def test_sets_come_in_the_drivers_order(element: Any, values: list[Any]) -> None:
    set_type = Set(element)
    # the driver reads the elements in the server's order, acsylla gives a Python set of its forms
    stored = [element.deserialize(element.serialize(v, PV), PV) for v in values]
    expected = driver_reads(set_type, set_type.serialize(_server_order(stored, element), PV))
    convert_back = {Uuid: str, VarInt: varint_pack, DateT: Date.date}
    as_acsylla = {acsylla_timestamp(v) for v in values} if element is Stamp else \
        {convert_back.get(element, lambda v: v)(v) for v in stored}
    assert_same(read(set_type, as_acsylla), expected)


def test_maps_are_the_drivers_maps() -> None:
    far = 4294967296123  # beyond 2106: the driver's datetime for it serializes to another ms
    cases = [
        (Map(Text, Int), {"b": 1, "a": 2}, {"b": 1, "a": 2}),
        (Map(Stamp, Int), {far: 1, 0: 2}, {acsylla_timestamp(far): 1, acsylla_timestamp(0): 2}),
        (Map(VarInt, Text), {10**30: "a", -1: "b"}, {varint_pack(10**30): "a", b"\xff": "b"}),
        (Map(Tuple(Int, Stamp), Text), {(1, far): "a", (2, None): "b"},
         {(1, acsylla_timestamp(far)): "a", (2, None): "b"}),
        (Map(Uuid, List(Dur)), {uuid.UUID(int=1): [Duration(1, 2, 3)]}, {str(uuid.UUID(int=1)): ["1mo2d3ns"]}),
        (Map(Text, Int), {}, {}),
    ]
    for map_type, value, as_acsylla in cases:
        expected = driver_reads(map_type, map_type.serialize(value, PV))
        got = read(map_type, as_acsylla)
        assert_same(got, expected)
        for key, item in expected.items():
            assert got[key] == item  # looked up by the driver's own key serialization


def test_tuples() -> None:
    conv = Tuple(VarInt, Dur, Stamp, DateT, Uuid, Inet)
    value = (10**20, Duration(1, 2, 3), 0, Date(0), uuid.UUID(int=9), "::1")
    as_acsylla = (varint_pack(10**20), "1mo2d3ns", acsylla_timestamp(0), datetime.date(1970, 1, 1),
                  str(uuid.UUID(int=9)), "::1")
    assert_same(read(conv, as_acsylla), driver_round_trip(conv, value))
    assert read(conv, None) is None
    short = Tuple(Int, Text, Uuid)
    assert_same(read(short, (1,)), driver_reads(short, struct.pack(">ii", 4, 1)))  # the driver pads
    assert_same(read(conv, (b"\x01",)), (1, None, None, None, None, None))
    nested = Tuple(Int, Tuple(Text, Uuid), List(Int))
    assert_same(read(nested, (1, ("a", str(uuid.UUID(int=1))), [1])),
                driver_round_trip(nested, (1, ("a", uuid.UUID(int=1)), [1])))


def test_tuples_bind() -> None:
    conv = Tuple(VarInt, Dur, Uuid)
    assert write(conv, (5, Duration(1, 2, 3), None)) == (b"\x05", (1, 2, 3), None)
    assert write(conv, [5]) == (b"\x05",)  # acsylla pads a short tuple with nulls, as the server does
    with pytest.raises(ValueError, match="Expected 3 items"):
        write(conv, (1, None, None, None))
    with pytest.raises(ValueError):
        Tuple(Int).serialize((1, 2), PV)  # the driver refuses it too


def test_user_types_read() -> None:
    inner = Udt("inner_t", a=Int, b=Text)
    addr = Udt("addr", street=Text, nums=Set(Int), inn=inner, u=Uuid, ts=Stamp, du=Dur)
    value = ("s", {2, 1}, (1, "x"), uuid.UUID(int=1), 0, Duration(1, 2, 3))
    as_acsylla = {"street": "s", "nums": {1, 2}, "inn": {"a": 1, "b": "x"}, "u": str(uuid.UUID(int=1)),
                  "ts": acsylla_timestamp(0), "du": "1mo2d3ns"}
    assert_same(read(addr, as_acsylla), driver_round_trip(addr, value))
    # a field added after the value was written: missing from acsylla's dict, None for the driver
    assert_same(read(inner, {"a": 1}), driver_reads(inner, struct.pack(">ii", 4, 1)))


def test_user_types_read_as_the_driver_builds_them() -> None:
    odd = Udt("Odd Name", **{"Field One": Int, "select": Text})
    assert odd.tuple_type is None  # no namedtuple for these names: the driver returns a plain tuple
    assert_same(read(odd, {"Field One": 1, "select": "x"}), driver_round_trip(odd, (1, "x")))

    class Registered:
        def __init__(self, x: Any = None, y: Any = None) -> None:
            self.x, self.y = x, y

    reg = Udt("reg_t", x=Int, y=Text)
    reader = av.reader(reg)
    assert reader is not None
    reg.mapped_class = Registered  # as the driver sets it when the statement's metadata is read
    try:
        expected = driver_round_trip(reg, (1, "a"))
        assert type(expected) is Registered
        assert_same(reader({"x": 1, "y": "a"}), expected)
    finally:
        reg.mapped_class = None


def test_user_types_bind_by_position() -> None:
    inner = Udt("inner_t", a=Int, b=Text)
    addr = Udt("addr", street=Text, inn=inner, vi=VarInt)
    Point = namedtuple("Point", "street inn vi")  # noqa: N806 - a class

    class Obj:
        street = "o"
        inn = None

    assert write(addr, ("s", (1, "x"), 5)) == ("s", (1, "x"), b"\x05")
    assert write(addr, Point("s", None, None)) == ("s", None, None)
    assert write(addr, Obj()) == ("o", None, None)  # by attribute, as the driver, missing ones null
    with pytest.raises(KeyError):
        write(addr, {"street": "s"})  # as the driver: a dict is indexed by position
    with pytest.raises(IndexError):
        write(addr, ("s",))


def test_collections_bind() -> None:
    assert write(List(VarInt), (1, 2)) == [b"\x01", b"\x02"]
    assert write(Set(VarInt), {1}) == [b"\x01"]  # a list: converted elements need not be hashable
    with pytest.raises(TypeError):
        write(List(VarInt), "12")
    plain = {"a": 1}
    assert write(Map(Text, Int), plain) is plain
    assert write(Map(Text, Int), OrderedMap([("a", 1)])) == [("a", 1)]
    assert write(Map(List(Int), Int), OrderedMap([([1, 2], 3)])) == [([1, 2], 3)]
    assert write(Map(VarInt, Dur), {1: Duration(1, 2, 3)}) == [(b"\x01", (1, 2, 3))]
    with pytest.raises(TypeError, match="non-map"):
        write(Map(Text, Int), [("a", 1)])
    assert write(Map(Text, List(Set(VarInt))), {"a": [{1}]}) == [("a", [[b"\x01"]])]


def test_vectors_and_custom_types_go_as_their_bytes() -> None:
    for cqltype, value in [(Vector(Float, 3), [0.5, NAN, -0.0]), (Vector(Text, 2), ["a", ""]),
                           (Vector(Dec, 1), [Decimal("1.5")]), (Vector(Stamp, 1), [MAX_MS]),
                           (Vector(List(Int), 2), [[1], []]), (Vector(Vector(Float, 2), 2), [[1.0, 2.0], [3.0, 4.0]])]:
        data = cqltype.serialize(value, PV)
        assert write(cqltype, value) == data
        assert_same(read(cqltype, data), driver_reads(cqltype, data))
        assert read(cqltype, None) is None and write(cqltype, None) is None
    lexical = cqltypes.lookup_casstype("org.apache.cassandra.db.marshal.LexicalUUIDType")
    assert_same(read(lexical, b"\x00" * 16), driver_reads(lexical, b"\x00" * 16))
    assert read(List(Vector(Int, 2)), [b"\x00\x00\x00\x01\x00\x00\x00\x02"]) == [[1, 2]]
