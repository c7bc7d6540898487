"""Filter operators and column expressions (``Model.col == x``).

Kept below the models layer so that a model class attribute can build an
expression that the query layer later reads, without models importing query.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: ``filter(col__<suffix>=value)`` suffix -> CQL operator.
FILTER_SUFFIXES: dict[str, str] = {
    "eq": "=",
    "in": "IN",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "contains": "CONTAINS",
    "contains_key": "CONTAINS KEY",
    "like": "LIKE",
}

#: ``update(col__<suffix>=value)`` collection / counter operations.
UPDATE_SUFFIXES = frozenset({"append", "prepend", "remove", "add", "update"})

RANGE_OPERATORS = frozenset({">", ">=", "<", "<="})


@dataclass(frozen=True)
class Expression:
    """One relation on a model attribute, as written by the user."""

    attr: str
    operator: str
    value: Any


class ColumnExpression:
    """What ``Model.column`` is at class level: comparisons build expressions."""

    def __init__(self, attr: str, column: Any) -> None:
        self.attr = attr
        self.column = column

    def __eq__(self, other: Any) -> Expression:  # type: ignore[override]
        return Expression(self.attr, "=", other)

    def __gt__(self, other: Any) -> Expression:
        return Expression(self.attr, ">", other)

    def __ge__(self, other: Any) -> Expression:
        return Expression(self.attr, ">=", other)

    def __lt__(self, other: Any) -> Expression:
        return Expression(self.attr, "<", other)

    def __le__(self, other: Any) -> Expression:
        return Expression(self.attr, "<=", other)

    def in_(self, values: Any) -> Expression:
        return Expression(self.attr, "IN", values)

    def contains_(self, value: Any) -> Expression:
        return Expression(self.attr, "CONTAINS", value)

    def contains_key_(self, value: Any) -> Expression:
        return Expression(self.attr, "CONTAINS KEY", value)

    def like_(self, pattern: str) -> Expression:
        return Expression(self.attr, "LIKE", pattern)

    __hash__ = object.__hash__

    def __getattr__(self, name: str) -> Any:
        # Column options (``Model.col.primary_key``, ``.db_field_name``) stay reachable.
        return getattr(self.column, name)

    def __repr__(self) -> str:
        return f"<ColumnExpression {self.attr}>"
