"""Dates and times: ``DateTime`` (``timestamp``), ``Date``, ``Time`` and ``Duration``."""
from __future__ import annotations

from datetime import date as _date
from datetime import datetime as _datetime
from datetime import time as _time
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union, overload

from cassandra import util as _cutil

from cqlengine import ordering
from cqlengine.columns.base import _R, Column, _fail, _is_int
from cqlengine.exceptions import ModelDefinitionException, ValidationTypeError, ValidationValueError

if TYPE_CHECKING:
    from cqlengine.columns.base import Unpack, _NoPartition, _NoPrimary, _NoRequired, _Options

_EPOCH = _datetime(1970, 1, 1)


def _naive_utc(value: _datetime) -> _datetime:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.replace(tzinfo=None)


class DateTime(Column[_datetime, _R]):
    """Timestamp (``timestamp``).

    Naive datetimes are taken as UTC; aware ones are converted to UTC; a
    ``datetime.date`` means midnight UTC; an int or float is seconds since
    1970-01-01 UTC (as the peer reads it). Values are held and read back as
    naive UTC datetimes. Cassandra stores milliseconds, so microseconds are
    truncated on the way to the database; ``truncate_microseconds=True``
    truncates them on assignment too, so that a value compares equal to what
    reads back.
    """

    db_type = "timestamp"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.timestamp_key

    @overload
    def __init__(self: DateTime[Literal[True]], truncate_microseconds: bool = False,
                 *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
    @overload
    def __init__(self: DateTime[Literal[True]], truncate_microseconds: bool = False,
                 *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
    @overload
    def __init__(self: DateTime[Literal[True]], truncate_microseconds: bool = False, auto_now: bool = False,
                 auto_now_add: bool = False, *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: DateTime[Literal[False]], truncate_microseconds: bool = False, auto_now: bool = False,
                 auto_now_add: bool = False, **kwargs: Unpack[_Options]) -> None: ...
    def __init__(self, truncate_microseconds: bool = False, auto_now: bool = False, auto_now_add: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.truncate_microseconds = truncate_microseconds
        self.auto_now = bool(auto_now)
        self.auto_now_add = bool(auto_now_add)
        if (self.auto_now or self.auto_now_add) and self.primary_key:
            raise ModelDefinitionException("DateTime: auto_now/auto_now_add cannot be on a primary key column")
        if self.auto_now and self.auto_now_add:
            raise ModelDefinitionException("DateTime: auto_now and auto_now_add exclude each other (auto_now "
                                           "already sets the value when the row is created)")

    def _clean(self, value: Any, label: str) -> Any:
        if _is_int(value) or isinstance(value, float):
            try:
                value = _from_epoch_seconds(value)
            except (OverflowError, ValueError):
                raise _fail(label, value, "is out of range for timestamp (seconds since 1970-01-01 UTC, "
                            "years 1..9999)", ValidationValueError) from None
        if isinstance(value, _datetime):
            value = _naive_utc(value)
            if self.truncate_microseconds:
                value = value.replace(microsecond=value.microsecond // 1000 * 1000)
            return value
        if isinstance(value, _date):
            return _datetime(value.year, value.month, value.day)
        raise _fail(label, value, "is not a datetime (timestamp needs a datetime, date or int/float seconds "
                    "since the epoch)", ValidationTypeError)

    def to_database(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, _datetime):
            value = _naive_utc(value)
        elif isinstance(value, _date):
            value = _datetime(value.year, value.month, value.day)
        elif _is_int(value) or isinstance(value, float):
            value = self._clean(value, self._label())  # seconds, as validate() reads them
        else:
            return value
        # Truncate to the millisecond here: the driver rounds toward zero, which
        # would round pre-1970 values up.
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if type(value) is _datetime and value.tzinfo is None and not value.microsecond % 1000:
            return value  # what the driver reads: naive UTC, and already whole milliseconds
        if isinstance(value, _datetime):
            value = _naive_utc(value)
            # The driver turns the stored milliseconds into a datetime through a float, which is a few
            # microseconds off far from 1970 (2243-01-01 00:00:00.001 comes back as ...000999). The
            # stored value is whole milliseconds: round to the nearest one.
            micros = (value - _EPOCH) // timedelta(microseconds=1)
            return _EPOCH + timedelta(milliseconds=(micros + 500) // 1000)
        if isinstance(value, _date):
            return _datetime(value.year, value.month, value.day)
        if isinstance(value, (int, float)):
            # peer compat: a number read back is seconds since the epoch
            return _from_epoch_seconds(value)
        return value


def _from_epoch_seconds(value: Union[int, float]) -> _datetime:
    """Naive UTC datetime of ``value`` seconds since the epoch (rounded to the microsecond).

    Raises OverflowError or ValueError (NaN) when there is no such datetime.
    """
    return _EPOCH + timedelta(seconds=value)


_DATE_MIN_DAYS = -(1 << 31)
_DATE_MAX_DAYS = (1 << 31) - 1


def _plain_date(value: _cutil.Date) -> Union[_date, _cutil.Date]:
    # util.Date spans a wider range than datetime.date; keep it when it must.
    try:
        return value.date()
    except ValueError:
        return value


class Date(Column[_date, _R]):
    """Calendar date (``date``).

    Accepts ``datetime.date``, a datetime (its date), ``cassandra.util.Date``
    and ints (days since 1970-01-01, as the peer). Held as ``datetime.date``,
    or as ``cassandra.util.Date`` outside the years 1..9999.
    """

    if TYPE_CHECKING:
        @overload
        def __init__(self: Date[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Date[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Date[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Date[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "date"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.date_key

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, _datetime):
            return value.date()
        if isinstance(value, _date):
            return value
        if isinstance(value, _cutil.Date):
            return _plain_date(value)
        if _is_int(value):
            if not _DATE_MIN_DAYS <= value <= _DATE_MAX_DAYS:
                bounds = f"({_DATE_MIN_DAYS}..{_DATE_MAX_DAYS} days)"
                raise _fail(label, value, f"is out of range for date {bounds}")
            return _plain_date(_cutil.Date(int(value)))
        raise _fail(
            label, value, "is not a date (date needs a date, datetime, cassandra.util.Date or int days)",
            ValidationValueError if isinstance(value, str) else ValidationTypeError,
        )

    def to_database(self, value: Any) -> Any:
        if isinstance(value, _datetime):
            return value.date()
        if _is_int(value):
            # the driver would take a bare int as the raw unsigned wire value
            return _cutil.Date(int(value))
        return value

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, _cutil.Date):
            return _plain_date(value)
        if isinstance(value, _datetime):
            return value.date()
        if _is_int(value):
            return _plain_date(_cutil.Date(value))
        return value


_NANOS_PER_DAY = 86_400 * 10**9


def _plain_time(value: _cutil.Time) -> Union[_time, _cutil.Time]:
    # datetime.time holds microseconds; keep util.Time when nanoseconds would be lost.
    if value.nanosecond_time % 1000:
        return value
    return value.time()


class Time(Column[_time, _R]):
    """Time of day (``time``), nanosecond precision, no time zone.

    Accepts naive ``datetime.time``, ``cassandra.util.Time`` and ints
    (nanoseconds since midnight). Held as ``datetime.time``, or as
    ``cassandra.util.Time`` when it has sub-microsecond digits.
    """

    if TYPE_CHECKING:
        @overload
        def __init__(self: Time[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Time[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Time[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Time[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "time"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.time_key

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, _time):
            if value.tzinfo is not None:
                raise _fail(label, value, "has a time zone (time columns are time-zone naive)")
            return value
        if isinstance(value, _cutil.Time):
            return _plain_time(value)
        if _is_int(value):
            if not 0 <= value < _NANOS_PER_DAY:
                raise _fail(label, value, f"is out of range for time (0..{_NANOS_PER_DAY - 1} ns)",
                            ValidationValueError)
            return _plain_time(_cutil.Time(int(value)))
        raise _fail(label, value, "is not a time (time needs a datetime.time, cassandra.util.Time or int ns)",
                    ValidationValueError if isinstance(value, str) else ValidationTypeError)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, _cutil.Time):
            return _plain_time(value)
        if _is_int(value):
            return _plain_time(_cutil.Time(value))
        return value


def _duration_from_timedelta(value: timedelta) -> _cutil.Duration:
    micros = value // timedelta(microseconds=1)
    sign = -1 if micros < 0 else 1
    days, rest = divmod(abs(micros), 86_400 * 10**6)
    # Cassandra wants every component to carry the same sign.
    return _cutil.Duration(0, sign * days, sign * rest * 1000)


class Duration(Column[_cutil.Duration, _R]):
    """Duration (``duration``): ``cassandra.util.Duration`` (months, days, nanoseconds).

    A ``datetime.timedelta`` is accepted and converted (days + nanoseconds).
    """

    if TYPE_CHECKING:
        @overload
        def __init__(self: Duration[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Duration[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Duration[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Duration[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "duration"

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, _cutil.Duration):
            return value
        if isinstance(value, timedelta):
            return _duration_from_timedelta(value)
        raise _fail(label, value, "is not a duration (duration needs cassandra.util.Duration or timedelta)",
                    ValidationTypeError)

    def to_database(self, value: Any) -> Any:
        if isinstance(value, timedelta):
            return _duration_from_timedelta(value)
        return value

    @property
    def can_be_key(self) -> bool:
        # Cassandra refuses duration in primary keys (it has no total order).
        return False
