"""User-defined types (CQL ``CREATE TYPE``) declared as Python classes.

    class Address(UserType):
        street = columns.Text()
        zipcode = columns.Integer()

    class Person(Model):
        id = columns.UUID(primary_key=True)
        home = columns.UserDefinedType(Address)
"""
from __future__ import annotations

import copy
import re
from collections import OrderedDict
from typing import Any, ClassVar, Iterator, Optional

from cqlengine.columns import Column, UserDefinedType
from cqlengine.exceptions import ModelDefinitionException, ValidationError

__all__ = ["UserType"]

# Native CQL type names cannot name a user type.
_NATIVE_TYPE_NAMES = frozenset(
    "ascii bigint blob boolean counter date decimal double duration float inet int "
    "smallint text time timestamp timeuuid tinyint uuid varchar varint "
    "list set map tuple frozen".split()
)

_CAMEL = re.compile(r"([a-z])([A-Z])")


def _derived_type_name(class_name: str) -> str:
    # Same rule as the peer so ported types keep their CQL names:
    # "lowerUpper" boundaries get an underscore, then lower-case, at most 48
    # characters (Cassandra's limit), no leading underscores.
    name = _CAMEL.sub(r"\1_\2", class_name)[-48:].lower()
    return name.lstrip("_")


class _FieldDescriptor:
    """Instance attribute backed by ``_values``; on the class it returns the column."""

    def __init__(self, name: str, column: Column) -> None:
        self.name = name
        self.column = column

    def __get__(self, instance: Optional[UserType], owner: type) -> Any:
        if instance is None:
            return self.column
        return instance._values[self.name]

    def __set__(self, instance: UserType, value: Any) -> None:
        instance._values[self.name] = value


class UserTypeMeta(type):
    """Collects Column attributes into ``_fields`` in declaration order."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> UserTypeMeta:
        fields: OrderedDict[str, Column] = OrderedDict()
        # Inherited fields first (bases in order, the first defining a name wins, as for
        # models), copied so each subclass binds its own columns.
        for base in bases:
            for fname, col in getattr(base, "_fields", {}).items():
                if fname not in fields:
                    fields[fname] = copy.deepcopy(col)

        own = sorted(
            ((k, v) for k, v in attrs.items() if isinstance(v, Column)),
            key=lambda kv: kv[1].position,
        )
        for fname, col in own:
            if fname in _RESERVED_NAMES:
                raise ModelDefinitionException(
                    f"{name}.{fname}: field name conflicts with a UserType attribute or method"
                )
            if col.is_counter:
                raise ModelDefinitionException(f"{name}.{fname}: a UserType field cannot be a counter")
            if isinstance(col, UserDefinedType):
                # CQL requires a UDT nested in another UDT to be frozen.
                col.frozen = True
            del attrs[fname]
            fields[fname] = col

        cls = super().__new__(mcs, name, bases, attrs)

        db_map: dict[str, str] = {}
        for fname, col in fields.items():
            col.set_name(name, fname)
            col._nested = True  # a user-type value is bound whole: its sets and maps in Cassandra's order
            setattr(cls, fname, _FieldDescriptor(fname, col))
            db_name = col.db_field_name or fname
            if db_name in db_map or (db_name != fname and db_name in fields):
                raise ModelDefinitionException(
                    f"{name}.{fname}: CQL field name {db_name!r} is used by another field"
                )
            db_map[db_name] = fname
        cls._fields = fields  # type: ignore[attr-defined]
        cls._db_map = db_map  # type: ignore[attr-defined]

        if fields:
            tname = cls.type_name()  # type: ignore[attr-defined]
            if tname in _NATIVE_TYPE_NAMES:
                raise ModelDefinitionException(f"{name}: {tname!r} is a native CQL type name")
        return cls


class UserType(metaclass=UserTypeMeta):
    """Base class of user-defined types. Declare fields as Column attributes.

    ``__type_name__`` sets the CQL type name (lower-cased, as the peer);
    otherwise it is derived from the class name (``HomeAddress`` ->
    ``home_address``). ``__keyspace__`` optionally pins the keyspace.
    Instances take field values as keywords and offer attribute and
    mapping-style access. They are mutable and therefore not hashable.
    """

    __type_name__: ClassVar[Optional[str]] = None
    __keyspace__: ClassVar[Optional[str]] = None

    # _fields, _values, type_name(), _validate() and item access are what columns.UserDefinedType uses
    # (its UserTypeLike protocol): type checkers refuse UserDefinedType(SomeUserType) if they change.
    _fields: ClassVar[OrderedDict[str, Column]]
    _db_map: ClassVar[dict[str, str]]

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, **values: Any) -> None:
        self._values: dict[str, Any] = {}
        given: dict[str, Any] = {}
        for key, value in values.items():
            name = key if key in self._fields else self._db_map.get(key)
            if name is None:
                known = ", ".join(self._fields) or "none"
                raise ValidationError(
                    f"{type(self).__name__}: unknown field {key!r} (fields: {known})"
                )
            given[name] = value
        for name, col in self._fields.items():
            value = given[name] if name in given else col.get_default()
            if value is None and col.is_collection:
                value = col.to_python(None)  # the empty collection a null field reads back as, as the peer
            self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        # Reached only for a name not found the usual way: a field's CQL name (db_field) reads the
        # field, as with the peer.
        if not name.startswith("_"):
            field = type(self)._db_map.get(name)
            if field is not None and field != name:
                return self._values[field]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def type_name(cls) -> str:
        """The CQL name of this type."""
        explicit = cls.__dict__.get("__type_name__")
        if explicit:
            return str(explicit).lower()
        return _derived_type_name(cls.__name__)

    def validate(self) -> None:
        """Validate and clean every field in place; errors name ``TypeName.field``."""
        self._validate(type(self).__name__)

    def _validate(self, label: str) -> None:
        cleaned = {
            name: col._validate(self._values[name], f"{label}.{name}") for name, col in self._fields.items()
        }
        self._values.update(cleaned)

    # -- mapping-style access -----------------------------------------------

    def _field_for(self, key: Any) -> str:
        if isinstance(key, str):
            if key in self._fields:
                return key
            if key in self._db_map:
                return self._db_map[key]
        raise KeyError(key)

    def __getitem__(self, key: str) -> Any:
        return self._values[self._field_for(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[self._field_for(key)] = value

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def keys(self) -> list[str]:
        return list(self._fields)

    def values(self) -> list[Any]:
        return [self._values[k] for k in self._fields]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, self._values[k]) for k in self._fields]

    # -- comparison and display ---------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UserType):
            return NotImplemented
        return type(self) is type(other) and self._values == other._values

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.items())
        return f"{type(self).__name__}({body})"


_RESERVED_NAMES = frozenset(
    name for name in dir(UserType) if not name.startswith("__")
) | {"_values", "_fields", "_db_map"}
