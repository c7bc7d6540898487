"""QuerySets: lazy, chainable queries over a model, and batches.

The query layer *builds*: it resolves model attributes to CQL columns,
validates and converts values through the columns, checks the query against
Cassandra's restrictions, and hands a statement object from
:mod:`cqlengine.statements` (which *renders*) to
:func:`cqlengine.connection.execute`. Nothing runs until the queryset is
iterated, counted, sliced, or a write method is called.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import (
    Any,
    AsyncIterator,
    Generic,
    Iterable,
    Iterator,
    Optional,
    Protocol,
    Sequence,
    TypeVar,
    Union,
    overload,
    runtime_checkable,
)

from cassandra import InvalidRequest
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import ProtocolException, ServerError

from cqlengine import ann, bulk, connection, cursors, scans, statements
from cqlengine.batches import BatchQuery, BatchType
from cqlengine.columns import Column, List, Map, Set
from cqlengine.exceptions import (
    ArgumentError,
    CQLEngineException,
    DoesNotExist,
    LWTException,
    MultipleObjectsReturned,
    QueryException,
    UnknownUpdateColumn,
    ValidationError,
)
from cqlengine.functions import BaseFunction, Token
from cqlengine.mapped import MappedModel, WriteHook
from cqlengine.operators import FILTER_SUFFIXES, UPDATE_SUFFIXES, Expression
from cqlengine.writes import (
    NO_OPTIONS,
    Timestamp,
    WriteOptions,
    check_ttl,
    normalize_timestamp,
    split_map_nulls,
)

__all__ = [
    "BatchQuery",
    "BatchType",
    "ContextQuery",
    "DoesNotExist",
    "LWTException",
    "ModelQuerySet",
    "MultipleObjectsReturned",
    "Page",
    "QueryException",
    "QuerySet",
]

M = TypeVar("M", bound=MappedModel)

#: Valid query shapes remembered per model (validation depends on shape only).
_SHAPE_CACHE_SIZE = 1024


class IfNotExistsWithCounterColumn(QueryException):
    """``if_not_exists()`` on a counter table: counters are only ever UPDATEd."""


class IfExistsWithCounterColumn(QueryException):
    """``if_exists()`` on a counter table: Cassandra has no conditional counter updates."""


@runtime_checkable
class QuerySetWriteHook(WriteHook, Protocol):
    """A model's write hook (see :class:`cqlengine.mapped.WriteHook`) that also takes over its querysets'
    ``update()`` and ``delete()``."""

    def queryset_write(self, queryset: QuerySet[Any], action: str, values: Optional[dict[str, Any]] = None,
                       ) -> None: ...

    async def aqueryset_write(self, queryset: QuerySet[Any], action: str,
                              values: Optional[dict[str, Any]] = None) -> None: ...


def _queryset_hook(model: type[MappedModel]) -> Optional[QuerySetWriteHook]:
    """The hook that takes over ``model``'s queryset writes: one that cannot is refused, not skipped."""
    hook = model._write_hook
    if hook is None:
        return None
    if not isinstance(hook, QuerySetWriteHook):
        raise CQLEngineException(f"{model.__name__}: its write hook {hook!r} takes no queryset update()/delete()")
    return hook


@dataclass
class Page(Generic[M]):
    """One page of results, and what fetches the next (None at the end).

    ``cursor`` is the URL-safe string to hand to clients (``qs.page(size, cursor=...)``);
    ``paging_state`` is the driver's raw bytes.
    """

    rows: list[M]
    paging_state: Optional[bytes]
    cursor: Optional[str] = None

    def __iter__(self) -> Iterator[M]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class _Relation:
    """A validated WHERE relation on one model column (or the token of the partition key)."""

    attr: str  # model attribute, or "pk__token" for token relations
    operator: str
    value: Any
    implicit: bool = False  # added by the queryset itself (an indexed polymorphic key)

    @property
    def is_token(self) -> bool:
        return self.attr == "pk__token"


#: SAI indexes these types as literals: equality only, no ranges (Cassandra 5.0).
_SAI_LITERAL_TYPES = frozenset({"text", "ascii", "varchar", "boolean", "uuid"})
_RANGE = frozenset({">", ">=", "<", "<="})


def _index_kind(column: Column, operators: Sequence[str]) -> Optional[str]:
    """``'sai'`` or ``'legacy'`` when the column's index can serve all ``operators``, else None.

    Our indexes are created on the column itself: a collection's index holds its
    values (CONTAINS), never a map's keys (CONTAINS KEY); a frozen collection's
    index holds it whole (``full()``), which serves = only.
    """
    frozen_collection = column.is_collection and getattr(column, "frozen", False)
    if frozen_collection:
        served = {"="}
    elif column.is_collection:
        served = {"CONTAINS"}
    else:
        served = {"="}
        if column.custom_index and column.db_type not in _SAI_LITERAL_TYPES:
            served |= _RANGE
    if column.custom_index:
        return "sai" if all(op in served for op in operators) else None
    if column.index:
        return "legacy" if all(op in served for op in operators) else None
    return None


def _element_column(column: Column, operator: str) -> Column:
    """The column that validates the value of CONTAINS / CONTAINS KEY on a collection."""
    subs = column.sub_types
    if operator == "CONTAINS KEY":
        return subs[0]
    return subs[-1]  # list/set element or map value


def _refused_state(exc: Exception, state: Optional[bytes], owner: str) -> Exception:
    """A server's refusal of a resumed page, as a ``QueryException``; any other error as it is.

    A page state can be well formed yet not fit the query (a forged row mark):
    the server then fails the request, which is the client's doing, not an outage.
    """
    errors: list[Any] = list(exc.errors.values()) if isinstance(exc, NoHostAvailable) else [exc]
    refused = bool(errors) and all(isinstance(e, (ServerError, InvalidRequest, ProtocolException))
                                   for e in errors)
    if state is None or not refused:
        return exc
    return QueryException(f"{owner}.page: the server refused the page state or cursor given "
                          f"({type(errors[0]).__name__}: {errors[0]}); start from the first page")


#: The options of a queryset nobody set any on: its create() leaves the instance's alone.


def _field_names(fields: tuple[Union[str, Sequence[str]], ...]) -> list[str]:
    """Column names given one by one, or as the single list the peer's spelling passes."""
    if len(fields) == 1 and isinstance(fields[0], (list, tuple)):
        return list(fields[0])
    return list(fields)  # type: ignore[arg-type]


class QuerySet(Generic[M]):
    """A lazy query over ``model``; every chaining method returns a new queryset."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._where: list[_Relation] = []
        self._order: list[tuple[str, str]] = []
        self._limit: Optional[int] = None
        self._allow_filtering = False
        self._fields: Optional[list[str]] = None  # only()
        self._deferred: list[str] = []
        self._values_list: Optional[list[str]] = None
        self._flat = False
        self._distinct: Optional[list[str]] = None
        self._fetch_size: Optional[int] = None
        self._skip_foreign_rows = False  # an indexed subclass whose key filter had to be dropped
        self._ann: Optional[ann.Ann] = None
        self._options = WriteOptions()
        self._cache: Optional[list[Any]] = None
        self._source: Optional[Iterator[Any]] = None
        self.pages_fetched = 0
        discriminator = model._discriminator_column
        if (model._is_polymorphic and not model._is_polymorphic_base and discriminator is not None
                and discriminator.has_index and model.__polymorphic_key__ is not None):
            # An indexed polymorphic key lets Cassandra return only this subclass's rows.
            keys = [k for k, m in model._polymorphic_base._discriminator_map.items() if issubclass(m, model)]
            value = keys[0] if len(keys) == 1 else None
            if value is not None:
                self._where.append(_Relation(discriminator.attr_name or "", "=",
                                             discriminator.to_database(value), implicit=True))

    # -- cloning -------------------------------------------------------------

    def _clone(self, **option_changes: Any) -> QuerySet[M]:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._where = list(self._where)
        clone._order = list(self._order)
        clone._deferred = list(self._deferred)
        clone._options = self._options.copy(**option_changes)
        clone._cache = None
        clone._source = None
        clone.pages_fetched = 0
        return clone

    def _with(self, **attrs: Any) -> QuerySet[M]:
        clone = self._clone()
        for key, value in attrs.items():
            setattr(clone, key, value)
        return clone

    def _with_options(self, **changes: Any) -> QuerySet[M]:
        return self._clone(**changes)

    def __deepcopy__(self, memo: dict[int, Any]) -> QuerySet[M]:
        return self._clone()

    # -- building: filters ---------------------------------------------------

    def _label(self, attr: str) -> str:
        return f"{self.model.__name__}.{attr}"

    def _column(self, attr: str) -> Column:
        if attr == "pk" and attr not in self.model._columns:
            # ``pk`` names the partition key, as ``instance.pk`` does; a column named pk wins.
            keys = list(self.model._partition_keys)
            if len(keys) != 1:
                raise QueryException(
                    f"{self.model.__name__}: pk is the composite partition key ({', '.join(keys)}); "
                    "name its columns instead"
                )
            attr = keys[0]
        col = self.model._columns.get(attr)
        if col is None:
            raise QueryException(
                f"{self.model.__name__}: unknown column {attr!r} (columns: {', '.join(self.model._columns)})"
            )
        return col

    def _convert(self, col: Column, value: Any) -> Any:
        if isinstance(value, BaseFunction):
            return value
        return col.compared_value(value)  # a row may hold what this model would not write

    def _relation(self, attr: str, operator: str, value: Any) -> _Relation:
        if attr == "pk__token":
            return self._token_relation(operator, value)
        col = self._column(attr)
        attr = col.attr_name or attr
        label = self._label(attr)
        if value is None:
            raise QueryException(f"{label} {operator} None: Cassandra cannot filter on null")
        if operator == "IN":
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise QueryException(f"{label}__in takes a list of values, got {value!r}")
            if col.is_collection and not getattr(col, "frozen", False):
                raise QueryException(f"{label}: a non-frozen collection cannot be restricted by IN")
            converted: Any = [self._convert(col, v) for v in value]
        elif operator in ("CONTAINS", "CONTAINS KEY"):
            if not col.is_collection:
                raise QueryException(f"{label}: {operator} needs a list, set or map column, not {col.cql_type()}")
            if operator == "CONTAINS KEY" and not isinstance(col, Map):
                raise QueryException(f"{label}: CONTAINS KEY needs a map column, not {col.cql_type()}")
            try:
                converted = self._convert(_element_column(col, operator), value)
            except ValidationError as exc:
                raise ValidationError(f"{label} {operator}: {exc}") from exc
        elif operator == "LIKE":
            if col.db_type not in ("text", "ascii"):
                raise QueryException(f"{label}: LIKE needs a text column, not {col.cql_type()}")
            if not isinstance(value, str):
                raise QueryException(f"{label}__like takes a string pattern, got {value!r}")
            # Cassandra 5.0 refuses LIKE on SAI indexes (only SASI served it, and SASI is off by
            # default), with or without ALLOW FILTERING: refuse it here rather than send it.
            raise QueryException(f"{label}: LIKE is not supported: Cassandra 5.0 refuses LIKE on SAI indexes")
        else:
            if col.is_collection and not getattr(col, "frozen", False):
                raise QueryException(f"{label}: a non-frozen collection cannot be compared with {operator}")
            converted = self._convert(col, value)
        return _Relation(attr, operator, converted)

    def _token_relation(self, operator: str, value: Any) -> _Relation:
        if operator not in ("=", ">", ">=", "<", "<="):
            raise QueryException(f"{self.model.__name__}: token() takes =, >, >=, < or <=, not {operator}")
        keys = list(self.model._partition_keys.values())
        if isinstance(value, Token):
            if len(value.params) != len(keys):
                raise QueryException(
                    f"{self.model.__name__}: token() of the partition key ({', '.join(self.model._partition_keys)}) "
                    f"needs {len(keys)} value(s), got {len(value.params)}"
                )
            value = value.with_values([c.to_database(c.validate(v)) for c, v in zip(keys, value.params)])
        elif not isinstance(value, int) or isinstance(value, bool):
            raise QueryException(f"{self.model.__name__}: pk__token compares with Token(...) or an int token")
        return _Relation("pk__token", operator, value)

    def filter(self, *expressions: Expression, **kwargs: Any) -> QuerySet[M]:
        """Add WHERE relations: ``col=v``, ``col__in=[...]``, ``col__gt=v``, ``Model.col >= v``..."""
        clone = self._clone()
        for expression in expressions:
            if not isinstance(expression, Expression):
                raise QueryException(f"{self.model.__name__}.filter: {expression!r} is not a column expression")
            clone._where.append(clone._relation(expression.attr, expression.operator, expression.value))
        for key, value in kwargs.items():
            attr, operator = self._split_filter_key(key)
            clone._where.append(clone._relation(attr, operator, value))
        clone._settle_implicit()
        return clone

    def _split_filter_key(self, key: str) -> tuple[str, str]:
        if key.startswith("pk__token"):
            rest = key[len("pk__token"):]
            suffix = rest[2:] if rest.startswith("__") else "eq"
            operator = FILTER_SUFFIXES.get(suffix)
            if operator is None:
                raise QueryException(f"{self.model.__name__}: unknown token operator {suffix!r}")
            return "pk__token", operator
        attr, sep, suffix = key.partition("__")
        if not sep:
            return attr, "="
        operator = FILTER_SUFFIXES.get(suffix)
        if operator is None:
            raise QueryException(
                f"{self._label(attr)}: unknown filter operator {suffix!r} "
                f"(known: {', '.join(sorted(FILTER_SUFFIXES))})"
            )
        return attr, operator

    def _settle_implicit(self) -> None:
        """Drop the implicit polymorphic-key relation where Cassandra cannot combine it with the query.

        (IN on the partition key, ORDER BY, DISTINCT, token ranges, another index, or the
        key named explicitly.) Rows of other subclasses are then skipped client-side.
        """
        implicit = [r for r in self._where if r.implicit]
        if not implicit:
            return
        columns = self.model._columns
        explicit = [r for r in self._where if not r.implicit]

        def clashes(rel: _Relation) -> bool:
            if rel.is_token or rel.attr == implicit[0].attr:
                return True
            col = columns[rel.attr]
            return (col.partition_key and rel.operator == "IN") or (col.has_index and not col.primary_key)

        if self._order or self._distinct is not None or any(clashes(r) for r in explicit):
            self._where = explicit
            self._skip_foreign_rows = True

    def __call__(self, *expressions: Expression, **kwargs: Any) -> QuerySet[M]:
        return self.filter(*expressions, **kwargs)

    def all(self) -> QuerySet[M]:
        return self._clone()

    # -- building: options ---------------------------------------------------

    def order_by(self, *columns: str) -> QuerySet[M]:
        """Order by clustering columns; ``'-col'`` is descending."""
        order = []
        for name in columns:
            direction = "DESC" if name.startswith("-") else "ASC"
            attr = name.lstrip("-")
            col = self._column(attr)
            if (col.attr_name or attr) not in self.model._clustering_keys:
                raise QueryException(
                    f"{self._label(attr)}: can only order by clustering columns "
                    f"({', '.join(self.model._clustering_keys) or 'this table has none'})"
                )
            order.append((col.attr_name or attr, direction))
        clone = self._with(_order=order)
        clone._settle_implicit()
        return clone

    def ann(self, column: str, vector: Any, *, rerank: Optional[int] = None, score: bool = False) -> QuerySet[M]:
        """The rows nearest to ``vector`` by the ``Vector`` column ``column``'s index, nearest first.

        Needs a ``limit()`` (at most 1000). ``rerank=m`` reads ``m`` times as
        many candidates and keeps the nearest by exact similarity; ``score=True``
        yields ``(instance, score)`` pairs. See :mod:`cqlengine.ann`.
        """
        return self._with(_ann=ann.ann_of(self.model.__name__, self.model._columns, column, vector, rerank, score))

    def limit(self, n: Optional[int]) -> QuerySet[M]:
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise QueryException(f"{self.model.__name__}.limit: expected a positive int or None, got {n!r}")
        return self._with(_limit=n)

    def allow_filtering(self) -> QuerySet[M]:
        return self._with(_allow_filtering=True)

    def fetch_size(self, n: int) -> QuerySet[M]:
        if not isinstance(n, int) or n < 1:
            raise QueryException(f"{self.model.__name__}.fetch_size: expected a positive int, got {n!r}")
        return self._with(_fetch_size=n)

    def only(self, *fields: Union[str, Sequence[str]]) -> QuerySet[M]:
        """Read only these columns: ``only("a", "b")``, or the peer's ``only(["a", "b"])``."""
        names = _field_names(fields)
        for f in names:
            self._column(f)
        return self._with(_fields=names)

    def defer(self, *fields: Union[str, Sequence[str]]) -> QuerySet[M]:
        """Read every column but these: ``defer("a", "b")``, or the peer's ``defer(["a", "b"])``."""
        names = _field_names(fields)
        for f in names:
            self._column(f)
        return self._with(_deferred=self._deferred + names)

    def values_list(self, *fields: str, flat: bool = False) -> QuerySet[M]:
        if flat and len(fields) != 1:
            raise QueryException(f"{self.model.__name__}.values_list: flat=True needs exactly one field")
        for f in fields:
            self._column(f)
        return self._with(_values_list=list(fields) or list(self.model._columns), _flat=flat)

    def distinct(self, distinct_fields: Optional[Sequence[str]] = None) -> QuerySet[M]:
        """SELECT DISTINCT over partition key (and static) columns."""
        names = list(distinct_fields) if distinct_fields else list(self.model._partition_keys)
        for f in names:
            col = self._column(f)
            if not (col.partition_key or col.static):
                raise QueryException(f"{self._label(f)}: DISTINCT takes partition key or static columns only")
        missing = [k for k in self.model._partition_keys if k not in names]
        if missing:
            raise QueryException(
                f"{self.model.__name__}.distinct: must select every partition key column (missing {', '.join(missing)})"
            )
        clone = self._with(_distinct=names)
        clone._settle_implicit()
        return clone

    def ttl(self, ttl: Optional[int]) -> QuerySet[M]:
        check_ttl(self.model.__name__, ttl)
        return self._with_options(ttl=ttl)

    def timestamp(self, timestamp: Optional[Timestamp]) -> QuerySet[M]:
        """``USING TIMESTAMP``: a timedelta from now (at execution), a datetime, or int microseconds."""
        normalize_timestamp(timestamp, self.model.__name__)
        return self._with_options(timestamp=timestamp)

    def consistency(self, consistency: Optional[int]) -> QuerySet[M]:
        return self._with_options(consistency=consistency)

    def timeout(self, timeout: Optional[float]) -> QuerySet[M]:
        return self._with_options(timeout=timeout)

    def if_not_exists(self) -> QuerySet[M]:
        if self.model._has_counter:
            raise IfNotExistsWithCounterColumn(
                f"{self.model.__name__}: if_not_exists() cannot be used on a table with counter columns")
        clone = self._clone()
        clone._options.set_lwt(self.model.__name__, QueryException, if_not_exists=True)
        return clone

    def if_exists(self) -> QuerySet[M]:
        if self.model._has_counter:
            raise IfExistsWithCounterColumn(
                f"{self.model.__name__}: if_exists() cannot be used on a table with counter columns")
        clone = self._clone()
        clone._options.set_lwt(self.model.__name__, QueryException, if_exists=True)
        return clone

    def iff(self, **conditions: Any) -> QuerySet[M]:
        for key in conditions:
            self._column(key.split("__", 1)[0])
        return self._with_options(conditions={**self._options.conditions, **conditions})

    def batch(self, batch: Any) -> QuerySet[M]:
        if batch is not None:
            batch.refuse_other_connection(f"{self.model.__name__}.batch()", self._options.connection)
        return self._with_options(batch=batch)

    def idempotent(self, idempotent: Optional[bool] = True) -> QuerySet[M]:
        """Whether the driver may retry (or speculatively run) this queryset's statements.

        By default reads and plain writes may be retried; counter updates,
        list appends and prepends and lightweight transactions may not (a
        retry could apply them twice, or report a write that applied as not
        applied). ``idempotent(False)`` forbids retries, ``idempotent(True)``
        allows them whatever the statement, and ``None`` goes back to the
        default.
        """
        return self._with_options(idempotent=idempotent)

    def execution_profile(self, profile: Any) -> QuerySet[M]:
        """Run this queryset's statements with one of the session's execution profiles (by name, or the
        ``ExecutionProfile`` itself): its load balancing, retry and speculative execution policies,
        consistency and timeout. Rows are read as cqlengine needs them whatever its row factory."""
        return self._with_options(execution_profile=profile)

    @property
    def _reads_idempotent(self) -> bool:
        return self._options.idempotent is not False

    def using(self, keyspace: Optional[str] = None, connection: Optional[str] = None) -> QuerySet[M]:
        if self._options.batch is not None:
            self._options.batch.refuse_other_connection(f"{self.model.__name__}.using()", connection)
        return self._with_options(keyspace=keyspace or self._options.keyspace,
                                  connection=connection or self._options.connection)

    # -- validation against Cassandra's restrictions -------------------------

    def _shape(self) -> tuple[Any, ...]:
        """What validation depends on: columns and operators, never values."""
        return (
            tuple((r.attr, r.operator) for r in self._where), tuple(self._order),
            None if self._distinct is None else tuple(self._distinct), self._allow_filtering,
        )

    def _validate(self) -> None:
        """Validate once per query shape and model; later queries of that shape skip the work."""
        shapes = self.model.__dict__.get("_valid_query_shapes")
        if shapes is None:
            shapes = set()
            self.model._valid_query_shapes = shapes  # type: ignore[attr-defined]
        shape = self._shape()
        if shape in shapes:
            return
        self._validate_where()
        if len(shapes) >= _SHAPE_CACHE_SIZE:
            shapes.clear()
        shapes.add(shape)

    def _validate_where(self) -> None:
        """Refuse, client-side, what Cassandra would refuse for its restrictions."""
        model = self.model
        name = model.__name__
        if not self._allow_filtering:
            reason = self._needs_filtering()
            if reason:
                raise QueryException(f"{name}: {reason}; add the missing restrictions or use allow_filtering()")
        by_attr: dict[str, list[_Relation]] = {}
        for rel in self._where:
            by_attr.setdefault(rel.attr, []).append(rel)
        for attr, rels in by_attr.items():
            if attr == "pk__token":
                ops = [r.operator for r in rels]
                if ("=" in ops and len(ops) > 1) or len([op for op in ops if op in (">", ">=")]) > 1 or len(
                    [op for op in ops if op in ("<", "<=")]
                ) > 1:
                    raise QueryException(f"{name}: token() takes one = or at most one lower and one upper bound")
                continue
            col = model._columns[attr]
            ops = [r.operator for r in rels]
            if col.partition_key and any(op not in ("=", "IN") for op in ops) and not self._allow_filtering:
                raise QueryException(
                    f"{self._label(attr)}: the partition key takes only = and IN; use pk__token__gt=Token(...) "
                    "for ranges (or allow_filtering())"
                )
            if "IN" in ops and not col.primary_key and not self._allow_filtering:
                raise QueryException(f"{self._label(attr)}: IN on a non-primary-key column needs allow_filtering()")
            if col.partition_key and "IN" in ops and self._index_kinds():
                raise QueryException(
                    f"{self._label(attr)}: IN on the partition key cannot be combined with an index restriction"
                )
            if ("=" in ops or "IN" in ops) and len(ops) > 1:
                raise QueryException(f"{self._label(attr)}: = or IN cannot be combined with another relation")
            if col.primary_key and any(op in ("CONTAINS", "CONTAINS KEY") for op in ops):
                raise QueryException(f"{self._label(attr)}: CONTAINS is not supported on primary key columns")
            if len([op for op in ops if op in (">", ">=")]) > 1 or len([op for op in ops if op in ("<", "<=")]) > 1:
                raise QueryException(f"{self._label(attr)}: more than one lower or upper bound")
        if any(r.is_token for r in self._where) and any(
            model._columns[r.attr].partition_key for r in self._where if not r.is_token
        ):
            raise QueryException(f"{name}: token() and partition key relations cannot be combined")
        if self._order:
            self._validate_order(by_attr)
        if self._distinct is not None:
            for rel in self._where:
                if not rel.is_token and not model._columns[rel.attr].partition_key:
                    raise QueryException(f"{self._label(rel.attr)}: DISTINCT queries restrict partition keys only")

    def _needs_filtering(self) -> Optional[str]:
        """Why this WHERE needs ALLOW FILTERING, or None."""
        model = self.model
        if not self._where:
            return None
        by_attr: dict[str, list[str]] = {}
        for rel in self._where:
            by_attr.setdefault(rel.attr, []).append(rel.operator)
        token = "pk__token" in by_attr
        partition = list(model._partition_keys)
        restricted_pk = [k for k in partition if k in by_attr]
        pk_complete = len(restricted_pk) == len(partition)
        if restricted_pk and not pk_complete:
            missing = [k for k in partition if k not in by_attr]
            return f"the partition key is only partly restricted (missing {', '.join(missing)})"
        ranged = [k for k in partition if any(op not in ("=", "IN") for op in by_attr.get(k, []))]
        if ranged:
            return (f"partition key column {ranged[0]} is restricted by a range (the partition key takes "
                    "= and IN; use pk__token__gt=Token(...) for ranges)")
        for attr, ops in by_attr.items():
            if attr == "pk__token" or attr in model._primary_keys:
                continue
            if _index_kind(model._columns[attr], ops) is None:
                return f"{attr} is not indexed for {' and '.join(ops)}"
        kinds = self._index_kinds()
        legacy = [a for a, k in kinds.items() if k == "legacy"]
        if len(legacy) > 1:
            return f"{legacy[1]} is a second secondary-index restriction"
        if legacy and len(kinds) > 1:
            return "secondary-index and SAI restrictions cannot be combined"
        index_used = bool(kinds)
        # Clustering columns: a prefix, with only the last one a range.
        previous_eq = True
        for attr in model._clustering_keys:
            ops = by_attr.get(attr, [])
            if not ops:
                previous_eq = False
                continue
            if not previous_eq:
                return f"clustering column {attr} is restricted but a preceding clustering column is not"
            if any(op in ("CONTAINS", "CONTAINS KEY", "LIKE") for op in ops):
                return f"clustering column {attr} takes {', '.join(ops)} only with filtering"
            previous_eq = all(op in ("=", "IN") for op in ops)
        clustering_restricted = any(k in by_attr for k in model._clustering_keys)
        if not pk_complete and not token and clustering_restricted:
            return "clustering columns are restricted without the partition key"
        if token and not pk_complete and clustering_restricted and not index_used:
            return "clustering columns are restricted with a token range"
        return None

    def _index_kinds(self) -> dict[str, str]:
        """attr -> ``'sai'`` / ``'legacy'`` for each non-key relation an index serves."""
        ops: dict[str, list[str]] = {}
        for rel in self._where:
            if not rel.is_token and rel.attr not in self.model._primary_keys:
                ops.setdefault(rel.attr, []).append(rel.operator)
        kinds = {a: _index_kind(self.model._columns[a], o) for a, o in ops.items()}
        return {a: k for a, k in kinds.items() if k is not None}

    def _validate_order(self, by_attr: dict[str, list[_Relation]]) -> None:
        model = self.model
        name = model.__name__
        partition_ops = [r.operator for k in model._partition_keys for r in by_attr.get(k, [])]
        if len({k for k in model._partition_keys if k in by_attr}) != len(model._partition_keys) or any(
            op not in ("=", "IN") for op in partition_ops
        ):
            raise QueryException(f"{name}: order_by needs the partition key restricted by = or IN")
        if "IN" in partition_ops:
            raise QueryException(
                f"{name}: order_by cannot be combined with IN on the partition key when results are paged"
            )
        if any(model._columns[a].has_index and not model._columns[a].primary_key for a in by_attr
               if a != "pk__token"):
            raise QueryException(f"{name}: order_by is not supported with secondary index restrictions")
        # Cassandra's rule: the columns follow the clustering order, skipping only columns restricted
        # by =, and each is either all in its declared direction or all reversed.
        clustering = list(model._clustering_keys)
        equal = {a for a, rels in by_attr.items() if [r.operator for r in rels] == ["="]}
        wanted = [attr for attr, _ in self._order]
        reversal: dict[str, bool] = {}
        position = 0
        for attr, direction in self._order:
            declared_desc = (model._columns[attr].clustering_order or "ASC").upper() == "DESC"
            flipped = (direction == "DESC") != declared_desc
            if attr in reversal:
                if reversal[attr] != flipped:
                    raise QueryException(f"{self._label(attr)}: order_by names it twice, in both directions")
                continue  # named twice the same way: Cassandra reads it once
            index = clustering.index(attr)
            skipped = [c for c in clustering[position:index] if c not in equal]
            if index < position or skipped:
                raise QueryException(
                    f"{name}: order_by must follow the clustering columns in order ({', '.join(clustering)}), "
                    f"skipping only columns restricted by =; got {', '.join(wanted)}"
                    + (f" ({', '.join(skipped)} not restricted by =)" if skipped and index >= position else "")
                )
            reversal[attr] = flipped
            position = index + 1
        if len(set(reversal.values())) > 1:
            declared = ", ".join(f"{a} {(model._columns[a].clustering_order or 'ASC').upper()}" for a in clustering)
            raise QueryException(
                f"{name}: order_by directions must all match the clustering order or all be reversed "
                f"(declared: {declared})"
            )

    # -- rendering -------------------------------------------------------------

    def _table(self) -> tuple[Optional[str], str, Optional[str]]:
        return self._options.table(self.model)

    def _where_clauses(self) -> list[statements.Relation]:
        out: list[statements.Relation] = []
        for rel in self._where:
            if rel.is_token:
                names = [c.db_field_name for c in self.model._partition_keys.values()]
                out.append(statements.TokenWhereClause(names, rel.operator, rel.value))
            else:
                col = self.model._columns[rel.attr]
                out.append(statements.WhereClause(col.db_field_name, rel.operator, rel.value))
        return out

    def _select_columns(self) -> list[str]:
        model = self.model
        if self._values_list is not None:
            attrs = self._values_list
        elif self._fields is not None:
            attrs = list(self._fields)
        else:
            if model._is_polymorphic_base:
                names = [c.db_field_name for c in model._table_columns().values()]
            else:
                names = [c.db_field_name for c in model._columns.values()]
            deferred = {model._columns[a].db_field_name for a in self._deferred}
            if model._discriminator_column is not None:
                deferred.discard(model._discriminator_column.db_field_name)  # it picks each row's class
            return [n for n in names if n not in deferred]
        names = [model._columns[a].db_field_name for a in attrs]
        disc = model._discriminator_column
        if disc is not None and disc.db_field_name not in names and (
                self._values_list is None or self._checks_row_class):
            names.append(disc.db_field_name)  # needed to pick (or check) the subclass of each row
        return names

    @property
    def _checks_row_class(self) -> bool:
        """Whether rows must be checked against a polymorphic subclass the server did not filter on."""
        model = self.model
        return (model._is_polymorphic and not model._is_polymorphic_base and self._distinct is None
                and not any(r.implicit for r in self._where))

    def _accept(self, row: dict[str, Any]) -> bool:
        """Whether a row belongs in the results (another subclass's row raises, or is skipped)."""
        if not self._checks_row_class:
            return True
        model = self.model
        assert model._discriminator_column is not None
        found = model._polymorphic_base._discriminator_map.get(row.get(model._discriminator_column.db_field_name))
        if found is not None and issubclass(found, model):
            return True
        if self._skip_foreign_rows:
            return False
        model._model_for_row(row)  # raises, naming both classes
        return True

    def _select_statement(self, count: bool = False, limit: Optional[int] = None) -> statements.SelectStatement:
        self.model._check_concrete("query")
        self._validate()
        keyspace, table, _ = self._table()
        fields = self._select_columns()
        if self._distinct is not None:
            fields = [self.model._columns[a].db_field_name for a in self._distinct]
        if limit is None:
            limit = self._limit
        if self._skip_foreign_rows:
            limit = None  # rows of other subclasses are skipped here: the server's LIMIT would count them
        nearest = self._ann
        if nearest is not None:
            limit = ann.check(self.model.__name__, nearest, limit, bool(self._order), self._distinct is not None)
        return statements.SelectStatement(
            table, keyspace=keyspace, fields=None if count else fields, where=self._where_clauses(),
            order_by=[(self.model._columns[a].db_field_name, d) for a, d in self._order],
            limit=limit, allow_filtering=self._allow_filtering,
            distinct=self._distinct is not None and not count, count=count,
            ann_of=None if nearest is None else (nearest.column, nearest.vector),
            similarity=(nearest.similarity, nearest.column, nearest.vector)
            if nearest is not None and nearest.reads_scores else None,
        )

    def __str__(self) -> str:
        return self.render()[0]

    def render(self) -> tuple[str, list[Any]]:
        """The SELECT this queryset runs: its CQL text and bound values, as sent (nothing is sent here)."""
        cql, params = self._select_statement().render()
        return cql, list(params)

    # -- execution -------------------------------------------------------------

    def _execute(self, statement: statements.BaseStatement, fetch_size: Optional[int] = None,
                 paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> Any:
        _, _, conn = self._table()
        cql, params = statement.render()
        return connection.execute(cql, params, consistency=self._options.consistency,
                                  timeout=self._options.timeout, connection=conn, fetch_size=fetch_size,
                                  paging_state=paging_state, tuple_rows=tuple_rows,
                                  idempotent=self._reads_idempotent, execution_profile=self._options.execution_profile)

    def _next_page(self, result: Any) -> Any:
        """The page after ``result``'s, bounded by the timeout as every page is (see ``connection.next_page``)."""
        self.pages_fetched += 1
        return connection.next_page(result)

    def _pages(self, limit: Optional[int] = None) -> Iterator[list[dict[str, Any]]]:
        """The rows of each page that belong in the results; the next page is fetched only when needed."""
        statement = self._select_statement(limit=limit)
        result = self._execute(statement, fetch_size=self._fetch_size)
        self.pages_fetched = 1
        left = self._client_limit(limit)
        checks = self._checks_row_class
        while True:
            if not checks and left < 0:
                yield result.current_rows  # the usual case: every row, as the server sent it
            else:
                page: list[dict[str, Any]] = []
                for row in result.current_rows:
                    if self._accept(row):
                        if left == 0:
                            yield page
                            return
                        left -= 1
                        page.append(row)
                yield page
            if not result.has_more_pages:
                return
            result = self._next_page(result)

    def _client_limit(self, limit: Optional[int] = None) -> int:
        """How many rows to yield when the limit is applied here (-1: no limit here)."""
        wanted = limit if limit is not None else self._limit
        return wanted if self._skip_foreign_rows and wanted is not None else -1

    def _make(self, row: dict[str, Any]) -> Any:
        if self._values_list is not None:
            model = self.model
            values = [model._columns[a].to_python(row[model._columns[a].db_field_name]) for a in self._values_list]
            return values[0] if self._flat else values
        # DISTINCT rows hold partition keys only: no polymorphic key to pick a subclass by.
        instance = self.model._construct_instance(row, as_model=self.model if self._distinct is not None else None)
        options = self._options
        if options.keyspace is not None or options.connection is not None:
            self._read_through((instance,))
        return instance

    @property
    def _builds_plain_instances(self) -> bool:
        """Whether every row becomes an instance of the model itself, with nothing to choose or check per row."""
        return (self._values_list is None and self._distinct is None and not self.model._is_polymorphic
                and (self._ann is None or not self._ann.reads_scores))

    def _plain_instances(self, result: Any) -> list[M]:
        """The instances of ``result``'s current page of tuple rows (see ``_builds_plain_instances``)."""
        instances = self.model._instances_from_result(result.column_names, result.current_rows)
        options = self._options
        if options.keyspace is not None or options.connection is not None:
            self._read_through(instances)
        return instances

    def _read_through(self, instances: Iterable[Any]) -> None:
        """Instances read through ``using()`` save and delete through it too."""
        options = self._options
        for instance in instances:
            instance._options.keyspace = options.keyspace
            instance._options.connection = options.connection

    def _result_pages(self) -> Iterator[list[Any]]:
        """The results a page at a time (instances, or values for ``values_list``); each page is fetched when needed."""
        nearest = self._ann
        if nearest is not None and nearest.reads_scores:  # at most 1000 rows: ranked, then given at once
            yield ann.results(self._make, nearest, [row for page in self._pages() for row in page], self._limit or 0)
            return
        if self._builds_plain_instances:
            # Rows as tuples, each built in one pass by a plan compiled once per row shape.
            statement = self._select_statement()
            result = self._execute(statement, fetch_size=self._fetch_size, tuple_rows=True)
            self.pages_fetched = 1
            while True:
                yield self._plain_instances(result)
                if not result.has_more_pages:
                    return
                result = self._next_page(result)
        make = self._make
        for page in self._pages():
            yield [make(row) for row in page]

    def iterator(self) -> Iterator[M]:
        """Iterate without keeping the results: memory for one page at a time, whatever the size."""
        for page in self._result_pages():
            yield from page

    def __iter__(self) -> Iterator[M]:
        if self._cache is None:
            self._cache = []
            self._source = self._result_pages()
        cache = self._cache
        index = 0
        while True:
            if index < len(cache):
                # Loops over one queryset share its cache, which only grows: yield what is new to this one.
                chunk = cache[index:]
                index += len(chunk)
                yield from chunk
                continue
            if self._cache is not cache:
                # Another loop over this queryset failed and dropped the results read so far.
                raise QueryException(f"{self.model.__name__}: the query failed in another loop over this "
                                     "queryset; iterate again to run it again")
            source = self._source
            if source is None:
                return
            try:
                page = next(source)
            except StopIteration:
                self._source = None
                return
            except BaseException:
                # A failed read is not a complete result: forget it, so the next use queries again.
                self._cache = self._source = None
                raise
            cache.extend(page)

    def _fill(self) -> list[Any]:
        # Not list(self): list() asks __len__ for a size hint, and __len__ is this.
        return [item for item in self]

    def __len__(self) -> int:
        return len(self._fill())

    def __bool__(self) -> bool:
        for _ in self:
            return True
        return False

    @overload
    def __getitem__(self, key: int) -> M: ...
    @overload
    def __getitem__(self, key: slice) -> list[M]: ...
    def __getitem__(self, key: Union[int, slice]) -> Any:
        """``qs[i]`` and ``qs[a:b:step]``; a negative index or bound reads the whole result."""
        if isinstance(key, slice):
            if key.step == 0:
                raise ValueError(f"{self.model.__name__}: slice step cannot be zero")
            start, stop, step = key.start or 0, key.stop, key.step or 1
            if (self._cache is not None and self._source is None) or stop is None or min(start, stop, step) < 0:
                return self._fill()[key]  # counted from the end: only the whole result knows where that is
            if stop <= start:
                return []
            clone = self.limit(stop if self._limit is None else min(stop, self._limit))
            return list(clone)[start::step]
        if not isinstance(key, int):
            raise TypeError(f"queryset indices must be int or slice, not {type(key).__name__}")
        if key < 0:
            rows = self._fill()
            if -key > len(rows):
                raise IndexError(f"{self.model.__name__} query has {len(rows)} row(s): no row at index {key}")
            return rows[key]
        for index, item in enumerate(self):
            if index == key:
                return item
        raise IndexError(f"{self.model.__name__} query has no row at index {key}")

    def page(self, size: int, paging_state: Optional[bytes] = None, cursor: Optional[str] = None) -> Page[M]:
        """One page of ``size`` rows; the next one is ``page(size, cursor=that_page.cursor)``.

        A ``cursor`` is checked before it is sent: a damaged one, or one made by another
        query, raises ``QueryException``. A raw ``paging_state`` carries no query of its own:
        only its form is checked, so hand clients cursors, not page states. A state the
        server refuses raises ``QueryException`` too.
        """
        statement, query, state = self._page_start("page", size, paging_state, cursor)
        try:
            result = self._execute(statement, fetch_size=size, paging_state=state)
        except Exception as exc:
            raise _refused_state(exc, state, self.model.__name__) from exc
        rows = [self._make(r) for r in result.current_rows if self._accept(r)]
        # Rows of other subclasses skipped here leave a page short: read on to fill it (at a page
        # boundary, so it may hold a few more than ``size``).
        while self._skip_foreign_rows and len(rows) < size and result.has_more_pages:
            result = self._next_page(result)
            rows += [self._make(r) for r in result.current_rows if self._accept(r)]
        next_state = result.paging_state if result.has_more_pages else None
        return Page(rows, next_state, cursors.next_cursor(next_state, query))

    def _page_start(self, action: str, size: int, paging_state: Optional[bytes],
                    cursor: Optional[str]) -> tuple[statements.SelectStatement, bytes, Optional[bytes]]:
        """The statement of a page, its query fingerprint, and the checked state to resume from."""
        owner = f"{self.model.__name__}.{action}"
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise QueryException(f"{owner}: size must be a positive int, got {size!r}")
        if paging_state is not None and cursor is not None:
            raise QueryException(f"{owner}: pass cursor or paging_state, not both")
        statement = self._select_statement()
        query = cursors.fingerprint(*statement.render(), owner=self.model.__qualname__)
        if cursor is not None:
            return statement, query, cursors.decode(cursor, query, owner, statement.limit)
        if paging_state is not None:
            return statement, query, cursors.check_paging_state(paging_state, owner, statement.limit)
        return statement, query, None

    def get(self, *expressions: Expression, **kwargs: Any) -> M:
        """The one row matching; ``Model.DoesNotExist`` / ``Model.MultipleObjectsReturned`` otherwise."""
        by_key = self._get_by_key(expressions, kwargs)
        if by_key is not None:
            cql, params, conn = by_key
            result = connection.execute(cql, params, consistency=self._options.consistency,
                                        timeout=self._options.timeout, connection=conn,
                                        idempotent=self._reads_idempotent,
                                        execution_profile=self._options.execution_profile)
            return self._the_one(self._read_by_key(result.current_rows))
        qs = self._for_get(expressions, kwargs)
        return qs._the_one(list(qs)[:2])

    def _get_by_key(self, expressions: Sequence[Expression],
                    kwargs: dict[str, Any]) -> Optional[tuple[str, list[Any], Optional[str]]]:
        """``get()`` by the whole primary key on a plain queryset: its (cql, params, connection), else None.

        The most common read skips building querysets: the SELECT of this
        model, keyspace and key is rendered (and checked) once through the
        general path and kept; each call only validates and binds the values.
        The kept text depends only on the model's definition, the keyspace and
        the connection, which it is keyed by; the schema it runs against is
        followed by the prepared-statement cache, as for every statement.
        """
        model = self.model
        keys = model._primary_keys
        if (expressions or len(kwargs) != len(keys) or any(k not in kwargs for k in keys) or self._where
                or self._order or self._limit is not None or self._fields is not None or self._deferred
                or self._values_list is not None or self._distinct is not None or self._allow_filtering
                or self._fetch_size is not None
                or (model._is_polymorphic and not model._is_polymorphic_base)):
            return None
        if any(value is None or isinstance(value, BaseFunction) for value in kwargs.values()):
            return None  # the general path says what is wrong, or renders the function
        keyspace, _, conn = self._table()
        cache = model.__dict__.get("_get_by_key_cql")
        if cache is None:
            cache = {}
            model._get_by_key_cql = cache  # type: ignore[attr-defined]
        cql = cache.get((keyspace, conn))
        if cql is None:
            cql, _ = self.filter(**{k: kwargs[k] for k in keys}).limit(2)._select_statement().render()
            if len(cache) >= 64:
                cache.clear()
            cache[(keyspace, conn)] = cql
        params = [col.database_value(kwargs[attr]) for attr, col in keys.items()]
        params.append(2)  # a second row is what MultipleObjectsReturned needs to see
        return cql, params, conn

    def _read_by_key(self, rows: list[Any]) -> list[M]:
        instances = list(self.model._instances_from_rows(rows))
        options = self._options
        if options.keyspace is not None or options.connection is not None:
            self._read_through(instances)
        return instances

    def _for_get(self, expressions: Sequence[Expression], kwargs: dict[str, Any]) -> QuerySet[M]:
        qs = self.filter(*expressions, **kwargs) if expressions or kwargs else self
        return qs.limit(2)  # a second row is what MultipleObjectsReturned needs to see

    def _the_one(self, rows: list[Any]) -> M:
        if not rows:
            raise self.model.DoesNotExist(f"{self.model.__name__} matching the query does not exist")
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(f"{self.model.__name__}: more than one row matches")
        return rows[0]  # type: ignore[no-any-return]

    def first(self) -> Optional[M]:
        cache = self._cache
        # A cache holds the first row once it holds any; an empty one is the answer only when read out.
        rows = cache[:1] if cache is not None and (cache or self._source is None) else list(self.limit(1))
        return rows[0] if rows else None

    def scan(self, splits: int = 1, fetch_size: Optional[int] = None) -> scans.Scan[M]:
        """The whole table in token-range splits (about ``splits``, cut along the cluster's ranges).

        See :mod:`cqlengine.scans`. A scan reads every row: a queryset with
        filters, an order or a limit is refused. Its ``using()``, consistency,
        timeout and fetch size (or ``fetch_size``) apply.
        """
        owner = f"{self.model.__name__}.scan()"
        if [r for r in self._where if not r.implicit] or self._order or self._limit is not None:
            raise QueryException(f"{owner} reads the whole table: it takes no filter, order or limit")
        if self._values_list is not None or self._distinct is not None or self._fields or self._deferred:
            raise QueryException(f"{owner} reads whole rows: it takes no only(), defer(), values_list() or "
                                 "distinct()")
        if self.model._is_polymorphic and not self.model._is_polymorphic_base:
            raise QueryException(f"{owner}: scan the polymorphic base "
                                 f"({self.model._polymorphic_base.__name__}); each row reads as its subclass")
        options = self._options
        return scans.Scan(self.model, splits, keyspace=options.keyspace, connection_name=options.connection,
                          fetch_size=fetch_size or self._fetch_size, consistency=options.consistency,
                          timeout=options.timeout)

    def count(self) -> int:
        if self._cache is not None and self._source is None:
            return len(self._cache)
        if self._counts_by_reading:
            return sum(1 for _ in self.iterator())
        return self._count_of(self._execute(self._select_statement(count=True)))

    @property
    def _counts_by_reading(self) -> bool:
        # COUNT(*) would count rows, not partitions (DISTINCT), or other subclasses' rows too.
        return self._distinct is not None or self._checks_row_class or self._ann is not None

    def _count_of(self, result: Any) -> int:
        total = int(result.one()["count"])
        return min(total, self._limit) if self._limit is not None else total

    def exists(self) -> bool:
        """Whether any row matches (a row whose selected value is null counts)."""
        cache = self._cache
        if cache is not None and (cache or self._source is None):
            return bool(cache)
        return bool(list(self.limit(1)))

    # -- asyncio -----------------------------------------------------------------
    # The same queries, awaited: the driver's futures resolve on its own threads and
    # hand the rows to the event loop, so a coroutine never blocks on the network.

    async def _aexecute(self, statement: statements.BaseStatement, fetch_size: Optional[int] = None,
                        paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> connection.AsyncResult:
        _, _, conn = self._table()
        cql, params = statement.render()
        return await connection.aexecute(cql, params, consistency=self._options.consistency,
                                         timeout=self._options.timeout, connection=conn,
                                         fetch_size=fetch_size, paging_state=paging_state, tuple_rows=tuple_rows,
                                         idempotent=self._reads_idempotent,
                                        execution_profile=self._options.execution_profile)

    async def _anext_page(self, result: connection.AsyncResult) -> connection.AsyncResult:
        """``_next_page()`` for asyncio: the wait is bounded by the timeout as every page is."""
        self.pages_fetched += 1
        await result.fetch_next_page()
        return result

    async def __aiter__(self) -> AsyncIterator[M]:
        """``async for obj in qs``: pages are fetched as they are consumed; nothing is cached."""
        nearest = self._ann
        if nearest is not None and nearest.reads_scores:
            rows = await self._arows()
            for item in ann.results(self._make, nearest, rows, self._limit or 0):
                yield item
            return
        plain = self._builds_plain_instances
        statement = self._select_statement()
        result = await self._aexecute(statement, fetch_size=self._fetch_size, tuple_rows=plain)
        self.pages_fetched = 1
        if plain:
            while True:
                for instance in self._plain_instances(result):
                    yield instance
                if not result.has_more_pages:
                    return
                result = await self._anext_page(result)
        left = self._client_limit()
        while True:
            for row in result.current_rows:
                if self._accept(row):
                    if left == 0:
                        return
                    left -= 1
                    yield self._make(row)
            if not result.has_more_pages:
                return
            result = await self._anext_page(result)

    async def _arows(self) -> list[dict[str, Any]]:
        """Every row of the query, as dicts (for the few an ANN query returns)."""
        result = await self._aexecute(self._select_statement(), fetch_size=self._fetch_size)
        self.pages_fetched = 1
        rows: list[dict[str, Any]] = []
        while True:
            rows += [row for row in result.current_rows if self._accept(row)]
            if not result.has_more_pages:
                return rows
            result = await self._anext_page(result)

    async def aall(self) -> list[M]:
        """Every matching row, as a list."""
        return [obj async for obj in self]

    async def aget(self, *expressions: Expression, **kwargs: Any) -> M:
        by_key = self._get_by_key(expressions, kwargs)
        if by_key is not None:
            cql, params, conn = by_key
            result = await connection.aexecute(cql, params, consistency=self._options.consistency,
                                               timeout=self._options.timeout, connection=conn,
                                               idempotent=self._reads_idempotent,
                                               execution_profile=self._options.execution_profile)
            return self._the_one(self._read_by_key(result.current_rows))
        qs = self._for_get(expressions, kwargs)
        return qs._the_one([obj async for obj in qs][:2])

    async def afirst(self) -> Optional[M]:
        async for obj in self.limit(1):
            return obj
        return None

    async def acount(self) -> int:
        if self._counts_by_reading:
            return len([obj async for obj in self])
        return self._count_of(await self._aexecute(self._select_statement(count=True)))

    async def apage(self, size: int, paging_state: Optional[bytes] = None,
                    cursor: Optional[str] = None) -> Page[M]:
        """``page()`` without blocking the event loop."""
        statement, query, state = self._page_start("apage", size, paging_state, cursor)
        try:
            result = await self._aexecute(statement, fetch_size=size, paging_state=state)
        except Exception as exc:
            raise _refused_state(exc, state, self.model.__name__) from exc
        rows = [self._make(r) for r in result.current_rows if self._accept(r)]
        while self._skip_foreign_rows and len(rows) < size and result.has_more_pages:
            result = await self._anext_page(result)
            rows += [self._make(r) for r in result.current_rows if self._accept(r)]
        next_state = result.paging_state if result.has_more_pages else None  # as page()
        return Page(rows, next_state, cursors.next_cursor(next_state, query))

    async def acreate(self, **values: Any) -> M:
        instance = self.model(**values)
        if self._options.__dict__ != NO_OPTIONS.__dict__:
            instance._options = self._options.copy()
        return await instance.asave()  # type: ignore[no-any-return]

    async def aupdate(self, **values: Any) -> None:
        hook = _queryset_hook(self.model)
        if hook is not None:
            await hook.aqueryset_write(self, "update", values)
        else:
            await self._options.asend(self._update_statement(values), self.model)
        self._forget_results()

    async def adelete(self) -> None:
        hook = _queryset_hook(self.model)
        if hook is not None:
            await hook.aqueryset_write(self, "delete")
        else:
            await self._options.asend(self._delete_statement(), self.model)
        self._forget_results()

    # -- writes ----------------------------------------------------------------

    def create(self, **values: Any) -> M:
        instance = self.model(**values)
        if self._options.__dict__ != NO_OPTIONS.__dict__:
            instance._options = self._options.copy()
        return instance.save()  # type: ignore[no-any-return]

    # -- bulk writes (cqlengine.bulk): bounded concurrency, every failure reported ------------

    def _bulk_instances(self, action: str, items: Iterable[Any], new: bool = False) -> list[M]:
        out = []
        for item in items:
            if new and isinstance(item, Mapping):
                item = self.model(**item)
            if not isinstance(item, self.model):
                raise ValidationError(f"{self.model.__name__}.{action}: {item!r} is not a {self.model.__name__}")
            out.append(item)
        return out

    def bulk_create(self, instances: Iterable[Any], concurrency: int = bulk.DEFAULT_CONCURRENCY,
                    timeout: Any = connection.NOT_SET) -> list[M]:
        """Write many new instances (or mappings of values) with at most ``concurrency`` in flight.

        Every instance is validated before anything is sent; every write runs;
        failures raise :class:`~cqlengine.bulk.BulkWriteError` with each instance.
        This queryset's options (ttl, timestamp, using, ...) apply to instances
        that have none of their own.
        """
        items = self._bulk_instances("bulk_create", instances, new=True)
        return bulk.bulk_save(items, "bulk_create", concurrency, timeout, self._options)  # type: ignore[return-value]

    def bulk_update(self, instances: Iterable[M], concurrency: int = bulk.DEFAULT_CONCURRENCY,
                    timeout: Any = connection.NOT_SET) -> list[M]:
        """Save many loaded instances (the changed columns of each), as :meth:`bulk_create` runs them."""
        items = self._bulk_instances("bulk_update", instances)
        return bulk.bulk_save(items, "bulk_update", concurrency, timeout, self._options)  # type: ignore[return-value]

    def bulk_delete(self, instances: Iterable[M], concurrency: int = bulk.DEFAULT_CONCURRENCY,
                    timeout: Any = connection.NOT_SET) -> None:
        """Delete the rows of many instances by their keys, as :meth:`bulk_create` runs them."""
        bulk.bulk_delete(self._bulk_instances("bulk_delete", instances), concurrency, timeout, self._options)

    async def abulk_create(self, instances: Iterable[Any], concurrency: int = bulk.DEFAULT_CONCURRENCY,
                           timeout: Any = connection.NOT_SET) -> list[M]:
        """:meth:`bulk_create` without blocking the event loop."""
        items = self._bulk_instances("abulk_create", instances, new=True)
        return await bulk.abulk_save(items, "abulk_create", concurrency, timeout,  # type: ignore[return-value]
                                     self._options)

    async def abulk_update(self, instances: Iterable[M], concurrency: int = bulk.DEFAULT_CONCURRENCY,
                           timeout: Any = connection.NOT_SET) -> list[M]:
        """:meth:`bulk_update` without blocking the event loop."""
        items = self._bulk_instances("abulk_update", instances)
        return await bulk.abulk_save(items, "abulk_update", concurrency, timeout,  # type: ignore[return-value]
                                     self._options)

    async def abulk_delete(self, instances: Iterable[M], concurrency: int = bulk.DEFAULT_CONCURRENCY,
                           timeout: Any = connection.NOT_SET) -> None:
        """:meth:`bulk_delete` without blocking the event loop."""
        await bulk.abulk_delete(self._bulk_instances("abulk_delete", instances), concurrency, timeout,
                                self._options)

    def _send(self, statement: statements.BaseStatement) -> None:
        self._options.send(statement, self.model)

    def _require_keys(self, action: str, full: bool) -> None:
        model = self.model
        ops = {r.attr: r.operator for r in self._where}
        if any(r.is_token for r in self._where):
            raise QueryException(f"{model.__name__}.{action}: token() relations are not allowed here")
        keys = list(model._primary_keys) if full else list(model._partition_keys)
        missing = [k for k in keys if ops.get(k) not in ("=", "IN")]
        if missing:
            raise QueryException(
                f"{model.__name__}.{action}: needs {', '.join(missing)} restricted by = or IN "
                f"({'the full primary key' if full else 'the partition key'})"
            )
        extra = [a for a in ops if a not in model._primary_keys]
        if extra:
            raise QueryException(f"{model.__name__}.{action}: only primary key columns may be filtered ({extra})")

    def update(self, **values: Any) -> None:
        """UPDATE the matching rows: plain sets, ``__append``, ``__prepend``, ``__remove``, ``__add``,
        ``__update`` on collections, and increments on counters."""
        hook = _queryset_hook(self.model)
        if hook is not None:
            hook.queryset_write(self, "update", values)  # a mirror reads the rows to mirror them
        else:
            self._send(self._update_statement(values))
        self._forget_results()

    def _forget_results(self) -> None:
        """Rows read before a write through this queryset are stale: the next use reads again."""
        self._cache = self._source = None

    def _refuse_subclass_write(self, action: str) -> None:
        model = self.model
        if model._is_polymorphic and not model._is_polymorphic_base:
            base = model._polymorphic_base.__name__
            raise QueryException(
                f"{model.__name__}.{action}: Cassandra writes by key alone, so a {model.__name__} queryset "
                f"cannot keep its write off the rows of {base}'s other subclasses; write through "
                f"{base}.objects(...) or through a {model.__name__} instance"
            )

    def _update_statement(self, values: dict[str, Any]) -> statements.BaseStatement:
        model = self.model
        self._refuse_subclass_write("update")
        if not values:
            raise QueryException(f"{model.__name__}.update: nothing to update")
        assignments: list[Any] = []
        only_static = True
        for key, value in values.items():
            attr, _, op = key.partition("__")
            if attr not in model._columns and attr != "pk":
                raise UnknownUpdateColumn(f"{model.__name__}.update: unknown column {attr!r} "
                                          f"(columns: {', '.join(model._columns)})")
            col = self._column(attr)
            label = self._label(attr)
            if col.primary_key:
                raise ValidationError(f"{label}: primary key columns cannot be updated")
            if not col.static:
                only_static = False
            assignments.extend(self._assignments(col, label, op, value))
        self._require_keys("update", full=not only_static)
        if self._options.if_not_exists:
            raise QueryException(f"{model.__name__}.update: if_not_exists() applies to INSERT only; "
                                 "use if_exists() or iff() for a conditional update")
        where = self._where_clauses()
        if only_static:
            # Static columns belong to the partition: Cassandra refuses clustering keys here.
            partition = {c.db_field_name for c in model._partition_keys.values()}
            where = [w for w in where if getattr(w, "column", None) in partition]
        keyspace, table, _ = self._table()
        statement = statements.UpdateStatement(
            table, keyspace=keyspace, assignments=assignments, where=where,
            ttl=self._options.ttl,
            timestamp=normalize_timestamp(self._options.timestamp), if_exists=self._options.if_exists,
            conditions=self._options.condition_clauses(self.model),
        )
        return statement

    def _assignments(self, col: Column, label: str, op: str, value: Any) -> list[Any]:
        """The assignments of one ``update()`` keyword: a None map value deletes its key, as in the peer."""
        if isinstance(col, Map) and op in ("", "update"):
            value, nulls = split_map_nulls(col, value)
            if nulls and op == "update":
                key_col = col.sub_types[0]
                # ``m = m - ?`` binds the keys (the peer sends ``m[key] = null`` per key).
                removal = statements.RemoveAssignment(
                    col.db_field_name, {key_col.to_database(key_col.validate(k)) for k in nulls})
                return [self._assignment(col, label, op, value), removal] if value else [removal]
            # A whole new map (no operator) simply leaves the None keys out.
        return [self._assignment(col, label, op, value)]

    def _assignment(self, col: Column, label: str, op: str, value: Any) -> Any:
        name = col.db_field_name
        if op and op not in UPDATE_SUFFIXES:
            raise QueryException(f"{label}: unknown update operation {op!r} ({', '.join(sorted(UPDATE_SUFFIXES))})")
        if col.is_counter:
            if op not in ("", "add", "remove") or isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(f"{label}: a counter takes an int increment (or __remove to decrement), "
                                      f"got {value!r}")
            # An increment counts again each time it runs: never retried.
            if op == "remove":
                return statements.RemoveAssignment(name, value, idempotent=False)
            return statements.AddAssignment(name, value, idempotent=False)
        if not op:
            return statements.SetAssignment(name, col.database_value(value))
        allowed = {List: ("append", "prepend", "remove"), Set: ("add", "remove"), Map: ("update", "remove")}
        kind = next((k for k in allowed if isinstance(col, k)), None)
        if kind is None or op not in allowed[kind]:
            raise QueryException(f"{label}: __{op} is not an operation of a {col.cql_type()} column")
        if kind is Map and op == "remove":
            if not isinstance(value, (set, frozenset)):
                # As the peer: a string would otherwise be read as a set of its characters.
                raise ValidationError(f"{label}__remove: {value!r} is not a set; map key removal takes a "
                                      "set of keys")
            keys = set(value)
            key_col = col.sub_types[0]
            return statements.RemoveAssignment(name, {key_col.to_database(key_col.validate(k)) for k in keys})
        if kind is Set and not isinstance(value, (set, frozenset)):
            value = set(value)
        converted = col.to_database(col.validate(value))
        if op == "prepend":
            return statements.PrependAssignment(name, converted, idempotent=False)  # adds the elements again
        if op == "remove":
            return statements.RemoveAssignment(name, converted)
        # Appending to a list adds the elements again each time; adding to a set or map does not.
        return statements.AddAssignment(name, converted, idempotent=kind is not List)

    def delete(self) -> None:
        """DELETE the matching rows (the partition key must be restricted)."""
        hook = _queryset_hook(self.model)
        if hook is not None:
            hook.queryset_write(self, "delete")  # a mirror reads the rows to mirror them
        else:
            self._send(self._delete_statement())
        self._forget_results()

    def _delete_statement(self) -> statements.BaseStatement:
        model = self.model
        self._refuse_subclass_write("delete")
        conditional = self._options.if_exists or bool(self._options.conditions)
        ops = {r.attr: r.operator for r in self._where}
        if any(r.is_token for r in self._where):
            raise QueryException(f"{model.__name__}.delete: token() relations are not allowed here")
        missing = [k for k in model._partition_keys if ops.get(k) not in ("=", "IN")]
        if missing:
            raise QueryException(f"{model.__name__}.delete: needs the partition key restricted by = or IN "
                                 f"(missing {', '.join(missing)})")
        extra = [a for a in ops if a not in model._primary_keys]
        if extra:
            raise QueryException(f"{model.__name__}.delete: only primary key columns may be filtered ({extra})")
        if conditional:
            self._require_keys("delete", full=True)
        if self._options.if_not_exists:
            raise QueryException(f"{model.__name__}.delete: if_not_exists() applies to INSERT only")
        if self._options.ttl is not None:
            raise QueryException(f"{model.__name__}.delete: ttl({self._options.ttl}) cannot apply to a DELETE "
                                 "(Cassandra has no DELETE ... USING TTL); use timestamp() to date it")
        keyspace, table, _ = self._table()
        statement = statements.DeleteStatement(
            table, keyspace=keyspace, where=self._where_clauses(),
            timestamp=normalize_timestamp(self._options.timestamp), if_exists=self._options.if_exists,
            conditions=self._options.condition_clauses(self.model),
        )
        return statement


class ModelQuerySet(QuerySet[M]):
    """The queryset ``Model.objects`` returns."""


# --------------------------------------------------------------------------- context


def _model_in_context(model: type[MappedModel], keyspace: Optional[str],
                      connection: Optional[str]) -> type[MappedModel]:
    """``model`` bound to ``keyspace`` / ``connection``: a subclass of it, with the same table.

    A real model class, so ``sync_table``, ``drop_table`` and everything that
    reads ``__keyspace__`` / ``__connection__`` work on it, as on the peer's copy.
    """
    attrs: dict[str, Any] = {"__module__": model.__module__, "__qualname__": model.__qualname__,
                             "__doc__": model.__doc__}
    if keyspace:
        attrs["__keyspace__"] = keyspace
    if connection:
        attrs["__connection__"] = connection
    if model._is_polymorphic:
        # Rows read through it are of the family's own classes (the copy is in no family): the
        # model's queryset, with the context's keyspace and connection kept on every row read.
        def _queryset(cls: type[MappedModel]) -> Any:
            # The model's own queryset class (``Model.__queryset__``, set above this layer).
            queryset_class = getattr(model, "__queryset__", ModelQuerySet)
            return queryset_class(model).using(keyspace=keyspace, connection=connection)

        attrs["_queryset"] = classmethod(_queryset)
    # type.__new__, not the metaclass: the copy inherits the model's definition as it is, and
    # registers nowhere (no polymorphic family, no discriminator map).
    return type.__new__(type(model), model.__name__, (model,), attrs)


class ContextQuery:
    """``with ContextQuery(A, B, keyspace='ks2') as (A2, B2):`` queries A and B in another keyspace."""

    def __init__(self, *models: type[MappedModel], keyspace: Optional[str] = None,
                 connection: Optional[str] = None, **unknown: Any) -> None:
        # Argument errors are ValueErrors, as the peer raises them.
        if unknown:
            raise ArgumentError(f"ContextQuery: unknown keyword argument(s) {', '.join(map(repr, unknown))} "
                                "(it takes keyspace and connection)")
        if not models:
            raise ArgumentError("ContextQuery needs at least one model")
        for model in models:
            if not (isinstance(model, type) and issubclass(model, MappedModel)):
                raise ArgumentError(f"ContextQuery: {model!r} is not a model class")
        self._models = [_model_in_context(m, keyspace, connection) for m in models]

    def __enter__(self) -> Any:
        return self._models[0] if len(self._models) == 1 else tuple(self._models)

    def __exit__(self, *exc: Any) -> None:
        return None


