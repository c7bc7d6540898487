"""OpenTelemetry spans and metrics of every request: off unless enabled.

``enable()`` (or ``CQLENGINE_OTEL=1`` in the environment when the package is
first imported) turns it on, with the global tracer and meter providers or
the ones given; ``disable()`` turns it off. It needs the ``opentelemetry-api``
package (the ``otel`` extra); nothing of it is imported until it is enabled,
and while it is off a request pays one attribute read.

A span covers one request from the moment it is sent to the moment its
answer (the first page) arrived, and follows OpenTelemetry's database
conventions: ``db.system.name`` ``cassandra``, ``db.operation.name``,
``db.collection.name`` (the table), ``db.namespace`` (the keyspace),
``db.query.text`` (the statement's shape: literals shown as ``?``, never a
value), ``db.cassandra.consistency_level``, ``db.cassandra.coordinator.id``
and ``.dc``, ``db.response.returned_rows``; every host tried beyond the first
(retries, speculative executions) is an event. Each further page is a span
of its own, child of whatever span is current when it is fetched. A span
starts in the context current where the request is made: across ``await``
(contextvars) and into the driver's threads (bulk writes carry the caller's
context explicitly).

Not traced: ``connection.execute_async`` (the driver's future is the
caller's), ``execute_on_each_host``, and further pages a caller fetches by
iterating a raw ``ResultSet`` of ``connection.execute`` (the driver fetches
them); querysets, ``execute``, ``aexecute``, batches and bulk writes are.

Metrics: ``db.client.operation.duration`` (a histogram, seconds, by
operation and ``error.type``), ``cqlengine.client.requests.in_flight``,
and ``cqlengine.prepared.hits`` / ``cqlengine.prepared.misses`` (observed
from every connection's counters).
"""
from __future__ import annotations

import functools
import logging
import os
import re
import time
from typing import Any, Callable, Iterable, Optional

from cqlengine import statements

log = logging.getLogger(__name__)

#: The telemetry in force, or None (off): read by every request.
active: Optional[Telemetry] = None

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE|(?:TABLE|TYPE|VIEW)(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|ON)\s+'
                    r'("(?:[^"]|"")+"|\w+)(?:\s*\.\s*("(?:[^"]|"")+"|\w+))?', re.IGNORECASE)


def enable(tracer_provider: Any = None, meter_provider: Any = None,
           counters: Optional[Callable[[], Iterable[Any]]] = None) -> Telemetry:
    """Turn spans and metrics on (``opentelemetry-api`` must be installed); the telemetry in force.

    ``counters`` gives the connections' stats for the prepared-cache metrics.
    """
    global active
    try:
        from opentelemetry import metrics, trace
    except ImportError as exc:  # pragma: no cover - the otel extra is what installs it
        raise ImportError("cqlengine's telemetry needs OpenTelemetry: pip install 'cqlengine-mapper[otel]'") from exc
    tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("cqlengine")
    meter = (meter_provider or metrics.get_meter_provider()).get_meter("cqlengine")
    active = Telemetry(tracer, meter, counters)
    return active


def disable() -> None:
    """Turn spans and metrics off: requests record nothing more."""
    global active
    active = None


def enabled_by_environment() -> bool:
    return os.environ.get("CQLENGINE_OTEL", "").strip().lower() in ("1", "true", "yes", "on")


@functools.lru_cache(maxsize=1024)
def describe(cql: str) -> tuple[str, Optional[str], Optional[str], str]:
    """(operation, keyspace, table, shape) of a CQL text; once per text."""
    shape = statements.without_literals(cql)
    words = cql.lstrip().split(None, 2)
    operation = words[0].upper() if words else "OTHER"
    if operation == "BEGIN":
        operation = "BATCH"
    found = _TABLE.search(cql)
    keyspace = table = None
    if found is not None:
        first, second = (_unquote(part) if part else None for part in found.groups())
        keyspace, table = (first, second) if second else (None, first)
    return operation, keyspace, table, shape


def _text_of(query: Any) -> Optional[str]:
    """The CQL text of a query: text, a statement, or a bound statement's prepared one."""
    if isinstance(query, str):
        return query
    prepared = getattr(query, "prepared_statement", None)
    text = getattr(prepared if prepared is not None else query, "query_string", None)
    return text if isinstance(text, str) else None


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


class Telemetry:
    """The tracer and instruments requests report to (see the module's docstring)."""

    def __init__(self, tracer: Any, meter: Any, counters: Optional[Callable[[], Iterable[Any]]] = None) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.tracer = tracer
        self.meter = meter
        self._kind = SpanKind.CLIENT
        self._error_status = Status(StatusCode.ERROR)
        self.duration = meter.create_histogram(
            "db.client.operation.duration", unit="s", description="Duration of database client operations")
        self.in_flight = meter.create_up_down_counter(
            "cqlengine.client.requests.in_flight", unit="{request}", description="Requests sent, not answered yet")
        self._counters = counters
        for name, field in (("cqlengine.prepared.hits", "prepared_hits"),
                            ("cqlengine.prepared.misses", "prepared_misses")):
            meter.create_observable_counter(name, callbacks=[functools.partial(self._observe, field)],
                                            unit="{statement}")

    def _observe(self, field: str, options: Any) -> Iterable[Any]:
        from opentelemetry.metrics import Observation

        # A meter keeps its instruments' callbacks for good, and a later enable() on the same meter gets
        # these instruments back (not new ones): report for the telemetry in force on this meter, if any.
        current = active
        if current is None or current.meter is not self.meter:
            return []
        stats = list(current._counters()) if current._counters is not None else []
        return [Observation(sum(getattr(s, field) for s in stats))]

    def start(self, query: Any, page: int = 0, context: Any = None) -> Optional[Request]:
        """A request about to be sent (``page``: the how-manieth further page of one), its span started;
        None when the telemetry failed, which never fails the request."""
        try:
            return self._start(query, page, context)
        except Exception:  # noqa: BLE001 - reporting must not break what it reports on
            log.debug("telemetry: no span for a request", exc_info=True)
            return None

    def _start(self, query: Any, page: int, context: Any) -> Request:
        text = _text_of(query)
        members = getattr(query, "members", None) if getattr(query, "batch_type", None) is not None else None
        if members:  # a batch, as the connection layer tells it: named after its first member's table
            _, keyspace, table, _ = describe(members[0][0])
            operation, shape = "BATCH", statements.without_literals(str(getattr(query, "query_string", "")))
        elif isinstance(text, str):
            operation, keyspace, table, shape = describe(text)
        else:
            operation, keyspace, table, shape = type(query).__name__, None, None, ""
        attributes: dict[str, Any] = {"db.system.name": "cassandra", "db.operation.name": operation}
        if table:
            attributes["db.collection.name"] = table
        if keyspace:
            attributes["db.namespace"] = keyspace
        if shape:
            attributes["db.query.text"] = shape
        if page:
            attributes["cqlengine.page"] = page
        name = f"{operation} {table}" if table else operation
        span = self.tracer.start_span(name, kind=self._kind, attributes=attributes, context=context)
        self.in_flight.add(1, {"db.system.name": "cassandra"})
        return Request(self, span, operation)


class Request:
    """One request's span and timing: ended by :meth:`done` or :meth:`failed`."""

    __slots__ = ("telemetry", "span", "operation", "started")

    def __init__(self, telemetry: Telemetry, span: Any, operation: str) -> None:
        self.telemetry = telemetry
        self.span = span
        self.operation = operation
        self.started = time.perf_counter()

    def done(self, response_future: Any, rows: Optional[int] = None) -> None:
        """The answer arrived: the span ends (never raising: reporting must not fail a request)."""
        try:
            span = self.span
            if response_future is not None:
                _describe_answer(span, response_future)
            if rows is not None:
                span.set_attribute("db.response.returned_rows", rows)
        except Exception:  # noqa: BLE001
            log.debug("telemetry: could not describe an answer", exc_info=True)
        self._end({})

    def failed(self, exc: BaseException, response_future: Any = None) -> None:
        """The request failed with ``exc``: the span ends as an error (never raising)."""
        error_type = type(exc).__qualname__
        try:
            span = self.span
            if response_future is not None:
                _describe_answer(span, response_future)
            span.set_attribute("error.type", error_type)
            span.record_exception(exc)
            span.set_status(self.telemetry._error_status)
        except Exception:  # noqa: BLE001
            log.debug("telemetry: could not describe a failure", exc_info=True)
        self._end({"error.type": error_type})

    def _end(self, extra: dict[str, Any]) -> None:
        telemetry = self.telemetry
        try:
            telemetry.duration.record(time.perf_counter() - self.started,
                                      {"db.system.name": "cassandra", "db.operation.name": self.operation, **extra})
            telemetry.in_flight.add(-1, {"db.system.name": "cassandra"})
        finally:
            try:
                self.span.end()
            except Exception:  # noqa: BLE001
                log.debug("telemetry: could not end a span", exc_info=True)


def _describe_answer(span: Any, future: Any) -> None:
    """The coordinator, the consistency, and every host tried beyond the first (retries, speculative runs)."""
    message = getattr(future, "message", None)
    level = getattr(message, "consistency_level", None)
    if level is not None:
        from cassandra import ConsistencyLevel

        span.set_attribute("db.cassandra.consistency_level", ConsistencyLevel.value_to_name.get(level, str(level)))
    coordinator = getattr(future, "coordinator_host", None) or getattr(future, "_current_host", None)
    if coordinator is not None:
        span.set_attribute("db.cassandra.coordinator.id", str(getattr(coordinator, "endpoint", coordinator)))
        datacenter = getattr(coordinator, "datacenter", None)
        if datacenter:
            span.set_attribute("db.cassandra.coordinator.dc", str(datacenter))
    for attempt, host in enumerate(getattr(future, "attempted_hosts", None) or [], start=1):
        if attempt > 1:
            span.add_event("cassandra.attempt", {"host": str(getattr(host, "endpoint", host)), "attempt": attempt})
