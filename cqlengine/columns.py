"""Column types: how a Python value is validated, bound and read back.

A column knows its CQL type (``db_type`` / ``cql_type()``), cleans values
(``validate``), converts them to what cassandra-driver binds
(``to_database``) and converts what the driver returns back to what the
model holds (``to_python``). Columns do no I/O and render no statements.
"""
from __future__ import annotations

import copy
import ipaddress
import itertools
import math
import reprlib
import uuid as _uuid
from collections.abc import Mapping
from collections.abc import Set as _AbstractSet
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import time as _time
from datetime import timedelta, timezone
from decimal import Decimal as _Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Literal, Optional, TypeVar, Union, overload

from cassandra import util as _cutil

from cqlengine import ordering
from cqlengine.exceptions import (
    DefinitionValidationError,
    DefinitionValueError,
    ModelDefinitionException,
    NullKeyValue,
    ValidationAttributeError,
    ValidationError,
    ValidationTypeError,
    ValidationValueError,
)
from cqlengine.statements import SIMILARITY_FUNCTIONS
from cqlengine.statements import quote_identifier as _quote

if TYPE_CHECKING:
    import sys
    from typing import TypedDict

    from cqlengine.operators import ColumnExpression
    from cqlengine.usertype import UserType

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    class _Common(TypedDict, total=False):
        """The column options every column type takes (see ``Column``), but the three that make it required."""

        index: bool
        db_field: Optional[str]
        default: Any
        clustering_order: Optional[str]
        polymorphic_key: bool
        discriminator_column: bool
        static: bool
        custom_index: bool

    class _Options(_Common, total=False):
        primary_key: bool
        partition_key: bool
        required: bool

    class _NoPrimary(_Common, total=False):
        partition_key: bool
        required: bool

    class _NoPartition(_Common, total=False):
        primary_key: bool
        required: bool

    class _NoRequired(_Common, total=False):
        primary_key: bool
        partition_key: bool

    class _CollectionOptions(TypedDict, total=False):
        """The options of List, Set and Map (their ``default`` is a parameter of their own)."""

        frozen: bool
        primary_key: bool
        partition_key: bool
        required: bool
        index: bool
        db_field: Optional[str]
        clustering_order: Optional[str]
        static: bool
        custom_index: bool

#: The Python type of a column's values (``int`` for ``Integer``): what reading it gives, None aside.
_V = TypeVar("_V")
#: ``Literal[True]`` for a column that always holds a value (a key, or ``required=True``), else ``Literal[False]``.
_R = TypeVar("_R", bound=bool)
_E = TypeVar("_E")
_K = TypeVar("_K")
_U = TypeVar("_U", bound="UserType")
_UT = TypeVar("_UT", bound="UserType")
_C = TypeVar("_C", bound="Column[Any, Any]")

#: An element type of a collection: a column class (``Text``) or instance (``Text(max_length=5)``).
_Element = Union[Callable[[], "Column[_E, Any]"], "Column[_E, Any]"]

__all__ = [
    "Column",
    "Ascii", "Text", "Blob", "Bytes", "Boolean",
    "TinyInt", "SmallInt", "Integer", "BigInt", "VarInt", "Counter",
    "Float", "Double", "Decimal",
    "Date", "Time", "DateTime", "Duration",
    "UUID", "TimeUUID", "Inet",
    "BaseCollectionColumn", "List", "Set", "Map", "Tuple", "UserDefinedType", "Vector",
    "resolve_udts",
]

# Longest repr put into an error message: a 1 MB blob must not become a 1 MB message.
_MAX_REPR = 200

# Cassandra refuses collections larger than this (CASSANDRA-5428).
_MAX_COLLECTION_SIZE = 65535

_REPR = reprlib.Repr()
_REPR.maxlevel = 4  # a value nested thousands deep is shown without recursing through it
_REPR.maxstring = _REPR.maxother = _MAX_REPR


def _short_repr(value: Any) -> str:
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a repr of the caller's own that fails must not hide the real error
        text = f"<{type(value).__name__} object>"
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 3] + "..."
    return text


def _fail(label: str, value: Any, rule: str, error: type[ValidationError] = ValidationError) -> ValidationError:
    return error(f"{label}: {_short_repr(value)} {rule}")


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but True is almost never meant as the number 1.
    return isinstance(value, int) and not isinstance(value, bool)


class Column(Generic[_V, _R]):
    """Base class of every column type.

    Options: ``primary_key``, ``partition_key`` (implies ``primary_key``),
    ``index``, ``custom_index``, ``db_field`` (the CQL name when it differs
    from the attribute name), ``default`` (a value or a callable),
    ``required``, ``clustering_order`` (``'ASC'``/``'DESC'``),
    ``polymorphic_key`` (synonym ``discriminator_column``) and ``static``.

    Typing: ``Column[V, R]``, where ``V`` is the Python type of the values
    (``Integer`` holds ``int``, ``Set(Text)`` holds ``set[str]``,
    ``UserDefinedType(Address)`` holds ``Address``) and ``R`` is
    ``Literal[True]`` when the column always holds a value, else
    ``Literal[False]``. Reading the attribute from an instance gives ``V``
    for a column declared with ``primary_key=True``, ``partition_key=True``
    or ``required=True`` (each a literal ``True``), else ``Optional[V]``;
    collections (List, Set, Map) always read as their container (null reads
    back empty), a counter as ``int``. Reading it from the model class gives
    the ``ColumnExpression`` that queries use (``Event.seq > 3``); from a
    ``UserType`` class, the column. Limits: an option given as a ``bool``
    variable rather than the literal ``True`` reads as ``Optional[V]``; a
    primary key made so by being the first of a model without a partition
    key is not seen (declare it ``primary_key=True``); ``Date`` and ``Time``
    read as ``datetime.date`` / ``datetime.time`` although a value outside
    what those hold reads as ``cassandra.util.Date`` / ``Time``; ``Tuple``
    reads as ``tuple[Any, ...]``. Assignment (and the model's keywords)
    accept ``V`` or None, not the other forms ``validate()`` converts (a str
    for a UUID, an int for a timestamp).
    """

    db_type: str = ""
    is_counter: bool = False
    is_collection: bool = False

    # Declaration order across all columns; the model metaclass sorts by it.
    _position_counter: Iterator[int] = itertools.count()

    if TYPE_CHECKING:
        @overload
        def __get__(self: _C, instance: None, owner: type[UserType]) -> _C: ...
        @overload
        def __get__(self, instance: None, owner: Any) -> ColumnExpression: ...
        @overload
        def __get__(self: Column[_E, Literal[True]], instance: object, owner: Any) -> _E: ...
        @overload
        def __get__(self: Column[_E, Literal[False]], instance: object, owner: Any) -> Optional[_E]: ...
        def __get__(self, instance: Any, owner: Any) -> Any: ...
        def __set__(self, instance: Any, value: Optional[_V]) -> None: ...

    def __init__(
        self,
        primary_key: bool = False,
        partition_key: bool = False,
        index: bool = False,
        db_field: Optional[str] = None,
        default: Any = None,
        required: bool = False,
        clustering_order: Optional[str] = None,
        polymorphic_key: bool = False,
        discriminator_column: bool = False,
        static: bool = False,
        custom_index: bool = False,
    ) -> None:
        self.partition_key = bool(partition_key)
        self.primary_key = bool(partition_key or primary_key)
        self.index = bool(index)
        self.custom_index = bool(custom_index)
        self.db_field = db_field
        self.default = default
        self.required = bool(required)
        if clustering_order is not None and str(clustering_order).lower() not in ("asc", "desc"):
            raise ModelDefinitionException(
                f"{type(self).__name__}: clustering_order must be 'ASC' or 'DESC', got {clustering_order!r}"
            )
        self.clustering_order = clustering_order
        self.polymorphic_key = bool(polymorphic_key or discriminator_column)
        self.discriminator_column = self.polymorphic_key
        self.static = bool(static)
        if self.static and self.primary_key:
            raise ModelDefinitionException(
                f"{type(self).__name__}: a primary key column cannot be static"
            )

        self.model_name: Optional[str] = None
        self.attr_name: Optional[str] = None
        self.db_field_name: str = db_field or ""  # set by set_name()
        self.position: int = next(Column._position_counter)

    # -- binding -----------------------------------------------------------

    def set_name(self, model_name: str, attr_name: str) -> None:
        """Bind the column to its model (or UserType) and attribute name."""
        self.model_name = model_name
        self.attr_name = attr_name
        self.db_field_name = self.db_field or attr_name
        self.__dict__.pop("_label_text", None)

    def set_column_name(self, name: str) -> None:
        """Peer-compatible binding without a model name."""
        self.attr_name = name
        self.db_field_name = self.db_field or name
        self.__dict__.pop("_label_text", None)

    @property
    def column_name(self) -> Optional[str]:
        """The CQL column name (same as ``db_field_name``)."""
        return self.db_field_name

    @property
    def column(self) -> Column:
        """The column itself: the peer's class attributes wrap the column, so ported
        code spells it ``UserTypeClass.field.column``."""
        return self

    def _label(self) -> str:
        # Built for every value validated: kept until the column is (re)named.
        label = self.__dict__.get("_label_text")
        if label is None:
            if self.model_name and self.attr_name:
                label = f"{self.model_name}.{self.attr_name}"
            else:
                label = self.attr_name or type(self).__name__
            self._label_text = label
        return label  # type: ignore[no-any-return]

    # -- flags -------------------------------------------------------------

    @property
    def is_primary_key(self) -> bool:
        return self.primary_key

    @property
    def has_index(self) -> bool:
        return self.index or self.custom_index

    @property
    def can_be_key(self) -> bool:
        """Whether CQL allows this type in a primary key."""
        return True

    @property
    def can_delete(self) -> bool:
        return not self.primary_key

    @property
    def has_default(self) -> bool:
        return self.default is not None

    def get_default(self) -> Any:
        """The default value, calling the default if it is callable."""
        if self.default is None:
            return None
        if callable(self.default):
            return self.default()
        if isinstance(self.default, (list, set, dict)):
            return copy.deepcopy(self.default)  # each instance gets its own, never a shared one
        return self.default

    @property
    def sub_types(self) -> list[Column]:
        """Element columns (collections, tuples, UDT fields); empty for scalars."""
        return []

    # Python values of this column can be set elements / map keys.
    @property
    def _python_type_hashable(self) -> bool:
        return True

    # -- types -------------------------------------------------------------

    def cql_type(self) -> str:
        """The full CQL type as used in DDL."""
        return self.db_type

    def _nested_cql_type(self) -> str:
        """The CQL type when nested inside a collection, tuple or UDT (frozen if needed)."""
        return self.cql_type()

    # -- values ------------------------------------------------------------

    def validate(self, value: Any) -> Any:
        """Return the cleaned value or raise ``ValidationError``."""
        return self._validate(value, self._label())

    def _validate(self, value: Any, label: str) -> Any:
        if value is None:
            if self.primary_key:
                raise NullKeyValue(f"{label}: required, got None (a primary key column needs a value)")
            if self.required:
                raise ValidationError(f"{label}: required, got None")
            return None
        return self._clean(value, label)

    def _clean(self, value: Any, label: str) -> Any:
        """Clean a non-None value; ``label`` names it in errors. Overridden by types."""
        return value

    def to_database(self, value: Any) -> Any:
        """Python value -> value bound as a parameter by cassandra-driver."""
        return value

    def to_python(self, value: Any) -> Any:
        """Value returned by cassandra-driver -> Python value held by the model."""
        return value

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        """Values that ``validate()`` and ``to_database()`` return unchanged: their exact types, and an int range.

        Writes skip both calls for such values (the most common ones: a
        ``str`` for text, an ``int`` in range for int). Only the class that
        declares them, unchanged by a subclass, vouches for them; a column
        type that does not declare any is always called.
        """
        return (), None

    def is_plain(self, value: Any) -> bool:
        """Whether ``value`` is one this column vouches for (see ``plain_values``)."""
        plain = self.__dict__.get("_plain")
        if plain is None:
            plain = self._plain = self.plain_values()
        types, bounds = plain
        return type(value) in types and (bounds is None or bounds[0] <= value <= bounds[1])

    def database_value(self, value: Any) -> Any:
        """``to_database(validate(value))``: what the driver binds, skipping both for a plain value."""
        if self.is_plain(value):
            return value
        return self.to_database(self.validate(value))

    def compared_value(self, value: Any) -> Any:
        """What the driver binds for ``value`` compared with this column's (a filter, an ``IF`` condition).

        Its type is checked and converted as for a write, but not the rules of a value written
        (``min_length``/``max_length``, ``required``): a row may hold what this model would not write.
        """
        if self.is_plain(value):
            return value
        return self.to_database(self._compared(value, self._label()))

    def _compared(self, value: Any, label: str) -> Any:
        """``_clean`` without the rules a written value must also keep; overridden where there are such rules."""
        return self._clean(value, label)

    @property
    def binds_as_is(self) -> bool:
        """Whether ``to_database`` returns every value unchanged (this class does not convert)."""
        return type(self).to_database is Column.to_database

    def _declares_plain(self, owner: type) -> bool:
        """Whether validation and conversion are exactly ``owner``'s (not a subclass's own)."""
        cls = type(self)
        return (cls._clean is owner._clean and cls._validate is owner._validate  # type: ignore[attr-defined]
                and cls._compared is owner._compared  # type: ignore[attr-defined]
                and cls.validate is Column.validate and cls.to_database is owner.to_database)  # type: ignore[attr-defined]

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        """How change tracking copies a value it keeps, or None when the value cannot change in place.

        A collection is copied by its type (elements copied only when they can
        change in place themselves), never with ``deepcopy``.
        """
        return None

    def _val_is_null(self, value: Any) -> bool:
        """Whether ``value`` is stored as null (peer compat)."""
        return value is None

    #: Set on a column nested in a collection, tuple or user type: its values are always frozen there.
    _nested = False

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        """The sort key giving Cassandra's order of this column's bound values (None: Python's own order).

        Sets and map keys inside frozen values are bound in this order (see ``cqlengine.ordering``).
        """
        return None

    # -- misc --------------------------------------------------------------

    def __deepcopy__(self, memo: dict[int, Any]) -> Column:
        # Callables and classes are shared, not copied: a default such as
        # ``uuid.uuid4`` or a bound method must survive model inheritance.
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, val in self.__dict__.items():
            if key in ("default", "user_type") or callable(val):
                new.__dict__[key] = val
            else:
                new.__dict__[key] = copy.deepcopy(val, memo)
        return new

    def __repr__(self) -> str:
        flags = []
        if self.partition_key:
            flags.append("partition_key")
        elif self.primary_key:
            flags.append("primary_key")
        for name in ("index", "custom_index", "static", "required", "polymorphic_key"):
            if getattr(self, name):
                flags.append(name)
        if self.clustering_order:
            flags.append(f"clustering_order={self.clustering_order!r}")
        if self.db_field:
            flags.append(f"db_field={self.db_field!r}")
        if self.default is not None:
            flags.append(f"default={self.default!r}")
        name = f" {self._label()!r}" if self.attr_name else ""
        extra = (" " + " ".join(flags)) if flags else ""
        return f"<{type(self).__name__}{name} {self.cql_type()}{extra}>"


# ---------------------------------------------------------------------------
# text and bytes


class Text(Column[str, _R]):
    """UTF-8 text (``text``). ``min_length`` / ``max_length`` count characters.

    As in the peer, ``required=True`` without ``min_length`` implies
    ``min_length=1``, and a ``min_length`` above 0 refuses None. A
    ``bytearray`` is accepted and decoded (UTF-8; ASCII for ``Ascii``).
    """

    db_type = "text"
    _encoding = "utf-8"

    @overload
    def __init__(self: Text[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
    @overload
    def __init__(self: Text[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
    @overload
    def __init__(self: Text[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: Text[Literal[False]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 **kwargs: Unpack[_Options]) -> None: ...
    def __init__(
        self, min_length: Optional[int] = None, max_length: Optional[int] = None, **kwargs: Any
    ) -> None:
        if min_length is None and kwargs.get("required"):
            min_length = 1
        for opt, val in (("min_length", min_length), ("max_length", max_length)):
            if val is not None and val < 0:
                raise DefinitionValueError(f"{type(self).__name__}: {opt} must be >= 0, got {val}")
        if min_length is not None and max_length is not None and max_length < min_length:
            raise DefinitionValueError(
                f"{type(self).__name__}: max_length {max_length} is less than min_length {min_length}"
            )
        self.min_length = min_length
        self.max_length = max_length
        super().__init__(**kwargs)

    def _validate(self, value: Any, label: str) -> Any:
        if value is None and self.min_length and not (self.required or self.primary_key):
            # The peer counts None as shorter than min_length; so does a porting user's model.
            raise ValidationError(
                f"{label}: None is shorter than min_length {self.min_length} (min_length above 0 refuses None)"
            )
        return super()._validate(value, label)

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        if self.min_length is None and self.max_length is None and self._declares_plain(Text):
            return (str,), None
        return (), None

    def _clean(self, value: Any, label: str) -> Any:
        value = self._compared(value, label)
        if self.min_length is not None and len(value) < self.min_length:
            raise _fail(label, value, f"is shorter than min_length {self.min_length} (length {len(value)})")
        if self.max_length is not None and len(value) > self.max_length:
            raise _fail(label, value, f"is longer than max_length {self.max_length} (length {len(value)})")
        return value

    def _compared(self, value: Any, label: str) -> Any:
        if isinstance(value, bytearray):
            # The peer accepts a bytearray; bind it as the text it encodes.
            try:
                value = value.decode(self._encoding)
            except UnicodeDecodeError:
                raise _fail(label, value, f"is not {self._encoding} text ({self.db_type} needs a str "
                            "or the bytearray of one)", ValidationValueError) from None
        if not isinstance(value, str):
            raise _fail(label, value, f"is not a str ({self.db_type} needs a str)")
        return value


class Ascii(Text[_R]):
    """US-ASCII text (``ascii``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Ascii[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Ascii[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Ascii[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Ascii[Literal[False]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "ascii"
    _encoding = "ascii"

    def _compared(self, value: Any, label: str) -> Any:
        value = super()._compared(value, label)
        if not value.isascii():
            raise _fail(label, value, "contains non-ASCII characters (ascii allows only 0x00-0x7F)")
        return value


class Blob(Column[bytes, _R]):
    """Raw bytes (``blob``); accepts bytes, bytearray and memoryview, holds bytes."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Blob[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Blob[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Blob[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Blob[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "blob"

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        return ((bytes,), None) if self._declares_plain(Blob) else ((), None)

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, bytes):
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        raise _fail(label, value, "is not bytes (blob needs bytes, bytearray or memoryview)")

    def to_database(self, value: Any) -> Any:
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        return value


Bytes = Blob


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


# ---------------------------------------------------------------------------
# numbers


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


# ---------------------------------------------------------------------------
# dates and times

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
    def __init__(self: DateTime[Literal[True]], truncate_microseconds: bool = False,
                 *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: DateTime[Literal[False]], truncate_microseconds: bool = False,
                 **kwargs: Unpack[_Options]) -> None: ...
    def __init__(self, truncate_microseconds: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.truncate_microseconds = truncate_microseconds

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


# ---------------------------------------------------------------------------
# identifiers and addresses


class UUID(Column[_uuid.UUID, _R]):
    """UUID (``uuid``); accepts ``uuid.UUID`` or its string form."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: UUID[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: UUID[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: UUID[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: UUID[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "uuid"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.timeuuid_key if self.db_type == "timeuuid" else ordering.uuid_key

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        return ((_uuid.UUID,), None) if self._declares_plain(UUID) else ((), None)

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, _uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return _uuid.UUID(value)
            except ValueError:
                raise _fail(label, value, f"is not a valid UUID ({self.db_type})") from None
        raise _fail(label, value, f"is not a UUID ({self.db_type} needs uuid.UUID or str)")

    def to_database(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._clean(value, self._label())
        return value

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return _uuid.UUID(value)
        return value


class TimeUUID(UUID[_R]):
    """Time-based (version 1) UUID (``timeuuid``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: TimeUUID[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: TimeUUID[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: TimeUUID[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: TimeUUID[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "timeuuid"

    def _clean(self, value: Any, label: str) -> Any:
        value = super()._clean(value, label)
        if value.version != 1:
            raise _fail(
                label, value, f"is not a time-based UUID (timeuuid needs version 1, got {value.version})"
            )
        return value


class Inet(Column[str, _R]):
    """IPv4 or IPv6 address (``inet``), held as a string."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Inet[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Inet[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Inet[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Inet[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "inet"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.inet_key

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return str(value)
        if isinstance(value, str):
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise _fail(label, value, "is not an IPv4 or IPv6 address") from None
            return value
        raise _fail(label, value, "is not an IP address (inet needs a str)")

    def to_database(self, value: Any) -> Any:
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return str(value)
        return value


# ---------------------------------------------------------------------------
# collections

def _element(col_type: Any, owner: str) -> Column:
    if isinstance(col_type, type) and issubclass(col_type, Column):
        inst = col_type()
    elif isinstance(col_type, Column):
        inst = col_type
    else:
        raise DefinitionValidationError(f"{owner}: {col_type!r} is not a column type")
    if not inst.db_type and not isinstance(inst, (BaseCollectionColumn, UserDefinedType)):
        raise DefinitionValidationError(f"{owner}: {col_type!r} is an abstract column type")
    if inst.is_counter:
        raise ModelDefinitionException(f"{owner}: a counter cannot be nested in a collection, tuple or UDT")
    inst._nested = True
    return inst


class BaseCollectionColumn(Column[_V, _R]):
    """Shared base of List, Set, Map and Tuple: element columns and freezing."""

    #: The CQL kind (``list``, ``set``, ...): a subclass of the caller's own keeps it.
    kind: str = ""

    def __init__(self, types: tuple[Any, ...], frozen: bool = False, **kwargs: Any) -> None:
        self.types: list[Column] = [_element(t, type(self).__name__) for t in types]
        self.frozen = bool(frozen)
        super().__init__(**kwargs)

    @property
    def sub_types(self) -> list[Column]:
        return list(self.types)

    @property
    def can_be_key(self) -> bool:
        return self.frozen

    def _base_cql_type(self) -> str:
        inner = ", ".join(t._nested_cql_type() for t in self.types)
        return f"{self.kind or type(self).__name__.lower()}<{inner}>"

    def cql_type(self) -> str:
        base = self._base_cql_type()
        return f"frozen<{base}>" if self.frozen else base

    def _nested_cql_type(self) -> str:
        return f"frozen<{self._base_cql_type()}>"

    def _check_size(self, value: Any, label: str) -> None:
        if len(value) > _MAX_COLLECTION_SIZE:
            raise ValidationError(
                f"{label}: {len(value)} elements is more than a {self.kind or type(self).__name__.lower()} "
                f"can hold ({_MAX_COLLECTION_SIZE})"
            )

    def _val_is_null(self, value: Any) -> bool:
        # An empty non-frozen collection is stored as null.
        return value is None or (not self.frozen and len(value) == 0)

    @property
    def _bound_frozen(self) -> bool:
        """Whether values are bound as one frozen value, compared by their bytes (see ``cqlengine.ordering``)."""
        return self.frozen or self._nested


def _sequence_key(element: Column) -> Callable[[Any], Any]:
    """The key of a bound list or (sorted) set: element by element, then the shorter first."""
    key = element.order_key()
    if key is None:
        return list
    return lambda values: [key(v) for v in values]


def _require_hashable(owner: str, col: Column, role: str) -> None:
    if not col._python_type_hashable:
        raise DefinitionValidationError(
            f"{owner}: {type(col).__name__} cannot be a {role}: its Python value is not hashable "
            f"(use Tuple instead of List, or a scalar type)"
        )


def _elements_to_database(element: Column, values: Any) -> list[Any]:
    """A new list of ``values`` as the driver binds them (a list or a vector's elements)."""
    if element.binds_as_is:
        return list(values)
    conv = element.to_database
    return [conv(v) for v in values]


def _elements_to_python(element: Column, values: Any) -> list[Any]:
    """A list of what the driver read, as the model holds it."""
    if reads_driver_value_as_is(element):
        return list(values)
    conv = element.to_python
    return [conv(v) for v in values]


class List(BaseCollectionColumn[list[_E], Literal[True]]):
    """Ordered list (``list<T>``); held as a Python list.

    Empty and null are the same in Cassandra for a non-frozen list, so a null
    read back becomes ``[]``; the default is an empty list (as the peer).
    """

    kind = "list"

    is_collection = True

    def __init__(self, value_type: _Element[_E], default: Any = list, **kwargs: Unpack[_CollectionOptions]) -> None:
        super().__init__((value_type,), default=default, **kwargs)
        self.value_col = self.types[0]

    @property
    def _python_type_hashable(self) -> bool:
        return False

    def _clean(self, value: Any, label: str) -> Any:
        if not isinstance(value, (list, tuple)):
            raise _fail(label, value, "is not a list (list needs a list or tuple)", ValidationTypeError)
        self._check_size(value, label)
        out = []
        element = self.value_col
        for i, item in enumerate(value):
            if item is None:
                raise ValidationError(f"{label}[{i}]: None is not allowed in a list")
            out.append(item if element.is_plain(item) else element._clean(item, f"{label}[{i}]"))
        return out

    def to_database(self, value: Any) -> Any:
        # Always a new list: a batch sends it later, and the instance's own may change before then.
        return None if value is None else _elements_to_database(self.value_col, value)

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        inner = self.value_col.snapshot_copier()
        if inner is None:
            return list
        return lambda value: [None if v is None else inner(v) for v in value]

    def to_python(self, value: Any) -> Any:
        return [] if value is None else _elements_to_python(self.value_col, value)

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return _sequence_key(self.value_col)


class Set(BaseCollectionColumn[set[_E], Literal[True]]):
    """Set (``set<T>``); held as a Python set.

    With ``strict=False`` lists and tuples are accepted and turned into sets.
    A null read back becomes ``set()``; the default is an empty set.
    """

    kind = "set"

    is_collection = True

    def __init__(self, value_type: _Element[_E], strict: bool = True, default: Any = set,
                 **kwargs: Unpack[_CollectionOptions]) -> None:
        self.strict = strict
        super().__init__((value_type,), default=default, **kwargs)
        self.value_col = self.types[0]
        _require_hashable("Set", self.value_col, "set element")

    @property
    def _python_type_hashable(self) -> bool:
        return False

    def _clean(self, value: Any, label: str) -> Any:
        accepted: tuple[type, ...] = (_AbstractSet, _cutil.SortedSet)
        if not self.strict:
            accepted += (list, tuple)
        if not isinstance(value, accepted):
            need = "a set" if self.strict else "a set, list or tuple"
            raise _fail(label, value, f"is not a set (set needs {need})", ValidationTypeError)
        self._check_size(value, label)
        out: set[Any] = set()
        items: Any = value  # isinstance() with a runtime tuple narrows to object
        element = self.value_col
        for item in items:
            if item is None:
                raise ValidationError(f"{label} element: None is not allowed in a set")
            out.add(item if element.is_plain(item) else element._clean(item, f"{label} element"))
        return out

    def to_database(self, value: Any) -> Any:
        # Always a new set: a batch sends it later, and the instance's own may change before then.
        if value is None:
            return None
        if self.value_col.binds_as_is:
            bound = set(value)
        else:
            conv = self.value_col.to_database
            bound = {conv(v) for v in value}
        if self._bound_frozen:
            # A frozen set is compared by its bytes: bound in Cassandra's order, one value is one value
            # (a tuple, which the driver writes as a set, and which stays hashable inside a bound value).
            return tuple(sorted(bound, key=self.value_col.order_key()))
        return bound

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        return set  # elements are hashable: they do not change in place

    def to_python(self, value: Any) -> Any:
        if value is None:
            return set()
        if reads_driver_value_as_is(self.value_col):
            return set(value)
        conv = self.value_col.to_python
        return {conv(v) for v in value}

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return _sequence_key(self.value_col)


class Map(BaseCollectionColumn[dict[_K, _E], Literal[True]]):
    """Map (``map<K, V>``); held as a Python dict.

    Error labels name the key: ``Person.scores['math']`` for a value,
    ``Person.scores key`` for a key. A null read back becomes ``{}``; the
    default is an empty dict.
    """

    kind = "map"

    is_collection = True

    def __init__(self, key_type: _Element[_K], value_type: _Element[_E], default: Any = dict,
                 **kwargs: Unpack[_CollectionOptions]) -> None:
        super().__init__((key_type, value_type), default=default, **kwargs)
        self.key_col = self.types[0]
        self.value_col = self.types[1]
        _require_hashable("Map", self.key_col, "map key")

    @property
    def _python_type_hashable(self) -> bool:
        return False

    def _clean(self, value: Any, label: str) -> Any:
        if not isinstance(value, Mapping):
            raise _fail(label, value, "is not a dict (map needs a mapping)", ValidationAttributeError)
        self._check_size(value, label)
        out = {}
        key_col, value_col = self.key_col, self.value_col
        for key, item in value.items():
            if key is None:
                raise ValidationError(f"{label} key: None is not allowed as a map key")
            ckey = key if key_col.is_plain(key) else key_col._clean(key, f"{label} key")
            if item is None:
                raise ValidationError(f"{label}[{_short_repr(key)}]: None is not allowed as a map value")
            out[ckey] = item if value_col.is_plain(item) else value_col._clean(item, f"{label}[{_short_repr(key)}]")
        return out

    def to_database(self, value: Any) -> Any:
        # Always a new dict: a batch sends it later, and the instance's own may change before then.
        if value is None:
            return None
        if self.key_col.binds_as_is and self.value_col.binds_as_is:
            bound = dict(value)
        else:
            kconv, vconv = self.key_col.to_database, self.value_col.to_database
            bound = {kconv(k): vconv(v) for k, v in value.items()}
        if self._bound_frozen:
            # A frozen map is compared by its bytes: its keys bound in Cassandra's order.
            key = self.key_col.order_key()
            return dict(sorted(bound.items(), key=lambda item: item[0] if key is None else key(item[0])))
        return bound

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        inner = self.value_col.snapshot_copier()
        if inner is None:
            return dict
        return lambda value: {k: None if v is None else inner(v) for k, v in value.items()}

    def to_python(self, value: Any) -> Any:
        if value is None:
            return {}
        if reads_driver_value_as_is(self.key_col) and reads_driver_value_as_is(self.value_col):
            return dict(value)
        kconv, vconv = self.key_col.to_python, self.value_col.to_python
        return {kconv(k): vconv(v) for k, v in value.items()}

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        kkey = self.key_col.order_key() or (lambda k: k)
        vkey = self.value_col.order_key() or (lambda v: v)
        return lambda value: [(kkey(k), vkey(v)) for k, v in value.items()]


class Tuple(BaseCollectionColumn[tuple[Any, ...], _R]):
    """Fixed-length tuple (``tuple<A, B, ...>``); held as a Python tuple.

    CQL tuples are always frozen; the top-level type renders as
    ``tuple<...>`` (``frozen<tuple<...>>`` with ``frozen=True`` or when
    nested). Elements may be None. As in the peer, a value with fewer
    elements than the definition is padded with None (what Cassandra reads
    back), an empty one is null, and one with more elements is refused.
    """

    kind = "tuple"

    @overload
    def __init__(self: Tuple[Literal[True]], *types: Any, primary_key: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Tuple[Literal[True]], *types: Any, partition_key: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Tuple[Literal[True]], *types: Any, required: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Tuple[Literal[False]], *types: Any, **kwargs: Any) -> None: ...
    def __init__(self, *types: Any, **kwargs: Any) -> None:
        if not types:
            raise DefinitionValueError("Tuple: at least one element type is required")
        super().__init__(types, **kwargs)

    @property
    def can_be_key(self) -> bool:
        return True

    @property
    def _python_type_hashable(self) -> bool:
        return all(t._python_type_hashable for t in self.types)

    def _val_is_null(self, value: Any) -> bool:
        return value is None

    def _validate(self, value: Any, label: str) -> Any:
        if isinstance(value, (tuple, list)) and not value:
            value = None  # the peer writes nothing for an empty tuple: it reads back as None
        return super()._validate(value, label)

    def _clean(self, value: Any, label: str) -> Any:
        if not isinstance(value, (tuple, list)):
            raise _fail(label, value, "is not a tuple (tuple needs a tuple or list)", ValidationTypeError)
        if len(value) > len(self.types):
            raise _fail(label, value, f"has {len(value)} elements, more than the {len(self.types)} of "
                        f"{self.cql_type()}", ValidationTypeError)
        return tuple(
            None if v is None else t._clean(v, f"{label}[{i}]")
            for i, (t, v) in enumerate(zip(self.types, self._padded(value)))
        )

    def _padded(self, value: Any) -> list[Any]:
        # Cassandra reads a short tuple back with None for the missing elements.
        return list(value) + [None] * (len(self.types) - len(value))

    def to_database(self, value: Any) -> Any:
        if value is None:
            return None
        return tuple(None if v is None else t.to_database(v) for t, v in zip(self.types, self._padded(value)))

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        inner = [t.snapshot_copier() for t in self.types]
        if not any(inner):
            return None  # a tuple of values that cannot change in place
        return lambda value: tuple(v if c is None or v is None else c(v) for c, v in zip(inner, value))

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        return tuple(None if v is None else t.to_python(v) for t, v in zip(self.types, value))

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        keys = [ordering.nullable(t.order_key()) for t in self.types]
        return lambda value: tuple(key(v) for key, v in zip(keys, value))


# ---------------------------------------------------------------------------
# vectors


#: The similarity functions a vector index (and ``similarity_<name>()``) can use.
SIMILARITIES = SIMILARITY_FUNCTIONS


class Vector(Column[list[Any], _R]):
    """A fixed-length vector (``vector<float, N>``), Cassandra 5.0's type for embeddings; held as a list.

    ``dimension`` is the number of elements; ``value_type`` the element type
    (``Float`` by default; any type Cassandra allows in a vector). A value is
    a list, a tuple or another sequence of exactly ``dimension`` elements,
    such as a one-dimensional numpy array (numpy is not needed otherwise);
    it reads back as a list. No element may be None, and float elements must
    be finite (a NaN has no distance to anything).

    ``index=True`` creates a Storage-Attached Index on it, with ``similarity``
    ``"cosine"`` (the default), ``"euclidean"`` or ``"dot_product"``, which
    ``QuerySet.ann()`` orders by; Cassandra indexes vectors of ``float`` only.
    """

    @overload
    def __init__(self: Vector[Literal[True]], dimension: int, value_type: Any = ..., similarity: Optional[str] = ...,
                 *, primary_key: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Vector[Literal[True]], dimension: int, value_type: Any = ..., similarity: Optional[str] = ...,
                 *, partition_key: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Vector[Literal[True]], dimension: int, value_type: Any = ..., similarity: Optional[str] = ...,
                 *, required: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Vector[Literal[False]], dimension: int, value_type: Any = ...,
                 similarity: Optional[str] = ..., **kwargs: Any) -> None: ...
    def __init__(self, dimension: int, value_type: Any = None, similarity: Optional[str] = None,
                 **kwargs: Any) -> None:
        if not _is_int(dimension) or dimension < 1:
            raise DefinitionValueError(f"Vector: dimension must be a positive int, got {dimension!r}")
        self.dimension = dimension
        self.value_col = _element(Float if value_type is None else value_type, "Vector")
        wants_index = bool(kwargs.pop("index", False) or kwargs.get("custom_index", False))
        if similarity is not None and similarity not in SIMILARITIES:
            raise DefinitionValueError(f"Vector: similarity must be one of {', '.join(SIMILARITIES)}, "
                                       f"got {similarity!r}")
        if similarity is not None and not wants_index:
            raise DefinitionValueError("Vector: similarity= is the index's: declare index=True with it")
        if wants_index and self.value_col.cql_type() != "float":
            raise DefinitionValueError(f"Vector: Cassandra indexes vectors of float only, not of "
                                       f"{self.value_col.cql_type()}")
        # A vector is indexed by SAI alone (a legacy secondary index cannot hold one).
        kwargs["custom_index"] = wants_index
        super().__init__(**kwargs)
        self.similarity: Optional[str] = (similarity or "cosine") if wants_index else None

    @property
    def _python_type_hashable(self) -> bool:
        return False

    def cql_type(self) -> str:
        return f"vector<{self.value_col._nested_cql_type()}, {self.dimension}>"

    def index_options(self) -> dict[str, str]:
        """The options of its index (``similarity_function``); empty when it has none."""
        return {} if self.similarity is None else {"similarity_function": self.similarity}

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, (str, bytes, Mapping, _AbstractSet)) or not hasattr(value, "__len__"):
            raise _fail(label, value, f"is not a sequence ({self.cql_type()} needs a list, tuple or array)",
                        ValidationTypeError)
        if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
            value = value.tolist()  # a numpy array: its elements as Python numbers
        if len(value) != self.dimension:
            raise ValidationError(f"{label}: {len(value)} element(s) given, but {self.cql_type()} holds exactly "
                                  f"{self.dimension}")
        element = self.value_col
        finite = element.cql_type() in ("float", "double")
        out = []
        for i, item in enumerate(value):
            if item is None:
                raise ValidationError(f"{label}[{i}]: None is not allowed in a vector")
            item = element._clean(item, f"{label}[{i}]")
            if finite and not math.isfinite(item):
                raise ValidationError(f"{label}[{i}]: {item!r} is not allowed in a vector (elements must be finite)")
            out.append(item)
        return out

    def to_database(self, value: Any) -> Any:
        return None if value is None else _elements_to_database(self.value_col, value)

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        return list

    def to_python(self, value: Any) -> Any:
        return None if value is None else _elements_to_python(self.value_col, value)


# ---------------------------------------------------------------------------
# user-defined types


#: ``to_python`` functions that return what the driver reads for their CQL type unchanged
#: (it already reads ints, floats and booleans as such): reading rows skips calling them.
#: A subclass's own ``to_python`` is not in here, so it is always called.
DRIVER_VALUE_AS_IS = frozenset({Boolean.to_python, Integer.to_python, VarInt.to_python, Float.to_python})


def reads_driver_value_as_is(col: Column) -> bool:
    """Whether ``col.to_python`` returns every value the driver reads unchanged (so it can be skipped)."""
    function = getattr(col.to_python, "__func__", None)
    return function is Column.to_python or function in DRIVER_VALUE_AS_IS


class UserTypeValue:
    """A user-type value as it is bound: its fields by CQL name.

    The driver writes a value it cannot index field by field, by the names of
    the type the server has, so each value lands in its own field whatever
    the order of the model's fields. A field the model does not know reads as
    None (written as null, as for any field left unset); a field the server's
    type lacks is refused by the connection before anything is sent.
    """

    __slots__ = ("cqlengine_fields",)

    def __init__(self, fields: tuple[tuple[str, Any], ...]) -> None:
        self.cqlengine_fields = fields

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        for field_name, value in self.cqlengine_fields:
            if field_name == name:
                return value
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserTypeValue) and other.cqlengine_fields == self.cqlengine_fields

    def __hash__(self) -> int:
        return hash(self.cqlengine_fields)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{n}: {v!r}" for n, v in self.cqlengine_fields) + "}"


class UserDefinedType(Column[_U, _R]):
    """A column holding a ``UserType`` instance.

    Frozen (``frozen<...>``) by default, as in the peer: a frozen value can
    be a key, be indexed and filtered on, and hold collections.
    ``frozen=False`` asks for a non-frozen column (Cassandra 3.6+); it is
    still rendered frozen in a primary key, when nested in a collection,
    tuple or another UDT, and when the type has non-frozen collection fields
    (Cassandra refuses those in a non-frozen UDT column). In a non-frozen
    column a value whose fields are all None is stored as null, so it reads
    back as None (a frozen one reads back as written).

    A column left at the default also accepts a live non-frozen column as in
    sync (see ``compatible_cql_types``): tables created while the default was
    non-frozen keep working without a schema change.
    """

    @overload
    def __init__(self: UserDefinedType[_UT, Literal[True]], user_type: type[_UT], frozen: Optional[bool] = None,
                 *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
    @overload
    def __init__(self: UserDefinedType[_UT, Literal[True]], user_type: type[_UT], frozen: Optional[bool] = None,
                 *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
    @overload
    def __init__(self: UserDefinedType[_UT, Literal[True]], user_type: type[_UT], frozen: Optional[bool] = None,
                 *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: UserDefinedType[_UT, Literal[False]], user_type: type[_UT], frozen: Optional[bool] = None,
                 **kwargs: Unpack[_Options]) -> None: ...
    def __init__(self, user_type: type[UserType], frozen: Optional[bool] = None, **kwargs: Any) -> None:
        # duck-typed: usertype imports this module, not the other way round
        if not (isinstance(user_type, type) and hasattr(user_type, "_fields")
                and hasattr(user_type, "type_name")):
            raise ModelDefinitionException(f"UserDefinedType: {user_type!r} is not a UserType subclass")
        self.user_type = user_type
        self.frozen = True if frozen is None else bool(frozen)
        self._frozen_by_default = frozen is None
        super().__init__(**kwargs)

    @property
    def db_type(self) -> str:  # type: ignore[override]
        return self.cql_type()

    @property
    def sub_types(self) -> list[Column]:
        return list(self.user_type._fields.values())

    @property
    def _python_type_hashable(self) -> bool:
        return False

    def _must_freeze(self) -> bool:
        return self.frozen or self.primary_key or self._fields_need_freezing()

    def _fields_need_freezing(self) -> bool:
        return any(
            isinstance(f, BaseCollectionColumn) and not isinstance(f, Tuple) and not f.frozen
            for f in self.user_type._fields.values()
        )

    def _name(self) -> str:
        return _quote(self.user_type.type_name())

    def cql_type(self) -> str:
        name = self._name()
        return f"frozen<{name}>" if self._must_freeze() else name

    def compatible_cql_types(self) -> list[str]:
        """Other live column types that are in sync with this column (none but ``cql_type()``
        unless frozen is left at its default, where a non-frozen column created earlier also is)."""
        if not self._frozen_by_default or self.primary_key or self._fields_need_freezing():
            return []
        return [self._name()]

    def _nested_cql_type(self) -> str:
        return f"frozen<{self._name()}>"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        keys = [ordering.nullable(col.order_key()) for col in self.user_type._fields.values()]
        return lambda value: tuple(key(v) for key, (_, v) in zip(keys, value.cqlengine_fields))

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, Mapping):
            value = self.user_type(**value)
        if not isinstance(value, self.user_type):
            what = f"{self.user_type.__name__} (UserType {self.user_type.type_name()!r})"
            raise _fail(label, value, f"is not an instance of {what}", ValidationAttributeError)
        value._validate(label)
        return value

    def to_database(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = self.user_type(**value)
        return UserTypeValue(tuple((col.db_field_name or name, col.to_database(value[name]))
                                   for name, col in self.user_type._fields.items()))

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        copiers = {name: c for name, c in ((n, col.snapshot_copier()) for n, col in self.user_type._fields.items())
                   if c is not None}

        def copy_value(value: Any) -> Any:
            if not isinstance(value, self.user_type):
                return value  # not a user-type instance yet: validate() replaces it on save
            copied = self.user_type.__new__(self.user_type)
            copied._values = {name: v if v is None or name not in copiers else copiers[name](v)
                              for name, v in value._values.items()}
            return copied

        return copy_value

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, self.user_type):
            return value
        fields = self.user_type._fields
        raw: list[Any]
        if isinstance(value, Mapping):
            raw = [value.get(col.db_field_name, value.get(name)) for name, col in fields.items()]
        elif isinstance(value, tuple) and not hasattr(value, "_fields"):
            raw = list(value) + [None] * (len(fields) - len(value))
        else:
            # driver namedtuple or mapped object: match by CQL field name; the
            # driver renames fields that are not Python identifiers, so fall
            # back to position for those.
            raw = []
            for i, col in enumerate(fields.values()):
                name = col.db_field_name or ""
                if hasattr(value, name):
                    raw.append(getattr(value, name))
                elif isinstance(value, tuple) and i < len(value):
                    raw.append(value[i])
                else:
                    raw.append(None)
        values = {name: col.to_python(v) for (name, col), v in zip(fields.items(), raw)}
        return self.user_type(**values)


def resolve_udts(column: Column, out: Optional[list[Any]] = None) -> list[Any]:
    """Append to ``out`` (and return) every UserType used by ``column``, innermost first."""
    if out is None:
        out = []
    for sub in column.sub_types:
        resolve_udts(sub, out)
    if isinstance(column, UserDefinedType) and column.user_type not in out:
        out.append(column.user_type)
    return out

