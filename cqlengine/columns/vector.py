"""Vectors: ``Vector`` (``vector<float, N>``), Cassandra 5.0's type for embeddings."""
from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Set as _AbstractSet
from typing import Any, Callable, Literal, Optional, overload

from cqlengine.columns.base import _R, Column, _fail, _is_int
from cqlengine.columns.collection_types import _element, _elements_to_database, _elements_to_python
from cqlengine.columns.numeric import Float
from cqlengine.exceptions import DefinitionValueError, ValidationError, ValidationTypeError
from cqlengine.statements import SIMILARITY_FUNCTIONS

#: The similarity functions a vector index (and ``similarity_<name>()``) can use.
SIMILARITIES = SIMILARITY_FUNCTIONS


class Vector(Column[list[Any], _R]):
    """A fixed-length vector (``vector<float, N>``), Cassandra 5.0's type for embeddings; held as a list.

    ``dimension`` is the number of elements; ``value_type`` the element type
    (``Float`` by default; any type Cassandra allows in a vector). A value is
    a list, a tuple or another sequence of exactly ``dimension`` elements,
    such as a one-dimensional numpy array (numpy is not needed otherwise);
    it reads back as a list. No element may be None, and float elements must
    be finite (a NaN has no distance to anything).

    ``index=True`` creates a Storage-Attached Index on it, with ``similarity``
    ``"cosine"`` (the default), ``"euclidean"`` or ``"dot_product"``, which
    ``QuerySet.ann()`` orders by; Cassandra indexes vectors of ``float`` only.
    """

    @overload
    def __init__(self: Vector[Literal[True]], dimension: int, value_type: Any = ..., similarity: Optional[str] = ...,
                 *, primary_key: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Vector[Literal[True]], dimension: int, value_type: Any = ..., similarity: Optional[str] = ...,
                 *, partition_key: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Vector[Literal[True]], dimension: int, value_type: Any = ..., similarity: Optional[str] = ...,
                 *, required: Literal[True], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: Vector[Literal[False]], dimension: int, value_type: Any = ...,
                 similarity: Optional[str] = ..., **kwargs: Any) -> None: ...
    def __init__(self, dimension: int, value_type: Any = None, similarity: Optional[str] = None,
                 **kwargs: Any) -> None:
        if not _is_int(dimension) or dimension < 1:
            raise DefinitionValueError(f"Vector: dimension must be a positive int, got {dimension!r}")
        self.dimension = dimension
        self.value_col = _element(Float if value_type is None else value_type, "Vector")
        wants_index = bool(kwargs.pop("index", False) or kwargs.get("custom_index", False))
        if similarity is not None and similarity not in SIMILARITIES:
            raise DefinitionValueError(f"Vector: similarity must be one of {', '.join(SIMILARITIES)}, "
                                       f"got {similarity!r}")
        if similarity is not None and not wants_index:
            raise DefinitionValueError("Vector: similarity= is the index's: declare index=True with it")
        if wants_index and self.value_col.cql_type() != "float":
            raise DefinitionValueError(f"Vector: Cassandra indexes vectors of float only, not of "
                                       f"{self.value_col.cql_type()}")
        # A vector is indexed by SAI alone (a legacy secondary index cannot hold one).
        kwargs["custom_index"] = wants_index
        super().__init__(**kwargs)
        self.similarity: Optional[str] = (similarity or "cosine") if wants_index else None

    @property
    def _python_type_hashable(self) -> bool:
        return False

    def cql_type(self) -> str:
        return f"vector<{self.value_col._nested_cql_type()}, {self.dimension}>"

    def index_options(self) -> dict[str, str]:
        """The options of its index (``similarity_function``); empty when it has none."""
        return {} if self.similarity is None else {"similarity_function": self.similarity}

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, (str, bytes, Mapping, _AbstractSet)) or not hasattr(value, "__len__"):
            raise _fail(label, value, f"is not a sequence ({self.cql_type()} needs a list, tuple or array)",
                        ValidationTypeError)
        if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
            value = value.tolist()  # a numpy array: its elements as Python numbers
        if len(value) != self.dimension:
            raise ValidationError(f"{label}: {len(value)} element(s) given, but {self.cql_type()} holds exactly "
                                  f"{self.dimension}")
        element = self.value_col
        finite = element.cql_type() in ("float", "double")
        out = []
        for i, item in enumerate(value):
            if item is None:
                raise ValidationError(f"{label}[{i}]: None is not allowed in a vector")
            item = element._clean(item, f"{label}[{i}]")
            if finite and not math.isfinite(item):
                raise ValidationError(f"{label}[{i}]: {item!r} is not allowed in a vector (elements must be finite)")
            out.append(item)
        return out

    def to_database(self, value: Any) -> Any:
        return None if value is None else _elements_to_database(self.value_col, value)

    def snapshot_copier(self) -> Optional[Callable[[Any], Any]]:
        return list

    def to_python(self, value: Any) -> Any:
        return None if value is None else _elements_to_python(self.value_col, value)
