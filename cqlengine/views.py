"""Materialized views, declared as classes: queried as models are, never written.

A view is a :class:`MaterializedView` subclass naming the model it is a view
of (``__base_model__``) and the columns it selects, with its own primary key::

    class UserByEmail(MaterializedView):
        __base_model__ = User
        email = columns.Text(partition_key=True)
        id = columns.Integer(primary_key=True)
        name = columns.Text()

Cassandra's rules for views are checked when the class is made
(:class:`~cqlengine.exceptions.ViewDefinitionException`): each column is a
column of the base (by CQL name) with the same type; the view's primary key
holds every primary key column of the base and at most one other column;
no static, counter or indexed column; no polymorphic or counter base.

Reads are a model's (``objects``, ``get``, ``filter``, paging, the asyncio
twins, ``using``); every write is refused before anything is sent
(:class:`~cqlengine.exceptions.ReadOnlyModel`): Cassandra writes the view
from its base table. ``sync_table`` / ``drop_table`` of
:mod:`cqlengine.management` create and drop it; :func:`view_spec` is what
they (and schema migrations) read of it.
"""
from __future__ import annotations

from typing import Any, ClassVar, Optional, TypeVar

from cqlengine.columns import Column
from cqlengine.ddl import ViewSpec, normalize_type, view_where
from cqlengine.definition import ModelMetaClass
from cqlengine.exceptions import CQLEngineException, ViewDefinitionException
from cqlengine.models import Model
from cqlengine.query import ModelQuerySet
from cqlengine.writes import Timestamp, refuse_read_only

__all__ = ["MaterializedView", "ViewQuerySet", "ViewSpec", "is_view", "view_keyspace", "view_spec"]

V = TypeVar("V", bound="MaterializedView")
QS = TypeVar("QS", bound="ViewQuerySet[Any]")


class ViewQuerySet(ModelQuerySet[V]):
    """A view's queryset: every read of a model's; the options only a write takes are refused at once.

    (Its ``create``, ``update``, ``delete`` and bulk writes are refused by the
    check every write makes, :func:`cqlengine.writes.refuse_read_only`.)
    """

    def _refuse(self, action: str) -> None:
        refuse_read_only(self.model, action)

    def create(self, **values: Any) -> V:
        self._refuse("create")
        return super().create(**values)

    async def acreate(self, **values: Any) -> V:
        self._refuse("acreate")
        return await super().acreate(**values)

    def ttl(self: QS, ttl: Optional[int]) -> QS:
        self._refuse("ttl")
        return super().ttl(ttl)

    def timestamp(self: QS, timestamp: Optional[Timestamp]) -> QS:
        self._refuse("timestamp")
        return super().timestamp(timestamp)

    def if_not_exists(self: QS) -> QS:
        self._refuse("if_not_exists")
        return super().if_not_exists()

    def if_exists(self: QS) -> QS:
        self._refuse("if_exists")
        return super().if_exists()

    def iff(self: QS, **conditions: Any) -> QS:
        self._refuse("iff")
        return super().iff(**conditions)

    def batch(self: QS, batch: Any) -> QS:
        self._refuse("batch")
        return super().batch(batch)


def _fail(view: str, rule: str) -> ViewDefinitionException:
    return ViewDefinitionException(f"{view}: {rule}")


def _inherited_base(bases: tuple[type, ...]) -> Any:
    found = (getattr(b, "__base_model__", None) for b in bases)
    return next((base for base in found if base is not None), None)


def _check_base(view: str, base: Any) -> None:
    """The base must be a concrete, plain (not polymorphic, not counter) model: a table."""
    if base is None:
        raise _fail(view, "a materialized view needs __base_model__ = the Model class it is a view of")
    if not (isinstance(base, type) and issubclass(base, Model)) or is_view(base):
        raise _fail(view, f"__base_model__ must be a Model class (a table; Cassandra has no view of a "
                          f"view), got {base!r}")
    if base.__abstract__:
        raise _fail(view, f"__base_model__ {base.__name__} is abstract: it has no table to be a view of")
    if base._is_polymorphic:
        raise _fail(view, f"__base_model__ {base.__name__} is polymorphic: views of a polymorphic family's "
                          "shared table are not supported (its rows are of several classes); mirror the "
                          "family into a table of its own instead (cqlengine.mirroring)")
    if base._has_counter:
        raise _fail(view, f"__base_model__ {base.__name__} has counter columns: Cassandra has no materialized "
                          "views of counter tables")


def _check_options(view: type[Model], base: type[Model]) -> None:
    name = view.__name__
    if view._is_polymorphic:
        raise _fail(name, f"column {view._discriminator_column_name!r} has polymorphic_key=True: a view is "
                          "not polymorphic")
    if view.__options__:
        raise _fail(name, f"__options__ {view.__options__!r}: table options of a view are not supported "
                          "(its rows follow its base table's)")
    if view.__default_ttl__ is not None:
        raise _fail(name, "__default_ttl__: Cassandra refuses a default TTL on a view (its rows expire with "
                          f"{base.__name__}'s)")
    if view.__keyspace__ and base.__keyspace__ and view.__keyspace__ != base.__keyspace__:
        raise _fail(name, f"__keyspace__ {view.__keyspace__!r} differs from {base.__name__}'s "
                          f"{base.__keyspace__!r}: a view lives in its base table's keyspace")


def _check_column(view: str, base: type[Model], attr: str, col: Column, theirs: Optional[Column]) -> None:
    """One view column against the base's column of the same CQL name."""
    cql = col.db_field_name
    label = f"{view}.{attr}"
    if theirs is None:
        raise _fail(label, f"column {cql!r} is not a column of {base.__name__} ({', '.join(base._db_map)}): "
                           "a view selects columns of its base table, by their CQL names")
    if col.is_counter:
        raise _fail(label, f"column {cql!r} is a counter: Cassandra has no counters in views")
    if col.static or theirs.static:
        where = f" in {base.__name__}" if theirs.static else ""
        raise _fail(label, f"column {cql!r} is static{where}: Cassandra cannot include a static column in a view")
    if col.index or col.custom_index:
        raise _fail(label, f"column {cql!r} is indexed: Cassandra cannot index a materialized view")
    if normalize_type(col.cql_type()) != normalize_type(theirs.cql_type()):
        raise _fail(label, f"column {cql!r} is {col.cql_type()} here but {theirs.cql_type()} in "
                           f"{base.__name__}: a view's column has its base column's type")


def _check_key(view: type[Model], base: type[Model]) -> None:
    """Cassandra's rule: every base key column in the view's key, plus at most one other column."""
    name = view.__name__
    view_key = [c.db_field_name for c in view._primary_keys.values()]
    base_key = [c.db_field_name for c in base._primary_keys.values()]
    missing = [k for k in base_key if k not in view_key]
    if missing:
        raise _fail(name, f"the view's primary key must hold every primary key column of {base.__name__} "
                          f"({', '.join(base_key)}); missing: {', '.join(missing)} (declare each with "
                          "primary_key=True)")
    extra = [k for k in view_key if k not in base_key]
    if len(extra) > 1:
        raise _fail(name, f"the view's primary key adds {', '.join(extra)}, which are not in "
                          f"{base.__name__}'s primary key: Cassandra allows at most one such column")


def _check_view(view: type[Model], base: type[Model]) -> None:
    _check_options(view, base)
    theirs = base._meta.table_columns()
    for attr, col in view._columns.items():
        _check_column(view.__name__, base, attr, col, theirs.get(col.db_field_name))
    _check_key(view, base)


class ViewMetaClass(ModelMetaClass):
    """Reads a view's columns as a model's, then checks them against its base model."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        abstract = bool(attrs.get("__abstract__", False))
        base = attrs.get("__base_model__", _inherited_base(bases))
        if not abstract:
            _check_base(name, base)
            if "__connection__" not in attrs and not any(getattr(b, "__connection__", None) for b in bases):
                # The view's rows are on its base table's cluster: the same connection by default.
                attrs["__connection__"] = base.__connection__
        klass = super().__new__(mcs, name, bases, attrs)
        if not abstract:
            _check_view(klass, base)
            klass._read_only = (f"{name} is a materialized view of {base.__name__}: views are read-only "
                                f"(Cassandra writes them from their base table); write {base.__name__} instead")
        return klass


class MaterializedView(Model, metaclass=ViewMetaClass):
    """Base class of materialized views: subclass it, name ``__base_model__`` and declare the columns.

    Class attributes:

    ``__base_model__``
        Required: the concrete :class:`~cqlengine.models.Model` the view is of.
    ``__table_name__``
        The view's name; default: the class name in snake case, as a model's table.
    ``__keyspace__``
        Default: the base model's ``__keyspace__`` (read when the view is used), else the
        connection's default keyspace. Cassandra keeps a view in its base table's keyspace.
    ``__connection__``
        Default: the base model's (as it is when the view class is made).

    Columns are declared as on a model (``partition_key``, ``primary_key``,
    ``clustering_order``, ``db_field``); see the module docstring for the rules.
    """

    __abstract__ = True
    __base_model__: ClassVar[type[Model]]
    __queryset__: ClassVar[type[ModelQuerySet[Any]]] = ViewQuerySet
    _read_only: ClassVar[Optional[str]] = "materialized views are read-only: write their base model"

    @classmethod
    def _get_keyspace(cls, connection_name: Optional[str] = None) -> Optional[str]:
        if cls.__keyspace__:
            return cls.__keyspace__
        return cls.__base_model__._get_keyspace(connection_name or cls.__connection__)


def is_view(model: Any) -> bool:
    """Whether ``model`` is a materialized view class."""
    return isinstance(model, type) and issubclass(model, MaterializedView)


def view_keyspace(view: type[MaterializedView]) -> Optional[str]:
    """The keyspace the view's class names: its ``__keyspace__``, else its base model's (None: neither)."""
    return view.__keyspace__ or view.__base_model__.__keyspace__


def view_spec(view: type[MaterializedView]) -> ViewSpec:
    """What ``CREATE MATERIALIZED VIEW`` says of ``view``: names, key, columns, filter (no I/O)."""
    if not is_view(view) or view.__abstract__:
        raise CQLEngineException(f"{view!r} is not a concrete materialized view class")
    meta = view._meta
    partition = tuple(c.db_field_name for c in meta.partition_keys.values())
    clustering = tuple(c.db_field_name for c in meta.clustering_keys.values())
    orders = tuple(str(c.clustering_order or "asc").upper() for c in meta.clustering_keys.values())
    by_name = {c.db_field_name: c for c in meta.columns.values()}
    columns = partition + clustering + tuple(n for n in by_name if n not in partition and n not in clustering)
    return ViewSpec(
        name=meta.table_name(), base_table=view.__base_model__._meta.table_name(), columns=columns,
        partition_key=partition, clustering_key=clustering, clustering_orders=orders,
        where=view_where(partition + clustering), types=tuple(by_name[n].cql_type() for n in columns),
    )
