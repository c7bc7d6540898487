"""Values between cassandra-driver's Python types and acsylla's.

Statements sent through acsylla are prepared by cassandra-driver too, so each
bind marker's and result column's type is known as a ``cassandra.cqltypes``
class. From it, :func:`reader` makes the function that turns what acsylla
returns for a column (created with ``native_types=False``, its default) into
exactly what cassandra-driver returns, and :func:`writer` the function that
turns what cassandra-driver takes for a bind marker into what acsylla binds to
the same stored value. Both are None when the value goes as it is, so plain
ints and text cost nothing. A type acsylla cannot carry exactly raises
:class:`Unsupported` when its converter is asked for: the caller sends such a
statement through cassandra-driver instead.

How acsylla 1.2.0 differs, measured against Cassandra 5.0 (the tests in
``tests/integration/test_acsylla_values.py`` check each case both ways):

* it reads uuid/timeuuid as str, varint as two's-complement bytes (an empty
  value as ``b''``), duration as text like ``'-1mo2d3ns'``, date as
  ``datetime.date``, timestamp as a UTC-aware datetime, user types as dicts,
  sets as ``set``, maps as ``dict``, a tuple stored short as it is, and vectors
  and other custom types as their serialized bytes: the readers convert;
* it cannot read decimal (``decimal.InvalidOperation``), time (the nanoseconds
  are dropped), sets or map keys whose elements it returns unhashable (lists,
  sets, dicts, user types), nor map keys holding floats (``-0.0`` and ``0.0``
  are two keys in Cassandra, one in a dict): :class:`Unsupported`;
* some values it cannot read: a date outside the years 1 to 9999 (acsylla
  raises ValueError), and about half the timestamps before 1697 or after 2242
  (it computes them through a float, 1 ms low at times, so two instants read
  alike: the reader raises :class:`Unsupported` for those, never a wrong value);
* it binds varint, vectors and custom types only as bytes, timestamps from a
  datetime (an int is seconds, and a sub-millisecond part is floored where
  cassandra-driver truncates towards the epoch), dates from an int of seconds
  (or a ``datetime.date``), times from ``'HH:MM:SS.fffffffff'`` text (an int
  is seconds, a ``datetime.time`` has no nanoseconds and its offset is
  subtracted), durations from a ``(months, days, nanoseconds)`` tuple, blobs
  only as ``bytes``, maps only from a dict or a list of pairs, and user types
  from a tuple (by name it matches fields case-insensitively): the writers
  convert;
* it binds decimals wrongly (the text of the number becomes the unscaled
  value: :class:`Unsupported`), cuts an ascii value at its first NUL, and
  stores a number beyond float's range as infinity where cassandra-driver
  refuses it: the writers refuse those values.
"""
from __future__ import annotations

import datetime
import ipaddress
import math
import re
import struct
from itertools import zip_longest
from typing import Any, Callable, Optional, Sequence
from uuid import UUID

from cassandra import cqltypes, util
from cassandra.cython_deps import HAVE_CYTHON
from cassandra.marshal import int64_pack, varint_pack

Converter = Callable[[Any], Any]

#: The protocol version cassandra-driver 3.30 settles on with Cassandra 4.0 and later. It is kept in the
#: maps read (as the driver keeps it in each map it returns); pass the session's ``cluster.protocol_version``.
DEFAULT_PROTOCOL_VERSION = 5

__all__ = ["DEFAULT_PROTOCOL_VERSION", "Unsupported", "reader", "row_reader", "writer"]


class Unsupported(Exception):
    """acsylla cannot read or bind this CQL type (or this one value of it) exactly as cassandra-driver does."""


def _name(cqltype: Any) -> str:
    try:
        return str(cqltype.cql_parameterized_type())
    except Exception:  # an unparameterized or custom class: its name is the best there is
        return str(getattr(cqltype, "typename", cqltype))


def _kind(cqltype: Any) -> Any:
    """The cqltypes class ``cqltype`` is one of, most specific first (parametrised types are subclasses)."""
    for klass in cqltype.__mro__:
        if klass in _KINDS:
            return klass
    return None


# The classes this module tells apart; any other class is a custom type (acsylla hands over its bytes).
_KINDS = frozenset({
    cqltypes.AsciiType, cqltypes.UTF8Type, cqltypes.BytesType, cqltypes.BooleanType, cqltypes.ByteType,
    cqltypes.ShortType, cqltypes.Int32Type, cqltypes.LongType, cqltypes.FloatType, cqltypes.DoubleType,
    cqltypes.IntegerType, cqltypes.DecimalType, cqltypes.UUIDType, cqltypes.TimeUUIDType, cqltypes.DateType,
    cqltypes.SimpleDateType, cqltypes.TimeType, cqltypes.DurationType, cqltypes.InetAddressType,
    cqltypes.ListType, cqltypes.SetType, cqltypes.MapType, cqltypes.TupleType, cqltypes.UserType,
    cqltypes.FrozenType, cqltypes.ReversedType,
})
# Read by acsylla as cassandra-driver reads them (and bound as it binds them, but for _write_ascii and
# _write_float).
_AS_IS = frozenset({
    cqltypes.AsciiType, cqltypes.UTF8Type, cqltypes.BooleanType, cqltypes.ByteType, cqltypes.ShortType,
    cqltypes.Int32Type, cqltypes.LongType, cqltypes.FloatType, cqltypes.DoubleType,
})


# ---------------------------------------------------------------- timestamps

_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MS = datetime.timedelta(milliseconds=1)
_DAY_SECONDS = 86400
# Below 2**33 s from the epoch a double holds a millisecond instant to better than half a microsecond,
# so the datetime acsylla builds through a float is exact; below 2**32 s the driver's float arithmetic is
# exact too, and both read the stored instant (within 1834 to 2106, where nearly every timestamp is).
_ACSYLLA_EXACT_MS = 2**33 * 1000
_BOTH_EXACT_LOW = _EPOCH_UTC - datetime.timedelta(seconds=2**32)
_BOTH_EXACT_HIGH = _EPOCH_UTC + datetime.timedelta(seconds=2**32)
# The instants a datetime can hold, in ms from the epoch (years 1 to 9999).
_MIN_MS = (datetime.datetime.min - _EPOCH) // _MS
_MAX_MS = (datetime.datetime.max - _EPOCH) // _MS


def _acsylla_datetime(ms: int) -> datetime.datetime:
    """The datetime acsylla 1.2.0 reads for a timestamp of ``ms``: through a float, then cut to the millisecond."""
    value = datetime.datetime.fromtimestamp(ms / 1000.0, datetime.timezone.utc)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _stored_ms(value: datetime.datetime) -> int:
    """The stored timestamp (ms) acsylla read as ``value``."""
    ms = (value - _EPOCH_UTC) // _MS
    if -_ACSYLLA_EXACT_MS < ms < _ACSYLLA_EXACT_MS:
        return ms
    # Farther out acsylla's float may have cost a millisecond: ms or ms + 1 was stored. Only one of them
    # reading as ``value`` tells which.
    stored = [m for m in (ms, ms + 1) if _acsylla_datetime(m) == value]
    if len(stored) != 1:
        raise Unsupported(f"timestamp: acsylla reads both {ms} and {ms + 1} ms as {value}, so which one is "
                          "stored is lost (acsylla rounds instants before 1697 or after 2242 through a float)")
    return stored[0]


def _c_round(x: float) -> float:
    """C's round(): halves away from zero."""
    whole = math.floor(abs(x))
    if abs(x) - whole >= 0.5:
        whole += 1
    return math.copysign(whole, x)


def _datetime_compiled(ms: int) -> datetime.datetime:
    """What cassandra-driver's compiled deserializer returns for a timestamp of ``ms`` (its float arithmetic,
    step by step, as cython_utils.datetime_from_timestamp does it in C)."""
    timestamp = ms / 1000.0
    days = int(timestamp / _DAY_SECONDS)
    seconds = int(timestamp - days * _DAY_SECONDS)
    micros_left = math.modf(timestamp)[0] * 1000000.0
    micros_left, whole = math.modf(micros_left)
    microseconds = int(whole)
    rounded = _c_round(micros_left)
    if abs(rounded - micros_left) == 0.5:
        odd = microseconds & 1
        rounded = 2.0 * _c_round((micros_left + odd) * 0.5) - odd
    microseconds += int(rounded)
    return _EPOCH + datetime.timedelta(days, seconds, microseconds)


def _datetime_pure(ms: int) -> datetime.datetime:
    """What cassandra-driver's pure-Python deserializer returns for a timestamp of ``ms``."""
    return _EPOCH + datetime.timedelta(seconds=ms / 1000.0)


# The driver reads rows with its compiled parser when it has one (cassandra.protocol.ProtocolHandler).
_driver_datetime = _datetime_compiled if HAVE_CYTHON else _datetime_pure


def _read_timestamp(value: Any) -> Any:
    if value is None:
        return None
    if _BOTH_EXACT_LOW < value < _BOTH_EXACT_HIGH:
        return value.replace(tzinfo=None)
    return _driver_datetime(_stored_ms(value))


def _timestamp_key(value: Any) -> bytes:
    return int64_pack(_stored_ms(value))


def _write_timestamp(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is datetime.datetime and value.tzinfo is None and not value.microsecond % 1000:
        return value  # whole milliseconds: acsylla binds a naive datetime as UTC, as the driver does
    # The driver's own arithmetic (float, truncated towards the epoch) decides the millisecond stored.
    ms = struct.unpack(">q", cqltypes.DateType.serialize(value, DEFAULT_PROTOCOL_VERSION))[0]
    if _MIN_MS <= ms <= _MAX_MS:
        return _EPOCH_UTC + datetime.timedelta(milliseconds=ms)
    if not ms % 1000:
        return ms // 1000  # acsylla binds an int as seconds
    raise Unsupported(f"timestamp: acsylla binds {ms} ms (outside the years 1 to 9999) only from whole seconds")


# ---------------------------------------------------------------- other scalars

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_DATE_OFFSET = 2**31  # a CQL date is the days from the epoch plus 2**31, unsigned


def _read_date(value: Any) -> Any:
    return None if value is None else util.Date(value.toordinal() - _EPOCH_ORDINAL)


def _write_date(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is datetime.date:
        days = value.toordinal() - _EPOCH_ORDINAL
    else:  # Date, an int as CQL stores it, a datetime, a 'YYYY-MM-DD' str: as the driver reads them
        days = struct.unpack(">I", cqltypes.SimpleDateType.serialize(value, DEFAULT_PROTOCOL_VERSION))[0]
        days -= _DATE_OFFSET
    return days * _DAY_SECONDS  # acsylla binds an int as seconds from the epoch; beyond datetime.date's years too


def _write_time(value: Any) -> Any:
    if value is None:
        return None
    try:
        nanos = value.nanosecond_time
    except AttributeError:
        nanos = util.Time(value).nanosecond_time
    if not 0 <= nanos < 86400 * 10**9:
        raise ValueError(f"time: {nanos} ns is not within a day")
    seconds, fraction = divmod(nanos, 10**9)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    # The only form acsylla binds with nanoseconds.
    return f"{hour:02d}:{minute:02d}:{second:02d}.{fraction:09d}"


def _write_ascii(value: Any) -> Any:
    # acsylla binds an ascii value as a C string: it would end at the first NUL (text values it binds whole).
    if isinstance(value, str) and "\x00" in value:
        raise Unsupported(f"ascii: acsylla cuts a value at its first NUL character: {value!r}")
    return value


# The first double that rounds to infinity as a float (float's largest plus half its last step).
_FLOAT_OVERFLOW = 2.0**128 - 2.0**103


def _write_float(value: Any) -> Any:
    # acsylla stores a number beyond float's range as infinity; the driver refuses it (struct's OverflowError).
    if value is not None and not -_FLOAT_OVERFLOW < value < _FLOAT_OVERFLOW and value == value \
            and value not in (math.inf, -math.inf):
        raise OverflowError("float too large to pack with f format")
    return value


def _read_uuid(value: Any) -> Any:
    return None if value is None else UUID(value)


def _read_varint(value: Any) -> Any:
    # acsylla returns an empty value as b''; the driver reads it as None.
    return int.from_bytes(value, "big", signed=True) if value else None


def _write_varint(value: Any) -> Any:
    return None if value is None else varint_pack(value)


def _write_blob(value: Any) -> Any:
    # The driver binds bytes(value) (bytearray, memoryview ...); acsylla only bytes.
    return value if value is None or type(value) is bytes else bytes(value)


def _write_inet(value: Any) -> Any:
    if value is None or isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    # The driver's own parsing (inet_aton takes '1.2.3', octal parts ...), then an address acsylla binds as is.
    return ipaddress.ip_address(cqltypes.InetAddressType.serialize(value, DEFAULT_PROTOCOL_VERSION))


_DURATION = re.compile(
    r"(-?)(?:(-?\d+)y)?(?:(-?\d+)mo)?(?:(-?\d+)w)?(?:(-?\d+)d)?(?:(-?\d+)h)?(?:(-?\d+)m)?(?:(-?\d+)s)?"
    r"(?:(-?\d+)ms)?(?:(-?\d+)us)?(?:(-?\d+)ns)?")
_NANOS = (3600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)


def _wrap(value: int, bits: int) -> int:
    """``value`` as a signed int of ``bits`` bits (two's complement, as acsylla's C code computes it)."""
    half = 1 << (bits - 1)
    return (value + half) % (1 << bits) - half


def _read_duration(value: Any) -> Any:
    if value is None:
        return None
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"duration: acsylla returned {value!r}, which is not of a known form")
    sign, years, months, weeks, days, *nanos = match.groups()
    month_count = int(years or 0) * 12 + int(months or 0)
    day_count = int(weeks or 0) * 7 + int(days or 0)
    nano_count = sum(int(n) * unit for n, unit in zip(nanos, _NANOS) if n)
    if sign:
        month_count, day_count, nano_count = -month_count, -day_count, -nano_count
    # acsylla negates the smallest int32/int64 into itself and prints it with a second '-': wrapping
    # back into the field's width undoes that.
    return util.Duration(_wrap(month_count, 32), _wrap(day_count, 32), _wrap(nano_count, 64))


def _write_duration(value: Any) -> Any:
    if value is None:
        return None
    try:
        return value.months, value.days, value.nanoseconds
    except AttributeError:
        raise TypeError("DurationType arguments must be a Duration.") from None


# ---------------------------------------------------------------- readers

def reader(cqltype: Any, protocol_version: int = DEFAULT_PROTOCOL_VERSION) -> Optional[Converter]:
    """The function turning what acsylla reads for ``cqltype`` into what cassandra-driver reads (None stays
    None), or None when acsylla's value already is. Raises :class:`Unsupported` for a type acsylla cannot
    read exactly."""
    kind = _kind(cqltype)
    if kind in _AS_IS or kind is cqltypes.BytesType or kind is cqltypes.InetAddressType:
        return None  # inet: acsylla's text is the driver's for every address checked (compression, v4-in-v6)
    if kind is cqltypes.IntegerType:
        return _read_varint
    if kind is cqltypes.UUIDType or kind is cqltypes.TimeUUIDType:
        return _read_uuid
    if kind is cqltypes.DateType:
        return _read_timestamp
    if kind is cqltypes.SimpleDateType:
        return _read_date
    if kind is cqltypes.DurationType:
        return _read_duration
    if kind is cqltypes.DecimalType:
        raise Unsupported("decimal: acsylla 1.2.0 cannot read it (decimal.InvalidOperation)")
    if kind is cqltypes.TimeType:
        raise Unsupported("time: acsylla reads it as a datetime.time, without its nanoseconds")
    if kind is cqltypes.FrozenType or kind is cqltypes.ReversedType:
        return reader(cqltype.subtypes[0], protocol_version)
    try:
        if kind is cqltypes.ListType:
            return _list_reader(cqltype, protocol_version)
        if kind is cqltypes.SetType:
            return _set_reader(cqltype, protocol_version)
        if kind is cqltypes.MapType:
            return _map_reader(cqltype, protocol_version)
        if kind is cqltypes.UserType:
            return _udt_reader(cqltype, protocol_version)
        if kind is cqltypes.TupleType:
            return _tuple_reader(cqltype, protocol_version)
    except Unsupported as exc:
        raise Unsupported(f"{_name(cqltype)}: {exc}") from None
    # A custom type (vector, composite ...): acsylla returns its serialized bytes, the driver's own
    # deserializer reads them (None or b'' reads as None, as in the driver).
    return lambda value: cqltype.from_binary(value, protocol_version)


def _list_reader(cqltype: Any, protocol_version: int) -> Optional[Converter]:
    convert = reader(cqltype.subtypes[0], protocol_version)
    if convert is None:
        return None

    def read_list(value: Any) -> Any:
        return None if value is None else [convert(item) for item in value]

    return read_list


def _hashable_as_read(cqltype: Any) -> bool:
    """Whether acsylla's value for ``cqltype`` is hashable (it builds sets and dict keys of them)."""
    kind = _kind(cqltype)
    if kind in (cqltypes.FrozenType, cqltypes.ReversedType):
        return _hashable_as_read(cqltype.subtypes[0])
    if kind in (cqltypes.ListType, cqltypes.SetType, cqltypes.MapType, cqltypes.UserType):
        return False
    if kind is cqltypes.TupleType:
        return all(_hashable_as_read(t) for t in cqltype.subtypes)
    return True


def _holds_float(cqltype: Any) -> bool:
    kind = _kind(cqltype)
    if kind in (cqltypes.FloatType, cqltypes.DoubleType):
        return True
    return kind in (cqltypes.TupleType, cqltypes.FrozenType, cqltypes.ReversedType) and \
        any(_holds_float(t) for t in cqltype.subtypes)


def _float_order(value: float) -> Any:
    # Cassandra's order: NaN last, -0.0 before 0.0.
    return (value != value, 0.0 if value != value else value, math.copysign(1.0, value))


def _order_key(cqltype: Any) -> Optional[Converter]:
    """A sort key putting the driver's values of ``cqltype`` in the server's order, where Python's order
    would differ in a way the driver's sorted set notices (NaN, null tuple members), else None."""
    kind = _kind(cqltype)
    if kind in (cqltypes.FrozenType, cqltypes.ReversedType):
        return _order_key(cqltype.subtypes[0])
    if kind in (cqltypes.FloatType, cqltypes.DoubleType):
        return _float_order
    if kind is cqltypes.TupleType:
        keys = [_order_key(t) for t in cqltype.subtypes]

        def tuple_order(value: Any) -> Any:
            # A null member sorts first (approximate for members compared differently by the server, e.g. uuids).
            return tuple((0,) if item is None else (1, item if key is None else key(item))
                         for item, key in zip(value, keys))

        return tuple_order
    return None


def _set_reader(cqltype: Any, protocol_version: int) -> Converter:
    element = cqltype.subtypes[0]
    if not _hashable_as_read(element):
        raise Unsupported(f"acsylla cannot read a set of {_name(element)} (it builds a Python set of "
                          "unhashable values)")
    convert = reader(element, protocol_version)
    order = _order_key(element)

    def read_set(value: Any) -> Any:
        if value is None:
            return None
        items = list(value) if convert is None else [convert(item) for item in value]
        # The driver fills its sorted set in the server's order; where its result depends on that order
        # (NaN, null tuple members) the same order gives the same set.
        try:
            items.sort(key=order)
        except TypeError:
            pass
        return util.SortedSet(items)

    return read_set


def _key_bytes(cqltype: Any, protocol_version: int) -> Callable[[Any, Any], bytes]:
    """How to get a map key's serialized form (the driver's maps index by it) from acsylla's value and
    the driver's: the driver's value serialized, except where that value is not exact (a timestamp's
    datetime) or acsylla's already is the form (varint)."""
    kind = _kind(cqltype)
    if kind in (cqltypes.FrozenType, cqltypes.ReversedType):
        return _key_bytes(cqltype.subtypes[0], protocol_version)
    if kind is cqltypes.DateType:
        return lambda acs, drv: _timestamp_key(acs)
    if kind is cqltypes.IntegerType:
        return lambda acs, drv: acs
    if kind is cqltypes.TupleType:
        members = [_key_bytes(t, protocol_version) for t in cqltype.subtypes]

        def tuple_bytes(acs: Any, drv: Any) -> bytes:
            parts = []
            for member, a, d in zip(members, acs, drv):
                if d is None:
                    parts.append(struct.pack(">i", -1))
                else:
                    data = member(a, d)
                    parts.append(struct.pack(">i", len(data)) + data)
            return b"".join(parts)

        return tuple_bytes
    return lambda acs, drv: cqltype.serialize(drv, protocol_version)


def _map_reader(cqltype: Any, protocol_version: int) -> Converter:
    key_type, value_type = cqltype.subtypes
    if not _hashable_as_read(key_type):
        raise Unsupported(f"acsylla cannot read a map keyed by {_name(key_type)} (it builds a dict of "
                          "unhashable keys)")
    if _holds_float(key_type):
        raise Unsupported(f"acsylla cannot read a map keyed by {_name(key_type)} exactly (-0.0 and 0.0 "
                          "are two keys in Cassandra, one in the dict it builds)")
    convert_key = reader(key_type, protocol_version)
    convert_value = reader(value_type, protocol_version)
    key_bytes = _key_bytes(key_type, protocol_version)

    def read_map(value: Any) -> Any:
        if value is None:
            return None
        # The driver's own map type, filled as its deserializer fills it (acsylla's dict is in the server's order).
        result = util.OrderedMapSerializedKey(key_type, protocol_version)
        for key, item in value.items():
            driver_key = key if convert_key is None else convert_key(key)
            result._insert_unchecked(driver_key, key_bytes(key, driver_key),
                                     item if convert_value is None else convert_value(item))
        return result

    return read_map


def _tuple_reader(cqltype: Any, protocol_version: int) -> Optional[Converter]:
    converts = [reader(t, protocol_version) for t in cqltype.subtypes]
    size = len(converts)
    if not any(converts):
        def pad_tuple(value: Any) -> Any:
            # The driver reads missing trailing members as None.
            if value is None or len(value) == size:
                return value
            return tuple(value) + (None,) * (size - len(value))

        return pad_tuple

    def read_tuple(value: Any) -> Any:
        if value is None:
            return None
        return tuple(item if convert is None else convert(item) for convert, item in zip_longest(converts, value))

    return read_tuple


def _udt_reader(cqltype: Any, protocol_version: int) -> Converter:
    fields = [(name, reader(t, protocol_version)) for name, t in zip(cqltype.fieldnames, cqltype.subtypes)]
    names = cqltype.fieldnames

    def read_udt(value: Any) -> Any:
        if value is None:
            return None
        # A field added to the type after the row was written is missing from acsylla's dict: None, as the driver.
        values = [value.get(name) if convert is None else convert(value.get(name)) for name, convert in fields]
        # As the driver: the class registered for the type when this is read, else its namedtuple, else a tuple.
        mapped = cqltype.mapped_class
        if mapped:
            return mapped(**dict(zip(names, values)))
        if cqltype.tuple_type:
            return cqltype.tuple_type(*values)
        return tuple(values)

    return read_udt


def row_reader(types: Sequence[Any], protocol_version: int = DEFAULT_PROTOCOL_VERSION
               ) -> Optional[Callable[[Sequence[Any]], tuple]]:
    """One function converting a whole row (acsylla's values, in the order of ``types``) into the driver's,
    or None when no column needs converting. Raises :class:`Unsupported` as :func:`reader` does."""
    converts = [(i, c) for i, c in enumerate(reader(t, protocol_version) for t in types) if c is not None]
    if not converts:
        return None

    def read_row(row: Sequence[Any]) -> tuple:
        values = list(row)
        for i, convert in converts:
            values[i] = convert(values[i])
        return tuple(values)

    return read_row


# ---------------------------------------------------------------- writers

def writer(cqltype: Any, protocol_version: int = DEFAULT_PROTOCOL_VERSION) -> Optional[Converter]:
    """The function turning a value cassandra-driver binds for ``cqltype`` into one acsylla binds to the same
    stored value (None stays None), or None when acsylla takes the value as it is. Raises
    :class:`Unsupported` for a type acsylla cannot bind exactly."""
    kind = _kind(cqltype)
    if kind is cqltypes.AsciiType:
        return _write_ascii
    if kind is cqltypes.FloatType:
        return _write_float
    if kind in _AS_IS or kind in (cqltypes.UUIDType, cqltypes.TimeUUIDType):
        return None
    if kind is cqltypes.BytesType:
        return _write_blob
    if kind is cqltypes.InetAddressType:
        return _write_inet
    if kind is cqltypes.IntegerType:
        return _write_varint
    if kind is cqltypes.DateType:
        return _write_timestamp
    if kind is cqltypes.SimpleDateType:
        return _write_date
    if kind is cqltypes.TimeType:
        return _write_time
    if kind is cqltypes.DurationType:
        return _write_duration
    if kind is cqltypes.DecimalType:
        raise Unsupported("decimal: acsylla 1.2.0 binds it wrongly (the text of the number as the unscaled value)")
    if kind is cqltypes.FrozenType or kind is cqltypes.ReversedType:
        return writer(cqltype.subtypes[0], protocol_version)
    try:
        if kind is cqltypes.ListType or kind is cqltypes.SetType:
            return _sequence_writer(cqltype, protocol_version)
        if kind is cqltypes.MapType:
            return _map_writer(cqltype, protocol_version)
        if kind is cqltypes.UserType:
            return _udt_writer(cqltype, protocol_version)
        if kind is cqltypes.TupleType:
            return _tuple_writer(cqltype, protocol_version)
    except Unsupported as exc:
        raise Unsupported(f"{_name(cqltype)}: {exc}") from None
    # A custom type (vector, composite ...): acsylla binds only its serialized bytes, made by the driver.
    return lambda value: None if value is None else cqltype.serialize(value, protocol_version)


def _sequence_writer(cqltype: Any, protocol_version: int) -> Optional[Converter]:
    convert = writer(cqltype.subtypes[0], protocol_version)
    if convert is None:
        return None  # acsylla takes any iterable for a list or a set, as the driver does

    def write_sequence(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            raise TypeError("Received a string for a type that expects a sequence")
        # A list, even for a set: converted elements need not be hashable.
        return [convert(item) for item in value]

    return write_sequence


def _map_writer(cqltype: Any, protocol_version: int) -> Converter:
    key_type, value_type = cqltype.subtypes
    convert_key = writer(key_type, protocol_version)
    convert_value = writer(value_type, protocol_version)

    def write_map(value: Any) -> Any:
        if value is None:
            return None
        if convert_key is None and convert_value is None and isinstance(value, dict):
            return value
        try:
            items = value.items()
        except AttributeError:
            raise TypeError("Got a non-map object for a map value") from None
        # acsylla takes a list of pairs as a map (the driver's OrderedMap it does not): keys need not be hashable.
        return [(key if convert_key is None else convert_key(key), item if convert_value is None else
                 convert_value(item)) for key, item in items]

    return write_map


def _tuple_writer(cqltype: Any, protocol_version: int) -> Optional[Converter]:
    converts = [writer(t, protocol_version) for t in cqltype.subtypes]
    if not any(converts):
        return None  # acsylla pads a shorter tuple with nulls, as the server does for the driver's

    def write_tuple(value: Any) -> Any:
        if value is None:
            return None
        if len(value) > len(converts):
            raise ValueError(f"Expected {len(converts)} items in a tuple, but got {len(value)}: {value}")
        return tuple(item if convert is None else convert(item) for item, convert in zip(value, converts))

    return write_tuple


def _udt_writer(cqltype: Any, protocol_version: int) -> Converter:
    fields = [(name, writer(t, protocol_version)) for name, t in zip(cqltype.fieldnames, cqltype.subtypes)]

    def write_udt(value: Any) -> Any:
        if value is None:
            return None
        values = []
        for i, (name, convert) in enumerate(fields):
            # As the driver reads a user-type value: by position, else by attribute.
            try:
                item = value[i]
            except TypeError:
                item = getattr(value, name, None)
            values.append(item if convert is None else convert(item))
        # By position: acsylla matches field names case-insensitively, the server does not.
        return tuple(values)

    return write_udt
