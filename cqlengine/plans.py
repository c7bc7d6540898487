"""Plans a model compiles once and every instance uses: how rows become values, how values are written.

Each plan is kept on the model class (in its own ``__dict__``, so a subclass
compiles its own) the first time it is needed. A model's columns do not
change after its class is made, so a plan never goes stale; the row plans of
a model are keyed by the row's column names, so a table altered by another
client gets a plan of its own shape.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Optional, TypeVar

from cqlengine.columns import BaseCollectionColumn, Column, has_packaged_to_python, reads_driver_value_as_is
from cqlengine.exceptions import ValidationError

T = TypeVar("T")


class RowPlan:
    """How rows of one shape (CQL column names, in order) become one model's values; compiled once.

    ``attrs`` names each position's attribute (None: a column the model does
    not know); ``complete`` says the row holds every column in the model's
    order, so values are ``dict(zip(attrs, row))``; ``converts`` are the
    positions whose driver value needs ``to_python``; ``copies`` the
    attributes whose values can change in place and may be the row's own
    object, so the instance gets a copy and the row keeps the value as read.

    ``from_row`` says the snapshot can be made again from the row later:
    every converter is one of this package's, which build equal values from
    equal rows. A column type of the caller's own that converts by itself may
    not (a value without ``__eq__``, or the driver's own list handed back), so
    its model's instances take their snapshot at once (``snapshot_of``), by
    copying what can change in place, as every instance did before.
    """

    __slots__ = ("names", "attrs", "complete", "known", "converts", "copies", "copiers", "empty", "from_row")

    def __init__(self, model: Any, names: tuple[str, ...]) -> None:
        columns = model._columns
        self.names = names
        self.attrs = tuple(model._db_map.get(name) for name in names)
        self.complete = self.attrs == tuple(columns)
        self.known = [(index, attr) for index, attr in enumerate(self.attrs) if attr is not None]
        self.converts: list[tuple[int, str, Callable[[Any], Any]]] = []
        self.copies: list[tuple[str, Callable[[Any], Any]]] = []
        self.copiers: list[tuple[str, Callable[[Any], Any]]] = []
        self.from_row = True
        for index, attr in self.known:
            col = columns[attr]
            as_is = reads_driver_value_as_is(col)
            if not as_is:
                self.converts.append((index, attr, col.to_python))
                if not has_packaged_to_python(col):
                    self.from_row = False
            copier = col.snapshot_copier()
            if copier is not None:
                self.copiers.append((attr, copier))
                # A collection's converter builds a new one; any other may hand back what it was given.
                if as_is or not isinstance(col, BaseCollectionColumn):
                    self.copies.append((attr, copier))
        self.empty = dict.fromkeys(columns)

    @classmethod
    def of(cls, model: Any, names: Sequence[str]) -> RowPlan:
        """The plan of ``model`` for rows of ``names``, kept on the model class (a few shapes per model)."""
        plans = model.__dict__.get("_row_plans")
        if plans is None:
            plans = {}
            model._row_plans = plans
        key = tuple(names)
        plan = plans.get(key)
        if plan is None:
            if len(plans) >= 256:
                plans.clear()  # shapes come from only()/defer(): a few per model
            plan = plans[key] = cls(model, key)
        return plan  # type: ignore[no-any-return]

    def instances(self, model: type[T], rows: Sequence[Sequence[Any]]) -> list[T]:
        """Instances of ``model`` (with this plan's shape) from ``rows`` of values in this plan's order.

        Each instance keeps its row, from which it makes its snapshot when first
        asked (``from_row`` plans), or gets its snapshot at once.
        """
        attrs, known, converts, copies, empty = self.attrs, self.known, self.converts, self.copies, self.empty
        complete, from_row, names = self.complete, self.from_row, self.names
        if not from_row:
            copies = []  # the row is not kept: the snapshot is a copy of its own
        new = model.__new__
        out: list[T] = []
        append = out.append
        for row in rows:
            if complete:
                values = dict(zip(attrs, row))
            else:
                values = dict(empty)
                for index, attr in known:
                    values[attr] = row[index]
            for index, attr, convert in converts:
                values[attr] = convert(row[index])
            for attr, copy_value in copies:
                value = values[attr]
                if value is not None:
                    values[attr] = copy_value(value)  # the row keeps the value as read, for the snapshot
            instance: Any = new(model)
            instance._values = values
            if from_row:
                # The row's column names, not the plan: a tuple of strings and values is left alone by
                # the garbage collector, which matters when a result of many rows is held.
                instance._read = (names, row)
            else:
                instance._loaded = self.snapshot_of(values)
            append(instance)
        return out

    def snapshot_of(self, values: dict[str, Any]) -> dict[str, Any]:
        """The snapshot of an instance's values just built: the columns read, copied where they can change."""
        loaded = {attr: values[attr] for _, attr in self.known}
        for attr, copy_value in self.copiers:
            value = loaded[attr]
            if value is not None:
                loaded[attr] = copy_value(value)
        return loaded

    def snapshot(self, row: Sequence[Any]) -> dict[str, Any]:
        """The values of ``row`` as change tracking keeps them: the columns read, as read (``from_row`` plans)."""
        loaded = {attr: row[index] for index, attr in self.known}
        for index, attr, convert in self.converts:
            loaded[attr] = convert(row[index])  # a fresh value: converters build new collections
        return loaded


def columns_with_defaults(model: Any) -> list[tuple[str, Column]]:
    """(attr, column) of the model's columns that have a default; listed once per model."""
    found = model.__dict__.get("_with_defaults")
    if found is None:
        found = model._with_defaults = [(key, col) for key, col in model._columns.items() if col.has_default]
    return found  # type: ignore[no-any-return]


def empty_collections(model: Any) -> list[tuple[str, Column]]:
    """(attr, column) of the model's lists, sets and maps: None given to one holds the empty collection."""
    found = model.__dict__.get("_empty_collections")
    if found is None:
        found = model._empty_collections = [(key, col) for key, col in model._columns.items()
                                            if col.is_collection and col.to_python(None) is not None]
    return found  # type: ignore[no-any-return]


def insert_plan(model: Any) -> list[tuple[str, str, Column, tuple[type, ...], bool]]:
    """Per model: each column's (attr, CQL name, column, plain types, whether empty means null).

    An empty non-frozen collection is stored as null, so an INSERT leaves it
    out as it leaves out None; a value of a plain type (see
    ``Column.plain_values``) is bound as it is.
    """
    plan = model.__dict__.get("_insert_plan")
    if plan is None:
        plan = [(key, col.db_field_name, col, col.plain_values()[0],
                 col.is_collection and not getattr(col, "frozen", False))
                for key, col in model._columns.items()]
        model._insert_plan = plan
    return plan  # type: ignore[no-any-return]


def column_checks(model: Any) -> list[tuple[str, Column, tuple[type, ...], Optional[tuple[int, int]], bool]]:
    """Per model: each column's (attr, column, plain types, int bounds, whether None passes as it is).

    ``validate()`` skips a value the column vouches for (see
    ``Column.plain_values``) and a None the column takes as it is.
    """
    checks = model.__dict__.get("_column_checks")
    if checks is None:
        checks = []
        for key, col in model._columns.items():
            plain, bounds = col.plain_values()
            checks.append((key, col, plain, bounds, _none_passes(col)))
        model._column_checks = checks
    return checks  # type: ignore[no-any-return]


def _none_passes(col: Column) -> bool:
    """Whether ``col.validate(None)`` is None without a word (neither required nor a key)."""
    if type(col).validate is not Column.validate:
        return False  # a column of the caller's own validates each value itself
    try:
        return col.validate(None) is None
    except ValidationError:
        return False
