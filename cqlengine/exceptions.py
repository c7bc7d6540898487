"""The exceptions the library raises; every one derives from CQLEngineException."""
from __future__ import annotations

from typing import Any, Optional

from cassandra import InvalidRequest
from cassandra.cluster import NoHostAvailable


class CQLEngineException(Exception):
    """Base class of every error raised by cqlengine."""


class ValidationError(CQLEngineException):
    """A value broke a column's rule; raised before anything is sent."""


# Where the peer (cassandra.cqlengine) raises a builtin error for a bad value,
# ours raises a ValidationError that is also that builtin, so code catching
# either keeps working.


class ValidationTypeError(ValidationError, TypeError):
    """A value of the wrong kind for its column; also a ``TypeError``, as the peer raises."""


class ValidationValueError(ValidationError, ValueError):
    """A value the column cannot interpret; also a ``ValueError``, as the peer raises."""


class ValidationAttributeError(ValidationTypeError, AttributeError):
    """A map or user-type value of the wrong kind; also the ``TypeError`` and
    ``AttributeError`` the peer raises, depending on where it notices."""


class NullKeyValue(ValidationError, InvalidRequest):
    """A primary key column without a value; also the server's ``InvalidRequest``, which the peer
    lets Cassandra raise for it, so ported code catching that keeps working."""


class CounterTimestamp(ValidationError, InvalidRequest):
    """A timestamp asked for a counter update, which Cassandra always refuses; raised before anything is
    sent. Also the server's ``InvalidRequest``, which the peer lets Cassandra raise."""


class ModelException(CQLEngineException):
    """A model was used in a way it does not allow."""


class ModelDefinitionException(ModelException):
    """A model class is not a valid table definition (raised at class creation)."""


class DefinitionValueError(ModelDefinitionException, ValueError):
    """A column option out of range (``Text(min_length=-1)``, ``Tuple()``); also the peer's ``ValueError``."""


class DefinitionValidationError(ModelDefinitionException, ValidationError):
    """A collection of a non-column or unhashable type; also a ``ValidationError``, as the peer raises."""


class ViewDefinitionException(ModelDefinitionException):
    """A materialized view class breaks a rule of Cassandra's views (raised at class creation)."""


class ReadOnlyModel(ModelException):
    """A write of a model that cannot be written, such as a materialized view (write its base model
    instead); raised before anything is sent."""


class PolymorphicModelException(ModelException):
    """Polymorphic (discriminated) models were used inconsistently."""


class ArgumentError(CQLEngineException, ValueError):
    """A call given arguments it cannot take; also the ``ValueError`` the peer raises."""


class QueryException(CQLEngineException):
    """A query Cassandra would refuse, caught client-side."""


class UnknownUpdateColumn(ValidationError, QueryException):
    """``update()`` of a queryset named a column the model does not have: a ``ValidationError``,
    as the peer (and an instance's ``update()``) raises, and the ``QueryException`` it was."""


class InvalidQuery(QueryException, InvalidRequest):
    """A query Cassandra would refuse for its restrictions or ordering, refused before it is sent. Also
    the driver's ``InvalidRequest``: the peer sends such a query, and the server's refusal is what its
    users catch."""


class TableNotFound(QueryException, InvalidRequest):
    """Cassandra has no table (or no keyspace) that a statement names; the message says which, and how
    to create it. Also the server's ``InvalidRequest``, which the peer raises here."""

    #: (what is missing: "table", "keyspace" or "keyspace-unset"; its name; the statement's shape)
    missing: Optional[tuple[str, str, str]] = None
    #: What the server said.
    server: str = ""


class KeyspaceNotSet(ModelException, InvalidRequest):
    """A model's statement has no keyspace to go to (no ``__keyspace__``, no connection default, no
    ``using(keyspace=...)``); raised before anything is sent. Also an ``InvalidRequest``, which the
    server answers such a statement with."""


class LWTException(CQLEngineException):
    """A lightweight transaction was not applied.

    ``existing`` holds the row Cassandra returned with ``[applied] = False``.
    """

    def __init__(self, existing: Optional[dict[str, Any]] = None) -> None:
        self.existing = existing or {}
        super().__init__(f"Transaction was not applied; existing values: {self.existing!r}")


class VersionConflict(LWTException):
    """A write of a versioned model lost a race: the row's version is not the one the instance read.

    ``model``, ``key`` (the primary key's values), ``expected`` (the version the
    instance holds; None for a new instance) and ``current`` (the row's, None when
    there is no row) say which; the instance is left as it was.
    """

    def __init__(self, model: str, key: dict[str, Any], expected: Any, current: Any,
                 existing: Optional[dict[str, Any]] = None) -> None:
        self.model, self.key, self.expected, self.current = model, key, expected, current
        LWTException.__init__(self, existing)
        where = ", ".join(f"{k}={v!r}" for k, v in key.items())
        if expected is None:
            why = f"the row exists already, at version {current!r}"
        elif current is None and not self.existing:
            why = f"expected version {expected!r}, but the row is gone"
        else:
            why = f"expected version {expected!r}, the row is at version {current!r}"
        self.args = (f"{model}({where}): not written, {why}; read it again and retry",)


class SchemaMismatch(CQLEngineException):
    """The live schema differs from a model in a way that cannot be changed in place."""


class SchemaChangeFailed(CQLEngineException):
    """Cassandra refused a schema change midway through a plan; ``applied`` lists what it took."""

    def __init__(self, message: str, applied: Optional[list[str]] = None) -> None:
        super().__init__(message)
        self.applied = applied or []


class ConnectionException(CQLEngineException):
    """No usable connection: not set up, unknown name, or the cluster is unreachable."""


class DoesNotExist(QueryException):
    """``get()`` found no row; each model has its own subclass, ``Model.DoesNotExist``."""


class MultipleObjectsReturned(QueryException):
    """``get()`` found more than one row; each model has its own subclass."""


class ConnectionUnreachable(ConnectionException, NoHostAvailable):
    """No host answered. Also the driver's ``NoHostAvailable``, which the peer raises here."""

    def __init__(self, message: str, errors: Optional[dict[Any, Any]] = None) -> None:
        NoHostAvailable.__init__(self, message, errors or {})

    def __str__(self) -> str:
        return str(self.args[0])


class AuthenticationRefused(ConnectionUnreachable):
    """Cassandra answered, and refused the credentials (a wrong username or password, or none given).

    Still a ``NoHostAvailable``, as the driver (and the peer) report it.
    """


class IndexNotReady(CQLEngineException):
    """A created index (or materialized view) was still building when the caller's timeout ran out;
    ``indexes`` names them."""

    def __init__(self, message: str, indexes: Optional[list[str]] = None) -> None:
        super().__init__(message)
        self.indexes = indexes or []


def check_positive_int(value: Any, what: str, error: type[CQLEngineException] = CQLEngineException) -> int:
    """``value`` when it is an int of at least 1 (a bool is not one); else ``error`` saying ``what`` must be.

    ``what`` names the argument and its owner (``"Model.scan(): concurrency"``), so the message says
    whose argument was wrong and what it was given.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise error(f"{what} must be a positive int, got {value!r}")
    return value
