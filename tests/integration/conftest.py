"""Fixtures shared by the integration tests.

``mapper`` runs one test body against both mappers: ours (``cqlengine``) and
the peer (``cassandra.cqlengine`` 3.30.1, installed with the driver), each
connected to the same node and keyspace. A parity test writes the code a
porting user would write once, against ``mapper.columns``, ``mapper.Model``,
``mapper.connection`` ..., and asserts the same answer from both.
"""
from __future__ import annotations

import importlib
import logging
import uuid
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Iterator

import pytest


@dataclass
class Mapper:
    """The public modules of one mapper, as a porting user imports them."""

    name: str  # "ours" or "peer"
    columns: ModuleType
    models: ModuleType
    query: ModuleType
    management: ModuleType
    connection: ModuleType
    usertype: ModuleType
    exceptions: ModuleType
    keyspace: str

    @property
    def Model(self) -> Any:  # noqa: N802 - the class, as users spell it
        return self.models.Model

    @property
    def UserType(self) -> Any:  # noqa: N802
        return self.usertype.UserType

    def table_name(self, prefix: str) -> str:
        """A table name unique to this mapper, so both can run the same body side by side."""
        return f"{prefix}_{self.name}_{uuid.uuid4().hex[:8]}"


def _modules(package: str) -> dict[str, ModuleType]:
    names = ("columns", "models", "query", "management", "connection", "usertype")
    found = {n: importlib.import_module(f"{package}.{n}") for n in names}
    found["exceptions"] = importlib.import_module(
        "cqlengine.exceptions" if package == "cqlengine" else "cassandra.cqlengine")
    return found


@pytest.fixture(scope="session")
def peer_connection(cassandra, cqlengine_connection) -> Iterator[ModuleType]:
    """The peer's default connection, on the suite's node and keyspace."""
    from cassandra.cqlengine import connection as peer

    peer.setup(cassandra.contact_points, cqlengine_connection.default_keyspace, port=cassandra.port)
    try:
        yield peer
    finally:
        peer.unregister_connection("default")


@pytest.fixture(params=["ours", "peer"])
def mapper(request, cqlengine_connection) -> Iterator[Mapper]:
    """Each parity test runs once with our mapper and once with the peer's."""
    keyspace = cqlengine_connection.default_keyspace
    if request.param == "ours":
        yield Mapper("ours", keyspace=keyspace, **_modules("cqlengine"))
    else:
        request.getfixturevalue("peer_connection")
        with warnings.catch_warnings():
            # The peer warns about CQLENG_ALLOW_SCHEMA_MANAGEMENT on every sync_table.
            warnings.simplefilter("ignore")
            yield Mapper("peer", keyspace=keyspace, **_modules("cassandra.cqlengine"))


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def cql_log() -> Iterator[list[str]]:
    """The messages cqlengine logs while the test runs, DEBUG included (each statement sent, by its shape)."""
    logger = logging.getLogger("cqlengine")
    handler = _Lines()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)
