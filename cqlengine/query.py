"""QuerySets: lazy, chainable queries over a model, and batches.

The query layer *builds*: it resolves model attributes to CQL columns,
validates and converts values through the columns, checks the query against
Cassandra's restrictions, and hands a statement object from
:mod:`cqlengine.statements` (which *renders*) to
:func:`cqlengine.connection.execute`. Nothing runs until the queryset is
iterated, counted, sliced, or a write method is called.
"""
from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Generic,
    Iterable,
    Iterator,
    Literal,
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
from cqlengine.aggregates import AggregateQueries
from cqlengine.batches import BatchQuery, BatchType
from cqlengine.cursors import Page
from cqlengine.exceptions import (
    ArgumentError,
    CQLEngineException,
    DoesNotExist,
    LWTException,
    MultipleObjectsReturned,
    QueryException,
    TableNotFound,
    ValidationError,
    check_positive_int,
)
from cqlengine.functions import BaseFunction
from cqlengine.mapped import MappedModel, WriteHook
from cqlengine.operators import Expression
from cqlengine.query_builder import QueryBuilder
from cqlengine.writes import (
    NO_OPTIONS,
    Timestamp,
    check_ttl,
    normalize_timestamp,
    told_for,
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
#: A queryset of any class, kept by a chaining method (a values_list() queryset stays one).
QS = TypeVar("QS", bound="QuerySet[Any]")
#: What one row of a result is: an instance, or values (values_list()).
T = TypeVar("T")



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


def _queryset_hook(model: type[MappedModel]) -> QuerySetWriteHook:
    """The hook that takes over ``model``'s queryset writes (it has one): one that cannot is refused, not
    skipped."""
    hook = model._write_hook
    if not isinstance(hook, QuerySetWriteHook):
        raise CQLEngineException(f"{model.__name__}: its write hook {hook!r} takes no queryset update()/delete()")
    return hook


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


def _field_names(fields: tuple[Union[str, Sequence[str]], ...]) -> list[str]:
    """Column names given one by one, or as the single list the peer's spelling passes."""
    if len(fields) == 1 and isinstance(fields[0], (list, tuple)):
        return list(fields[0])
    return list(fields)  # type: ignore[arg-type]


class QuerySet(AggregateQueries, QueryBuilder[M]):
    """A lazy query over ``model``; every chaining method returns a new queryset."""

    def __init__(self, model: type[M]) -> None:
        super().__init__(model)
        self._cache: Optional[list[Any]] = None
        self._source: Optional[Iterator[Any]] = None
        self.pages_fetched = 0

    # -- cloning -------------------------------------------------------------

    def _clone(self: QS, **option_changes: Any) -> QS:
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

    def _with(self: QS, **attrs: Any) -> QS:
        clone = self._clone()
        for key, value in attrs.items():
            setattr(clone, key, value)
        return clone

    def _with_options(self: QS, **changes: Any) -> QS:
        return self._clone(**changes)

    def __deepcopy__(self: QS, memo: dict[int, Any]) -> QS:
        return self._clone()

    def filter(self: QS, *expressions: Expression, **kwargs: Any) -> QS:
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

    def __call__(self: QS, *expressions: Expression, **kwargs: Any) -> QS:
        return self.filter(*expressions, **kwargs)

    def all(self: QS) -> QS:
        return self._clone()

    # -- building: options ---------------------------------------------------

    def order_by(self: QS, *columns: str) -> QS:
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

    def ann(self: QS, column: str, vector: Any, *, rerank: Optional[int] = None, score: bool = False) -> QS:
        """The rows nearest to ``vector`` by the ``Vector`` column ``column``'s index, nearest first.

        Needs a ``limit()`` (at most 1000). ``rerank=m`` reads ``m`` times as
        many candidates and keeps the nearest by exact similarity; ``score=True``
        yields ``(instance, score)`` pairs. See :mod:`cqlengine.ann`.
        """
        return self._with(_ann=ann.ann_of(self.model.__name__, self.model._columns, column, vector, rerank, score))

    def limit(self: QS, n: Optional[int]) -> QS:
        """At most ``n`` rows; None or 0 (the peer's spelling) removes the limit."""
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
            raise QueryException(f"{self.model.__name__}.limit: expected a positive int, or 0 or None for no "
                                 f"limit, got {n!r}")
        return self._with(_limit=n or None)

    def allow_filtering(self: QS) -> QS:
        return self._with(_allow_filtering=True)

    def fetch_size(self: QS, n: int) -> QS:
        if not isinstance(n, int) or n < 1:
            raise QueryException(f"{self.model.__name__}.fetch_size: expected a positive int, got {n!r}")
        return self._with(_fetch_size=n)

    def only(self: QS, *fields: Union[str, Sequence[str]]) -> QS:
        """Read only these columns: ``only("a", "b")``, or the peer's ``only(["a", "b"])``."""
        names = _field_names(fields)
        for f in names:
            self._column(f)
        return self._with(_fields=names)

    def defer(self: QS, *fields: Union[str, Sequence[str]]) -> QS:
        """Read every column but these: ``defer("a", "b")``, or the peer's ``defer(["a", "b"])``."""
        names = _field_names(fields)
        for f in names:
            self._column(f)
        return self._with(_deferred=self._deferred + names)

    @overload
    def values_list(self, field: str, /, *, flat: Literal[True]) -> ValuesListQuerySet[M, Any]: ...
    @overload
    def values_list(self, *fields: str, flat: Literal[False] = False) -> ValuesListQuerySet[M, list[Any]]: ...
    @overload
    def values_list(self, *fields: str, flat: bool) -> ValuesListQuerySet[M, Any]: ...
    def values_list(self, *fields: str, flat: bool = False) -> Any:
        """Rows as values, not instances: a list of the ``fields``' values per row (every column's when
        none is named), or with ``flat=True`` the one field's value itself."""
        if flat and len(fields) != 1:
            raise QueryException(f"{self.model.__name__}.values_list: flat=True needs exactly one field")
        for f in fields:
            self._column(f)
        return self._with(_values_list=list(fields) or list(self.model._columns), _flat=flat)

    def distinct(self: QS, distinct_fields: Optional[Sequence[str]] = None) -> QS:
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

    def ttl(self: QS, ttl: Optional[int]) -> QS:
        check_ttl(self.model.__name__, ttl)
        return self._with_options(ttl=ttl)

    def timestamp(self: QS, timestamp: Optional[Timestamp]) -> QS:
        """``USING TIMESTAMP``: a timedelta from now (at execution), a datetime, or int microseconds."""
        normalize_timestamp(timestamp, self.model.__name__)
        return self._with_options(timestamp=timestamp)

    def consistency(self: QS, consistency: Optional[int]) -> QS:
        return self._with_options(consistency=consistency)

    def timeout(self: QS, timeout: Optional[float]) -> QS:
        return self._with_options(timeout=timeout)

    def if_not_exists(self: QS) -> QS:
        if self.model._has_counter:
            raise IfNotExistsWithCounterColumn(
                f"{self.model.__name__}: if_not_exists() cannot be used on a table with counter columns")
        clone = self._clone()
        clone._options.set_lwt(self.model.__name__, QueryException, if_not_exists=True)
        return clone

    def if_exists(self: QS) -> QS:
        if self.model._has_counter:
            raise IfExistsWithCounterColumn(
                f"{self.model.__name__}: if_exists() cannot be used on a table with counter columns")
        clone = self._clone()
        clone._options.set_lwt(self.model.__name__, QueryException, if_exists=True)
        return clone

    def iff(self: QS, **conditions: Any) -> QS:
        for key in conditions:
            self._column(key.split("__", 1)[0])
        return self._with_options(conditions={**self._options.conditions, **conditions})

    def batch(self: QS, batch: Any) -> QS:
        if batch is not None:
            batch.refuse_other_connection(f"{self.model.__name__}.batch()", self._options.connection)
        return self._with_options(batch=batch)

    def idempotent(self: QS, idempotent: Optional[bool] = True) -> QS:
        """Whether the driver may retry (or speculatively run) this queryset's statements.

        By default reads and plain writes may be retried; counter updates,
        list appends and prepends and lightweight transactions may not (a
        retry could apply them twice, or report a write that applied as not
        applied). ``idempotent(False)`` forbids retries, ``idempotent(True)``
        allows them whatever the statement, and ``None`` goes back to the
        default.
        """
        return self._with_options(idempotent=idempotent)

    def execution_profile(self: QS, profile: Any) -> QS:
        """Run this queryset's statements with one of the session's execution profiles (by name, or the
        ``ExecutionProfile`` itself): its load balancing, retry and speculative execution policies,
        consistency and timeout. Rows are read as cqlengine needs them whatever its row factory."""
        return self._with_options(execution_profile=profile)

    @property
    def _reads_idempotent(self) -> bool:
        return self._options.idempotent is not False

    def using(self: QS, keyspace: Optional[str] = None, connection: Optional[str] = None) -> QS:
        if self._options.batch is not None:
            self._options.batch.refuse_other_connection(f"{self.model.__name__}.using()", connection)
        return self._with_options(keyspace=keyspace or self._options.keyspace,
                                  connection=connection or self._options.connection)

    # -- execution -------------------------------------------------------------

    def _execute(self, statement: statements.BaseStatement, fetch_size: Optional[int] = None,
                 paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> Any:
        _, _, conn = self._table()
        cql, params = statement.render()
        return self._read(cql, params, conn, fetch_size, paging_state, tuple_rows)

    def _read(self, cql: str, params: Any, conn: Optional[str], fetch_size: Optional[int] = None,
              paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> Any:
        try:
            return connection.execute(cql, params, consistency=self._options.consistency,
                                      timeout=self._options.timeout, connection=conn, fetch_size=fetch_size,
                                      paging_state=paging_state, tuple_rows=tuple_rows,
                                      idempotent=self._reads_idempotent,
                                      execution_profile=self._options.execution_profile)
        except TableNotFound as exc:
            raise told_for(self.model, exc) from exc

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
        check_positive_int(size, f"{owner}: size", QueryException)
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
            result = self._read(*by_key, tuple_rows=True)
            return self._the_one(self._read_by_key(result))
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
        if (expressions or kwargs.keys() != keys.keys() or self._where
                or self._order or self._limit is not None or self._fields is not None or self._deferred
                or self._values_list is not None or self._distinct is not None or self._allow_filtering
                or self._fetch_size is not None
                or (model._is_polymorphic and not model._is_polymorphic_base)):
            return None
        for value in kwargs.values():
            if value is None or isinstance(value, BaseFunction):
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

    def _read_by_key(self, result: Any) -> list[M]:
        """The instances of a read by key (its rows are tuples, named by the result's columns)."""
        instances = self.model._instances_from_result(result.column_names or (), result.current_rows)
        options = self._options
        if options.keyspace is not None or options.connection is not None:
            self._read_through(instances)
        return instances

    def _for_get(self: QS, expressions: Sequence[Expression], kwargs: dict[str, Any]) -> QS:
        qs = self.filter(*expressions, **kwargs) if expressions or kwargs else self
        return qs.limit(2)  # a second row is what MultipleObjectsReturned needs to see

    def _the_one(self, rows: list[Any]) -> M:
        if not rows:
            raise self.model.DoesNotExist(f"{self.model.__name__} matching the query does not exist")
        if len(rows) > 1:
            matched = ", ".join(f"{r.attr} {r.operator} {reprlib.repr(r.value)}" for r in self._where
                                if not r.implicit)  # reprlib: a long IN list is shown cut short
            raise self.model.MultipleObjectsReturned(
                f"{self.model.__name__}.get(): at least 2 rows match ({matched or 'no filter'}), where one was "
                "expected; filter on the whole primary key, or read them with filter() or first()")
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
        return await self._aread(cql, params, conn, fetch_size, paging_state, tuple_rows)

    async def _aread(self, cql: str, params: Any, conn: Optional[str], fetch_size: Optional[int] = None,
                     paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> connection.AsyncResult:
        try:
            return await connection.aexecute(cql, params, consistency=self._options.consistency,
                                             timeout=self._options.timeout, connection=conn,
                                             fetch_size=fetch_size, paging_state=paging_state,
                                             tuple_rows=tuple_rows, idempotent=self._reads_idempotent,
                                             execution_profile=self._options.execution_profile)
        except TableNotFound as exc:
            raise told_for(self.model, exc) from exc

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
            result = await self._aread(*by_key, tuple_rows=True)
            return self._the_one(self._read_by_key(result))
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
        if self._options is not NO_OPTIONS and self._options.__dict__ != NO_OPTIONS.__dict__:
            instance._options = self._options.copy()
        return await instance.asave()  # type: ignore[no-any-return]

    async def aupdate(self, **values: Any) -> None:
        if self.model._write_hook is not None:
            hook = _queryset_hook(self.model)
            await hook.aqueryset_write(self, "update", values)
        else:
            await self._options.asend(self._update_statement(values), self.model)
        self._forget_results()

    async def adelete(self) -> None:
        if self.model._write_hook is not None:
            hook = _queryset_hook(self.model)
            await hook.aqueryset_write(self, "delete")
        else:
            await self._options.asend(self._delete_statement(), self.model)
        self._forget_results()

    # -- writes ----------------------------------------------------------------

    def create(self, **values: Any) -> M:
        instance = self.model(**values)
        if self._options is not NO_OPTIONS and self._options.__dict__ != NO_OPTIONS.__dict__:
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

    def update(self, **values: Any) -> None:
        """UPDATE the matching rows: plain sets, ``__append``, ``__prepend``, ``__remove``, ``__add``,
        ``__update`` on collections, and increments on counters.

        A non-empty dict given to a map column is merged into the row's map key by key (a None value
        deletes its key), as the peer does; ``{}`` empties the map, and a frozen map is replaced whole.
        """
        if self.model._write_hook is not None:
            hook = _queryset_hook(self.model)
            hook.queryset_write(self, "update", values)  # a mirror reads the rows to mirror them
        else:
            self._send(self._update_statement(values))
        self._forget_results()

    def _forget_results(self) -> None:
        """Rows read before a write through this queryset are stale: the next use reads again."""
        self._cache = self._source = None

    def delete(self) -> None:
        """DELETE the matching rows (the partition key must be restricted)."""
        if self.model._write_hook is not None:
            hook = _queryset_hook(self.model)
            hook.queryset_write(self, "delete")  # a mirror reads the rows to mirror them
        else:
            self._send(self._delete_statement())
        self._forget_results()

class ModelQuerySet(QuerySet[M]):
    """The queryset ``Model.objects`` returns."""


if TYPE_CHECKING:
    class ValuesListQuerySet(QuerySet[M], Generic[M, T]):
        """What ``values_list()`` returns, as type checkers see it: the same queryset, whose rows are
        ``T`` (a value with ``flat=True``, else a list of values) rather than instances of ``M``. At run
        time it is the queryset's own class."""

        def __iter__(self) -> Iterator[T]: ...  # type: ignore[override]
        def iterator(self) -> Iterator[T]: ...  # type: ignore[override]
        def __aiter__(self) -> AsyncIterator[T]: ...  # type: ignore[override]
        @overload  # type: ignore[override]
        def __getitem__(self, key: int) -> T: ...
        @overload
        def __getitem__(self, key: slice) -> list[T]: ...
        def __getitem__(self, key: Union[int, slice]) -> Any: ...
        def get(self, *expressions: Expression, **kwargs: Any) -> T: ...  # type: ignore[override]
        def first(self) -> Optional[T]: ...  # type: ignore[override]
        def page(self, size: int, paging_state: Optional[bytes] = None,  # type: ignore[override]
                 cursor: Optional[str] = None) -> Page[T]: ...
        async def aall(self) -> list[T]: ...  # type: ignore[override]
        async def aget(self, *expressions: Expression, **kwargs: Any) -> T: ...  # type: ignore[override]
        async def afirst(self) -> Optional[T]: ...  # type: ignore[override]
        async def apage(self, size: int, paging_state: Optional[bytes] = None,  # type: ignore[override]
                        cursor: Optional[str] = None) -> Page[T]: ...


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
    # registers nowhere (no polymorphic family, no discriminator map); its ``_meta`` reads the copy.
    copy: type[MappedModel] = type.__new__(type(model), model.__name__, (model,), attrs)
    copy._meta = dataclasses.replace(model._meta, model=copy)
    return copy


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


