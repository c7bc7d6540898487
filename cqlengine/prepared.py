"""The prepared-statement cache of a connection, and how it follows the schema.

Every statement of the library is CQL text whose shape alone decides the
text, so each text is prepared once per connection and its values are bound.
:class:`PreparedCache` maps (session keyspace, CQL text) to the prepared
statement, in a bounded LRU.

Invalidation: an entry is dropped, and the text prepared again on next use,
when

* a table it uses is changed by DDL sent through this library
  (:meth:`PreparedCache.forget_table` / :meth:`~PreparedCache.forget_keyspace`,
  called by :mod:`cqlengine.management`);
* the driver's schema metadata of one of its tables or user types has been
  replaced since it was prepared: the driver replaces it on every
  schema-change event, so DDL from another client or process is noticed once
  the driver has refreshed;
* as the last resort, binding values to it fails (the column types changed
  and the driver has not refreshed yet): it is prepared again once and bound
  again; a second failure is raised. A server refusal of values typed for old
  columns is handled the same way by :meth:`~PreparedCache.reprepare_if_changed`.

User-type values are bound by field name (``columns.UserTypeValue``); a
value holding a field the prepared type lacks is refused before sending,
since the driver would drop that field without a word.

This module is a helper of :mod:`cqlengine.connection`: it uses the session
that connection hands it and keeps no session of its own.
"""
from __future__ import annotations

import reprlib
import struct
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence, Union

from cassandra import cqltypes as _cqltypes
from cassandra.cluster import Session
from cassandra.metadata import MaterializedViewMetadata, TableMetadata, UserType
from cassandra.query import BoundStatement, PreparedStatement, Statement

from cqlengine.columns import UserTypeValue
from cqlengine.exceptions import ValidationValueError

#: What binding values to a statement prepared for other column types raises.
_BIND_ERRORS = (TypeError, ValueError, AttributeError, struct.error, OverflowError)

Params = Union[Sequence[Any], dict[str, Any]]

#: What the driver's schema metadata holds of a table a statement uses (None: no metadata of it).
TableSeen = Optional[Union[TableMetadata, MaterializedViewMetadata]]


class CacheCounters(Protocol):
    """The counters the cache keeps up to date: its connection's ``ConnectionStats``."""

    prepared_hits: int
    prepared_misses: int
    prepared_evictions: int
    prepared_invalidations: int

    def count(self, counter: str, n: int = 1) -> None: ...


@dataclass
class _CachedStatement:
    """A prepared statement and the schema objects it was prepared against.

    ``tables`` maps (keyspace, table) to the driver's table metadata object
    seen right after preparing (None without schema metadata); a different
    object now means the statement may be stale.
    """

    prepared: PreparedStatement
    tables: dict[tuple[str, str], TableSeen]
    #: (keyspace, type name) -> the driver's user type metadata, for the user types its
    #: columns use: ALTER TYPE ... ADD changes what a bound value serializes to, and the
    #: driver refreshes only the type then, not the tables that use it.
    types: dict[tuple[str, str], Optional[UserType]] = field(default_factory=dict)
    #: (position, name, driver type) of each bound column whose type holds a user type:
    #: its values are checked against the fields the server's type has.
    user_type_params: tuple[tuple[int, str, Any], ...] = ()


class PreparedCache:
    """A bounded LRU of prepared statements with the invalidation told in the module docstring.

    ``stats`` is the owning connection's counters (``prepared_hits``,
    ``prepared_misses``, ``prepared_evictions``, ``prepared_invalidations``,
    ``reprepared_on_bind_error``).
    """

    def __init__(self, size: int, stats: CacheCounters) -> None:
        self.size = size
        self.stats = stats
        self._entries: OrderedDict[tuple[Optional[str], str], _CachedStatement] = OrderedDict()
        self._preparing: dict[tuple[Optional[str], str], threading.Event] = {}
        self._lock = threading.Lock()  # never held across a call that takes it again

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def reset_after_fork(self) -> None:
        """In a child made by ``fork()``: empty, with a fresh lock (the parent's threads may have held it,
        and the statements were prepared through the parent's session)."""
        self._lock = threading.Lock()
        self._entries = OrderedDict()
        self._preparing = {}

    def lookup(self, session: Session, cql: str, count_hit: bool = True) -> Optional[_CachedStatement]:
        """The cached entry of ``cql``, or None (an entry gone stale is dropped here)."""
        key = (session.keyspace, cql)  # unqualified names resolve against the session keyspace
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not _still_current(session, entry):
                del self._entries[key]
                self.stats.prepared_invalidations += 1
                return None
            self._entries.move_to_end(key)
            if count_hit:
                self.stats.prepared_hits += 1
            return entry

    def entry_for(self, session: Session, cql: str) -> _CachedStatement:
        """The entry of ``cql``, prepared at most once while it stays cached.

        Threads racing on a new shape prepare it once: the first prepares, the
        others wait for it; nobody holds the cache's lock across the network.
        """
        while True:
            cached = self.lookup(session, cql)
            if cached is not None:
                return cached
            key = (session.keyspace, cql)
            with self._lock:
                waiting = self._preparing.get(key)
                if waiting is None:
                    done = self._preparing[key] = threading.Event()
            if waiting is not None:
                waiting.wait()
                continue  # prepared by another thread (or it failed: try ourselves)
            try:
                entry = _entry(session, session.prepare(cql))
                with self._lock:
                    self.stats.prepared_misses += 1
                    self._entries[key] = entry
                    while len(self._entries) > max(self.size, 0):
                        self._entries.popitem(last=False)
                        self.stats.prepared_evictions += 1
                return entry
            finally:
                with self._lock:
                    del self._preparing[key]
                done.set()

    def bind(self, session: Session, cql: str, params: Params) -> BoundStatement:
        """Bind ``params`` to the prepared ``cql``; on a type mismatch prepare it afresh once."""
        entry = self.lookup(session, cql) or self.entry_for(session, cql)
        return self._bind_entry(session, cql, entry, params)

    def bind_cached(self, session: Session, cql: str, params: Params) -> Optional[BoundStatement]:
        """:meth:`bind` when ``cql`` is cached; None (nothing counted) when it must be prepared first.

        Lets a caller on an event loop bind on the spot and leave only preparing to a thread.
        """
        entry = self.lookup(session, cql)
        return None if entry is None else self._bind_entry(session, cql, entry, params)

    def _bind_entry(self, session: Session, cql: str, entry: _CachedStatement, params: Params) -> BoundStatement:
        try:
            _check_user_type_fields(entry, params)
            return entry.prepared.bind(params)
        except UnicodeEncodeError as exc:
            raise _unencodable(entry.prepared, params, exc) from None  # the value's fault, not the schema's
        except _BIND_ERRORS:
            # The table may have changed under a cached statement before the driver noticed.
            self._drop(session, cql, entry.prepared)
            fresh = self.entry_for(session, cql)
            if fresh.prepared is entry.prepared:
                raise
            self.stats.count("reprepared_on_bind_error")
            _check_user_type_fields(fresh, params)
            return fresh.prepared.bind(params)

    def bind_many(self, session: Session, members: Sequence[tuple[str, Params]],
                  cached_only: bool = False) -> Optional[list[BoundStatement]]:
        """Bind every ``(cql, params)``; each distinct text is looked up once (a batch repeats a few shapes).

        With ``cached_only``, None (nothing counted) when a text must be prepared first.
        """
        entries: dict[str, Optional[_CachedStatement]] = {}
        for cql, _ in members:
            if cql not in entries:
                entries[cql] = self.lookup(session, cql, count_hit=False)
        hits = sum(entry is not None for entry in entries.values())
        if cached_only and hits < len(entries):
            return None
        with self._lock:
            self.stats.prepared_hits += hits
        bound = []
        for cql, params in members:
            entry = entries[cql]
            if entry is None:
                entry = entries[cql] = self.entry_for(session, cql)
            try:
                _check_user_type_fields(entry, params)
                bound.append(entry.prepared.bind(params))
            except _BIND_ERRORS:
                bound.append(self.bind(session, cql, params))  # prepared afresh once, or raised
                entries[cql] = None
        return bound

    def reprepare_if_changed(self, session: Session, cql: str, sent: Statement) -> bool:
        """After the server refused ``sent``: prepare ``cql`` afresh and say whether its columns changed.

        True means the cache now holds the fresh statement and a retry may succeed;
        False means the refusal had another cause.
        """
        used = getattr(sent, "prepared_statement", None)
        if used is None:
            return False
        fresh = session.prepare(cql)
        if _column_types(fresh) == _column_types(used):
            return False
        with self._lock:
            self._entries[(session.keyspace, cql)] = _entry(session, fresh)
            self.stats.prepared_invalidations += 1
        return True

    def forget_table(self, keyspace: Optional[str], table: str) -> int:
        """Drop every entry that uses ``keyspace.table`` (None: any keyspace); how many were dropped."""
        return self._forget(lambda ks, tb: tb == table and (keyspace is None or ks == keyspace))

    def forget_keyspace(self, keyspace: str) -> int:
        """Drop every entry that uses a table of ``keyspace``."""
        return self._forget(lambda ks, tb: ks == keyspace)

    def _forget(self, matches: Callable[[str, str], bool]) -> int:
        with self._lock:
            stale = [key for key, entry in self._entries.items()
                     if any(matches(ks, tb) for ks, tb in entry.tables)]
            for key in stale:
                del self._entries[key]
            self.stats.prepared_invalidations += len(stale)
            return len(stale)

    def _drop(self, session: Session, cql: str, prepared: PreparedStatement) -> None:
        key = (session.keyspace, cql)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.prepared is prepared:
                del self._entries[key]
                self.stats.prepared_invalidations += 1


# --------------------------------------------------------------------------- schema objects


def _table_metadata(session: Session, keyspace: str, table: str) -> TableSeen:
    meta = session.cluster.metadata.keyspaces.get(keyspace)
    if meta is None:
        return None
    return meta.tables.get(table) or meta.views.get(table)


def _user_type_metadata(session: Session, keyspace: str, name: str) -> Optional[UserType]:
    meta = session.cluster.metadata.keyspaces.get(keyspace)
    return None if meta is None else meta.user_types.get(name)


def _still_current(session: Session, entry: _CachedStatement) -> bool:
    keyspaces = session.cluster.metadata.keyspaces
    for (ks, table), seen in entry.tables.items():  # checked on every use: plain loops, no generators
        meta = keyspaces.get(ks)
        current = None if meta is None else (meta.tables.get(table) or meta.views.get(table))
        if current is not seen:
            return False
    for (ks, name), seen in entry.types.items():
        if _user_type_metadata(session, ks, name) is not seen:
            return False
    return True


def _user_types_of(cql_types: Iterable[Any]) -> set[tuple[str, str]]:
    """(keyspace, name) of every user type in the driver's column types, nested ones included."""
    found: set[tuple[str, str]] = set()
    pending = list(cql_types)
    while pending:
        typ = pending.pop()
        udt: Any = typ if isinstance(typ, type) and issubclass(typ, _cqltypes.UserType) else None
        if udt is not None and udt.keyspace:
            found.add((udt.keyspace, udt.typename))
        pending.extend(getattr(typ, "subtypes", None) or ())
    return found


def _entry(session: Session, prepared: PreparedStatement) -> _CachedStatement:
    columns = list(prepared.column_metadata or []) + list(prepared.result_metadata or [])
    tables: dict[tuple[str, str], TableSeen] = {}
    for col in columns:
        ks, table = col[0], col[1]
        if ks and table and (ks, table) not in tables:
            tables[(ks, table)] = _table_metadata(session, ks, table)
    types = {key: _user_type_metadata(session, *key) for key in _user_types_of(col[3] for col in columns)}
    user_type_params = tuple((i, col[2], col[3]) for i, col in enumerate(prepared.column_metadata or [])
                             if _user_types_of([col[3]]))
    return _CachedStatement(prepared, tables, types, user_type_params)


def _column_types(prepared: PreparedStatement) -> list[Any]:
    """The bound and result columns of a prepared statement, with their driver types."""
    return [tuple(c) for c in list(prepared.column_metadata or []) + list(prepared.result_metadata or [])]


# --------------------------------------------------------------------------- user-type values


def _unencodable(prepared: PreparedStatement, params: Params, exc: UnicodeEncodeError) -> ValidationValueError:
    """The error for text that UTF-8 cannot carry (a lone surrogate), naming its column."""
    columns = list(prepared.column_metadata or [])
    named = params.items() if isinstance(params, Mapping) else zip((c.name for c in columns), params)
    where = {c.name: f"{c.keyspace_name}.{c.table_name}.{c.name}" for c in columns}
    for name, value in named:
        if isinstance(value, str):
            try:
                value.encode(exc.encoding)
            except UnicodeEncodeError:
                return ValidationValueError(
                    f"{where.get(name, name)}: {reprlib.repr(value)} cannot be stored as text: {exc.encoding} "
                    f"cannot encode it ({exc.reason}); nothing was sent")
    return ValidationValueError(f"a value cannot be stored as text: {exc.encoding} cannot encode it ({exc.reason}); "
                                "nothing was sent")


def _check_user_type_fields(entry: _CachedStatement, params: Params) -> None:
    """Refuse a user-type value with a field the server's type lacks: the driver would drop it silently."""
    for position, name, cql_type in entry.user_type_params:
        value = params.get(name) if isinstance(params, dict) else params[position]
        problem = _user_type_problem(cql_type, value)
        if problem:
            raise ValidationValueError(
                f"column {name}: {problem}; nothing was sent. Bring the type up to date "
                "(management.sync_type or sync_table) before writing the new field")


def _user_type_problem(cql_type: Any, value: Any) -> Optional[str]:
    """Why ``value`` does not fit the driver type ``cql_type`` (None when it fits)."""
    if value is None:
        return None
    udt: Any = cql_type if isinstance(cql_type, type) and issubclass(cql_type, _cqltypes.UserType) else None
    if udt is not None:
        if not isinstance(value, UserTypeValue):
            return None  # a value not made by cqlengine: the driver's own rules apply
        known = list(udt.fieldnames)
        extra = [n for n, v in value.cqlengine_fields if v is not None and n not in known]
        if extra:
            return (f"user type {udt.keyspace}.{udt.typename} has no field {', '.join(extra)} "
                    f"(its fields: {', '.join(known)}), so the value of {', '.join(extra)} would be lost")
        pairs: list[tuple[Any, Any]] = [(sub, getattr(value, n)) for n, sub in zip(known, udt.subtypes)]
    else:
        subs = list(getattr(cql_type, "subtypes", None) or ())
        if not subs:
            return None
        if isinstance(value, Mapping) and len(subs) == 2:
            pairs = [(subs[0], k) for k in value] + [(subs[1], v) for v in value.values()]
        elif isinstance(value, (list, tuple, set, frozenset)):
            pairs = [(subs[0], v) for v in value] if len(subs) == 1 else list(zip(subs, value))
        else:
            return None
    for sub, item in pairs:
        problem = _user_type_problem(sub, item)
        if problem:
            return problem
    return None
