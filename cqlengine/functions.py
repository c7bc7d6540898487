"""CQL functions usable in a value position: ``token(...)``, ``minTimeuuid(?)``, ``maxTimeuuid(?)``.

A function renders its own bound-marker text (part of the statement's shape)
and contributes its arguments as bound parameters; no value is ever
formatted into CQL text.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from cqlengine.exceptions import QueryException

__all__ = ["BaseFunction", "MaxTimeUUID", "MinTimeUUID", "Token"]

if TYPE_CHECKING:  # typing.Self needs Python 3.11; we support 3.9
    from typing_extensions import Self


class BaseFunction:
    """A CQL function call whose arguments are all bound parameters."""

    #: CQL function name, as written in the statement.
    name: ClassVar[str] = ""

    params: list[Any]

    def __init__(self, *values: Any) -> None:
        self.params = list(values)

    @property
    def marker(self) -> str:
        """The CQL text standing for this value, e.g. ``token(?, ?)``."""
        return f"{self.name}({', '.join('?' for _ in self.params)})"

    def with_values(self, values: Iterable[Any]) -> Self:
        """A copy holding ``values`` instead of the current arguments.

        The query layer uses this to swap in values converted with the column
        types before rendering, without mutating the user's object.
        """
        clone = copy.copy(self)
        clone.params = list(values)
        clone._check()
        return clone

    def _check(self) -> None:
        """Raise QueryException if the arguments are not acceptable."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, BaseFunction)
        return self.params == other.params

    # Arguments may be unhashable (lists), and the object is mutable via params.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(v) for v in self.params)})"


class _TimeUUIDFunction(BaseFunction):
    """minTimeuuid / maxTimeuuid of one datetime (naive datetimes are UTC)."""

    def __init__(self, value: datetime) -> None:
        super().__init__(value)
        self._check()

    def _check(self) -> None:
        if len(self.params) != 1 or not isinstance(self.params[0], datetime):
            raise QueryException(
                f"{type(self).__name__} takes one datetime, got {self.params!r}"
            )


class MinTimeUUID(_TimeUUIDFunction):
    """The smallest timeuuid for a datetime: ``minTimeuuid(?)``.

    The datetime is passed through; the driver serializes it (naive means UTC).
    """

    name = "minTimeuuid"


class MaxTimeUUID(_TimeUUIDFunction):
    """The largest timeuuid for a datetime: ``maxTimeuuid(?)``."""

    name = "maxTimeuuid"


class Token(BaseFunction):
    """The partition token of a partition key value: ``token(?, ?, ...)``.

    Takes one value per partition key column, in key order.
    ``Token([a, b])`` means ``Token(a, b)`` (the peer's spelling); so when the
    only key value is itself a list or tuple, write ``Token([value])``.
    """

    name = "token"

    def __init__(self, *values: Any) -> None:
        if len(values) == 1 and isinstance(values[0], (list, tuple)):
            values = tuple(values[0])
        super().__init__(*values)
        self._check()

    def _check(self) -> None:
        if not self.params:
            raise QueryException("Token needs at least one partition key value")
