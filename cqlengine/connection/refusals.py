"""A refused request, told in words that say what to do: a missing table or keyspace, no host to send to.

The errors stay what they were (``TableNotFound`` is the server's
``InvalidRequest``, ``ConnectionUnreachable`` the driver's
``NoHostAvailable``); only their message says more.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from cassandra import InvalidRequest, RequestExecutionException, RequestValidationException
from cassandra.cluster import NoHostAvailable, Session
from cassandra.policies import SimpleConvictionPolicy

from cqlengine import statements
from cqlengine.exceptions import ConnectionUnreachable, TableNotFound

_MISSING = re.compile(r"(?:unconfigured table|(?P<what>table|keyspace)) (?P<name>[^\s\"']+)(?: does not exist)?",
                      re.IGNORECASE)
_NO_KEYSPACE = "No keyspace has been specified"


def explained(exc: BaseException, query: Any, session: Optional[Session], connection_name: str,
              host_errors: Optional[dict[str, BaseException]] = None) -> BaseException:
    """``exc`` with a message that says what to do, when there is more to say; else ``exc`` itself.

    ``host_errors`` is the connection's record of the last error each host gave a request (updated here).
    """
    if isinstance(exc, InvalidRequest) and not isinstance(exc, TableNotFound):
        return _missing_schema(exc, query) or exc
    if isinstance(exc, NoHostAvailable) and not isinstance(exc, ConnectionUnreachable) and not _answered(exc):
        return unreachable(exc, session, connection_name, host_errors)
    return exc


def _answered(exc: NoHostAvailable) -> bool:
    """Whether a host answered with a refusal (Unavailable, a timeout of the replicas, ...): the driver's
    NoHostAvailable then carries the server's answers, which are no connection problem."""
    errors = getattr(exc, "errors", None) or {}
    return any(isinstance(error, (RequestExecutionException, RequestValidationException))
               for error in errors.values())


def _missing_schema(exc: InvalidRequest, query: Any) -> Optional[TableNotFound]:
    message = str(exc)
    shape = _shape_of(query)
    if _NO_KEYSPACE in message:
        return missing("keyspace-unset", "", shape, server=message)
    found = _MISSING.search(message)
    if found is None or "does not exist" not in message and "unconfigured" not in message:
        return None
    return missing((found.group("what") or "table").lower(), found.group("name"), shape, server=message)


def missing(what: str, name: str, shape: str, model: Optional[str] = None, server: str = "") -> TableNotFound:
    """The error of a statement whose table or keyspace (``what``) Cassandra does not have; ``model``
    (a model's name), when known, is named with what creates its table; ``server``: what the server said,
    kept at the end of the message."""
    owner = f"{model}: " if model else ""
    sync = f"management.sync_table({model})" if model else "management.sync_table(Model) for the model whose " \
        "table it is"
    if what == "keyspace-unset":  # raw CQL text: a model's statement names its keyspace or is refused first
        text = (f"{owner}{shape}: names a table without its keyspace and the session has none: qualify the "
                "table (keyspace.table), or give the session a keyspace (USE, or a driver session connected "
                "to one)")
    elif what == "keyspace":
        text = (f"{owner}Cassandra has no keyspace {name} (in {shape}): create it first (management."
                f"create_keyspace(...) or create_keyspace_simple(...)), then the table ({sync})")
    else:
        text = f"{owner}Cassandra has no table {name} (in {shape}): create it first: {sync}"
    error = TableNotFound(f"{text} ({server})" if server else text)
    error.missing = (what, name, shape)
    error.server = server
    return error


def for_model(error: TableNotFound, model: str) -> TableNotFound:
    """``error`` told for ``model``'s statement: it names the model and ``sync_table`` of it."""
    if error.missing is None:
        return error
    what, name, shape = error.missing
    return missing(what, name, shape, model=model, server=error.server)


def _shape_of(query: Any) -> str:
    text = query if isinstance(query, str) else getattr(query, "query_string", None)
    return statements.without_literals(text) if isinstance(text, str) else f"a {type(query).__name__}"


def unreachable(exc: NoHostAvailable, session: Optional[Session], connection_name: str,
                host_errors: Optional[dict[str, BaseException]] = None) -> ConnectionUnreachable:
    """No host could take the request: each host tried, with its error; when none was tried, every host
    known, with whether it is up and the last connection error seen of it."""
    errors: dict[Any, Any] = dict(getattr(exc, "errors", None) or {})
    remembered = host_errors if host_errors is not None else {}
    for host, error in errors.items():
        remembered[str(host)] = error
    if errors:
        tried = "; ".join(f"{host}: {type(error).__name__}: {error}" for host, error in errors.items())
        return ConnectionUnreachable(f"Connection {connection_name!r}: no host could run the statement; tried "
                                     f"{tried}", errors)
    hosts = list(session.cluster.metadata.all_hosts()) if session is not None else []
    if not hosts:
        return ConnectionUnreachable(f"Connection {connection_name!r}: no host could run the statement, and the "
                                     f"driver knows of none ({exc})", errors)
    known = "; ".join(_host_state(host, remembered) for host in hosts)
    return ConnectionUnreachable(
        f"Connection {connection_name!r}: no host was up to run the statement: {known}. The driver marks a host "
        "down after a connection error and keeps trying to reconnect in the background; check that the node "
        "runs and is reachable", errors)


def _host_state(host: Any, remembered: dict[str, BaseException]) -> str:
    state = "up" if host.is_up else "down"
    last = getattr(host.conviction_policy, "last_error", None) or remembered.get(str(host.endpoint))
    return f"{host.endpoint} ({state}{f', last error: {type(last).__name__}: {last}' if last else ''})"


class RememberingConvictionPolicy(SimpleConvictionPolicy):
    """The driver's default conviction policy, which also keeps the host's last connection error
    (for :func:`unreachable`); used by the clusters this library makes."""

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.last_error: Optional[BaseException] = None

    def add_failure(self, connection_exc: BaseException) -> bool:
        self.last_error = connection_exc
        return bool(super().add_failure(connection_exc))

    def reset(self) -> None:
        super().reset()  # the host is up again; its last error stays known until the next one
