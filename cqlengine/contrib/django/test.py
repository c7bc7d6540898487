"""``TEST_RUNNER = "cqlengine.contrib.django.test.CqlengineTestRunner"``: each test run in a keyspace of its own.

Before the tests, the runner makes a keyspace named after ``CQLENGINE["KEYSPACE"]`` with a random suffix
(``test_shop_3f9a1c2b``), makes it the default connection's keyspace, and creates there the tables of the
installed apps' cqlengine models (``installed_models()``). After them, it drops the keyspace and sets the
default keyspace back. Two runs at once, or a run after an interrupted one, never share or inherit rows.
Models that name a ``__keyspace__`` of their own keep it: the runner does not move them.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.test.runner import DiscoverRunner

from cqlengine import connection, ddl, management
from cqlengine.contrib.django.conf import installed_models

__all__ = ["CqlengineTestRunner", "test_keyspace"]


class test_keyspace:  # noqa: N801 - used as a context manager, as a function would be
    """A keyspace of its own made the default connection's default, with ``models``' tables in it."""

    def __init__(self, models: Any = None, replication_factor: int = 1) -> None:
        self.models = models
        self.replication_factor = replication_factor
        self.name = ""
        self.previous: Any = None

    def __enter__(self) -> str:
        conn = connection.get_connection()
        base = (conn.default_keyspace or "cqlengine")[:30]
        self.name = f"test_{base}_{uuid.uuid4().hex[:8]}"
        connection.execute(ddl.create_keyspace(self.name, {"class": "SimpleStrategy",
                                                            "replication_factor": self.replication_factor}))
        self.previous, conn.default_keyspace = conn.default_keyspace, self.name
        for model in (installed_models() if self.models is None else self.models):
            if model.__keyspace__ is None:
                management.sync_table(model)
        return self.name

    def __exit__(self, *exc: Any) -> None:
        conn = connection.get_connection()
        try:
            connection.execute(ddl.drop_keyspace(self.name), timeout=60)
        finally:
            conn.default_keyspace = self.previous


class CqlengineTestRunner(DiscoverRunner):
    """Django's runner, with the cqlengine models in a keyspace of the run's own (see the module docstring)."""

    def setup_databases(self, **kwargs: Any) -> Any:
        self._cqlengine_keyspace = test_keyspace()
        self._cqlengine_keyspace.__enter__()
        return super().setup_databases(**kwargs)

    def teardown_databases(self, old_config: Any, **kwargs: Any) -> None:
        try:
            super().teardown_databases(old_config, **kwargs)
        finally:
            self._cqlengine_keyspace.__exit__(None, None, None)
