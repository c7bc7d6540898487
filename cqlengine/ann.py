"""Vector search: the nearest rows to a vector, by a ``Vector`` column's index (``QuerySet.ann()``).

``Doc.objects.ann("embedding", v).limit(10)`` runs ``SELECT ... ORDER BY
embedding ANN OF ? LIMIT ?``: the vector is bound, never written into the
text. Cassandra finds the neighbours through the column's Storage-Attached
Index, by the similarity function the index was made with.

Its search is approximate: some of the true nearest rows can be missed.
``rerank=m`` asks for ``m`` times the limit (at most 1000, Cassandra's
cap) and keeps the ``limit`` rows of greatest exact similarity, computed by
the server for each candidate: ``m`` times the rows read and sent, for a
recall closer to 1. ``score=True`` gives ``(instance, score)`` pairs, the
score being ``similarity_<function>(column, vector)``: from 0 to 1, greater
is nearer (see :func:`similarity` for the formulas).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from cqlengine.columns import Column, Vector
from cqlengine.exceptions import QueryException
from cqlengine.statements import SCORE

#: Cassandra's largest LIMIT for an ANN query.
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Ann:
    """An ``ORDER BY column ANN OF vector`` of a queryset."""

    attr: str
    column: str
    vector: list[Any]
    similarity: str
    rerank: Optional[int] = None
    score: bool = False

    @property
    def reads_scores(self) -> bool:
        """Whether each row's similarity is selected (to give it, or to rank the candidates by it)."""
        return self.score or self.rerank is not None

    def fetch_limit(self, limit: int) -> int:
        """The LIMIT sent for a ``limit()`` of ``limit``: the candidates, with ``rerank``."""
        return limit if self.rerank is None else min(limit * self.rerank, MAX_LIMIT)


def ann_of(name: str, columns: dict[str, Column], attr: str, vector: Any, rerank: Optional[int],
           score: bool) -> Ann:
    """The ``ann()`` of the model ``name``'s column ``attr`` (of ``columns``): checked, with the vector
    validated as it is bound."""
    col = columns.get(attr)
    if col is None:
        raise QueryException(f"{name}.ann: {attr!r} is not a column of {name}")
    if not isinstance(col, Vector):
        raise QueryException(f"{name}.{attr}: ann() needs a Vector column, not {type(col).__name__}")
    if col.similarity is None:
        raise QueryException(f"{name}.{attr}: ann() needs the column indexed: declare it Vector(..., index=True) "
                             "(Cassandra orders by ANN only through a Storage-Attached Index)")
    if rerank is not None and (not isinstance(rerank, int) or isinstance(rerank, bool) or rerank < 1):
        raise QueryException(f"{name}.ann: rerank must be a positive int (the candidates read per row "
                             f"returned), got {rerank!r}")
    if vector is None:
        raise QueryException(f"{name}.{attr}: ann() needs a vector, got None")
    value = col.to_database(col.validate(vector))
    return Ann(attr, col.db_field_name, value, col.similarity, rerank, bool(score))


def check(name: str, ann: Ann, limit: Optional[int], ordered: bool, distinct: bool) -> int:
    """Refuse what Cassandra would refuse of an ANN query of the model ``name``, before sending it; the LIMIT
    to send. ``ordered``, ``distinct``: whether the query also has ``order_by()``, ``distinct()``."""
    if limit is None:
        raise QueryException(f"{name}: ann() needs a limit() (Cassandra requires one for ANN, at most {MAX_LIMIT})")
    if limit > MAX_LIMIT:
        raise QueryException(f"{name}: ann() with limit({limit}): Cassandra allows at most {MAX_LIMIT}")
    if ordered:
        raise QueryException(f"{name}: ann() orders by similarity; it cannot be combined with order_by()")
    if distinct:
        raise QueryException(f"{name}: ann() cannot be combined with distinct()")
    return ann.fetch_limit(limit)


def results(make: Callable[[dict[str, Any]], Any], ann: Ann, rows: Sequence[dict[str, Any]], limit: int) -> list[Any]:
    """The results of an ANN query that selected scores: reranked when asked, paired with scores when asked;
    ``make`` turns a row into a result."""
    scored = [(row.pop(SCORE), row) for row in rows]
    if ann.rerank is not None:
        scored.sort(key=lambda pair: -pair[0])  # sorted() is stable: the server's order breaks ties
        scored = scored[:limit]
    if ann.score:
        return [(make(row), score) for score, row in scored]
    return [make(row) for _, row in scored]


def similarity(function: str, a: Sequence[float], b: Sequence[float]) -> float:
    """What Cassandra's ``similarity_<function>(a, b)`` computes, in Python (from 0 to 1, greater is nearer).

    ``cosine``: ``(1 + cos(a, b)) / 2``; ``dot_product``: ``(1 + a.b) / 2``, meant
    for vectors of length 1; ``euclidean``: ``1 / (1 + |a - b| ** 2)``.
    """
    if len(a) != len(b):
        raise ValueError(f"similarity: vectors of {len(a)} and {len(b)} elements")
    if function == "cosine":
        norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
        if norms == 0:
            raise ValueError("similarity: cosine of a zero vector")
        return (1 + sum(x * y for x, y in zip(a, b)) / norms) / 2
    if function == "dot_product":
        return (1 + sum(x * y for x, y in zip(a, b))) / 2
    if function == "euclidean":
        return 1 / (1 + sum((x - y) ** 2 for x, y in zip(a, b)))
    raise ValueError(f"similarity: {function!r} is not cosine, euclidean or dot_product")
