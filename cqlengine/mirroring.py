"""Dual writes: every write of a source model also written, transformed, into a target model.

``mirror(Source, Target, transform)`` is the "writes branch" of a zero-downtime
migration: while the history is copied (see :mod:`cqlengine.migrate`), every
live write to ``Source`` also goes to ``Target``, with the same write
timestamp, so a copy made from an older read never overwrites it and a
future-dated delete (the lock-out) holds in both tables.

How each write is mirrored:

- **create / save of a new instance** (INSERT): the transformed row is
  inserted into the target (its non-null values, as the source insert writes).
- **save / update of a loaded instance** (UPDATE of what changed): the target
  columns whose transformed value changed are updated (None deletes the cell).
  When the transform moves the row to another target key, the old target row
  is deleted and the new one inserted.
- **delete**: the target row of the transformed instance is deleted. The
  transform must be able to find the target key from what the instance holds
  (an instance built from its primary key alone may not be enough: then the
  delete is refused before anything is sent).
- **queryset update() / delete()**: the matching rows are read first, so the
  transform can find their target rows (see :func:`queryset_write`).
- **in a BatchQuery**: the target statements join the same batch.

Unless the write has a timestamp of its own (``timestamp()``, or the batch's),
the client picks one timestamp for source and target. Source and target
statements are sent together in one LOGGED batch, so neither is written
without the other (``atomic=False`` sends them one after the other, cheaper,
without that promise). A conditional write (``if_not_exists()``, ``iff()``,
``if_exists()``) is sent first, alone; its mirror follows only if it applied,
timestamped by the client just after (Cassandra refuses a client timestamp on
a lightweight transaction).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from itertools import product
from typing import Any, Callable, Mapping, Optional, Union

from cqlengine import connection, statements
from cqlengine.connection.steps import Body, Step, arun, run
from cqlengine.exceptions import CQLEngineException, LWTException
from cqlengine.mapped import Build, MappedModel
from cqlengine.models import Model
from cqlengine.query import ModelQuerySet, QuerySet
from cqlengine.writes import Batch, WriteOptions, merges_into_row, normalize_timestamp

#: What a transform returns for a source instance: the target's values (an instance, or a mapping of its
#: attribute names), or None when the row has no counterpart in the target.
Transformed = Union[MappedModel, Mapping[str, Any], None]
Transform = Callable[[Any], Transformed]  # Any: a transform may take the instance typed as its own model


class MirrorError(CQLEngineException):
    """A write that cannot be mirrored as asked; nothing was sent."""


def now_micros() -> int:
    """A client write timestamp: microseconds since the epoch."""
    return time.time_ns() // 1000


def identity_transform(target: type[MappedModel]) -> Transform:
    """The transform that copies each target column from the source attribute of the same name."""
    names = list(target._meta.columns)

    def same_names(instance: MappedModel) -> dict[str, Any]:
        values = instance._values
        return {name: values[name] for name in names if name in values}

    same_names.__name__ = f"same_names_as_{target.__name__}"
    same_names.same_names_as = target  # type: ignore[attr-defined]  # a migration file writes it as None
    return same_names


@dataclass
class Mirror:
    """One source model's writes mirrored into one target model (see the module docstring)."""

    source: type[MappedModel]
    target: type[MappedModel]
    transform: Transform
    atomic: bool = True
    keyspace: Optional[str] = None
    connection: Optional[str] = None

    def __repr__(self) -> str:
        name = getattr(self.transform, "__name__", repr(self.transform))
        source = "rows" if self.source is self.target else self.source.__name__  # rows from elsewhere (backfill)
        return f"Mirror({source} -> {self.target.__name__} via {name})"

    def stop(self) -> None:
        """Stop mirroring: later writes of the source (and its subclasses) go to the source alone."""
        _declared[self.source] = tuple(m for m in _declared.get(self.source, ()) if m is not self)
        _refresh(self.source)

    # -- what to write to the target ------------------------------------------

    def target_values(self, instance: MappedModel) -> Optional[dict[str, Any]]:
        """The target's values for ``instance``, or None when it has no target row."""
        try:
            out = self.transform(instance)
        except Exception as exc:
            raise MirrorError(f"{self!r}: the transform failed on {instance!r}: {type(exc).__name__}: {exc}") from exc
        if out is None:
            return None
        if isinstance(out, self.target):
            return dict(out._values)
        if isinstance(out, Mapping):
            unknown = [k for k in out if k not in self.target._meta.columns]
            if unknown:
                raise MirrorError(f"{self!r}: the transform gave {instance!r} unknown target column(s) "
                                  f"{', '.join(map(repr, unknown))}")
            return dict(out)
        raise MirrorError(f"{self!r}: the transform must return a {self.target.__name__}, a mapping or None, "
                          f"not {type(out).__name__}")

    def _new_target(self, values: Mapping[str, Any], timestamp: Optional[int], ttl: Optional[int] = None) -> Any:
        instance = self.target(**values)._copied_row()
        self._route(instance, timestamp, ttl)
        return instance

    def _route(self, instance: MappedModel, timestamp: Optional[int], ttl: Optional[int] = None) -> None:
        options = instance._options
        options.keyspace = self.keyspace
        options.connection = self.connection
        options.timestamp = timestamp
        options.ttl = ttl

    def _key(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values.get(k) for k in self.target._meta.primary_keys)

    def _delete(self, values: Mapping[str, Any], timestamp: Optional[int], source: Any) -> statements.BaseStatement:
        missing = [k for k in self.target._meta.primary_keys if values.get(k) is None]
        if missing:
            raise MirrorError(
                f"{self!r}: cannot find the target row of {source!r}: the transform leaves its key column(s) "
                f"{', '.join(missing)} None (read the row before deleting it, so the transform sees its values)")
        instance = self._new_target({k: values[k] for k in self.target._meta.primary_keys}, timestamp)
        return instance._delete_statement()  # type: ignore[no-any-return]

    def _insert(self, values: Mapping[str, Any], timestamp: Optional[int], ttl: Optional[int] = None,
                upsert: bool = False, merges: bool = False) -> Optional[statements.BaseStatement]:
        """The target row written whole: an INSERT, or for ``upsert`` an UPDATE of its non-null columns,
        which leaves no row marker (the row lives while a column does), as the source's UPDATE.

        The UPDATE leaves out the target's defaults the transform did not give (the row may hold other
        values there), and with ``merges`` merges its maps into the row's, as the source's UPDATE did.
        """
        row = self._new_target(values, timestamp, ttl)
        if upsert:
            defaulted = row._defaulted or ()
            statement = row._update_statement([k for k in self.target._meta.columns if k not in defaulted],
                                              merges=merges)
            if statement is not None:
                return statement  # type: ignore[no-any-return]
        return row._save_statement()  # type: ignore[no-any-return]

    def statements_for(self, instance: MappedModel, before: Optional[Mapping[str, Any]], deletes: bool,
                       timestamp: Optional[int], ttl: Optional[int] = None,
                       upsert: bool = False, source: Optional[statements.BaseStatement] = None,
                       ) -> list[statements.BaseStatement]:
        """The target statements mirroring one write of ``instance`` (built, so validated; not sent).

        ``before``: the instance's values as last read or written (None for a new one); ``ttl``: the
        source write's; ``upsert``: the source write is an UPDATE (a new target row is written by one);
        ``source``: that write, whose columns are the ones a new instance's UPDATE makes known.
        """
        merges = False
        if upsert and before is None and isinstance(source, statements.UpdateStatement):
            # An UPDATE of an instance never read writes some of its columns (not the defaults it was not
            # given), and may merge its maps into the row's: the transform sees just those, the rest None.
            instance, merges = _as_written(instance, source)
        after = self.target_values(instance)
        if deletes:
            return [] if after is None else [self._delete(after, timestamp, instance)]
        old = None
        if before is not None:
            cls: Any = type(instance)
            previous = cls.__new__(cls)
            previous._values = {**instance._values, **before}
            previous._init_state()
            old = self.target_values(previous)
        if old is None:
            # A row the source UPDATE may have created: no marker. One it already had enters whole.
            statement = None if after is None else self._insert(after, timestamp, ttl, upsert and before is None,
                                                                 merges)
            return [] if statement is None else [statement]
        if after is None:
            return [self._delete(old, timestamp, instance)]
        if self._key(old) != self._key(after):
            out = [self._delete(old, timestamp, instance)]
            statement = self._insert(after, timestamp, ttl)  # the whole row moves: its marker too
            return out if statement is None else [*out, statement]
        row = self.target(**old)
        row._loaded = row._snapshot()
        for name, value in after.items():
            setattr(row, name, value)
        self._route(row, timestamp, ttl)
        statement = row._save_statement()
        return [] if statement is None else [statement]


def _as_written(instance: MappedModel, source: statements.UpdateStatement) -> tuple[Any, bool]:
    """A copy of ``instance`` holding only its key and the columns ``source`` writes; whether it merges a map."""
    cls: Any = type(instance)
    written = {cls._meta.db_map[a.column]: a for a in source.assignments}
    copy = cls.__new__(cls)
    copy._values = {k: v if k in written or k in cls._meta.primary_keys else None for k, v in instance._values.items()}
    copy._init_state()
    merges = any(isinstance(a, statements.AddAssignment) and cls._meta.columns[k].is_collection
                 for k, a in written.items())
    return copy, merges


def _with_own_values(instance: MappedModel, state: Optional[dict[str, Any]]) -> MappedModel:
    """``instance`` as its write leaves it: holding the values the write sets by itself (audit columns, the
    version: see :mod:`cqlengine.lifecycle`), which it takes only once written. The mirror copies those."""
    cls: Any = type(instance)
    if state is None or not cls._extends_writes:
        return instance
    own = {k: state[k] for k in (*cls._audit_columns, cls._version_column) if k is not None and k in state}
    if not own:
        return instance
    copy = cls.__new__(cls)
    copy._values = {**instance._values, **own}
    copy._init_state()
    copy._loaded = instance._loaded
    return copy  # type: ignore[no-any-return]


def _mirrors_of(instance: MappedModel) -> tuple[Mirror, ...]:
    return _mirrors_of_class(type(instance))


def _mirrors_of_class(model: type[MappedModel]) -> tuple[Mirror, ...]:
    """The mirrors of ``model``: its own and its bases' (as ``_refresh`` set them)."""
    return tuple(m for m in model._mirrors if isinstance(m, Mirror))


def _plan(instance: MappedModel, build: Build, deletes: bool,
          action: str) -> tuple[Optional[statements.BaseStatement], Optional[dict[str, Any]], Any,
                                Optional[Mapping[str, Any]], Optional[int], bool]:
    """The source statement (with the timestamp the mirror shares), its state, batch, the values before,
    the timestamp, and whether it is conditional."""
    options = instance._options
    conditional = bool(options.if_not_exists or options.if_exists or options.conditions)
    before = None if instance._loaded is None else dict(instance._loaded)
    given = options.timestamp
    picked = None
    if given is None and not conditional and options.batch is None:
        picked = now_micros()  # one timestamp for the source and its mirror
    statement, state, batch = instance._begin_write(build, deletes, action, timestamp=picked)
    timestamp = picked if picked is not None else normalize_timestamp(given)
    return statement, state, batch, before, timestamp, conditional


def _targets(instance: MappedModel, before: Optional[Mapping[str, Any]], deletes: bool, timestamp: Optional[int],
             source: Optional[statements.BaseStatement]) -> list[tuple[Mirror, statements.BaseStatement]]:
    """Every mirror's statements for one write of ``instance`` by ``source`` (whose TTL they take, and
    whose kind decides how a new target row is written)."""
    ttl = getattr(source, "ttl", None)
    upsert = isinstance(source, statements.UpdateStatement)
    return [(m, s) for m in _mirrors_of(instance)
            for s in m.statements_for(instance, before, deletes, timestamp, ttl, upsert, source)]


def _conn_of(mirror: Mirror) -> Optional[str]:
    return mirror.connection or mirror.target.__connection__


def write(instance: MappedModel, build: Build, deletes: bool, action: str) -> None:
    """One write of ``instance`` and its mirrors (``Model._write`` for a mirrored model)."""
    run(_write_steps(instance, build, deletes, action))


async def awrite(instance: MappedModel, build: Build, deletes: bool, action: str) -> None:
    """``write()`` for asyncio."""
    await arun(_write_steps(instance, build, deletes, action))


def _write_steps(instance: MappedModel, build: Build, deletes: bool, action: str) -> Body[None]:
    """The one body of ``write`` and ``awrite``: it yields what it sends or reads (see ``_Send``)."""
    read = (yield _RowOf(instance)) if deletes and instance._loaded is None else instance
    statement, state, batch, before, timestamp, conditional = _plan(instance, build, deletes, action)
    read = _with_own_values(read, state)
    options = instance._options
    if statement is None:
        instance._end_write(None, state, batch)
        return
    if conditional:
        try:
            yield _Send(statement, options, type(instance))
        except LWTException:
            options.reset_one_shot()
            raise
        if batch is None:
            for mirror, target in _targets(read, before, deletes, now_micros(), statement):
                yield _SendTarget(target, options, _conn_of(mirror))
        else:
            _to_batch(batch, _targets(read, before, deletes, None, statement))
        instance._end_write(statement, state, batch)
        return
    targets = _targets(read, before, deletes, timestamp, statement)  # built (and checked) before anything is sent
    if batch is not None:
        yield _Send(statement, options, type(instance))
        _to_batch(batch, targets)
    elif targets and all(m.atomic for m, _ in targets) and _one_connection(instance, targets):
        yield _SendTogether([statement, *(t for _, t in targets)], options, options.table(type(instance))[2],
                            _retry_safe(options, statement, targets))
    else:
        yield _Send(statement, options, type(instance))
        for mirror, target in targets:
            yield _SendTarget(target, options, _conn_of(mirror))
    instance._end_write(statement, state, batch)


class _Send(Step):
    """A source statement sent with its write's options (or joining its batch)."""

    __slots__ = ("statement", "options", "model")

    def __init__(self, statement: statements.BaseStatement, options: WriteOptions, model: type[MappedModel]) -> None:
        self.statement, self.options, self.model = statement, options, model

    def run(self) -> Any:
        return self.options.send(self.statement, self.model)

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        return await self.options.asend(self.statement, self.model)


class _SendTarget(Step):
    """A target statement sent on its own, after its source, with the source write's consistency and timeout."""

    __slots__ = ("statement", "kwargs")

    def __init__(self, statement: statements.BaseStatement, options: WriteOptions, conn: Optional[str]) -> None:
        self.statement = statement
        self.kwargs = dict(consistency=options.consistency, timeout=options.timeout, connection=conn,
                           idempotent=statement.is_idempotent)

    def run(self) -> Any:
        return connection.execute(*self.statement.render(), **self.kwargs)

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        return await connection.aexecute(*self.statement.render(), **self.kwargs)


class _SendTogether(Step):
    """A source statement and its targets' in one LOGGED batch: neither is written without the other."""

    __slots__ = ("members", "kwargs")

    def __init__(self, members: list[statements.BaseStatement], options: WriteOptions, conn: Optional[str],
                 idempotent: bool) -> None:
        self.members = [s.render() for s in members]
        self.kwargs = dict(consistency=options.consistency, timeout=options.timeout, connection=conn,
                           idempotent=idempotent,
                           execution_profile=options.execution_profile or connection.EXEC_PROFILE_DEFAULT)

    def run(self) -> Any:
        return connection.execute_batch(self.members, "LOGGED", **self.kwargs)

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        return await connection.aexecute_batch(self.members, "LOGGED", **self.kwargs)


class _Rows(Step):
    """Every row a queryset reads, as instances."""

    __slots__ = ("queryset",)

    def __init__(self, queryset: QuerySet[Any]) -> None:
        self.queryset = queryset

    def run(self) -> list[Any]:
        return list(self.queryset.iterator())

    async def arun(self, loop: asyncio.AbstractEventLoop) -> list[Any]:
        return await self.queryset.aall()


class _RowOf(_Rows):
    """The stored row of an instance about to be deleted that was never read: the transform needs its
    values to find the target row (the instance itself when there is no such row)."""

    __slots__ = ("instance",)

    def __init__(self, instance: MappedModel) -> None:
        super().__init__(_key_reader(instance))
        self.instance = instance

    def run(self) -> Any:
        rows = super().run()
        return rows[0] if rows else self.instance

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        rows = await super().arun(loop)
        return rows[0] if rows else self.instance


def _key_reader(instance: MappedModel) -> QuerySet[Any]:
    cls = type(instance)
    options = instance._options
    queryset: QuerySet[Any] = cls.objects if issubclass(cls, Model) else ModelQuerySet(cls)
    reader = queryset.filter(**{k: instance._values.get(k) for k in cls._meta.primary_keys})
    return reader.using(keyspace=options.keyspace, connection=options.connection).consistency(options.consistency)


def _retry_safe(options: WriteOptions, statement: statements.BaseStatement,
                targets: list[tuple[Mirror, statements.BaseStatement]]) -> bool:
    """Whether the driver may retry the batch of a write and its mirror: when every member may."""
    return bool(options.idempotent_for(statement)) and all(t.is_idempotent for _, t in targets)


def _one_connection(instance: MappedModel, targets: list[tuple[Mirror, statements.BaseStatement]]) -> bool:
    source = connection.get_connection(instance._options.table(type(instance))[2])
    return all(connection.get_connection(_conn_of(m)) is source for m, _ in targets)


def _to_batch(batch: Batch, targets: list[tuple[Mirror, statements.BaseStatement]]) -> None:
    for mirror, target in targets:
        batch.add_query(target, connection=_conn_of(mirror))


def mirror(source: type[MappedModel], target: type[MappedModel], transform: Optional[Transform] = None, *,
           atomic: bool = True, keyspace: Optional[str] = None, connection: Optional[str] = None) -> Mirror:
    """Mirror every write of ``source`` (and its polymorphic subclasses) into ``target``.

    ``transform(source_instance)`` gives the target's values (a ``target``
    instance or a mapping; None: no target row); by default each target
    column takes the source attribute of the same name. ``keyspace`` /
    ``connection`` say where the target lives (default: its own). ``atomic``
    (the default) needs both on one connection; a write sent through another
    one (``using(connection=...)``) is mirrored after it, not in its batch.
    Returns the :class:`Mirror`; ``stop()`` ends it.
    """
    if target._read_only:
        raise MirrorError(f"mirror: {target.__name__} cannot be written ({target._read_only}), so nothing can be "
                          "mirrored into it")
    for model, role in ((source, "source"), (target, "target")):
        model._meta.check_concrete(f"mirror ({role})")
        if model._meta.has_counter:
            raise MirrorError(f"mirror: {model.__name__} has counter columns, which are written as increments "
                              "and cannot be mirrored with a timestamp")
    if source is target or (issubclass(target, source) or issubclass(source, target)):
        raise MirrorError(f"mirror: {source.__name__} and {target.__name__} share a table")
    if atomic and (connection or target.__connection__) != source.__connection__:
        raise MirrorError(f"mirror: {source.__name__} and {target.__name__} are on different connections, so their "
                          "writes cannot share a batch; pass atomic=False to send them one after the other")
    if any(m.target is target for m in _mirrors_of_class(source)):
        raise MirrorError(f"mirror: {source.__name__} is already mirrored into {target.__name__}")
    found = Mirror(source, target, transform or identity_transform(target), atomic, keyspace, connection)
    _declared[source] = (*_declared.get(source, ()), found)
    _refresh(source)
    return found


#: The mirrors declared on each model; a model's ``_mirrors`` holds its own and those of its bases.
_declared: dict[type, tuple[Mirror, ...]] = {}


def _refresh(model: type[MappedModel]) -> None:
    """Set ``_mirrors`` and the write hook of ``model`` and every subclass from what is declared on them and
    their bases (a subclass made later inherits both as they are then)."""
    todo = [model]
    while todo:
        cls = todo.pop()
        cls._mirrors = tuple(m for base in reversed(cls.__mro__) for m in _declared.get(base, ()))
        cls._write_hook = HOOK if cls._mirrors else None
        todo.extend(cls.__subclasses__())


# -- queryset writes ------------------------------------------------------------


def _queryset_plan(queryset: QuerySet[MappedModel], action: str) -> tuple[Any, Optional[int], bool]:
    """The queryset to build the source statement with (carrying the shared timestamp), the timestamp,
    and whether the write is conditional."""
    options = queryset._options
    conditional = bool(options.if_exists or options.conditions or options.if_not_exists)
    if options.batch is not None and action == "update":
        raise MirrorError(f"{queryset.model.__name__} is mirrored ({', '.join(map(repr, queryset.model._mirrors))}): "
                          "a queryset update() in a batch cannot be mirrored (the rows it leaves are read after it "
                          "runs); update the instances in the batch instead")
    if options.timestamp is not None:
        return queryset, normalize_timestamp(options.timestamp), conditional
    if conditional or options.batch is not None:
        return queryset, None, conditional
    picked = now_micros()
    return queryset._with_options(timestamp=picked), picked, conditional


def _keyed(instances: list[MappedModel]) -> dict[tuple[Any, ...], Any]:
    return {tuple(i._values[k] for k in type(i)._meta.primary_keys): i for i in instances}


def _after_queryset_write(instances_before: list[MappedModel], instances_after: Optional[list[MappedModel]],
                          timestamp: Optional[int], source: statements.BaseStatement,
                          ) -> list[tuple[Mirror, statements.BaseStatement]]:
    out: list[tuple[Mirror, statements.BaseStatement]] = []
    if instances_after is None:  # a delete
        for instance in instances_before:
            out += _targets(instance, None, True, timestamp, source)
        return out
    before = _keyed(instances_before)
    for key, instance in _keyed(instances_after).items():
        previous = before.get(key)
        out += _targets(instance, None if previous is None else dict(previous._values), False, timestamp, source)
    return out


def _after_in_python(queryset: QuerySet[MappedModel], before: list[MappedModel],
                     values: Mapping[str, Any]) -> Optional[list[Any]]:
    """The rows a queryset update of plain assignments leaves, worked out from the rows read before it
    (None when they cannot be: a collection or counter operation, or a key not pinned by = or IN).

    Not read back after the write: at a low consistency another replica could
    answer with the values from before it, and they would be mirrored with the
    write's own timestamp.
    """
    model = queryset.model
    columns = model._meta.columns
    if any("__" in name or merges_into_row(columns.get(name), value) for name, value in values.items()):
        return None  # an operation, or a map merged key by key: what it leaves is read back
    pinned: dict[str, list[Any]] = {}
    for relation in queryset._where:
        col = model._meta.columns.get(relation.attr)
        if col is None or not col.primary_key or relation.operator not in ("=", "IN"):
            continue
        found = relation.value if relation.operator == "IN" else [relation.value]
        pinned[relation.attr] = [col.to_python(v) for v in found]
    names = list(model._meta.primary_keys)
    if set(pinned) != set(names):
        return None
    rows = _keyed(before)
    out = []
    for key in product(*(pinned[name] for name in names)):
        previous = rows.get(key)
        cls: Any = model if previous is None else type(previous)
        row = cls.__new__(cls)
        row._values = dict.fromkeys(cls._meta.columns) if previous is None else dict(previous._values)
        row._values.update(zip(names, key))
        for name, value in values.items():
            row._values[name] = None if value is None else model._meta.columns[name].validate(value)
        row._init_state()
        out.append(row)
    return out


def _known_targets(before: list[MappedModel], after: Optional[list[MappedModel]], action: str, timestamp: Optional[int],
                   statement: statements.BaseStatement) -> list[tuple[Mirror, statements.BaseStatement]]:
    """The target statements of a queryset write, when the rows it leaves are known before it is sent."""
    if action == "delete" or after is not None:
        return _after_queryset_write(before, after, timestamp, statement)
    return []


def _reader(queryset: QuerySet[MappedModel]) -> Any:
    """The queryset that reads the rows a write of ``queryset`` touches: its filters, whole rows."""
    return queryset._with(_fields=None, _deferred=[], _values_list=None, _distinct=None, _limit=None)


def queryset_write(queryset: QuerySet[MappedModel], action: str, values: Optional[dict[str, Any]] = None) -> None:
    """A queryset ``update(**values)`` or ``delete()`` of a mirrored model, mirrored.

    The matching rows are read first, at the queryset's consistency (their
    target rows as they were); the source statement is sent as asked, with
    the shared timestamp; then each row's target statements follow. What an
    update of plain assignments leaves is worked out from the rows read (a
    key pinned by ``=``/``IN`` that had no row gets one, as Cassandra's UPDATE
    makes it); after a collection or counter operation the rows are read again.
    A row another client writes between the read and the write may be mirrored
    as it was seen; ``verify()`` reports any such difference.
    """
    run(_queryset_write_steps(queryset, action, values or {}))


async def aqueryset_write(queryset: QuerySet[MappedModel], action: str,
                          values: Optional[dict[str, Any]] = None) -> None:
    """``queryset_write()`` for asyncio."""
    await arun(_queryset_write_steps(queryset, action, values or {}))


def _queryset_write_steps(queryset: QuerySet[MappedModel], action: str, values: dict[str, Any]) -> Body[None]:
    """The one body of ``queryset_write`` and ``aqueryset_write``."""
    source, timestamp, conditional = _queryset_plan(queryset, action)
    statement = source._update_statement(values) if action == "update" else source._delete_statement()
    before = yield _Rows(_reader(queryset))
    options = queryset._options
    if options.batch is not None:  # a delete: its mirror deletes join the batch
        targets = _after_queryset_write(before, None, timestamp, statement)
        yield _Send(statement, options, queryset.model)
        _to_batch(batch=options.batch, targets=targets)
        return
    after = None if action == "delete" else _after_in_python(queryset, before, values)
    # Built (so checked) before anything is sent, when the rows the write leaves are known now.
    targets = _known_targets(before, after, action, timestamp, statement)
    yield _Send(statement, options, queryset.model)
    if conditional:
        timestamp = now_micros()  # a lightweight transaction takes no client timestamp: its mirror is dated now
        targets = _known_targets(before, after, action, timestamp, statement)
    if action == "update" and after is None:  # a collection or counter operation: read what it left
        targets = _after_queryset_write(before, (yield _Rows(_reader(queryset))), timestamp, statement)
    for mirror, target in targets:
        yield _SendTarget(target, options, _conn_of(mirror))


class _MirroringHook:
    """The write hook of a mirrored model: each write goes to its mirrors too (see the module docstring)."""

    write = staticmethod(write)
    awrite = staticmethod(awrite)
    queryset_write = staticmethod(queryset_write)
    aqueryset_write = staticmethod(aqueryset_write)

    def __repr__(self) -> str:
        return "<cqlengine.mirroring hook>"


HOOK = _MirroringHook()
