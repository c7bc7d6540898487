"""The table definition: a model class is read once, by :class:`ModelMetaClass`, into it.

The metaclass takes the class's column attributes (and its bases'), checks
the definition (keys, indexes, counters, statics, polymorphism) and puts a
descriptor in place of each column: on an instance it reads and writes the
instance's values, on the class it builds filter expressions.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any, ClassVar, Optional, Protocol

from cqlengine.columns import Column, UserDefinedType
from cqlengine.exceptions import DoesNotExist as _DoesNotExist
from cqlengine.exceptions import ModelDefinitionException, ValidationError
from cqlengine.exceptions import MultipleObjectsReturned as _MultipleObjectsReturned
from cqlengine.operators import ColumnExpression

__all__ = ["ModelMetaClass"]


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


class ModelMetaClass(type):
    """Reads column attributes into the table definition and checks it."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
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

        is_abstract = bool(attrs.get("__abstract__", False))
        attrs.setdefault("__abstract__", False)
        poly_value = attrs.get("__polymorphic_key__", attrs.get("__discriminator_value__"))
        attrs["__polymorphic_key__"] = poly_value
        attrs["__discriminator_value__"] = poly_value

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
        own_disc = disc_attr is not None and disc_attr in dict(own_columns)
        poly_base = None
        if disc_attr and not own_disc:
            parents: tuple[Any, ...] = bases
            poly_base = next(b._polymorphic_base for b in parents if getattr(b, "_polymorphic_base", None))

        if poly_base is not None:
            added_keys = [k for k, c in own_columns if c.primary_key]
            if added_keys:
                raise ModelDefinitionException(
                    f"{name}: a polymorphic subclass shares {poly_base.__name__}'s table and cannot "
                    f"add primary key columns ({', '.join(added_keys)})"
                )

        partition = OrderedDict((k, c) for k, c in columns.items() if c.partition_key)
        primary = [(k, c) for k, c in columns.items() if c.primary_key]
        if not partition and primary:
            first_key, first_col = primary[0]
            first_col.partition_key = True
            partition[first_key] = first_col
        clustering = OrderedDict((k, c) for k, c in primary if k not in partition)
        primary_keys = OrderedDict(list(partition.items()) + list(clustering.items()))

        if not is_abstract:
            mcs._check_definition(name, columns, partition, clustering, disc_attr)

        attrs["_columns"] = columns
        attrs["_defined_columns"] = columns
        attrs["_partition_keys"] = partition
        attrs["_clustering_keys"] = clustering
        attrs["_primary_keys"] = primary_keys
        attrs["_db_map"] = {c.db_field_name: k for k, c in columns.items()}
        attrs["_pk_name"] = next(iter(primary_keys), None)
        attrs["_has_counter"] = any(c.is_counter for c in columns.values())
        attrs["_discriminator_column_name"] = disc_attr
        attrs["_discriminator_column"] = columns[disc_attr] if disc_attr else None
        attrs["_is_polymorphic"] = disc_attr is not None
        attrs["_is_polymorphic_base"] = own_disc
        attrs["_table_name"] = None
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

        # Per-model exceptions, subclassing the parents' so `except Pet.DoesNotExist` catches Cat's.
        qualname = attrs.get("__qualname__", name)
        parent_dne = tuple(b.DoesNotExist for b in bases if hasattr(b, "DoesNotExist")) or (_DoesNotExist,)
        parent_mor = tuple(b.MultipleObjectsReturned for b in bases if hasattr(b, "MultipleObjectsReturned"))
        attrs["DoesNotExist"] = type("DoesNotExist", parent_dne, {"__qualname__": f"{qualname}.DoesNotExist"})
        attrs["MultipleObjectsReturned"] = type(
            "MultipleObjectsReturned", parent_mor or (_MultipleObjectsReturned,),
            {"__qualname__": f"{qualname}.MultipleObjectsReturned"},
        )

        klass: Any = super().__new__(mcs, name, bases, attrs)
        if own_disc:
            klass._polymorphic_base = klass
            # A base with its own key value is a concrete type too: its rows must read back as it.
            klass._discriminator_map = {} if poly_value is None else {poly_value: klass}
            klass._family = [klass]
        elif poly_base is not None:
            klass._polymorphic_base = poly_base
            # Siblings share one table: the same CQL column cannot have two types.
            shared = poly_base._table_columns()
            for key, col in columns.items():
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
        else:
            klass._polymorphic_base = None
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
