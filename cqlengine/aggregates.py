"""Aggregates: ``COUNT``, ``SUM``, ``AVG``, ``MIN`` and ``MAX`` over a queryset, grouped or not::

    Reading.objects(sensor="a").aggregate(n=Count(), total=Sum("value"))
    # {'n': 3, 'total': 42}
    Reading.objects.group_by("sensor").aggregate(n=Count(), top=Max("value"))
    # [{'sensor': 'a', 'n': 3, 'top': 20}, {'sensor': 'b', ...}]

The server computes them (one ``SELECT``, paged by the server when grouped).
What Cassandra refuses is refused here first, naming the model and the rule:
grouping by a column that is not a primary-key column, or out of the
primary key's order (a column restricted by ``=`` may be left out);
``SUM``/``AVG`` of a column that is not a number. Values come back as the column's Python type (``COUNT`` as
``int``). Cassandra computes ``AVG`` in the column's own type: the average
of an ``int`` column is an ``int``.

A queryset that Cassandra's ``COUNT(*)`` would not count exactly (a
polymorphic subclass sharing its table with others, ``distinct()``, an
``ann()`` search) is refused: the aggregate would mix in rows it does not
return.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence, TypeVar, Union

from cqlengine import columns, statements
from cqlengine.exceptions import QueryException

__all__ = ["Aggregate", "AggregateQueries", "Avg", "Count", "Max", "Min", "Sum"]

_NUMBERS = (columns.Integer, columns.BigInt, columns.SmallInt, columns.TinyInt, columns.VarInt, columns.Float,
            columns.Double, columns.Decimal, columns.Counter)

QS = TypeVar("QS", bound="Aggregated")
#: One result: the group's key columns (by attribute name) and each aggregate (by its keyword).
Row = dict[str, Any]


@dataclass(frozen=True)
class Aggregate:
    """One aggregate function of a column (``field`` None: ``COUNT(*)``)."""

    function = ""
    field: Optional[str] = None

    def column_of(self, model: Any, keyword: str) -> Optional[Any]:
        """The model's column it reads (None for ``COUNT(*)``); refused when Cassandra would refuse it."""
        if self.field is None:
            if self.function != "COUNT":
                raise QueryException(f"{model.__name__}.aggregate({keyword}=...): {self.function} needs a column")
            return None
        column = model._columns.get(self.field)
        if column is None:
            raise QueryException(f"{model.__name__}.aggregate({keyword}=...): {model.__name__} has no column "
                                 f"{self.field!r}")
        if self.function in ("SUM", "AVG") and not isinstance(column, _NUMBERS):
            raise QueryException(f"{model.__name__}.aggregate({keyword}=...): {self.function} needs a number "
                                 f"column; {self.field} is {column.cql_type()}")
        return column


class Count(Aggregate):
    """``COUNT(*)``, or ``COUNT(column)``: the rows where the column is not null."""

    function = "COUNT"


class Sum(Aggregate):
    """``SUM(column)`` of a number column, in the column's type."""

    function = "SUM"


class Avg(Aggregate):
    """``AVG(column)`` of a number column, computed by Cassandra in the column's type."""

    function = "AVG"


class Min(Aggregate):
    """``MIN(column)``."""

    function = "MIN"


class Max(Aggregate):
    """``MAX(column)``."""

    function = "MAX"


class _Relation(Protocol):
    attr: str
    operator: str


class Aggregated(Protocol):
    """What the methods below use of the queryset they are mixed into (``QuerySet``, a layer above)."""

    model: Any  # the model class
    _group_by: tuple[str, ...]
    _fetch_size: Optional[int]

    @property
    def _where(self) -> Sequence[_Relation]: ...
    @property
    def _counts_by_reading(self) -> bool: ...
    def _with(self: QS, **attrs: Any) -> QS: ...
    def _select_statement(self, count: bool = False, limit: Optional[int] = None) -> statements.SelectStatement: ...
    def _execute(self, statement: statements.BaseStatement, fetch_size: Optional[int] = None,
                 paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> Any: ...
    async def _aexecute(self, statement: statements.BaseStatement, fetch_size: Optional[int] = None,
                        paging_state: Optional[bytes] = None, tuple_rows: bool = False) -> Any: ...
    async def _anext_page(self, result: Any) -> Any: ...


class AggregateQueries:
    """The ``group_by()`` / ``aggregate()`` / ``aaggregate()`` methods of a queryset."""

    _group_by: tuple[str, ...] = ()

    def group_by(self: QS, *names: str) -> QS:
        """The aggregates of this queryset computed per group of these primary-key columns, in key order."""
        for name in names:
            if name not in self.model._columns:
                raise QueryException(f"{self.model.__name__}.group_by: no column {name!r}")
        return self._with(_group_by=tuple(names))

    def aggregate(self: Aggregated, **aggregates: Aggregate) -> Union[Row, list[Row]]:
        """The aggregates, by keyword: one dict; or, after ``group_by()``, one dict per group (with the
        group's columns), in the server's order."""
        statement, shape = _statement(self, aggregates)
        return shape.results(self._execute(statement, fetch_size=self._fetch_size))

    async def aaggregate(self: Aggregated, **aggregates: Aggregate) -> Union[Row, list[Row]]:
        """``aggregate()`` without blocking the event loop."""
        statement, shape = _statement(self, aggregates)
        result = await self._aexecute(statement, fetch_size=self._fetch_size)
        rows = list(result.current_rows)
        while result.has_more_pages:
            result = await self._anext_page(result)
            rows += list(result.current_rows)
        return shape.from_rows(rows)

    def _aggregate_statement(self: Aggregated, aggregates: dict[str, Aggregate]
                             ) -> tuple[statements.SelectStatement, _Shape]:
        return _statement(self, aggregates)


def _statement(queryset: Aggregated, aggregates: dict[str, Aggregate]) -> tuple[statements.SelectStatement, _Shape]:
    """The SELECT of ``aggregates`` over ``queryset``, and how its rows read back."""
    model = queryset.model
    if not aggregates:
        raise QueryException(f"{model.__name__}.aggregate: name at least one aggregate (n=Count(), ...)")
    if queryset._counts_by_reading:
        raise QueryException(f"{model.__name__}.aggregate: Cassandra would aggregate rows this queryset does "
                             "not return (another subclass's, or under distinct() or ann())")
    selected = []
    for keyword, aggregate in aggregates.items():
        if not isinstance(aggregate, Aggregate):
            raise QueryException(f"{model.__name__}.aggregate({keyword}=...): {aggregate!r} is not an "
                                 "aggregate (Count, Sum, Avg, Min, Max)")
        column = aggregate.column_of(model, keyword)
        selected.append((aggregate.function, None if column is None else column.db_field_name, keyword))
    group = _group_columns(queryset)
    base = queryset._select_statement(count=True)
    statement = dataclasses.replace(
        base, count=False, fields=[c.db_field_name for c in group], aggregates=selected,
        group_by=[c.db_field_name for c in group],
        limit=base.limit if group else None)
    clash = sorted({c.attr_name for c in group} & set(aggregates))
    if clash:
        raise QueryException(f"{model.__name__}.aggregate: {', '.join(clash)} names a group column already")
    # A count is an int whatever it counts; the others come back in their column's type.
    typed = {k: None if a.function == "COUNT" else a.column_of(model, k) for k, a in aggregates.items()}
    return statement, _Shape(group, typed, bool(group))


def _group_columns(queryset: Aggregated) -> list[Any]:
    """The group's columns, checked against Cassandra's rule: primary-key columns in key order, where a
    column restricted by ``=`` may be skipped."""
    model = queryset.model
    names = queryset._group_by
    if not names:
        return []
    key = list(model._primary_keys)
    fixed = {r.attr for r in queryset._where if r.operator == "="}
    position = 0
    for name in names:
        if name not in key:
            raise QueryException(f"{model.__name__}.group_by({name!r}): Cassandra groups by primary-key "
                                 f"columns only ({', '.join(key)})")
        while position < len(key) and key[position] != name:
            if key[position] not in fixed:
                raise QueryException(f"{model.__name__}.group_by({', '.join(names)}): the primary key's "
                                     f"order is {', '.join(key)}; {name} cannot come before "
                                     f"{key[position]} (unless {key[position]} is filtered with =)")
            position += 1
        if position == len(key):
            raise QueryException(f"{model.__name__}.group_by({', '.join(names)}): the primary key's order "
                                 f"is {', '.join(key)}")
        position += 1
    return [model._columns[name] for name in names]


@dataclass
class _Shape:
    """How the result rows read back: group columns by attribute, aggregates by keyword, typed."""

    group: list[Any]
    #: By keyword: the column whose type the value has (None: a count).
    aggregates: dict[str, Optional[Any]]
    grouped: bool

    def results(self, result: Any) -> Union[Row, list[Row]]:
        return self.from_rows(list(result))

    def from_rows(self, rows: list[Any]) -> Union[Row, list[Row]]:
        out = [self._row(row) for row in rows]
        if self.grouped:
            return out
        return out[0] if out else {k: None for k in self.aggregates}

    def _row(self, row: Any) -> Row:
        values: Row = {c.attr_name: c.to_python(row[c.db_field_name]) for c in self.group}
        for keyword, column in self.aggregates.items():
            value = row[keyword]
            values[keyword] = (int(value) if value is not None else 0) if column is None else (
                None if value is None else column.to_python(value))
        return values
