"""Column types: how a Python value is validated, bound and read back.

A column knows its CQL type (``db_type`` / ``cql_type()``), cleans values
(``validate``), converts them to what cassandra-driver binds
(``to_database``) and converts what the driver returns back to what the
model holds (``to_python``). Columns do no I/O and render no statements.
"""
from __future__ import annotations

# The classes below name this package as their module, so the API page resolves their annotations (those of
# their instance attributes too, such as Column.model_name) here: the names those use must be found here.
from typing import Any, Optional  # noqa: F401

# isort: off
# The API page lists this module's members in the order they are imported here (autodoc's "bysource").
from cqlengine.columns.base import Column
from cqlengine.columns.text import Text, Ascii, Blob, Bytes
from cqlengine.columns.numeric import Boolean, Integer, TinyInt, SmallInt, BigInt, VarInt, Counter, Float, Double
from cqlengine.columns.numeric import Decimal, Version
from cqlengine.columns.temporal import DateTime, Date, Time, Duration
from cqlengine.columns.identifiers import UUID, TimeUUID, Inet
from cqlengine.columns.collection_types import BaseCollectionColumn, List, Set, Map, Tuple
from cqlengine.columns.vector import SIMILARITIES as SIMILARITIES, Vector
from cqlengine.columns.driver_values import DRIVER_VALUE_AS_IS as DRIVER_VALUE_AS_IS, reads_driver_value_as_is
from cqlengine.columns.user_defined import UserTypeValue, UserDefinedType, resolve_udts
# isort: on
# Not in __all__, but imported from here by the rest of the package (and its tests): "as" marks them re-exported.
from cqlengine.columns.collection_types import _MAX_COLLECTION_SIZE as _MAX_COLLECTION_SIZE
from cqlengine.columns.driver_values import has_packaged_to_python as has_packaged_to_python
from cqlengine.statements import quote_identifier as _quote  # noqa: F401 - the name columns always had for it

__all__ = [
    "Column",
    "Ascii", "Text", "Blob", "Bytes", "Boolean",
    "TinyInt", "SmallInt", "Integer", "BigInt", "VarInt", "Counter", "Version",
    "Float", "Double", "Decimal",
    "Date", "Time", "DateTime", "Duration",
    "UUID", "TimeUUID", "Inet",
    "BaseCollectionColumn", "List", "Set", "Map", "Tuple", "UserDefinedType", "Vector",
    "resolve_udts",
]


def _name_this_package_as_their_module(*defined: Any) -> None:
    # Which module of the package defines a class is not part of the API: reprs, pickles and the API page
    # name each one where users import it from.
    for obj in defined:
        obj.__module__ = __name__
        # A generic base (``Column[str, _R]``) took its class's module when the subclass was defined.
        for base in getattr(obj, "__orig_bases__", ()):
            if getattr(base, "__origin__", None) in defined:
                base.__module__ = __name__


_name_this_package_as_their_module(
    Column, Text, Ascii, Blob, Boolean, Integer, TinyInt, SmallInt, BigInt, VarInt, Counter, Float, Double, Decimal,
    Version, DateTime, Date, Time, Duration, UUID, TimeUUID, Inet, BaseCollectionColumn, List, Set, Map, Tuple, Vector,
    reads_driver_value_as_is, UserTypeValue, UserDefinedType, resolve_udts,
)
