"""Collections: ``List``, ``Set``, ``Map`` and ``Tuple``, and the element columns they hold."""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as _AbstractSet
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypeVar, Union, overload

from cassandra import util as _cutil

from cqlengine import ordering
from cqlengine.columns.base import _E, _R, _V, Column, _fail, _short_repr
from cqlengine.columns.driver_values import reads_driver_value_as_is
from cqlengine.exceptions import (
    DefinitionValidationError,
    DefinitionValueError,
    ModelDefinitionException,
    ValidationAttributeError,
    ValidationError,
    ValidationTypeError,
)

if TYPE_CHECKING:
    from cqlengine.columns.base import Unpack, _CollectionOptions

_K = TypeVar("_K")

#: An element type of a collection: a column class (``Text``) or instance (``Text(max_length=5)``).
_Element = Union[Callable[[], "Column[_E, Any]"], "Column[_E, Any]"]

# Cassandra refuses collections larger than this (CASSANDRA-5428).
_MAX_COLLECTION_SIZE = 65535


def _element(col_type: Any, owner: str) -> Column:
    if isinstance(col_type, type) and issubclass(col_type, Column):
        inst = col_type()
    elif isinstance(col_type, Column):
        inst = col_type
    else:
        raise DefinitionValidationError(f"{owner}: {col_type!r} is not a column type")
    # A collection renders its type from its elements; a user-defined type's db_type is never empty.
    if not inst.db_type and not isinstance(inst, BaseCollectionColumn):
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
