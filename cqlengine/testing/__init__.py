"""A real local Cassandra for tests and demos, and a pytest plugin that provides it.

``python -m cqlengine.testing start|stop|status`` manages the node by hand;
the pytest plugin (``cqlengine.testing.plugin``) gives any test suite a
session-scoped ``cassandra`` fixture and a per-test ``cqlengine_keyspace``.
The names below are imported on first use (the plugin is loaded by every
pytest run of an environment where the package is installed).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cqlengine.testing.server import (
        LauncherError,
        NodeInfo,
        ServerSettings,
        ensure_node,
        resolve_source,
        stop_node,
    )

__all__ = ["LauncherError", "NodeInfo", "ServerSettings", "ensure_node", "resolve_source", "stop_node"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("cqlengine.testing.server"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
