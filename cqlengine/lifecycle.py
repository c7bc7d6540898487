"""What a write of an instance does besides its columns: signals, audit columns, the row version.

Every write of an instance goes through ``MappedModel._begin_write`` (build
the statement) and ``_end_write`` (the instance counts as written), whether
it is sent alone, in a batch, in a bulk call or with a mirror. This module is
what those two call:

- :func:`before_build` sends ``pre_save``/``pre_delete`` (see
  :mod:`cqlengine.signals`): a receiver that raises stops the write, nothing
  sent;
- :func:`extend` adds to the built statement the columns the write sets by
  itself, and puts their new values in the state the instance takes once
  written, so that a write that fails leaves the instance as it was:

  ``DateTime(auto_now=True)``
      set on every write of the instance (INSERT or UPDATE);
  ``DateTime(auto_now_add=True)``
      set when a new instance is saved, unless it holds a value; later saves
      and updates leave it (a loaded instance does not send it again). An
      INSERT of a key that exists overwrites the row, this column too, as
      any other: create with ``if_not_exists()`` (or a ``Version``) to keep
      the first;
  ``columns.Version()``
      a new instance is inserted with ``IF NOT EXISTS`` at version 1; a
      loaded one (or one given its version) is updated with ``IF version =
      <the version it holds>``, setting the next version in the same
      statement, and deleted with that condition (an instance that does not
      hold a version is deleted without it);

  The audit value is the write's own timestamp when it has one
  (``timestamp()``, the batch's, or the one a mirror shares), else the
  client's clock, to the millisecond Cassandra keeps. A mirror's or a
  backfill's target rows are written with what the transform gives: they
  are not stamped again.
- :func:`after_write` sends ``post_save``/``post_delete`` once the write
  ran (for a batch member, when the batch has run).

A lost race on a versioned model raises
:class:`~cqlengine.exceptions.VersionConflict` (an ``LWTException``) naming
the model, key, expected and current versions: :func:`lost_race` turns the
server's answer into it. In a batch, the batch's ``LWTException`` is raised
instead, and no instance of the batch counts as written.
"""
from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timezone
from typing import Any, ClassVar, Optional, Protocol

from cqlengine import signals, statements
from cqlengine.columns import Column
from cqlengine.exceptions import LWTException, ValidationError, VersionConflict
from cqlengine.writes import NO_OPTIONS, WriteOptions, normalize_timestamp

__all__ = ["Written", "after_write", "before_build", "extend", "lost_race", "queryset_update_values",
           "write_time"]


class Written(Protocol):
    """What this module reads of a model instance being written (``MappedModel`` provides it)."""

    _columns: ClassVar[dict[str, Column]]
    _primary_keys: ClassVar[dict[str, Column]]
    _version_column: ClassVar[Optional[str]]
    _audit_columns: ClassVar[tuple[str, ...]]
    _loaded: Optional[dict[str, Any]]
    _values: dict[str, Any]
    _opts: Optional[WriteOptions]

    def _pk_where(self, partition_only: bool = False) -> list[statements.WhereClause]: ...


def before_build(instance: Written, deletes: bool) -> None:
    """Send ``pre_save`` or ``pre_delete`` for ``instance``'s write (it raises to stop the write)."""
    signal = signals.pre_delete if deletes else signals.pre_save
    cls = type(instance)
    if signal._receivers and signal.has_receivers(cls):
        extra = {} if deletes else {"created": instance._loaded is None}
        signal.send(cls, instance=instance, batch=_batch_of(instance), **extra)


def after_write(instance: Written, deletes: bool, created: bool, batch: Any) -> None:
    """Send ``post_save`` or ``post_delete``: now, or when ``batch`` has run."""
    signal = signals.post_delete if deletes else signals.post_save
    cls = type(instance)
    if not (signal._receivers and signal.has_receivers(cls)):
        return
    extra = {} if deletes else {"created": created}
    if batch is None:
        signal.send(cls, instance=instance, batch=None, **extra)
    else:
        batch.add_callback(lambda: signal.send(cls, instance=instance, batch=batch, **extra))


def _batch_of(instance: Written) -> Any:
    return (instance._opts or NO_OPTIONS).batch


def write_time(instance: Written, timestamp: Optional[int]) -> datetime:
    """The time an audit column takes: the write's timestamp (its own, the batch's, or ``timestamp``, one a
    mirror picked), else now; naive UTC, to the millisecond."""
    opts = instance._opts
    micros = timestamp
    if micros is None and opts is not None:
        micros = normalize_timestamp(opts.timestamp)
        if micros is None and opts.batch is not None:
            micros = normalize_timestamp(getattr(opts.batch, "timestamp", None))
    if micros is None:
        micros = time.time_ns() // 1000
    return datetime.fromtimestamp(micros // 1000 / 1000, timezone.utc).replace(tzinfo=None)


def extend(instance: Written, statement: statements.BaseStatement, state: Optional[dict[str, Any]], action: str,
           timestamp: Optional[int]) -> statements.BaseStatement:
    """``statement`` with the instance's audit columns and row version added; their new values go in
    ``state`` (what the instance holds once written)."""
    cls = type(instance)
    if cls._audit_columns and not isinstance(statement, statements.DeleteStatement):
        statement = _stamped(instance, statement, state, action, write_time(instance, timestamp))
    if cls._version_column is not None:
        statement = _versioned(instance, statement, state)
    return statement


def _stamped(instance: Written, statement: Any, state: Optional[dict[str, Any]], action: str,
             now: datetime) -> Any:
    cls = type(instance)
    new_instance = instance._loaded is None
    stamps = {}
    for attr in cls._audit_columns:
        col = cls._columns[attr]
        if col.auto_now or (new_instance and action != "update" and instance._values.get(attr) is None):
            stamps[attr] = now
    if not stamps:
        return statement
    if state is not None:
        state.update(stamps)
    return _with_values(cls, statement, stamps)


def _with_values(cls: type[Written], statement: Any, values: dict[str, Any]) -> Any:
    """``statement`` writing ``values`` (attribute -> Python value) too, over what it wrote of them."""
    columns = {cls._columns[attr].db_field_name: cls._columns[attr].to_database(v) for attr, v in values.items()}
    if isinstance(statement, statements.InsertStatement):
        pairs = [(n, v) for n, v in _pairs(statement.values) if n not in columns]
        return dataclasses.replace(statement, values=pairs + list(columns.items()))
    kept = [a for a in statement.assignments if getattr(a, "column", None) not in columns]
    return dataclasses.replace(statement, assignments=kept + [statements.SetAssignment(n, v)
                                                              for n, v in columns.items()])


def _pairs(values: Any) -> list[tuple[str, Any]]:
    return list(values) if isinstance(values, (list, tuple)) else list(values.items())


def _expected_version(instance: Written, attr: str) -> Any:
    """The version a write of ``instance`` expects the row at: the one read, else the one it was given."""
    loaded = instance._loaded
    return loaded.get(attr) if loaded is not None else instance._values.get(attr)


def _versioned(instance: Written, statement: Any, state: Optional[dict[str, Any]]) -> Any:
    cls = type(instance)
    attr = cls._version_column
    if attr is None:
        return statement
    name = cls._columns[attr].db_field_name
    keys = _key_of(instance)
    if isinstance(statement, statements.InsertStatement):
        if instance._values.get(attr) is not None and instance._loaded is None:
            raise ValidationError(f"{cls.__name__}({keys}).save: a new instance starts at version 1; to write a "
                                  f"row at a version you hold, update() it (or leave {attr} unset)")
        if state is not None:
            state[attr] = 1
        return dataclasses.replace(_with_values(cls, statement, {attr: 1}), if_not_exists=True)
    expected = _expected_version(instance, attr)
    conditions = [c for c in statement.conditions if c.column != name]
    if isinstance(statement, statements.DeleteStatement):
        if expected is None and instance._loaded is None:
            return statement  # not read, no version given: deleted by its key, as any row
        return dataclasses.replace(statement, if_exists=False,
                                   conditions=[*conditions, statements.ConditionClause(name, "=", expected)])
    if expected is None and instance._loaded is None:
        raise ValidationError(f"{cls.__name__}({keys}).update: the row's version is not known, so the write "
                              f"cannot be checked: read the instance first ({cls.__name__}.get(...)) or give "
                              f"it the version it holds ({attr}=...)")
    new = (expected or 0) + 1
    if instance._values.get(attr) != expected:
        raise ValidationError(f"{cls.__name__}({keys}).{attr}: the version is set by each write (it holds "
                              f"{expected!r}); do not assign it")
    if state is not None:
        state[attr] = new
    # The version is a regular column: the statement names the row, whatever else it sets.
    return dataclasses.replace(_with_values(cls, statement, {attr: new}), if_exists=False,
                               where=instance._pk_where(),
                               conditions=[*conditions, statements.ConditionClause(name, "=", expected)])


def _key_of(instance: Written) -> str:
    return ", ".join(f"{k}={instance._values.get(k)!r}" for k in type(instance)._primary_keys)


def lost_race(instance: Written, error: LWTException) -> LWTException:
    """The :class:`VersionConflict` a versioned instance's failed write raises (else ``error`` itself)."""
    cls = type(instance)
    attr = cls._version_column
    if attr is None or isinstance(error, VersionConflict):
        return error
    existing = error.existing or {}
    current = existing.get(cls._columns[attr].db_field_name)
    keys = {k: instance._values.get(k) for k in cls._primary_keys}
    expected = None if instance._loaded is None and instance._values.get(attr) is None \
        else _expected_version(instance, attr)
    return VersionConflict(cls.__name__, keys, expected, current, existing)


def queryset_update_values(model: type[Written], values: dict[str, Any], timestamp: Any) -> dict[str, Any]:
    """A queryset ``update()``'s values with its model's ``auto_now`` columns set (when it sets a column of
    the row, not only static ones); refused on a versioned model unless it sets the version itself."""
    attr = model._version_column
    if attr is not None and attr not in values:
        raise ValidationError(f"{model.__name__}.objects.update: it would write the rows without checking or "
                              f"moving their version; save() the instances, or set {attr} yourself (with "
                              f"iff({attr}=...))")
    stamps = [a for a in model._audit_columns if model._columns[a].auto_now and a not in values]
    regular = any(not model._columns[k.partition("__")[0]].static for k in values
                  if k.partition("__")[0] in model._columns)
    if not stamps or not regular:
        return values
    micros = normalize_timestamp(timestamp)
    now = datetime.fromtimestamp((time.time_ns() // 1000 if micros is None else micros) // 1000 / 1000,
                                 timezone.utc).replace(tzinfo=None)
    return {**values, **{a: now for a in stamps}}
