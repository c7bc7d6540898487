"""The base of every column type: ``Column``, its options, and the helpers the types share.

Every column module builds on this one; it imports no other column module.
"""
from __future__ import annotations

import copy
import itertools
import reprlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, Literal, Optional, Protocol, TypeVar, overload

from cqlengine.exceptions import ModelDefinitionException, NullKeyValue, ValidationError

if TYPE_CHECKING:
    import sys
    from typing import TypedDict

    from cqlengine.operators import ColumnExpression

    # Re-exported ("as"): the column modules type their options with it.
    if sys.version_info >= (3, 11):
        from typing import Unpack as Unpack
    else:
        from typing_extensions import Unpack as Unpack

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
_C = TypeVar("_C", bound="Column[Any, Any]")

# Longest repr put into an error message: a 1 MB blob must not become a 1 MB message.
_MAX_REPR = 200

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


class UserTypeLike(Protocol):
    """What columns use of a user type: a ``cqlengine.usertype.UserType`` subclass and its instances.

    ``usertype`` builds on columns, so columns name user types by this shape, never by importing it.
    """

    _fields: ClassVar[OrderedDict[str, Column[Any, Any]]]
    _values: dict[str, Any]

    def __init__(self, **values: Any) -> None: ...

    @classmethod
    def type_name(cls) -> str: ...

    def _validate(self, label: str) -> None: ...

    def __getitem__(self, key: str) -> Any: ...


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
    #: A row version for optimistic locking (``columns.Version``; see :mod:`cqlengine.lifecycle`).
    is_version: bool = False
    #: Set on every write of an instance (``auto_now``), or when a new one is first saved (``auto_now_add``).
    auto_now: bool = False
    auto_now_add: bool = False

    # Declaration order across all columns; the model metaclass sorts by it. Not annotated: the annotations of a
    # column class are resolved in cqlengine.columns (its __module__), which does not import typing's names.
    _position_counter = itertools.count()

    if TYPE_CHECKING:
        @overload
        def __get__(self: _C, instance: None, owner: type[UserTypeLike]) -> _C: ...
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
