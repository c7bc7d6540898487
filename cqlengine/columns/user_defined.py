"""User-defined types: the ``UserDefinedType`` column and the values it binds."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypeVar, overload

from cqlengine import ordering
from cqlengine.columns.base import _R, Column, UserTypeLike, _fail
from cqlengine.columns.collection_types import BaseCollectionColumn, Tuple
from cqlengine.exceptions import ModelDefinitionException, ValidationAttributeError
from cqlengine.statements import quote_identifier as _quote

if TYPE_CHECKING:
    from cqlengine.columns.base import Unpack, _NoPartition, _NoPrimary, _NoRequired, _Options

_U = TypeVar("_U", bound=UserTypeLike)
_UT = TypeVar("_UT", bound=UserTypeLike)


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
    def __init__(self, user_type: type[UserTypeLike], frozen: Optional[bool] = None, **kwargs: Any) -> None:
        # duck-typed (the shape UserTypeLike declares): usertype imports this module, not the other way round
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


def resolve_udts(column: Column, out: Optional[list[type[UserTypeLike]]] = None) -> list[type[UserTypeLike]]:
    """Append to ``out`` (and return) every UserType used by ``column``, innermost first."""
    if out is None:
        out = []
    for sub in column.sub_types:
        resolve_udts(sub, out)
    if isinstance(column, UserDefinedType) and column.user_type not in out:
        out.append(column.user_type)
    return out

