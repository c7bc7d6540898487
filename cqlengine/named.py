"""Query a table without writing a model for it.

    users = NamedKeyspace("app").table("users")
    users.filter(user_id=1).first()
    users.create(user_id=2, name="ann")
    users.filter(users.column("Mixed Case") == "x")

On first use a :class:`NamedTable` reads the live table from
``system_schema`` and builds, once, a concrete :class:`~cqlengine.models.Model`
subclass from its columns (partition and clustering keys, clustering order,
static columns, every CQL type, user types, and which columns are indexed).
Queries and writes then go through that model, so they are validated,
prepared and bound like any model's.

Results are instances of that model: attribute access by attribute name
(``row.name``) and mapping access by CQL column name (``row["name"]``,
``row.keys()``, ``row.items()``, ``dict(row)``), as the peer's dict-like rows.
The attribute name is the CQL name, except where the CQL name is not a usable
Python identifier or clashes with a model attribute (``items``, ``keys``,
``save``, ``_x``, ``"two words"``): then it is a safe spelling (``items_``,
``two_words``) and the CQL name is kept as ``db_field``. Everywhere a column is
named (``filter``, ``get``, ``create``, ``order_by``, ``values_list``, ``only``,
``update``, ``column()``...) the CQL name works as well as the attribute name.
"""
from __future__ import annotations

import keyword
import re
import threading
from collections.abc import Mapping
from typing import Any, Callable, Iterator, Optional, Sequence, TypeVar, Union

from cqlengine import columns
from cqlengine.exceptions import CQLEngineException, QueryException
from cqlengine.instance_options import InstanceOptions, hybrid
from cqlengine.management import introspect
from cqlengine.management.introspect import ColumnInfo, TableInfo, UserTypeInfo
from cqlengine.management.plan import TypeNode, index_target_kind, parse_type
from cqlengine.models import Model
from cqlengine.operators import ColumnExpression, Expression
from cqlengine.query import ModelQuerySet, _field_names
from cqlengine.statements import qualified_table
from cqlengine.usertype import UserType

__all__ = ["NamedKeyspace", "NamedModel", "NamedQuerySet", "NamedTable", "column_for_type", "model_for_table"]

_SCALARS: dict[str, type[columns.Column]] = {
    "ascii": columns.Ascii,
    "text": columns.Text,
    "varchar": columns.Text,
    "blob": columns.Blob,
    "boolean": columns.Boolean,
    "tinyint": columns.TinyInt,
    "smallint": columns.SmallInt,
    "int": columns.Integer,
    "bigint": columns.BigInt,
    "varint": columns.VarInt,
    "counter": columns.Counter,
    "float": columns.Float,
    "double": columns.Double,
    "decimal": columns.Decimal,
    "date": columns.Date,
    "time": columns.Time,
    "timestamp": columns.DateTime,
    "duration": columns.Duration,
    "uuid": columns.UUID,
    "timeuuid": columns.TimeUUID,
    "inet": columns.Inet,
}
_COLLECTIONS = {"list": 1, "set": 1, "map": 2}
# Native type names with no column class here: refused by name rather than taken for a user type.
_UNSUPPORTED = frozenset({"custom"})

_N = TypeVar("_N", bound="NamedModel")

#: Resolves a user type name to a UserType subclass (or raises).
UserTypeResolver = Callable[[str], "type[UserType]"]


# --------------------------------------------------------------------------- types


def _parse(cql_type: str) -> TypeNode:
    try:
        return parse_type(cql_type)
    except (ValueError, IndexError):
        raise CQLEngineException(f"cannot parse the CQL type {cql_type!r}") from None


def _user_type_names(node: TypeNode, out: set[str]) -> set[str]:
    name, quoted, args = node
    if quoted or (name not in _SCALARS and name not in _COLLECTIONS
                  and name not in ("frozen", "tuple", "vector") and name not in _UNSUPPORTED):
        out.add(name)
    for arg in args:
        _user_type_names(arg, out)
    return out


def _build(node: TypeNode, resolve: Optional[UserTypeResolver], frozen: bool,
           kwargs: dict[str, Any]) -> columns.Column:
    name, quoted, args = node
    if not quoted:
        if name == "frozen":
            if len(args) != 1:
                raise CQLEngineException(f"frozen takes one type, got {len(args)}")
            return _build(args[0], resolve, True, kwargs)
        scalar = _SCALARS.get(name)
        if scalar is not None:
            if args:
                raise CQLEngineException(f"{name} takes no type arguments")
            return scalar(**kwargs)
        if name in _COLLECTIONS:
            if len(args) != _COLLECTIONS[name]:
                raise CQLEngineException(f"{name} takes {_COLLECTIONS[name]} type argument(s), got {len(args)}")
            # Elements are always stored frozen; saying so keeps their own cql_type() exact.
            elements = [_build(a, resolve, True, {}) for a in args]
            if name == "list":
                return columns.List(elements[0], frozen=frozen, **kwargs)
            if name == "set":
                return columns.Set(elements[0], frozen=frozen, **kwargs)
            return columns.Map(elements[0], elements[1], frozen=frozen, **kwargs)
        if name == "tuple":
            if not args:
                raise CQLEngineException("tuple takes at least one type argument")
            return columns.Tuple(*[_build(a, resolve, True, {}) for a in args], **kwargs)
        if name == "vector":
            if len(args) != 2 or not args[1][0].isdigit():
                raise CQLEngineException("vector takes an element type and a dimension")
            return columns.Vector(int(args[1][0]), _build(args[0], resolve, True, {}), **kwargs)
        if name in _UNSUPPORTED:
            raise CQLEngineException(f"{name} columns have no column class in cqlengine.columns")
    if resolve is None:
        raise CQLEngineException(f"{name!r} is a user type and no user types were given")
    return columns.UserDefinedType(resolve(name), frozen=frozen, **kwargs)


def column_for_type(cql_type: str, user_type: Optional[UserTypeResolver] = None, **options: Any) -> columns.Column:
    """The column for a CQL type as system_schema spells it (``frozen<map<text, int>>``...).

    ``options`` (``partition_key``, ``primary_key``, ``clustering_order``,
    ``static``, ``db_field``, ``index``...) go to the outer column.
    ``user_type(name)`` returns the :class:`UserType` subclass for a user
    type name; without it a user type is refused.
    """
    return _build(_parse(cql_type), user_type, False, options)


# --------------------------------------------------------------------------- names


class NamedQuerySet(ModelQuerySet[Any]):
    """The model's queryset, also taking CQL column names where it takes attribute names."""

    def _attr(self, name: str) -> str:
        desc = name.startswith("-")
        attr = self.model._attr_key(name[1:] if desc else name)
        return "-" + attr if desc else attr  # type: ignore[no-any-return]

    def _keys(self, values: dict[str, Any]) -> dict[str, Any]:
        return self.model._attr_keys(values)  # type: ignore[no-any-return]

    def filter(self, *expressions: Expression, **kwargs: Any) -> NamedQuerySet:
        return super().filter(*expressions, **self._keys(kwargs))  # type: ignore[return-value]

    def order_by(self, *names: str) -> NamedQuerySet:
        return super().order_by(*map(self._attr, names))  # type: ignore[return-value]

    def only(self, *fields: Union[str, Sequence[str]]) -> NamedQuerySet:
        return super().only(*map(self._attr, _field_names(fields)))  # type: ignore[return-value]

    def defer(self, *fields: Union[str, Sequence[str]]) -> NamedQuerySet:
        return super().defer(*map(self._attr, _field_names(fields)))  # type: ignore[return-value]

    def values_list(self, *fields: str, flat: bool = False) -> Any:  # type: ignore[override]
        return super().values_list(*map(self._attr, fields), flat=flat)

    def distinct(self, distinct_fields: Optional[Any] = None) -> NamedQuerySet:
        names = None if not distinct_fields else [self._attr(f) for f in distinct_fields]
        return super().distinct(names)  # type: ignore[return-value]

    def iff(self, **conditions: Any) -> NamedQuerySet:
        return super().iff(**self._keys(conditions))  # type: ignore[return-value]

    def update(self, **values: Any) -> None:
        super().update(**self._keys(values))

    async def aupdate(self, **values: Any) -> None:
        await super().aupdate(**self._keys(values))


class NamedModel(Model):
    """Base of the models NamedTable builds: mapping access is by CQL column name."""

    __abstract__ = True
    __queryset__ = NamedQuerySet

    #: CQL column name -> attribute name, for the columns whose names differ.
    _attr_for_cql: dict[str, str] = {}

    def __init__(self, **values: Any) -> None:
        # create() and acreate() of the queryset come through here too.
        super().__init__(**type(self)._attr_keys(values))

    @classmethod
    def _attr_key(cls, key: str) -> str:
        """``cql_name`` or ``cql_name__op`` -> the same with the attribute name."""
        mapping = cls._attr_for_cql
        if key in mapping:
            return mapping[key]
        # Longest CQL name first: a CQL name may itself contain "__".
        for cql in sorted(mapping, key=len, reverse=True):
            if key.startswith(cql + "__"):
                return mapping[cql] + key[len(cql):]
        return key

    @classmethod
    def _attr_keys(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {cls._attr_key(k): v for k, v in values.items()}

    def update(self: _N, **values: Any) -> _N:
        return super().update(**self._attr_keys(values))

    async def aupdate(self: _N, **values: Any) -> _N:
        return await super().aupdate(**self._attr_keys(values))

    @hybrid
    def iff(self: _N, **conditions: Any) -> _N:
        return InstanceOptions.__dict__["iff"].method(self, **self._attr_keys(conditions))  # type: ignore[attr-defined,no-any-return]

    def _mapping_attr(self, key: Any) -> str:
        cls = type(self)
        attr = cls._attr_for_cql.get(key, key) if isinstance(key, str) else key
        if attr not in cls._meta.columns:
            raise KeyError(key)
        return attr  # type: ignore[no-any-return]

    def keys(self) -> list[str]:
        return [c.db_field_name for c in type(self)._meta.columns.values()]

    def items(self) -> list[tuple[str, Any]]:
        return [(c.db_field_name, self._values[a]) for a, c in type(self)._meta.columns.items()]

    def __getitem__(self, key: str) -> Any:
        return self._values[self._mapping_attr(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._mapping_attr(key), value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        try:
            self._mapping_attr(key)
        except KeyError:
            return False
        return True


# Names a column attribute must not take: the model's attributes and methods and the
# ``pk`` filter alias (instance state such as _values is covered by the no-"_" rule).
_MODEL_NAMES = frozenset(dir(NamedModel)) | {"pk"}
_USERTYPE_NAMES = frozenset(dir(UserType)) | {"_values", "_fields", "_db_map"}
_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")


def _usable(name: str, reserved: frozenset[str], taken: set[str]) -> bool:
    # No leading "_" (instance state lives there), and no "__" nor trailing "_": filter keys
    # split ``attr__operator`` at the first "__".
    return (name.isidentifier() and name.isascii() and not keyword.iskeyword(name) and not name.startswith("_")
            and not name.endswith("_") and "__" not in name and name not in reserved and name not in taken)


def _safe_name(cql_name: str, reserved: frozenset[str], taken: set[str]) -> str:
    """``cql_name`` itself when usable as an attribute, else a safe spelling not in ``taken``."""
    if _usable(cql_name, reserved, taken):
        return cql_name
    base = re.sub("_+", "_", _NOT_IDENT.sub("_", cql_name)).strip("_")
    if not base or base[0].isdigit():
        base = "col_" + base if base else "col"
    candidate, n = base, 1
    while not _usable(candidate, reserved, taken):
        candidate = f"{base}_col" if n == 1 else f"{base}_col{n}"
        n += 1
    return candidate


# --------------------------------------------------------------------------- building


def _user_type_class(info: UserTypeInfo, resolve: UserTypeResolver) -> type[UserType]:
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "__type_name__": info.name,
        "__keyspace__": info.keyspace,
        # UserType.type_name() lower-cases __type_name__; a quoted mixed-case name must stay as it is.
        "type_name": classmethod(lambda cls: info.name),
    }
    taken = set(info.field_names)
    for field_name, field_type in zip(info.field_names, info.field_types):
        attr = _safe_name(field_name, _USERTYPE_NAMES, taken - {field_name})
        taken.add(attr)
        options = {"db_field": field_name} if attr != field_name else {}
        try:
            attrs[attr] = column_for_type(field_type, resolve, **options)
        except CQLEngineException as exc:
            raise CQLEngineException(
                f"user type {info.keyspace}.{info.name}, field {field_name!r} ({field_type}): {exc}"
            ) from None
    return type(info.name, (UserType,), attrs)  # type: ignore[return-value]


def _user_type_resolver(keyspace: str, user_types: Mapping[str, UserTypeInfo]) -> UserTypeResolver:
    built: dict[str, type[UserType]] = {}

    def resolve(name: str) -> type[UserType]:
        if name not in built:
            info = user_types.get(name)
            if info is None:
                raise CQLEngineException(f"user type {keyspace}.{name} does not exist")
            built[name] = _user_type_class(info, resolve)
        return built[name]

    return resolve


def _indexed(info: TableInfo, column: str) -> dict[str, Any]:
    """``index`` / ``custom_index`` for the index our model would declare on the column, so that
    the query checks allow what it serves (the column itself, a collection's values, a frozen
    collection whole); and a vector index's ``similarity``."""
    flags: dict[str, Any] = {}
    live = info.columns.get(column)
    wanted = index_target_kind(live.type) if live is not None else "plain"
    for idx in info.indexes.values():
        if idx.column != column or idx.target_kind != wanted:
            continue  # e.g. keys(m) serves CONTAINS KEY, which our model's index does not
        # SAI (and any other custom index) serves more operators than a legacy index.
        flags["custom_index" if idx.kind.upper() == "CUSTOM" else "index"] = True
        if idx.is_sai and live is not None and live.type.startswith("vector<"):
            flags["similarity"] = idx.options.get("similarity_function", "cosine").lower()
    return flags


def model_for_table(info: TableInfo, user_types: Optional[Mapping[str, UserTypeInfo]] = None,
                    connection: Optional[str] = None) -> type[NamedModel]:
    """A concrete model of the live table ``info`` (pure: no I/O).

    ``user_types`` (name -> :class:`UserTypeInfo`, from
    :func:`~cqlengine.management.introspect.get_user_types`) is needed only
    when a column uses a user type.
    """
    where = f"{info.keyspace}.{info.name}"
    if not info.columns:
        raise CQLEngineException(f"table {where} has no columns")
    resolve = _user_type_resolver(info.keyspace, user_types) if user_types is not None else None
    order = {"partition_key": 0, "clustering": 1, "static": 2, "regular": 2}
    ordered: list[ColumnInfo] = sorted(
        info.columns.values(), key=lambda c: (order.get(c.kind, 3), c.position if c.kind != "regular" else 0, c.name)
    )
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": info.name,
        "__abstract__": False,
        "__keyspace__": info.keyspace,
        "__table_name__": info.name,
        "__table_name_case_sensitive__": True,
        "__connection__": connection,
    }
    renamed: dict[str, str] = {}
    taken = set(info.columns)
    for col in ordered:
        attr = _safe_name(col.name, _MODEL_NAMES, taken - {col.name})
        taken.add(attr)
        options: dict[str, Any] = _indexed(info, col.name)
        if col.kind == "partition_key":
            options["partition_key"] = True
        elif col.kind == "clustering":
            options["primary_key"] = True
            options["clustering_order"] = "DESC" if col.clustering_order == "desc" else "ASC"
        elif col.kind == "static":
            options["static"] = True
        if attr != col.name:
            options["db_field"] = col.name
            renamed[col.name] = attr
        try:
            attrs[attr] = column_for_type(col.type, resolve, **options)
        except CQLEngineException as exc:
            raise CQLEngineException(f"table {where}, column {col.name!r} ({col.type}): {exc}") from None
    attrs["_attr_for_cql"] = renamed
    return type(info.name, (NamedModel,), attrs)  # type: ignore[return-value]


# --------------------------------------------------------------------------- public API


class _PerTable:
    """``NamedTable.DoesNotExist``: the shared base on the class, the table's own on an instance."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Optional[NamedTable], owner: type) -> Any:
        base = getattr(NamedModel, self.name)
        if instance is None:
            return base
        try:
            return getattr(instance.model, self.name)
        except CQLEngineException:
            # Read in an ``except`` clause while the table cannot be read: the base still matches.
            return base


class NamedTable:
    """A live table queried without a model class of its own.

    ``NamedTable.DoesNotExist`` catches every named table's ``DoesNotExist``;
    ``table.DoesNotExist`` is that table's own (likewise ``MultipleObjectsReturned``).
    """

    __abstract__ = False

    DoesNotExist: Any = _PerTable("DoesNotExist")
    MultipleObjectsReturned: Any = _PerTable("MultipleObjectsReturned")

    def __init__(self, keyspace: str, name: str, connection: Optional[str] = None) -> None:
        self.keyspace = keyspace
        self.name = name
        self.__connection__ = connection
        self._model: Optional[type[NamedModel]] = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<NamedTable {self.column_family_name()}>"

    # -- the model ---------------------------------------------------------------

    @property
    def model(self) -> type[NamedModel]:
        """The model built from the live table (read once, on first use)."""
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._read_model()
                model = self._model
        return model

    def _read_model(self) -> type[NamedModel]:
        conn = self.__connection__
        info = introspect.get_table(self.keyspace, self.name, conn)
        if info is None:
            if introspect.get_keyspace(self.keyspace, conn) is None:
                raise CQLEngineException(
                    f"NamedTable {self.keyspace}.{self.name}: keyspace {self.keyspace!r} does not exist")
            raise CQLEngineException(
                f"NamedTable {self.keyspace}.{self.name}: table {self.name!r} does not exist "
                f"in keyspace {self.keyspace!r}")
        names: set[str] = set()
        for col in info.columns.values():
            try:
                _user_type_names(_parse(col.type), names)
            except CQLEngineException as exc:
                raise CQLEngineException(f"table {info.keyspace}.{info.name}, column {col.name!r}: {exc}") from None
        user_types = introspect.get_user_types(self.keyspace, conn) if names else None
        return model_for_table(info, user_types, connection=conn)

    def refresh(self) -> None:
        """Forget the model: the next use reads the live table again (after an ALTER TABLE)."""
        with self._lock:
            self._model = None

    def _get_connection(self) -> Optional[str]:
        return self.__connection__

    def using(self, keyspace: Optional[str] = None, connection: Optional[str] = None) -> NamedTable:
        """The same table name in another keyspace and/or through another connection."""
        return NamedTable(keyspace or self.keyspace, self.name,
                          connection if connection is not None else self.__connection__)

    # -- columns -------------------------------------------------------------------

    def _attr(self, name: str) -> str:
        model = self.model
        attr = model._attr_for_cql.get(name, name)
        if attr not in model._meta.columns:
            known = ", ".join(c.db_field_name for c in model._meta.columns.values())
            raise QueryException(f"NamedTable {self.keyspace}.{self.name}: no column {name!r} (columns: {known})")
        return attr  # type: ignore[no-any-return]

    def column(self, name: str) -> ColumnExpression:
        """The column ``name`` (CQL name, or attribute name) for expressions: ``t.column('x') == 1``."""
        return getattr(self.model, self._attr(name))  # type: ignore[no-any-return]

    def _get_column(self, name: str) -> ColumnExpression:
        return self.column(name)

    def column_family_name(self, include_keyspace: bool = True) -> str:
        """The table name as CQL (quoted where needed), qualified by the keyspace by default."""
        return qualified_table(self.keyspace if include_keyspace else None, self.name)

    # -- queries and writes ------------------------------------------------------------

    @property
    def objects(self) -> NamedQuerySet:
        """A fresh queryset over the table."""
        return self.model.objects  # type: ignore[return-value]

    def all(self) -> NamedQuerySet:
        return self.objects.all()  # type: ignore[return-value]

    def filter(self, *expressions: Expression, **kwargs: Any) -> NamedQuerySet:
        return self.objects.filter(*expressions, **kwargs)

    def get(self, *expressions: Expression, **kwargs: Any) -> NamedModel:
        return self.objects.get(*expressions, **kwargs)  # type: ignore[no-any-return]

    def create(self, **values: Any) -> NamedModel:
        """Validate and INSERT a row (keys: CQL column or attribute names); returns the instance."""
        return self.objects.create(**values)  # type: ignore[no-any-return]

    async def aget(self, *expressions: Expression, **kwargs: Any) -> NamedModel:
        return await self.objects.aget(*expressions, **kwargs)  # type: ignore[no-any-return]

    async def acreate(self, **values: Any) -> NamedModel:
        return await self.objects.acreate(**values)  # type: ignore[no-any-return]


class NamedKeyspace:
    """A keyspace whose tables are reached by name: ``NamedKeyspace('app').table('users')``."""

    def __init__(self, name: str, connection: Optional[str] = None) -> None:
        self.name = name
        self.connection = connection

    def __repr__(self) -> str:
        return f"<NamedKeyspace {self.name}>"

    def table(self, name: str) -> NamedTable:
        """The table ``name`` of this keyspace (read from the server on first use)."""
        return NamedTable(self.name, name, connection=self.connection)
