"""pytest plugin: a real Cassandra for any test suite.

Fixtures:

``cassandra`` (session)
    The node: ``contact_points``, ``port``, ``version``. Started on first use
    (or reused, or taken from ``CQLENGINE_TEST_HOSTS``) and stopped at the end
    of the session if this session started it. If no server can be had the
    fixture errors: tests that need Cassandra never skip silently.
``cqlengine_connection`` (session)
    The default cqlengine connection, set up against that node, with a
    session-wide keyspace as its default keyspace (dropped at the end).
``cqlengine_keyspace`` (function)
    A fresh keyspace made the default connection's default keyspace for one
    test, and dropped afterwards.
``cassandra_cluster`` (session)
    A local cluster of ``CQLENGINE_CLUSTER_NODES`` (3) nodes on 127.0.0.1 ...
    127.0.0.3, port ``CQLENGINE_CLUSTER_PORT`` (19042): a
    :class:`~cqlengine.testing.cluster.LocalCluster` with ``contact_points``,
    ``port``, ``kill_node(i)``, ``stop_node(i)``, ``restart_node(i)`` and
    ``wait_for({...})``. Started on first use (a cluster already running,
    from ``python -m cqlengine.testing start --nodes 3``, is reused), and
    stopped at the end of the last session using it if a session started
    it; a node a test stopped or killed is started again either way. It is always local
    processes: killing a node needs its process. One test run at a time uses
    it (a second run waits): its tests kill and restart nodes.

``async def`` tests are run, each in a fresh event loop (``asyncio.run``),
only when asked for: a test (or module, with ``pytestmark``) marked
``@pytest.mark.cqlengine_async``, or every one with the ini setting
``cqlengine_async_tests = true``. Fixtures stay synchronous; an async test awaits what it needs
itself. A test pytest-asyncio runs (``@pytest.mark.asyncio``, or its
``auto`` mode) or anyio runs (``@pytest.mark.anyio``) is left to it. A
project that uses none of this is left as it is: loading the
plugin imports neither the driver nor the launcher (the fixtures import
them when used).

Starting a node prints what it does and how long it took to the terminal,
whatever pytest's capturing: a cold run waits for it.
"""
from __future__ import annotations

import inspect
import os
import signal
import sys
import threading
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

import pytest

if TYPE_CHECKING:
    from cqlengine import connection
    from cqlengine.testing.cluster import LocalCluster
    from cqlengine.testing.server import NodeInfo

ASYNC_MARKER = "cqlengine_async"
ASYNC_SETTING = "cqlengine_async_tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(ASYNC_SETTING, "run every async def test in a fresh event loop (cqlengine's pytest plugin)",
                  type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{ASYNC_MARKER}: run this async def test in a fresh event loop "
                                       "(cqlengine's pytest plugin)")


def _create_keyspace(name: str) -> None:
    from cqlengine import connection, ddl

    connection.execute(ddl.create_keyspace(name, {"class": "SimpleStrategy", "replication_factor": 1}))


def _drop_keyspace(name: str) -> None:
    from cqlengine import connection, ddl

    connection.execute(ddl.drop_keyspace(name), timeout=60)


def _keyspace_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _exit_on_sigterm() -> Any:
    """Turn SIGTERM (a CI timeout, a kill) into SystemExit, so fixture teardown still stops the node."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # pytest stops the run on it (SystemExit would fail one test only)

    return signal.signal(signal.SIGTERM, on_term)


def _terminal_log(config: pytest.Config) -> Callable[[str], None]:
    """Print past pytest's output capturing: a cold start takes a while and should say so."""
    capture = config.pluginmanager.getplugin("capturemanager")

    def say(message: str) -> None:
        if capture is None:
            from cqlengine.testing.server import main_log

            main_log(message)
            return
        with capture.global_and_fixture_disabled():
            print(f"[cqlengine] {message}", file=sys.stderr, flush=True)

    return say


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Optional[bool]:
    """Run an ``async def`` test in a fresh event loop, when asked for and no async plugin runs it."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    if not (pyfuncitem.get_closest_marker(ASYNC_MARKER) or pyfuncitem.config.getini(ASYNC_SETTING)):
        return None  # not ours to run: pytest (or another plugin) does what it does with it
    if _another_plugin_runs(pyfuncitem):
        return None
    import asyncio

    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


def _another_plugin_runs(item: pytest.Function) -> bool:
    """Whether pytest-asyncio or anyio runs this async test: marked for it, or pytest-asyncio in auto mode."""
    config = item.config
    plugins = config.pluginmanager
    if plugins.hasplugin("anyio") and item.get_closest_marker("anyio"):
        return True
    if not plugins.hasplugin("asyncio"):
        return False
    if item.get_closest_marker("asyncio"):
        return True
    mode = config.getoption("asyncio_mode", None)
    if mode is None:
        try:
            mode = config.getini("asyncio_mode")
        except ValueError:  # not a setting of the pytest-asyncio installed
            mode = None
    return str(mode) == "auto"


@pytest.fixture(scope="session")
def cassandra(request: pytest.FixtureRequest) -> Iterator[NodeInfo]:
    from cqlengine.testing.server import ServerSettings, ensure_node, release_lease, stop_node

    settings = ServerSettings.from_env()
    previous = _exit_on_sigterm()
    try:
        # The lease (taken while the node's lock is held) keeps the node alive for this session
        # even when the session that started it ends first.
        info, started = ensure_node(settings, log=_terminal_log(request.config), lease=True)
        try:
            yield info
        finally:
            if info.source in ("download", "cassandra_home"):
                release_lease(settings, info, started)
            elif started:
                stop_node(info, settings)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def cqlengine_connection(cassandra: NodeInfo) -> Iterator[connection.Connection]:
    from cqlengine import connection

    # CQLENGINE_TEST_TRANSPORT=acsylla: the awaited calls of the suite go through acsylla.
    transport = os.environ.get("CQLENGINE_TEST_TRANSPORT", "cassandra-driver")
    conn = connection.setup(cassandra.contact_points, port=cassandra.port, transport=transport)
    keyspace = _keyspace_name("cqlengine_test")
    _create_keyspace(keyspace)
    conn.default_keyspace = keyspace
    try:
        yield conn
    finally:
        try:
            _drop_keyspace(keyspace)
        finally:
            if connection.DEFAULT_CONNECTION in connection.connections():
                connection.unregister_connection(connection.DEFAULT_CONNECTION)


@pytest.fixture
def cqlengine_keyspace(cqlengine_connection: connection.Connection) -> Iterator[str]:
    keyspace = _keyspace_name("cqlengine_ks")
    _create_keyspace(keyspace)
    previous = cqlengine_connection.default_keyspace
    cqlengine_connection.default_keyspace = keyspace
    try:
        yield keyspace
    finally:
        cqlengine_connection.default_keyspace = previous
        _drop_keyspace(keyspace)


@pytest.fixture(scope="session")
def cassandra_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    from cqlengine.testing.cluster import ClusterSettings, LocalCluster

    cluster = LocalCluster(ClusterSettings.from_env(), log=_terminal_log(request.config))
    previous = _exit_on_sigterm()
    try:
        # One test run at a time: its tests kill and restart nodes. A lease, as for the single node:
        # the last session out stops the cluster if a session started it. Nodes a test stopped or
        # killed are started again.
        with cluster.exclusive_use():
            started = cluster.acquire()
            try:
                yield cluster
            finally:
                cluster.release(started)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
