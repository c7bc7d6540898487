"""cqlengine: a Python object mapper for Apache Cassandra (CQL3).

Importing the package imports nothing else: each public module
(``cqlengine.models``, ``cqlengine.query``, ``cqlengine.columns`` ...) is
imported when first named, as ``import cqlengine; cqlengine.models.Model``
does, so a tool that only needs a corner of it (the pytest plugin, the
node launcher) does not pay for the driver.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cqlengine import columns, connection, management, models, query, usertype  # noqa: F401
    from cqlengine.exceptions import CQLEngineException, ValidationError

# Column value-less markers, kept for port compatibility with the peer's API.
SizeTieredCompactionStrategy = "SizeTieredCompactionStrategy"
LeveledCompactionStrategy = "LeveledCompactionStrategy"
TimeWindowCompactionStrategy = "TimeWindowCompactionStrategy"
UnifiedCompactionStrategy = "UnifiedCompactionStrategy"

_FROM_EXCEPTIONS = ("CQLEngineException", "ValidationError")


def __getattr__(name: str) -> Any:
    """The exceptions named in ``__all__``, and each submodule, imported on first use."""
    if name in _FROM_EXCEPTIONS:
        return getattr(importlib.import_module("cqlengine.exceptions"), name)
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # a module it imports is missing: that is the error to see
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


__all__ = [
    "CQLEngineException",
    "ValidationError",
    "__version__",
]
