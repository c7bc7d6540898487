"""Booleans and numbers: ``Boolean``, the integers, ``Counter``, ``Float``, ``Double`` and ``Decimal``."""
from __future__ import annotations

import math
from decimal import Decimal as _Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, overload

from cqlengine import ordering
from cqlengine.columns.base import _R, Column, _fail, _is_int
from cqlengine.exceptions import ModelDefinitionException, ValidationTypeError, ValidationValueError

if TYPE_CHECKING:
    from cqlengine.columns.base import Unpack, _NoPartition, _NoPrimary, _NoRequired, _Options


class Boolean(Column[bool, _R]):
    """``boolean``. Accepts ``True``/``False`` and the ints 0 and 1; anything else is
    rejected (unlike the peer, which coerces any truthy value)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Boolean[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Boolean[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Boolean[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Boolean[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "boolean"

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        return ((bool,), None) if self._declares_plain(Boolean) else ((), None)

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, bool):
            return value
        if _is_int(value) and value in (0, 1):
            return bool(value)
        raise _fail(label, value, "is not a bool (boolean accepts True, False, 0 or 1)")

    def to_python(self, value: Any) -> Any:
        return None if value is None else bool(value)


class Integer(Column[int, _R]):
    """32-bit signed integer (``int``). Rejects bool, floats and strings."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Integer[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Integer[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Integer[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Integer[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "int"
    _bits = 32

    @property
    def min_value(self) -> int:
        return -(1 << (self._bits - 1))

    @property
    def max_value(self) -> int:
        return (1 << (self._bits - 1)) - 1

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        if self._declares_plain(Integer):
            return (int,), (self.min_value, self.max_value)
        return (), None

    def _clean(self, value: Any, label: str) -> Any:
        if not _is_int(value):
            raise _fail(label, value, f"is not an integer ({self.db_type} needs an int)")
        value = int(value)  # int subclasses (IntEnum) become plain ints
        if not self.min_value <= value <= self.max_value:
            bounds = f"({self.min_value}..{self.max_value})"
            raise _fail(label, value, f"is out of range for {self.db_type} {bounds}")
        return value

    def to_python(self, value: Any) -> Any:
        return None if value is None else int(value)


class TinyInt(Integer[_R]):
    """8-bit signed integer (``tinyint``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: TinyInt[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: TinyInt[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: TinyInt[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: TinyInt[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "tinyint"
    _bits = 8


class SmallInt(Integer[_R]):
    """16-bit signed integer (``smallint``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: SmallInt[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: SmallInt[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: SmallInt[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: SmallInt[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "smallint"
    _bits = 16


class BigInt(Integer[_R]):
    """64-bit signed integer (``bigint``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: BigInt[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: BigInt[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: BigInt[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: BigInt[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "bigint"
    _bits = 64


class Version(BigInt[Literal[False]]):
    """A row's version, for optimistic locking (``bigint``).

    A model with one writes a new instance with ``IF NOT EXISTS`` (version
    1), and a loaded one with ``IF version = <the version read>``, setting the
    next version in the same statement; a lost race raises
    :class:`~cqlengine.exceptions.VersionConflict` and leaves the instance as
    it was. See :mod:`cqlengine.lifecycle`.
    """

    is_version = True

    def __init__(self, db_field: Optional[str] = None) -> None:
        super().__init__(db_field=db_field)


class VarInt(Column[int, _R]):
    """Arbitrary-precision integer (``varint``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: VarInt[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: VarInt[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: VarInt[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: VarInt[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "varint"

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        return ((int,), None) if self._declares_plain(VarInt) else ((), None)

    def _clean(self, value: Any, label: str) -> Any:
        if not _is_int(value):
            raise _fail(label, value, "is not an integer (varint needs an int)")
        return int(value)

    def to_python(self, value: Any) -> Any:
        return None if value is None else int(value)


class Counter(BigInt[Literal[True]]):
    """64-bit counter (``counter``). Never a primary key; default 0; not indexable."""

    db_type = "counter"
    is_counter = True

    def __init__(self, **kwargs: Unpack[_Options]) -> None:
        if kwargs.get("primary_key") or kwargs.get("partition_key"):
            raise ModelDefinitionException("Counter: a counter column cannot be part of the primary key")
        if kwargs.get("index") or kwargs.get("custom_index"):
            raise ModelDefinitionException("Counter: Cassandra cannot index counter columns")
        default = kwargs.pop("default", None)
        if default not in (None, 0):
            raise ModelDefinitionException(
                f"Counter: a counter starts at 0 and cannot have default {default!r}"
            )
        super().__init__(default=0, **kwargs)  # type: ignore[call-overload]

    @property
    def can_be_key(self) -> bool:
        return False

    def to_python(self, value: Any) -> Any:
        # A counter never incremented in a row reads as null: it counts 0, as with the peer.
        return 0 if value is None else value


_FLOAT32_MAX = 3.4028234663852886e38


class Float(Column[float, _R]):
    """Single-precision float (``float``); ``Float(double_precision=True)`` is a ``double``.

    Accepts int and float (NaN and infinities included); rejects bool and
    strings. A finite value beyond the 32-bit range is rejected for ``float``.
    """

    db_type = "float"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.float_key

    @overload
    def __init__(self: Float[Literal[True]], double_precision: bool = False,
                 *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
    @overload
    def __init__(self: Float[Literal[True]], double_precision: bool = False,
                 *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
    @overload
    def __init__(self: Float[Literal[True]], double_precision: bool = False,
                 *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: Float[Literal[False]], double_precision: bool = False,
                 **kwargs: Unpack[_Options]) -> None: ...
    def __init__(self, double_precision: bool = False, **kwargs: Any) -> None:
        self.double_precision = double_precision
        if double_precision:
            self.db_type = "double"
        super().__init__(**kwargs)

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        # A float beyond the 32-bit range is refused by ``float``: only a double takes any float.
        if self.db_type == "double" and self._declares_plain(Float):
            return (float,), None
        return (), None

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(label, value, f"is not a number ({self.db_type} needs an int or float)")
        try:
            value = float(value)
        except OverflowError:
            raise _fail(label, value, f"is out of range for {self.db_type}") from None
        if self.db_type == "float" and math.isfinite(value) and abs(value) > _FLOAT32_MAX:
            raise _fail(label, value, f"is out of range for float (+-{_FLOAT32_MAX!r})")
        return value

    def to_python(self, value: Any) -> Any:
        return None if value is None else float(value)


class Double(Float[_R]):
    """Double-precision float (``double``)."""

    db_type = "double"

    @overload
    def __init__(self: Double[Literal[True]],
                 *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
    @overload
    def __init__(self: Double[Literal[True]],
                 *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
    @overload
    def __init__(self: Double[Literal[True]],
                 *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: Double[Literal[False]],
                 **kwargs: Unpack[_Options]) -> None: ...
    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("double_precision", None)
        super().__init__(double_precision=True, **kwargs)  # type: ignore[misc]


class Decimal(Column[_Decimal, _R]):
    """Arbitrary-precision decimal (``decimal``).

    Accepts ``decimal.Decimal``, int, float (via its shortest repr) and
    numeric strings; NaN and infinities are rejected (Cassandra cannot store them).
    """

    if TYPE_CHECKING:
        @overload
        def __init__(self: Decimal[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Decimal[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Decimal[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Decimal[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "decimal"

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, bool):
            raise _fail(label, value, "is not a decimal number")
        if isinstance(value, _Decimal):
            result = value
        elif isinstance(value, int):
            result = _Decimal(value)
        elif isinstance(value, float):
            result = _Decimal(repr(value))
        elif isinstance(value, str):
            try:
                result = _Decimal(value.strip())
            except InvalidOperation:
                raise _fail(label, value, "is not a decimal number") from None
        else:
            # The peer hands the value to decimal.Decimal: ValueError for a sequence, TypeError otherwise.
            error = ValidationValueError if isinstance(value, (list, tuple)) else ValidationTypeError
            raise _fail(label, value, "is not a decimal number (decimal needs Decimal, int, float or str)", error)
        if not result.is_finite():
            raise _fail(label, value, "is not finite (decimal cannot store NaN or infinity)")
        return result

    def to_database(self, value: Any) -> Any:
        if value is None or isinstance(value, _Decimal):
            return value
        return self._clean(value, self._label())

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, _Decimal):
            return value
        return _Decimal(value)
