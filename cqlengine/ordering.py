"""Cassandra's own order of values, as Python sort keys.

A frozen collection (a frozen column, or any set or map nested in a
collection, tuple or user type) is compared by its serialised bytes, and
Cassandra does not re-sort what a client binds: a set bound as ``{9, 1}``
and one bound as ``{1, 9}`` would be two values, two rows, and a filter on
one misses the other. Values bound here are put in the order Cassandra keeps
them in (the order a CQL literal or JSON gets), which for some types is not
Python's: these keys give it. Each takes a value as it is bound (after
``Column.to_database``).
"""
from __future__ import annotations

import datetime
import ipaddress
import math
import uuid
from typing import Any

from cassandra import util as _cutil

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def float_key(value: float) -> tuple[bool, float, float]:
    """``float``/``double``: Java's ``Float.compare`` (-0.0 before 0.0, NaN last)."""
    return (math.isnan(value), 0.0 if math.isnan(value) else value, math.copysign(1.0, value))


def uuid_key(value: uuid.UUID) -> tuple[int, int, int]:
    """``uuid``: by version, then time for version 1, else the high bits unsigned; then the low bits."""
    if value.version == 1:
        return (1, value.time, _signed_bytes(value))
    return (value.version or 0, value.int >> 64, value.int & (2**64 - 1))


def timeuuid_key(value: uuid.UUID) -> tuple[int, int]:
    """``timeuuid``: by time, then the clock sequence and node as signed bytes."""
    return (value.time, _signed_bytes(value))


def _signed_bytes(value: uuid.UUID) -> int:
    # Cassandra compares the low 8 bytes byte by byte as signed: flipping each byte's top bit
    # turns that into an unsigned comparison of the whole.
    return int.from_bytes(bytes(b ^ 0x80 for b in value.bytes[8:]), "big")


def inet_key(value: Any) -> bytes:
    """``inet``: the address bytes, unsigned (every IPv4 address before any IPv6 one of the same start)."""
    return ipaddress.ip_address(value).packed


def date_key(value: Any) -> int:
    """``date``: days since the epoch."""
    if isinstance(value, _cutil.Date):
        return int(value.days_from_epoch)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return int(value.toordinal() - _EPOCH_ORDINAL)


def time_key(value: Any) -> int:
    """``time``: nanoseconds since midnight."""
    if isinstance(value, _cutil.Time):
        return int(value.nanosecond_time)
    if isinstance(value, datetime.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 10**9 + value.microsecond * 1000
    return int(value)


def timestamp_key(value: Any) -> Any:
    """``timestamp``: milliseconds since the epoch (a naive datetime is UTC)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return (value - datetime.datetime(1970, 1, 1)) // datetime.timedelta(milliseconds=1)
    if isinstance(value, datetime.date):
        return (value.toordinal() - _EPOCH_ORDINAL) * 86_400_000
    return value


def nullable(key: Any) -> Any:
    """A key for a tuple or user-type field, which may be null: null first, as Cassandra has it."""
    if key is None:
        return lambda value: (0,) if value is None else (1, value)
    return lambda value: (0,) if value is None else (1, key(value))
