"""The mapped model: instances of a table definition, their state, and their writes.

An instance holds values, validates and converts them through its columns,
tracks what changed since it was loaded, and writes itself with INSERT,
UPDATE or DELETE statements rendered by :mod:`cqlengine.statements` and sent
by :class:`cqlengine.writes.WriteOptions`. Finding rows is the query layer's
job, above this one: :class:`cqlengine.models.Model` adds ``objects``,
``get``, ``filter`` and ``create``. A model's writes can be taken over by a
:class:`WriteHook` (how :mod:`cqlengine.mirroring` plugs in without being
imported here).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable, ClassVar, Iterable, Iterator, Optional, Protocol, Sequence, TypeVar, cast

from cqlengine import connection, lifecycle, statements
from cqlengine.columns import Column, Map, Set
from cqlengine.definition import _UNKNOWN, ModelDefinition, ModelMetaClass, _PartitionKeyDescriptor
from cqlengine.exceptions import (
    CQLEngineException,
    LWTException,
    NullKeyValue,
    PolymorphicModelException,
    ValidationError,
)
from cqlengine.exceptions import DoesNotExist as _DoesNotExist
from cqlengine.exceptions import MultipleObjectsReturned as _MultipleObjectsReturned
from cqlengine.instance_options import InstanceOptions
from cqlengine.plans import RowPlan, column_checks, columns_with_defaults, empty_collections, insert_plan
from cqlengine.writes import NO_OPTIONS, refuse_read_only, split_map_nulls, writes_nothing

__all__ = ["MappedModel", "WriteHook"]

M = TypeVar("M", bound="MappedModel")

_CAMEL = re.compile(r"([a-z])([A-Z])")


def _same(a: Any, b: Any) -> bool:
    """Equality for change tracking: a NaN read back is the same value, not a change."""
    if a is b or a == b:
        return True
    return isinstance(a, float) and isinstance(b, float) and a != a and b != b


Build = Callable[[], Optional[statements.BaseStatement]]


class WriteHook(Protocol):
    """What takes over every write of a model's instances (set as the model's ``_write_hook``).

    ``build`` makes the statement; the hook sends it with whatever else it
    sends, through the instance's ``_begin_write``/``_end_write``.
    """

    def write(self, instance: Any, build: Build, deletes: bool, action: str) -> None: ...

    async def awrite(self, instance: Any, build: Build, deletes: bool, action: str) -> None: ...


class MappedModel(InstanceOptions, metaclass=ModelMetaClass):
    """An instance of a table definition (see :class:`cqlengine.models.Model`, its public face)."""

    __abstract__: ClassVar[bool] = True
    __table_name__: ClassVar[Optional[str]] = None
    __table_name_case_sensitive__: ClassVar[bool] = False
    __keyspace__: ClassVar[Optional[str]] = None
    __connection__: ClassVar[Optional[str]] = None
    __options__: ClassVar[dict[str, Any]] = {}
    __default_ttl__: ClassVar[Optional[int]] = None
    __polymorphic_key__: ClassVar[Any] = None
    __discriminator_value__: ClassVar[Any] = None

    #: Where this model's writes are mirrored: what the write hook keeps (see :mod:`cqlengine.mirroring`).
    _mirrors: ClassVar[tuple[object, ...]] = ()
    #: What takes over this model's writes (None: they are sent as they are); see :class:`WriteHook`.
    _write_hook: ClassVar[Optional[WriteHook]] = None
    #: Why this model's table cannot be written (None: it can); set on materialized views.
    _read_only: ClassVar[Optional[str]] = None

    #: The table definition (see :class:`cqlengine.definition.ModelDefinition`); the names below are its
    #: parts under the peer's private spelling.
    _meta: ClassVar[ModelDefinition]
    _columns: ClassVar[dict[str, Column]]
    _defined_columns: ClassVar[dict[str, Column]]
    _partition_keys: ClassVar[dict[str, Column]]
    _clustering_keys: ClassVar[dict[str, Column]]
    _primary_keys: ClassVar[dict[str, Column]]
    _db_map: ClassVar[dict[str, str]]
    _pk_name: ClassVar[Optional[str]]
    _has_counter: ClassVar[bool]
    _version_column: ClassVar[Optional[str]]
    _audit_columns: ClassVar[tuple[str, ...]]
    #: Whether a write of it adds columns of its own (audit columns, a version): see lifecycle.
    _extends_writes: ClassVar[bool]
    _discriminator_column_name: ClassVar[Optional[str]]
    _discriminator_column: ClassVar[Optional[Column]]
    _is_polymorphic: ClassVar[bool]
    _is_polymorphic_base: ClassVar[bool]
    _polymorphic_base: ClassVar[Any]
    _discriminator_map: ClassVar[dict[Any, Any]]
    _family: ClassVar[list[Any]]
    _table_name: ClassVar[Optional[str]]
    DoesNotExist: ClassVar[type[_DoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[_MultipleObjectsReturned]]
    def __init__(self, **values: Any) -> None:
        cls = type(self)
        columns = cls._columns
        if not values.keys() <= columns.keys():
            unknown = [k for k in values if k not in columns]
            raise ValidationError(
                f"{cls.__name__}: unknown column(s) {', '.join(map(repr, unknown))}; "
                f"columns are {', '.join(columns)}"
            )
        own = self._values = dict.fromkeys(columns)  # in the columns' order, whatever the keywords'
        own.update(values)
        defaulted = []
        for key, col in columns_with_defaults(cls):
            if key not in values:
                own[key] = col.get_default()
                if not col.is_counter:  # a counter's 0 is where increments start: update() adds it, as the peer
                    defaulted.append(key)
        for key, col in empty_collections(cls):
            value = own[key]
            if value is None:
                own[key] = col.to_python(None)  # what the row will read back, as the peer holds it
                if key in values:
                    # None, unlike an empty collection given, is no value: not written (see _save_statement).
                    defaulted.append(key)
            elif isinstance(value, (list, tuple)) and isinstance(col, Set):
                # A set given as a list (as JSON input gives it) is that set, as with the peer; one
                # assigned later is checked by the column's own rule (``strict``).
                try:
                    own[key] = set(value)
                except TypeError:
                    pass  # unhashable elements: validate() says which
        if defaulted:
            self._defaulted = set(defaulted)
        if cls._is_polymorphic and cls.__polymorphic_key__ is not None and cls._discriminator_column_name:
            if self._values.get(cls._discriminator_column_name) is None:
                self._values[cls._discriminator_column_name] = cls.__polymorphic_key__
        self._init_state()

    #: The columns of a new instance that hold their default, neither given nor assigned since: an
    #: ``update()`` of the instance leaves them alone, as the peer does (save() writes them).
    _defaulted = cast(Optional[set], None)

    def _init_state(self) -> None:
        self._loaded: Optional[dict[str, Any]] = None  # values as last read or written

    def __getattr__(self, name: str) -> Any:
        # Reached only for a name not found the usual way. An instance built from a row keeps
        # the row, and makes its snapshot (``_loaded``) from it when first asked: most
        # instances read are never written, and a snapshot of each would double their cost.
        if name == "_loaded":
            state = self.__dict__
            read = state.get("_read")
            if read is not None:
                # Threads may share an instance: the first snapshot made is the one kept, and the
                # row is let go only once the snapshot is in place.
                loaded = state.setdefault("_loaded", RowPlan.of(type(self), read[0]).snapshot(read[1]))
                state.pop("_read", None)
                return loaded
            if "_loaded" in state:
                return state["_loaded"]  # made by another thread meanwhile
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "_read" in state:
            del state["_read"]
            state["_loaded"] = self._loaded  # the row plan holds columns' methods: pickle the snapshot
        return state

    # -- definition ----------------------------------------------------------

    @classmethod
    def _raw_column_family_name(cls) -> str:
        """The table name, unquoted."""
        if cls._table_name:
            return cls._table_name
        if cls.__table_name__:
            table = cls.__table_name__ if cls.__table_name_case_sensitive__ else cls.__table_name__.lower()
        elif cls._polymorphic_base is not None and cls._polymorphic_base is not cls:
            table = cls._polymorphic_base._raw_column_family_name()
        else:
            # The peer's rule, so ported models find their tables: fooBar -> foo_bar, at most 48 chars.
            table = _CAMEL.sub(r"\1_\2", cls.__name__)[-48:].lower().lstrip("_")
        cls._table_name = table
        return table

    @classmethod
    def _get_connection(cls) -> Optional[str]:
        return cls.__connection__

    @classmethod
    def _get_keyspace(cls, connection_name: Optional[str] = None) -> Optional[str]:
        if cls.__keyspace__:
            return cls.__keyspace__
        try:
            return connection.get_connection(connection_name or cls.__connection__).default_keyspace
        except CQLEngineException:
            return None

    @classmethod
    def column_family_name(cls, include_keyspace: bool = True) -> str:
        """The quoted table name, qualified by its keyspace when there is one."""
        keyspace = cls._get_keyspace() if include_keyspace else None
        return statements.qualified_table(keyspace, cls._raw_column_family_name())

    @classmethod
    def _table_columns(cls) -> dict[str, Column]:
        """CQL name -> column for the whole table: a polymorphic family's union."""
        return cls._meta.table_columns()

    @classmethod
    def _check_concrete(cls, action: str) -> None:
        if cls.__abstract__:  # checked here first: every write and query asks
            cls._meta.check_concrete(action)

    # -- construction from rows ------------------------------------------------

    @classmethod
    def _model_for_row(cls, row: Mapping[str, Any]) -> type[MappedModel]:
        if not cls._is_polymorphic or cls._discriminator_column is None:
            return cls
        value = row.get(cls._discriminator_column.db_field_name)
        base = cls._polymorphic_base
        klass = base._discriminator_map.get(value) if base is not None else None
        if klass is None:
            if value is None and cls is base:
                return cls
            raise PolymorphicModelException(
                f"{cls.__name__}: no subclass of {base.__name__ if base else cls.__name__} has "
                f"__polymorphic_key__ {value!r}"
            )
        if not issubclass(klass, cls):
            raise PolymorphicModelException(
                f"{cls.__name__} query returned a {klass.__name__} row (polymorphic key {value!r}); "
                f"query {base.__name__ if base else cls.__name__} instead, or index the key column"
            )
        return klass

    @classmethod
    def from_row(cls: type[M], row: Mapping[str, Any]) -> M:
        """An instance of the row's own (polymorphic) class from a row read elsewhere.

        ``row`` maps CQL column names to the driver's values (what ``dict_factory``
        gives); the instance counts as loaded, so a later ``save()`` writes only
        what changes.
        """
        return cls._construct_instance(row)

    @classmethod
    def _construct_instance(cls: type[M], row: Mapping[str, Any], as_model: Optional[type[MappedModel]] = None) -> M:
        """An instance from a driver row (keys are CQL column names), of the row's own subclass."""
        klass = as_model or cls._model_for_row(row)
        return RowPlan.of(klass, tuple(row)).instances(klass, [tuple(row.values())])[0]  # type: ignore[return-value]

    @classmethod
    def _instances_from_rows(cls: type[M], rows: Sequence[Mapping[str, Any]]) -> list[M]:
        """The instances of a page of rows as mappings of CQL names (rows of one query share their columns)."""
        if not rows:
            return []
        return cls._instances_from_result(tuple(rows[0]), [tuple(row.values()) for row in rows])

    @classmethod
    def _instances_from_result(cls: type[M], names: Sequence[str], rows: Sequence[Any]) -> list[M]:
        """The instances of a page of rows as tuples (``names``: their CQL columns).

        A polymorphic model's rows each pick their own class; any other model's
        are built in one pass each, by a plan compiled once per row shape.
        """
        if not rows:
            return []
        if isinstance(rows[0], dict):
            rows = [tuple(row.values()) for row in rows]  # a legacy-mode session reads dicts only
        if cls._is_polymorphic:
            return [cls._construct_instance(dict(zip(names, row))) for row in rows]
        return RowPlan.of(cls, names).instances(cls, rows)

    def _mark_loaded(self, keys: Optional[Iterable[str]] = None) -> None:
        self._loaded = self._snapshot(keys)

    def _snapshot(self, keys: Optional[Iterable[str]] = None) -> dict[str, Any]:
        """Snapshot the values now known to be in the database (all of them by default).

        Columns left out of a read (``only``/``defer``) stay out of the snapshot,
        so a later save neither overwrites nor forgets them.
        """
        known: Iterable[str] = keys if keys is not None else (
            list(self._values) if self._loaded is None else list(self._loaded))
        values = self._values
        snapshot = {k: values[k] for k in known}
        # Only values that can change in place (collections, user types) are copied, by their type.
        for key, copy_value in type(self)._snapshot_copiers().items():
            value = snapshot.get(key)
            if value is not None:
                snapshot[key] = copy_value(value)
        return snapshot

    @classmethod
    def _snapshot_copiers(cls) -> dict[str, Callable[[Any], Any]]:
        """attr -> copier of each column whose values can change in place; built once per class."""
        copiers = cls.__dict__.get("_snapshot_copiers_cache")
        if copiers is None:
            copiers = {k: c for k, c in ((k, col.snapshot_copier()) for k, col in cls._columns.items())
                       if c is not None}
            cls._snapshot_copiers_cache = copiers  # type: ignore[attr-defined]
        return copiers  # type: ignore[no-any-return]

    # -- mapping access and comparison ----------------------------------------

    def __repr__(self) -> str:
        keys = ", ".join(f"{k}={self._values.get(k)!r}" for k in type(self)._primary_keys)
        return f"<{type(self).__name__} {keys}>"

    def __eq__(self, other: Any) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return all(_same(v, other._values.get(k)) for k, v in self._values.items())

    def __ne__(self, other: Any) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def keys(self) -> list[str]:
        return list(type(self)._columns)

    def values(self) -> list[Any]:
        return [self._values[k] for k in type(self)._columns]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, self._values[k]) for k in type(self)._columns]

    def __getitem__(self, key: str) -> Any:
        if key not in type(self)._columns:
            raise KeyError(key)
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in type(self)._columns:
            raise KeyError(key)
        setattr(self, key, value)

    def __iter__(self) -> Iterator[str]:
        return iter(type(self)._columns)

    def __len__(self) -> int:
        return len(type(self)._columns)

    def __contains__(self, key: object) -> bool:
        return key in type(self)._columns

    #: The partition key: its value, or a tuple of values when it has several columns.
    pk = _PartitionKeyDescriptor()

    @property
    def _is_persisted(self) -> bool:
        """Whether this instance was read from, or written to, the database."""
        return self._loaded is not None

    def _as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @classmethod
    def _get_column(cls, name: str) -> Column:
        return cls._columns[name]

    def get_changed_columns(self) -> list[str]:
        """Attributes whose value differs from what was last read or written."""
        loaded = self._loaded
        if loaded is None:
            defaulted = self._defaulted or ()
            return [k for k, v in self._values.items() if v is not None and k not in defaulted]
        return [k for k, v in self._values.items() if k in loaded and not _same(loaded[k], v)]

    # -- validation ---------------------------------------------------------

    def validate(self) -> None:
        """Validate and clean every value in place; raises ``ValidationError``."""
        cls = type(self)
        loaded = self._loaded
        values = self._values
        for key, col, plain, bounds, none_passes in column_checks(cls):
            value = values.get(key)
            if value is None:
                if none_passes:
                    continue
                if loaded is not None and key not in loaded and not col.primary_key:
                    continue  # not read (only/defer) nor assigned: never written, nothing to check
                if key in cls._clustering_keys and self._writes_statics_only():
                    continue
            elif type(value) in plain and (bounds is None or bounds[0] <= value <= bounds[1]):
                continue  # validate() would return it unchanged
            if isinstance(col, Map):
                value, _ = split_map_nulls(col, value)
            values[key] = col.validate(value)
        disc, value = cls._discriminator_column_name, cls.__polymorphic_key__
        if disc is not None and value is not None:
            if self._values.get(disc) is None:
                self._values[disc] = value
            elif self._values[disc] != value:
                raise ValidationError(
                    f"{cls.__name__}.{disc}: {self._values[disc]!r} is not {cls.__name__}'s "
                    f"__polymorphic_key__ {value!r} (the polymorphic key is set by the model)"
                )

    def _copied_row(self: M) -> M:
        """This new instance as a copy of a row read elsewhere: its empty collections stand for none.

        A row read back holds ``[]``/``set()``/``{}`` where it has no collection, so a copy of it
        (a mirror's or a backfill's target row) leaves those out, as defaults, rather than writing
        an empty collection (a tombstone) over the target's.
        """
        empty = [key for key, _ in empty_collections(type(self)) if not self._values[key]]
        if empty:
            self._defaulted = {*(self._defaulted or ()), *empty}
        return self

    def _without_clustering_key(self) -> bool:
        """Whether the model has a clustering key and this instance holds None for all of it."""
        keys = type(self)._clustering_keys
        return bool(keys) and all(self._values[k] is None for k in keys)

    def _writes_statics_only(self) -> bool:
        """Whether this instance, without clustering key, writes its partition's static columns alone.

        Cassandra keeps static columns per partition, so a write of them needs no clustering key (the
        peer writes them so too). A value given to a regular column then has no row to go to: refused,
        rather than dropped as the peer does.
        """
        cls = type(self)
        values = self._values
        if not self._without_clustering_key():
            return False
        if not any(col.static for col in cls._columns.values()):
            return False
        defaulted = self._defaulted or ()
        regular = [k for k, col in cls._columns.items()
                   if not (col.primary_key or col.static or k in defaulted or writes_nothing(col, values[k]))]
        keys = ", ".join(cls._clustering_keys)
        if regular:
            raise NullKeyValue(f"{cls.__name__}: {', '.join(regular)} need a row, and its clustering key "
                               f"({keys}) is None; without one only the static columns can be written")
        conditions = self._opts.conditions if self._opts is not None else {}
        compared = [attr for attr in (key.partition("__")[0] for key in conditions)
                    if attr in cls._columns and not (cls._columns[attr].static or cls._columns[attr].primary_key)]
        if compared:  # Cassandra refuses the statement ("Some clustering keys are missing")
            raise NullKeyValue(f"{cls.__name__}: the condition on {', '.join(compared)} needs a row, and its "
                               f"clustering key ({keys}) is None; without one only the static columns can be "
                               "written or compared")
        return True
    # -- writes -------------------------------------------------------------

    def _table(self) -> tuple[Optional[str], str, Optional[str]]:
        return self._options.table(type(self))

    def _pk_where(self, partition_only: bool = False) -> list[statements.WhereClause]:
        cls = type(self)
        keys = cls._partition_keys if partition_only else cls._primary_keys
        return [
            statements.WhereClause(col.db_field_name, "=", col.to_database(self._values[key]))
            for key, col in keys.items()
        ]

    def _write(self, build: Callable[[], Optional[statements.BaseStatement]], deletes: bool = False,
               action: str = "save") -> None:
        """Build, then send or batch, one write.

        The one-shot options (timestamp, conditions, batch) are spent once the
        write is sent or batched, or its condition was checked (LWTException);
        a write that failed before that keeps them, so a retry is the same
        write, condition included. The instance counts as written (its change
        tracking reset) once the statement has run: at once, or when its batch
        executes.
        """
        hook = type(self)._write_hook
        if hook is not None:
            try:
                hook.write(self, build, deletes, action)
            except LWTException as exc:
                raise lifecycle.lost_race(self, exc) from None
            return
        statement, state, batch = self._begin_write(build, deletes, action)
        if statement is not None:
            try:
                (self._opts or NO_OPTIONS).send(statement, type(self))
            except LWTException as exc:
                self._options.reset_one_shot()  # the server checked the condition: spent
                raise lifecycle.lost_race(self, exc) from None
        self._end_write(statement, state, batch)

    async def _awrite(self, build: Callable[[], Optional[statements.BaseStatement]], deletes: bool = False,
                      action: str = "save") -> None:
        """``_write()`` for asyncio; the one-shot options are spent as there."""
        hook = type(self)._write_hook
        if hook is not None:
            try:
                await hook.awrite(self, build, deletes, action)
            except LWTException as exc:
                raise lifecycle.lost_race(self, exc) from None
            return
        statement, state, batch = self._begin_write(build, deletes, action)
        if statement is not None:
            try:
                await (self._opts or NO_OPTIONS).asend(statement, type(self))
            except LWTException as exc:
                self._options.reset_one_shot()  # the server checked the condition: spent
                raise lifecycle.lost_race(self, exc) from None
        self._end_write(statement, state, batch)

    def _begin_write(self, build: Callable[[], Optional[statements.BaseStatement]], deletes: bool,
                     action: str, timestamp: Optional[int] = None,
                     ) -> tuple[Optional[statements.BaseStatement], Optional[dict[str, Any]], Any]:
        """The statement to send (None: nothing to write, if that is allowed), the state it leaves, the batch.

        ``timestamp``: the statement is built with it, when no ``timestamp()`` was asked for (a mirrored
        write shares one with its mirror).
        """
        batch = None if self._opts is None else self._opts.batch
        if action != "update":  # update() sends pre_save once it has assigned its values
            lifecycle.before_build(self, deletes)
        if timestamp is None:
            statement = build()
        else:
            self._options.timestamp = timestamp
            try:
                statement = build()
            finally:
                self._options.timestamp = None
        state = (None if deletes else self._snapshot() if self._loaded is not None
                 else self._state_after_insert(statement))
        if statement is None:
            self._refuse_empty_write(action)
        elif self._extends_writes:
            statement = lifecycle.extend(self, statement, state, action, timestamp)
        return statement, state, batch

    def _end_write(self, statement: Optional[statements.BaseStatement], state: Optional[dict[str, Any]],
                   batch: Any) -> None:
        created = self._loaded is None
        if self._opts is not None:
            self._opts.reset_one_shot()
        sent_in = batch if statement is not None else None
        self._written(sent_in, state)
        lifecycle.after_write(self, state is None, created, sent_in)

    def _refuse_empty_write(self, action: str) -> None:
        """Raise unless sending nothing is what ``action`` means here.

        Only a loaded instance without changes, conditions or a timestamp has
        nothing to write; a new instance's values are changes, an ``if_exists()``
        or ``iff()`` condition can only be checked by the UPDATE it belongs to,
        and a ``timestamp()`` asked for would date nothing.
        """
        opts = self._options
        conditional = opts.if_exists or bool(opts.conditions)
        if self._loaded is not None and not conditional and opts.timestamp is None:
            return
        cls = type(self)
        keys = ", ".join(f"{k}={self._values.get(k)!r}" for k in cls._primary_keys)
        if self._loaded is None:
            reason = "this new instance holds no value besides its primary key"
        else:
            reason = "no column changed since it was read"
        rule = (" (if_exists()/iff() are checked by an UPDATE, and there is no column to set)" if conditional
                else " (timestamp() dates a write, and there is none)" if opts.timestamp is not None else "")
        raise ValidationError(f"{cls.__name__}({keys}).{action}: nothing to write: {reason}{rule}; "
                              "assign or pass the columns to write")

    def _state_after_insert(self, statement: Optional[statements.BaseStatement] = None) -> dict[str, Any]:
        """The snapshot a write of a new instance leaves: the columns whose database value it makes known.

        None and empty collections held by default are not written, so what
        the row holds there stays unknown (and out of the snapshot); so do,
        after an UPDATE, the defaults it did not write and the maps it merged
        into the row's.
        """
        cls = type(self)
        values = self._values
        state = {}
        defaulted = self._defaulted or ()
        unknown: set[str] = set()
        if isinstance(statement, statements.UpdateStatement):
            unknown.update(defaulted)
            merged = (cls._db_map[a.column] for a in statement.assignments if isinstance(a, statements.AddAssignment))
            unknown.update(key for key in merged if not cls._columns[key].is_counter)
        for key, _, col, _, collection in insert_plan(cls):
            value = values[key]
            if key in unknown and not col.primary_key:
                continue
            if col.primary_key or col.is_counter or not (
                    value is None or (collection and not value and key in defaulted)):
                state[key] = value
        for key, copy_value in cls._snapshot_copiers().items():
            value = state.get(key)
            if value is not None:
                state[key] = copy_value(value)
        return state

    def _written(self, batch: Any, state: Optional[dict[str, Any]]) -> None:
        if batch is None:
            self._loaded = state
            if state is not None and self._extends_writes:
                self._take_written_values(state)
            return
        batch.add_callback(setattr, self, "_loaded", state)
        if state is not None and self._extends_writes:
            batch.add_callback(self._take_written_values, state)
        loaded = self._loaded
        if state is not None and loaded is not None:
            # Counter increments are deltas from the baseline: a second save before the batch
            # runs must add only what changed since the first. A batch never applied gives the
            # old baseline back, or its increments would be lost without a word.
            moved = {key: loaded.get(key) for key, col in type(self)._columns.items()
                     if col.is_counter and key in state}
            for key in moved:
                loaded[key] = state[key]
            if moved and hasattr(batch, "add_discard_callback"):
                batch.add_discard_callback(loaded.update, moved)

    def _take_written_values(self, state: dict[str, Any]) -> None:
        """The values the write set by itself (audit columns, the version; see lifecycle), held once written."""
        cls = type(self)
        for attr in (*cls._audit_columns, *((cls._version_column,) if cls._version_column else ())):
            if attr in state:
                self._values[attr] = state[attr]

    def _check_writable(self, action: str = "save") -> None:
        cls = type(self)
        cls._check_concrete("write")
        if cls._read_only:
            refuse_read_only(cls, action)
        if cls._is_polymorphic and cls._is_polymorphic_base and cls.__polymorphic_key__ is None:
            raise PolymorphicModelException(
                f"{cls.__name__} is a polymorphic base: save one of its subclasses "
                f"({', '.join(sorted(c.__name__ for c in cls._family if c is not cls)) or 'none defined'})"
            )
        if cls._is_polymorphic and cls.__polymorphic_key__ is None:
            # Its rows would carry no key and read back as the base.
            raise PolymorphicModelException(
                f"{cls.__name__} shares the polymorphic table of {cls._polymorphic_base.__name__} but sets no "
                "__polymorphic_key__: give it one to save it"
            )

    def save(self: M) -> M:
        """INSERT a new instance; on a loaded one, UPDATE only the changed columns."""
        self._write(self._save_statement)
        return self

    async def asave(self: M) -> M:
        """``save()`` without blocking the event loop."""
        await self._awrite(self._save_statement)
        return self

    def _save_statement(self) -> Optional[statements.BaseStatement]:
        self._check_writable()
        self.validate()
        cls = type(self)
        loaded = self._loaded
        pk_changed = loaded is not None and any(
            loaded.get(k) != self._values.get(k) for k in cls._primary_keys
        )
        opts = self._opts or NO_OPTIONS
        if cls._has_counter or opts.if_exists or opts.conditions or (loaded is not None and not pk_changed):
            if opts.if_not_exists:
                # IF NOT EXISTS belongs to INSERT: silently dropping it would overwrite the row.
                reason = ("a counter table is written with UPDATE" if cls._has_counter
                          else "a loaded instance is saved with UPDATE")
                raise ValidationError(f"{cls.__name__}: if_not_exists() cannot apply here: {reason}")
            if self._loaded is None:
                attrs = list(self._values)
            elif pk_changed:
                attrs = [k for k in self._values if k in self._loaded]  # what was read or assigned
            else:
                attrs = self.get_changed_columns()
            return self._update_statement(attrs)
        values = []
        own = self._values
        statics_only = self._without_clustering_key()
        # An empty collection given to a new instance is written (the row's is emptied, as the peer
        # does); one it holds by default, or from None, is not: it would only write a tombstone.
        kept_empty = () if loaded is not None else own.keys() - (self._defaulted or ())
        for key, name, col, plain, collection in insert_plan(cls):
            value = own[key]
            if value is None or (collection and not value and key not in kept_empty):
                continue  # an INSERT of null (or of an empty collection) would only write a tombstone
            if statics_only and not (col.static or key in cls._partition_keys):
                continue  # the defaults of a row there is none of (see _writes_statics_only)
            values.append((name, value if type(value) in plain else col.to_database(value)))
        table, args = opts.statement_args(cls, "insert")
        return statements.InsertStatement(table, values=values, **args)

    def _update_statement(self, attrs: list[str], named: Iterable[str] = (),
                          merges: bool = False) -> Optional[statements.BaseStatement]:
        """An UPDATE of ``attrs`` (None when there is nothing to write); ``named`` are written even as null.

        ``merges``: the maps of an instance not read are merged into the row's (``update()``).
        """
        named = set(named)
        cls = type(self)
        assignments: list[Any] = []
        # Without a clustering key only static columns are written (validate() refused any other value).
        statics_only = self._without_clustering_key()
        for key in attrs:
            col = cls._columns[key]
            if col.primary_key or (statics_only and not col.static):
                continue
            value = self._values.get(key)
            if col.is_counter:
                previous = (self._loaded or {}).get(key) or 0
                if previous is _UNKNOWN:
                    raise ValidationError(f"{cls.__name__}.{key}: the counter was not read (only/defer), "
                                          "so its increment is unknown; use Model.objects(...).update()")
                delta = (value or 0) - previous
                # A new instance adds even 0: create() must leave a row that get() finds.
                if delta or self._loaded is None:
                    assignments.append(statements.AddAssignment(col.db_field_name, delta, idempotent=False))
                continue
            if self._loaded is None and key not in named and (
                    value is None or (writes_nothing(col, value) and key in (self._defaulted or ()))):
                continue  # a new instance leaves unset columns alone, as its INSERT would
            if merges and value and isinstance(col, Map) and not col.frozen:
                # The map of an instance not read is merged into the row's (its keys set one by one),
                # as the peer does: what else the row's map holds is not this instance's to drop.
                assignments.append(statements.AddAssignment(col.db_field_name, col.to_database(value)))
                continue
            assignments.append(statements.SetAssignment(col.db_field_name, col.to_database(value)))
        if not assignments:
            return None
        opts = self._options
        static_only = all(cls._columns[cls._db_map[a.column]].static for a in assignments)
        # An UPDATE of static columns alone addresses the partition: Cassandra refuses clustering keys,
        # unless a condition is on a regular column: that condition reads the row the key names.
        row_condition = any(not (col.static or col.primary_key) for col in
                            (cls._columns.get(key.partition("__")[0]) for key in opts.conditions) if col is not None)
        where = self._pk_where(partition_only=static_only and not row_condition)
        table, args = opts.statement_args(cls, "update")
        return statements.UpdateStatement(table, assignments=assignments, where=where, **args)

    def update(self: M, **values: Any) -> M:
        """Set ``values`` and UPDATE the changed columns (primary keys cannot change)."""
        self._write(lambda: self._set_for_update(values), action="update")
        return self

    async def aupdate(self: M, **values: Any) -> M:
        """``update()`` without blocking the event loop."""
        await self._awrite(lambda: self._set_for_update(values), action="update")
        return self

    def _refuse_if_not_exists(self, action: str) -> None:
        if self._options.if_not_exists:
            raise ValidationError(f"{type(self).__name__}.{action}: if_not_exists() applies to INSERT only; "
                                  "use if_exists() or iff() for a conditional write")

    def _set_for_update(self, values: dict[str, Any]) -> Optional[statements.BaseStatement]:
        self._check_writable("update")
        self._refuse_if_not_exists("update")
        cls = type(self)
        for key, value in values.items():
            col = cls._columns.get(key)
            if col is None:
                raise ValidationError(f"{cls.__name__}: unknown column {key!r}")
            if col.primary_key and value != self._values.get(key):
                raise ValidationError(
                    f"{cls.__name__}.{key}: a primary key column cannot be updated ({value!r})"
                )
            if col.polymorphic_key and value != self._values.get(key):
                raise ValidationError(f"{cls.__name__}.{key}: the polymorphic key cannot be updated")
        for key, value in values.items():
            setattr(self, key, value)
        lifecycle.before_build(self, False)  # here, not first: pre_save receivers see the values to write
        self.validate()
        if self._loaded is None:
            # A new instance's values are changes to write, but not the defaults it was never given:
            # an update() must not overwrite what the row holds with them.
            defaulted = self._defaulted or ()
            changed = [k for k in values if k not in cls._primary_keys]
            changed += [k for k in self._values if k not in values and k not in defaulted]
            return self._update_statement(changed, named=values, merges=True)
        changed = self.get_changed_columns()
        opts = self._opts
        if opts is not None and (opts.ttl is not None or opts.timestamp is not None):
            # Rewriting a value unchanged is how its cells get a new TTL or write time: the ones named are sent.
            changed += [k for k in values if k not in changed and k not in cls._primary_keys]
        # Otherwise a loaded instance writes what differs from what was read, as the peer: a value
        # named but unchanged sends nothing.
        return self._update_statement(changed)

    def delete(self) -> None:
        """DELETE this row (honours ``timestamp``, ``if_exists`` and ``iff``)."""
        self._write(self._delete_statement, deletes=True)

    async def adelete(self) -> None:
        """``delete()`` without blocking the event loop."""
        await self._awrite(self._delete_statement, deletes=True)

    def _delete_statement(self) -> statements.BaseStatement:
        cls = type(self)
        cls._check_concrete("delete from")
        self._refuse_if_not_exists("delete")
        for key, col in cls._primary_keys.items():
            col.validate(self._values.get(key))
        table, args = self._options.statement_args(cls, "delete")
        return statements.DeleteStatement(table, where=self._pk_where(), **args)
