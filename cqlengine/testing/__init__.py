"""A real local Cassandra for tests and demos, and a pytest plugin that provides it.

``python -m cqlengine.testing start|stop|status`` manages the node by hand;
the pytest plugin (``cqlengine.testing.plugin``) gives any test suite a
session-scoped ``cassandra`` fixture and a per-test ``cqlengine_keyspace``.
"""
from cqlengine.testing.server import (
    LauncherError,
    NodeInfo,
    ServerSettings,
    ensure_node,
    resolve_source,
    stop_node,
)

__all__ = ["LauncherError", "NodeInfo", "ServerSettings", "ensure_node", "resolve_source", "stop_node"]
