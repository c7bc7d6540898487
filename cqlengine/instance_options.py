"""The options of an instance's next write, set by chained calls (``m.ttl(60).timestamp(...).save()``)."""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional, TypeVar, cast

from cqlengine import connection
from cqlengine.exceptions import ValidationError
from cqlengine.writes import Batch, TimeoutWithBatch, Timestamp, WriteOptions, check_ttl, normalize_timestamp

__all__ = ["InstanceOptions", "hybrid"]

T = TypeVar("T", bound="InstanceOptions")


class hybrid:
    """A method that works on the class (delegating to ``objects``) and on instances."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    def __get__(self, instance: Any, owner: Any) -> Callable[..., Any]:
        if instance is None:
            name = self.method.__name__

            def on_a_queryset(*args: Any, **kwargs: Any) -> Any:
                return getattr(owner.objects, name)(*args, **kwargs)

            # help(Model) and editors show the method, not an anonymous lambda.
            on_a_queryset.__name__ = on_a_queryset.__qualname__ = name
            on_a_queryset.__doc__ = (f"On the class, ``{owner.__name__}.objects.{name}(...)``: a queryset with "
                                     f"the option set. On an instance: {self.method.__doc__ or 'the same'}")
            on_a_queryset.__wrapped__ = self.method  # type: ignore[attr-defined]
            return on_a_queryset
        return self.method.__get__(instance, owner)


class InstanceOptions:
    """The chainable per-instance options of the next write; on the class each starts a queryset."""

    _columns: ClassVar[dict[str, Any]]
    _has_counter: ClassVar[bool]

    #: How this instance's next write is sent, once set (see ``_options``). Not annotated: an
    #: annotation would make it a keyword of every model for type checkers (see ``ModelMetaClass``).
    _opts = cast(Optional[WriteOptions], None)

    @property
    def _options(self) -> WriteOptions:
        """How this instance's next write is sent; made on first use (most instances read never write)."""
        opts = self._opts
        if opts is None:
            opts = self._opts = WriteOptions()
        return opts

    @_options.setter
    def _options(self, options: WriteOptions) -> None:
        self._opts = options

    @classmethod
    def _refuse_lwt_on_counters(cls, method: str) -> None:
        if cls._has_counter:
            raise ValidationError(f"{cls.__name__}.{method}: Cassandra has no conditional writes on tables "
                                  "with counter columns")

    @hybrid
    def ttl(self: T, ttl: Optional[int]) -> T:
        check_ttl(type(self).__name__, ttl)
        self._options.ttl = ttl
        return self

    @hybrid
    def timestamp(self: T, timestamp: Optional[Timestamp]) -> T:
        """``USING TIMESTAMP``: a timedelta from now, a datetime, or int microseconds."""
        normalize_timestamp(timestamp, type(self).__name__)  # fail now on a bad value
        self._options.timestamp = timestamp
        return self

    @hybrid
    def consistency(self: T, consistency: Optional[int]) -> T:
        self._options.consistency = consistency
        return self

    @hybrid
    def timeout(self: T, timeout: Optional[float]) -> T:
        """The timeout of this instance's writes; refused once it is batched (the batch has its own)."""
        if self._options.batch is not None:
            raise TimeoutWithBatch(
                f"{type(self).__name__}.timeout({timeout!r}): this instance is batched; a batched write "
                "runs with the batch's timeout: set BatchQuery(timeout=...) instead"
            )
        self._options.timeout = timeout
        return self

    @hybrid
    def if_not_exists(self: T, ife: bool = True) -> T:
        """The next save is ``INSERT ... IF NOT EXISTS`` (``LWTException`` when the row exists)."""
        if ife:
            self._options.set_lwt(type(self).__name__, ValidationError, if_not_exists=True)
        else:
            self._options.if_not_exists = False
        return self

    @hybrid
    def if_exists(self: T, ife: bool = True) -> T:
        """The next update or delete applies only to an existing row."""
        type(self)._refuse_lwt_on_counters("if_exists")
        if ife:
            self._options.set_lwt(type(self).__name__, ValidationError, if_exists=True)
        else:
            self._options.if_exists = False
        return self

    @hybrid
    def iff(self: T, **conditions: Any) -> T:
        """Apply the next write only if the row's current values match ``conditions``."""
        type(self)._refuse_lwt_on_counters("iff")
        for key in conditions:
            attr = key.split("__", 1)[0]
            if attr not in type(self)._columns:
                raise ValidationError(f"{type(self).__name__}.iff: unknown column {attr!r}")
        self._options.conditions = dict(conditions)
        return self

    @hybrid
    def batch(self: T, batch: Optional[Batch]) -> T:
        """Add the next write to ``batch``; refused once a timeout is set (the batch has its own)."""
        if batch is not None and self._options.timeout is not connection.NOT_SET:
            raise TimeoutWithBatch(
                f"{type(self).__name__}.batch(): this instance has timeout {self._options.timeout!r}; a "
                "batched write runs with the batch's timeout: set BatchQuery(timeout=...) instead"
            )
        if batch is not None:
            batch.refuse_other_connection(f"{type(self).__name__}.batch()", self._options.connection)
        self._options.batch = batch
        return self

    @hybrid
    def using(self: T, keyspace: Optional[str] = None, connection: Optional[str] = None) -> T:
        if keyspace is not None:
            self._options.keyspace = keyspace
        if connection is not None:
            if self._options.batch is not None:
                self._options.batch.refuse_other_connection(f"{type(self).__name__}.using()", connection)
            self._options.connection = connection
        return self
