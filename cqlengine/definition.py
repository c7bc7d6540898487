"""The table definition: a model class is read once, by :class:`ModelMetaClass`, into it.

The metaclass takes the class's column attributes (and its bases'), checks
the definition (keys, indexes, counters, statics, polymorphism) and puts a
descriptor in place of each column: on an instance it reads and writes the
instance's values, on the class it builds filter expressions.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Protocol

from cqlengine.columns import Column, UserDefinedType
from cqlengine.exceptions import CQLEngineException, ModelDefinitionException, ValidationError
from cqlengine.exceptions import DoesNotExist as _DoesNotExist
from cqlengine.exceptions import MultipleObjectsReturned as _MultipleObjectsReturned
from cqlengine.operators import ColumnExpression

__all__ = ["ModelDefinition", "ModelMetaClass"]


class _Instance(Protocol):
    """What a column descriptor reads and writes of a model instance."""

    _partition_keys: ClassVar[dict[str, Column]]
    _values: dict[str, Any]
    _defaulted: Optional[set[str]]
    _loaded: Optional[dict[str, Any]]


class _Unknown:
    """The loaded value of a column that was not read (only/defer) but has been assigned."""

    def __eq__(self, other: Any) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "<unknown>"


_UNKNOWN = _Unknown()


class _ColumnDescriptor:
    """Instance attribute backed by ``_values``; at class level an expression builder."""

    def __init__(self, attr: str, column: Column) -> None:
        self.attr = attr
        self.column = column
        self.expression = ColumnExpression(attr, column)

    def __get__(self, instance: Optional[_Instance], owner: type) -> Any:
        if instance is None:
            return self.expression
        return instance._values.get(self.attr)

    def __set__(self, instance: _Instance, value: Any) -> None:
        instance._values[self.attr] = value
        defaulted = instance._defaulted
        if defaulted:
            defaulted.discard(self.attr)
        loaded = instance._loaded
        if loaded is not None and self.attr not in loaded:
            # Not read (only/defer): whatever is assigned is a change, None included.
            loaded[self.attr] = _UNKNOWN

    def __delete__(self, instance: _Instance) -> None:
        if self.column.primary_key:
            # A row cannot exist without its key: refused as the peer does, with AttributeError.
            raise AttributeError(f"{type(instance).__name__}.{self.attr}: a primary key column cannot be "
                                 f"deleted (value {instance._values.get(self.attr)!r})")
        self.__set__(instance, None)


class _PartitionKeyDescriptor:
    """``pk``: the partition key, a value (one column) or a tuple of values (composite).

    On the class, a one-column partition key gives that column's expression
    (``Model.pk == v``); a composite one gives this descriptor. A column
    named ``pk`` replaces it in its model.
    """

    def __get__(self, instance: Optional[_Instance], owner: Any) -> Any:
        keys = list(owner._partition_keys)
        if instance is None:
            return getattr(owner, keys[0]) if len(keys) == 1 else self
        if not keys:
            return None  # an abstract model
        if len(keys) == 1:
            return instance._values.get(keys[0])
        return tuple(instance._values.get(k) for k in keys)

    def __set__(self, instance: _Instance, value: Any) -> None:
        keys = list(type(instance)._partition_keys)
        if len(keys) == 1:
            setattr(instance, keys[0], value)
            return
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != len(keys):
            raise ValidationError(f"{type(instance).__name__}.pk: {value!r} is not a sequence of {len(keys)} "
                                  f"values, one per partition key column ({', '.join(keys)})")
        for key, item in zip(keys, value):
            setattr(instance, key, item)

    def __delete__(self, instance: _Instance) -> None:
        raise AttributeError(f"{type(instance).__name__}.pk: the partition key cannot be deleted")


class DefinedClass(Protocol):
    """What a definition reads of its model class, whose attributes may change after it is made
    (``__keyspace__``, ``__connection__``, ``__options__``: tests and contexts set them)."""

    __abstract__: bool
    __connection__: Optional[str]
    __options__: dict[str, Any]
    __default_ttl__: Optional[int]

    def _raw_column_family_name(self) -> str: ...

    def _get_keyspace(self, connection_name: Optional[str] = None) -> Optional[str]: ...


@dataclass(eq=False)
class ModelDefinition:
    """A model's table definition, ``Model._meta``: read once from the class when it is made.

    Management, named tables, scans, bulk writes, mirroring and migrations read a
    model through it. The model class also holds its dicts under the private
    names the peer's users reach for (``_columns``, ``_primary_keys``,
    ``_partition_keys``, ``_clustering_keys``, ``_db_map``): the same objects,
    not copies, read directly by the instance code's hot paths.
    """

    model: DefinedClass
    name: str
    #: attribute -> column, in declaration order (inherited columns first).
    columns: dict[str, Column]
    partition_keys: dict[str, Column]
    clustering_keys: dict[str, Column]
    #: The partition keys, then the clustering keys.
    primary_keys: dict[str, Column]
    #: CQL column name -> attribute.
    db_map: dict[str, str]
    abstract: bool
    #: The attribute of the polymorphic key (discriminator) column, if any.
    discriminator: Optional[str]
    #: Whether this model declares the polymorphic key column itself (the base of a family).
    is_polymorphic_base: bool
    #: The value marking this model's rows in a polymorphic family (``__polymorphic_key__``).
    polymorphic_key: Any
    #: The base of this model's polymorphic family (set once the class exists).
    polymorphic_base: Any = None

    @property
    def has_counter(self) -> bool:
        return any(c.is_counter for c in self.columns.values())

    @property
    def version_column(self) -> Optional[str]:
        """The attribute of the model's ``columns.Version`` (None: no optimistic locking)."""
        return next((k for k, c in self.columns.items() if c.is_version), None)

    @property
    def audit_columns(self) -> tuple[str, ...]:
        """The attributes of its ``auto_now``/``auto_now_add`` columns."""
        return tuple(k for k, c in self.columns.items() if c.auto_now or c.auto_now_add)

    @property
    def is_polymorphic(self) -> bool:
        return self.discriminator is not None

    @property
    def discriminator_column(self) -> Optional[Column]:
        return None if self.discriminator is None else self.columns[self.discriminator]

    @property
    def indexes(self) -> list[tuple[str, Column]]:
        """(attribute, column) of each indexed column (``index=True`` or ``custom_index``)."""
        return [(k, c) for k, c in self.columns.items() if c.index or c.custom_index]

    @property
    def connection(self) -> Optional[str]:
        """The connection name the model lives on (None: the default one)."""
        return self.model.__connection__

    @property
    def options(self) -> dict[str, Any]:
        """The table options ``sync_table`` sets (``__options__``)."""
        return self.model.__options__

    @property
    def default_ttl(self) -> Optional[int]:
        return self.model.__default_ttl__

    def table_name(self) -> str:
        """The table's name, unquoted."""
        return self.model._raw_column_family_name()

    def keyspace(self, connection_name: Optional[str] = None) -> Optional[str]:
        """The keyspace: the model's own, else the connection's default (None: neither is set)."""
        return self.model._get_keyspace(connection_name)

    def table_columns(self) -> dict[str, Column]:
        """CQL name -> column for the whole table: a polymorphic family's union."""
        base = self.polymorphic_base
        definitions = [m._meta for m in base._family] if base is not None else [self]
        out: dict[str, Column] = OrderedDict()
        for definition in definitions:
            for col in definition.columns.values():
                out.setdefault(col.db_field_name, col)
        return out

    def check_concrete(self, action: str) -> None:
        """Refuse ``action`` of an abstract model: it has no table."""
        if self.model.__abstract__:
            raise CQLEngineException(f"{self.name} is abstract: it has no table to {action}")


def _read_columns(name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> tuple[dict[str, Column], set[str]]:
    """The model's columns (its bases' first, copied, then its own, taken out of ``attrs``) and its own names."""
    own_columns = [(k, v) for k, v in attrs.items() if isinstance(v, Column)]
    own_columns.sort(key=lambda kv: kv[1].position)
    for key, _ in own_columns:
        del attrs[key]
    # As the peer: bases in declaration order, the first base defining a name gives its
    # column and its place (the order decides the primary key of a multiply-inherited model).
    inherited: dict[str, Column] = OrderedDict()
    for base in bases:
        for key, col in getattr(base, "_columns", {}).items():
            inherited.setdefault(key, col)
    columns: dict[str, Column] = OrderedDict()
    for key, col in inherited.items():
        columns[key] = copy.deepcopy(col)
    for key, col in own_columns:
        columns[key] = col
    for key, col in columns.items():
        col.set_name(name, key)
    return columns, {k for k, _ in own_columns}


def _discriminator(name: str, bases: tuple[type, ...], columns: dict[str, Column], own: set[str],
                   poly_value: Any) -> tuple[Optional[str], bool, Any]:
    """The polymorphic key column's attribute, whether the model declares it, and its family's base."""
    discriminators = [k for k, c in columns.items() if c.polymorphic_key]
    if len(discriminators) > 1:
        raise ModelDefinitionException(
            f"{name}: only one polymorphic_key (discriminator) column is allowed, got {discriminators}"
        )
    disc_attr = discriminators[0] if discriminators else None
    if poly_value is not None and disc_attr is None:
        raise ModelDefinitionException(
            f"{name}: __polymorphic_key__ {poly_value!r} is set but no column has polymorphic_key=True"
        )
    own_disc = disc_attr is not None and disc_attr in own
    poly_base = None
    if disc_attr and not own_disc:
        parents: tuple[Any, ...] = bases
        poly_base = next(b._polymorphic_base for b in parents if getattr(b, "_polymorphic_base", None))
        added_keys = [k for k in own if columns[k].primary_key]
        if added_keys:
            raise ModelDefinitionException(
                f"{name}: a polymorphic subclass shares {poly_base.__name__}'s table and cannot "
                f"add primary key columns ({', '.join(added_keys)})"
            )
    return disc_attr, own_disc, poly_base


def _keys(columns: dict[str, Column]) -> tuple[dict[str, Column], dict[str, Column]]:
    """The partition and clustering keys (the first primary key is the partition key when none is marked)."""
    partition = OrderedDict((k, c) for k, c in columns.items() if c.partition_key)
    primary = [(k, c) for k, c in columns.items() if c.primary_key]
    if not partition and primary:
        first_key, first_col = primary[0]
        first_col.partition_key = True
        partition[first_key] = first_col
    clustering = OrderedDict((k, c) for k, c in primary if k not in partition)
    return partition, clustering


def _install_descriptors(name: str, bases: tuple[type, ...], attrs: dict[str, Any],
                         columns: dict[str, Column]) -> None:
    """A descriptor in place of each column, refusing names that would hide an attribute or method."""
    for key, col in columns.items():
        if key in attrs and not isinstance(attrs[key], Column):
            raise ModelDefinitionException(f"{name}.{key}: the column name clashes with an attribute")
        # A column named like a Model method (save, update, ttl, ...) would silently hide it.
        inherited_attr = next((vars(k)[key] for b in bases for k in b.__mro__ if key in vars(k)), None)
        # ``pk`` is only a shortcut to the partition key: a column of that name takes its place.
        if inherited_attr is not None and not isinstance(inherited_attr, (_ColumnDescriptor,
                                                                          _PartitionKeyDescriptor)):
            raise ModelDefinitionException(
                f"{name}.{key}: the column name clashes with the inherited attribute or method {key!r}; "
                f"name the attribute differently and keep the CQL name with db_field={key!r}"
            )
        attrs[key] = _ColumnDescriptor(key, col)


def _model_exceptions(name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> None:
    """Per-model exceptions, subclassing the parents' so ``except Pet.DoesNotExist`` catches Cat's."""
    qualname = attrs.get("__qualname__", name)
    parent_dne = tuple(b.DoesNotExist for b in bases if hasattr(b, "DoesNotExist")) or (_DoesNotExist,)
    parent_mor = tuple(b.MultipleObjectsReturned for b in bases if hasattr(b, "MultipleObjectsReturned"))
    attrs["DoesNotExist"] = type("DoesNotExist", parent_dne, {"__qualname__": f"{qualname}.DoesNotExist"})
    attrs["MultipleObjectsReturned"] = type(
        "MultipleObjectsReturned", parent_mor or (_MultipleObjectsReturned,),
        {"__qualname__": f"{qualname}.MultipleObjectsReturned"},
    )


def _join_family(klass: Any, poly_base: Any, poly_value: Any) -> None:
    """Register a polymorphic subclass with its family's base, refusing clashes in the shared table."""
    name = klass.__name__
    # Siblings share one table: the same CQL column cannot have two types.
    shared = poly_base._meta.table_columns()
    for key, col in klass._columns.items():
        other = shared.get(col.db_field_name)
        if other is not None and other.cql_type() != col.cql_type():
            raise ModelDefinitionException(
                f"{name}.{key}: column {col.db_field_name!r} is {col.cql_type()} here but "
                f"{other.cql_type()} in {other.model_name}, which shares the table"
            )
    poly_base._family.append(klass)
    if poly_value is not None:
        taken = poly_base._discriminator_map.get(poly_value)
        if taken is not None and taken.__qualname__ != klass.__qualname__:
            raise ModelDefinitionException(
                f"{name}: __polymorphic_key__ {poly_value!r} is already used by {taken.__name__}"
            )
        poly_base._discriminator_map[poly_value] = klass


class ModelMetaClass(type):
    """Reads column attributes into the table definition (``_meta``) and checks it."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        columns, own = _read_columns(name, bases, attrs)
        is_abstract = bool(attrs.get("__abstract__", False))
        attrs.setdefault("__abstract__", False)
        poly_value = attrs.get("__polymorphic_key__", attrs.get("__discriminator_value__"))
        attrs["__polymorphic_key__"] = poly_value
        attrs["__discriminator_value__"] = poly_value
        disc_attr, own_disc, poly_base = _discriminator(name, bases, columns, own, poly_value)
        partition, clustering = _keys(columns)
        if not is_abstract:
            mcs._check_definition(name, columns, partition, clustering, disc_attr)
        meta = ModelDefinition(
            model=None, name=name, columns=columns, partition_keys=partition,  # type: ignore[arg-type]
            clustering_keys=clustering, primary_keys=OrderedDict([*partition.items(), *clustering.items()]),
            db_map={c.db_field_name: k for k, c in columns.items()}, abstract=is_abstract,
            discriminator=disc_attr, is_polymorphic_base=own_disc, polymorphic_key=poly_value,
        )
        # The peer's private names for the definition's parts (the same objects as ``_meta``'s).
        attrs.update(_meta=meta, _columns=columns, _defined_columns=columns, _partition_keys=partition,
                     _clustering_keys=clustering, _primary_keys=meta.primary_keys, _db_map=meta.db_map,
                     _pk_name=next(iter(meta.primary_keys), None), _has_counter=meta.has_counter,
                     _discriminator_column_name=disc_attr, _discriminator_column=meta.discriminator_column,
                     _is_polymorphic=disc_attr is not None, _is_polymorphic_base=own_disc, _table_name=None,
                     _version_column=meta.version_column, _audit_columns=meta.audit_columns,
                     _extends_writes=bool(meta.version_column or meta.audit_columns))
        _install_descriptors(name, bases, attrs, columns)
        _model_exceptions(name, bases, attrs)

        klass: Any = super().__new__(mcs, name, bases, attrs)
        meta.model = klass
        if own_disc:
            klass._polymorphic_base = klass
            # A base with its own key value is a concrete type too: its rows must read back as it.
            klass._discriminator_map = {} if poly_value is None else {poly_value: klass}
            klass._family = [klass]
        elif poly_base is not None:
            klass._polymorphic_base = poly_base
            _join_family(klass, poly_base, poly_value)
        else:
            klass._polymorphic_base = None
        meta.polymorphic_base = klass._polymorphic_base
        return klass

    @staticmethod
    def _check_definition(name: str, columns: dict[str, Column], partition: dict[str, Column],
                          clustering: dict[str, Column], disc_attr: Optional[str]) -> None:
        def fail(rule: str) -> ModelDefinitionException:
            return ModelDefinitionException(f"{name}: {rule}")

        if not partition:
            raise fail("a model needs at least one primary key column (primary_key=True)")
        for key, col in {**partition, **clustering}.items():
            if not col.can_be_key:
                raise fail(f"column {key!r} ({col.cql_type()}) cannot be part of the primary key; "
                           "collections must be frozen, counters and durations are not allowed")
        for key, col in columns.items():
            if not (col.index or col.custom_index):
                continue
            # Index targets Cassandra refuses: refused here, before sync_table creates the table.
            cql_type = col.cql_type()
            if col.db_type == "duration":
                raise fail(f"column {key!r} (duration) cannot be indexed")
            if isinstance(col, UserDefinedType) and not cql_type.startswith("frozen<"):
                raise fail(f"column {key!r} ({cql_type}): a non-frozen user type cannot be indexed; "
                           "declare it UserDefinedType(..., frozen=True)")
            if col.custom_index and col.db_type == "blob":
                raise fail(f"column {key!r} (blob) cannot have an SAI index (custom_index); use index=True")
        if len(partition) == 1:
            (only_key, key_col), = partition.items()
            if key_col.has_index:
                raise fail(f"column {only_key!r} is the whole partition key: Cassandra cannot index it "
                           "(a lookup by it is already direct)")
        if disc_attr:
            disc = columns[disc_attr]
            if disc.is_collection or disc.is_counter or disc.sub_types:
                raise fail(f"column {disc_attr!r} ({disc.cql_type()}) cannot be the polymorphic key: "
                           "collections and counters are not allowed")
        counters = [k for k, c in columns.items() if c.is_counter]
        others = [k for k, c in columns.items() if not c.is_counter and not c.primary_key]
        if counters and others:
            raise fail(f"counter columns ({', '.join(counters)}) cannot be mixed with non-counter, "
                       f"non-key columns ({', '.join(others)}) in one table")
        misordered = [k for k, c in columns.items() if c.clustering_order and k not in clustering]
        if misordered:
            raise fail(f"clustering_order may only be set on clustering columns, not on {', '.join(misordered)}")
        versions = [k for k, c in columns.items() if c.is_version]
        if len(versions) > 1:
            raise fail(f"one Version column per model, not {len(versions)} ({', '.join(versions)})")
        statics = [k for k, c in columns.items() if c.static]
        if statics and not clustering:
            raise fail(f"static columns ({', '.join(statics)}) need a table with clustering columns")
        seen: dict[str, str] = {}
        for key, col in columns.items():
            cql_name = col.db_field_name or key
            if cql_name in seen:
                raise fail(f"columns {seen[cql_name]!r} and {key!r} both map to the CQL column {cql_name!r}")
            seen[cql_name] = key
        for key, col in columns.items():
            if col.db_field and col.db_field in columns and col.db_field != key:
                raise fail(f"column {key!r} has db_field {col.db_field!r}, which is another column's name")
