"""Where ours and the peer differ, and the oracle knows it: the only place that says so.

Each entry names the situation (``applies``: a predicate over the step that was
run, see :class:`Step`), which comparisons it excuses (``excuses``: a subset of
``EXCUSES``) and, for a difference of values rather than of behaviour, how a
value is normalised (``normalise``).

``ON_PURPOSE``
    Differences kept on purpose; ``section`` is the ``docs/porting.rst``
    section that documents each.
``PENDING_FIXES``
    Differences that are bugs of ours, reported and being fixed: excused only so
    the machine can explore past them. Each one goes away with its fix. Setting
    ``CQLENGINE_DIFF_STRICT=1`` excuses none of them (to see which still hold).

When a step's difference is excused and the tables or instances may have
drifted apart because of it, the machine starts over on fresh keys.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from cassandra import util as driver_util

#: What an entry may excuse: a different exception (or one side raising alone),
#: different instance state, different rows, a different query result.
EXCUSES = frozenset({"exception", "instance", "rows", "result"})
STATE = frozenset({"instance", "rows", "result"})
#: The ``timestamp()`` values of the programs that date a write before now (the third is in the future).
PAST_TIMESTAMPS = (1_000, 2_000)


@dataclass
class Outcome:
    """What one mapper's call did: the value it returned or the exception it raised."""

    value: Any = None
    exc: Optional[BaseException] = None

    @property
    def raised(self) -> Optional[str]:
        return None if self.exc is None else type(self.exc).__name__

    def raised_kind(self, *names: str) -> bool:
        return self.exc is not None and any(c.__name__ in names for c in type(self.exc).__mro__)


@dataclass
class Step:
    """One operation as both mappers ran it."""

    op: str  # "create", "save_new", "get", "save", "update_kw", "assign_update", "delete", "qs_update", ...
    label: str  # the model's label ("row", "dog", ...)
    keys: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    opts: dict[str, Any] = field(default_factory=dict)
    origin: Optional[str] = None  # for instance steps: "get", "create", "new" (saved from a constructor)
    #: For instance steps: the options earlier steps gave this instance ("batch", "iff", "ttl", ...).
    history: frozenset[str] = frozenset()
    batched: bool = False  # the step queued its write in an open batch
    #: For instance steps: the columns given a value equal to the instance's (ours) already.
    unchanged: frozenset[str] = frozenset()
    #: For instance steps: the instance's (ours) primary key values, as it holds them.
    instance_keys: dict[str, Any] = field(default_factory=dict)
    #: The comparable forms (ours, peer) that differ, while an entry is looked for (None for exceptions).
    diff: Optional[tuple[Any, Any]] = None
    ours: Outcome = field(default_factory=Outcome)
    peer: Outcome = field(default_factory=Outcome)

    def sets(self, *columns: str) -> bool:
        return any(c in self.values or any(k.startswith(c + "__") for k in self.values) for c in columns)


@dataclass(frozen=True)
class Divergence:
    name: str
    section: str  # the docs/porting.rst section (ON_PURPOSE) or the report (PENDING_FIXES)
    what: str
    excuses: frozenset[str] = frozenset()
    applies: Callable[[Step], bool] = lambda step: False
    normalise: Optional[Callable[[Any], Any]] = None
    #: Whether the sides may be apart after the excused step (else instances and rows are still compared).
    drifts: bool = True
    #: Whether the sides may be apart after the step though nothing shows yet (a tombstone one side wrote):
    #: the machine then starts over even when the step compared equal.
    hides: bool = False


def _driver_date_time(value: Any) -> Any:
    if isinstance(value, driver_util.Date):
        return value.date()
    if isinstance(value, driver_util.Time):
        return value.time()
    return value


_CONDITIONAL = ("iff", "if_exists", "if_not_exists")
STATIC = _STATIC = ("s",)  # the static columns of the oracle's models


def _ours_refused(step: Step, *kinds: str) -> bool:
    return step.ours.raised_kind(*kinds) and step.peer.exc is None


def _ours_first(step: Step, ours: str, peer: str) -> bool:
    """Ours raised ``ours`` before sending where the peer's statement failed at the server with ``peer``."""
    return step.ours.raised_kind(ours) and step.peer.raised_kind(peer)


def _new_conditional(step: Step) -> bool:
    return step.op == "save_new" and bool(step.opts.get("if_exists") or step.opts.get("iff"))


ON_PURPOSE: list[Divergence] = [
    Divergence(
        "counter-timestamp-refused-first", "Validation",
        "timestamp() on a write of a counter table raises CounterTimestamp before sending (Cassandra refuses "
        "USING TIMESTAMP on counter updates); the peer sends it and the server refuses it, or, with no counter "
        "changed, it sends nothing",
        excuses=EXCUSES,
        applies=lambda step: step.ours.raised_kind("CounterTimestamp")),
    Divergence(
        "collection-none-until-read", "Model attributes",
        "a collection set to None (assigned, or given to update()) holds None until the row is read again; "
        "the peer's instance turns it into the empty collection at its next write",
        excuses=frozenset({"instance"}), drifts=False,
        applies=lambda step: step.diff is not None and _none_for_empty(*step.diff)),
    Divergence(
        "update-new-none-writes-null", "Writes of new instances",
        "update(col=None) of an instance never read writes null for col (the caller named it: what the row held "
        "there is deleted, a tombstone dated as the write); so does col = None, then update() or save(), of an "
        "instance whose save() or create() left col unwritten (None is not written: what the row holds there is "
        "unknown); the peer sends nothing for it",
        excuses=frozenset({"rows"}),
        applies=lambda step: any(v is None for v in step.values.values()) and (
            step.op == "update_new"
            or step.op in ("update_kw", "assign_update", "save") and step.origin in ("new", "create")),
        hides=True),
    Divergence(
        "new-conditional-in-a-batch", "Writes of new instances",
        "a batch holding the save() of a new instance with if_exists()/iff() has its condition checked when it "
        "runs (LWTException when not applied); the peer's batch holds an INSERT without the condition",
        excuses=EXCUSES,
        applies=lambda step: step.op == "batch" and "new-conditional" in step.history),
    Divergence(
        "instance-rewritten-in-a-batch", "Batches",
        "an instance written again in the batch it was first written in is written whole again (it counts as "
        "written once the batch has run), without the first write's timestamp(); the peer writes only what changed",
        excuses=frozenset({"rows"}),
        applies=lambda step: step.op == "batch" and "rewritten-in-batch" in step.history),
    Divergence(
        "written-after-delete", "Writes of new instances",
        "an instance saved or updated after its delete() is written as new: the row is written again (a counter "
        "adds its value again; Cassandra's counter deletes are not reliable: the old count may come back); the "
        "peer writes only what changed since, often nothing, and the row stays deleted (in a batch: when the "
        "batch runs)",
        excuses=frozenset({"rows", "instance"}),
        applies=lambda step: "deleted" in step.history and step.op in ("save", "update_kw", "assign_update")),
    Divergence(
        "conditional-write-after-delete", "Writes of new instances",
        "a conditional save() or update() of an instance after its delete() is the write of a new instance, its "
        "condition checked (LWTException when the row is gone); the peer has nothing changed to send, and "
        "sends nothing",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.ours.raised_kind("LWTException") and step.peer.exc is None and (
            "deleted" in step.history and step.op in ("save", "update_kw", "assign_update")
            and any(step.opts.get(o) for o in _CONDITIONAL)
            or step.op == "batch" and "queued-after-delete" in step.history)),
    Divergence(
        "written-after-a-refused-batch", "Batches",
        "an instance whose batch was refused counts as not written: its next save() or update() writes it as "
        "new (a counter adds its value); the peer's counts as written, and its next write sends only what "
        "changed, often nothing",
        excuses=frozenset({"rows", "instance"}),
        applies=lambda step: "batch-refused" in step.history and step.op in ("save", "update_kw", "assign_update")),
    Divergence(
        "conditional-static-update-names-its-row", "Lightweight transactions",
        "a conditional update() of a new instance setting a static value, with a condition on a regular "
        "column, names its row (its clustering key) and is sent; the peer leaves the clustering key out and "
        "the server refuses the statement (InvalidRequest)",
        excuses=EXCUSES,
        applies=lambda step: step.peer.raised_kind("InvalidRequest")
        and "clustering keys are missing" in str(step.peer.exc)
        and (step.ours.exc is None or step.ours.raised_kind("LWTException"))),
    Divergence(
        "none-in-the-conditional-statement", "Lightweight transactions",
        "a conditional update() that sets columns to None sends one statement, condition checked once; the "
        "peer deletes the None columns (and a static column its constructor was given None for) in a second "
        "conditional statement, checked after its first applied (LWTException when the first one left no row, "
        "or the partition's static row is empty, though it was applied); a static column's delete with a "
        "condition on a regular column is refused by the server (InvalidRequest), where ours checks it",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.op in ("update_kw", "assign_update", "save", "update_new", "qs_update")
        and any(step.opts.get(o) for o in _CONDITIONAL)
        and (any(_nothing(v) for v in step.values.values()) or "static-none" in step.history)
        and ((step.ours.exc is None and step.peer.raised_kind("LWTException"))
             or ((step.ours.exc is None or step.ours.raised_kind("LWTException"))
                 and step.peer.raised_kind("InvalidRequest")
                 and "to use IF condition on non static columns" in str(step.peer.exc)))),
    Divergence(
        "unchanged-value-rewritten-for-its-ttl", "Writes with nothing to write",
        "update(col=<unchanged value>) of a loaded instance with ttl() (its own, or the one it was created with) "
        "or timestamp() writes the columns named, so their cells get the new TTL or write time; the peer sends "
        "only the changed ones (or nothing). With a condition, the write sent is checked: LWTException when it "
        "does not hold (in a batch, when the batch runs)",
        excuses=EXCUSES,
        applies=lambda step: step.peer.exc is None and (
            unchanged_rewrite(step) and (step.ours.exc is None or _not_applied(step))
            or step.op == "batch" and "unchanged-conditional" in step.history and _not_applied(step))),
    Divergence(
        "refused-write-keeps-its-options", "Model attributes",
        "an instance's write refused before sending keeps its one-shot options (timestamp() included), so the "
        "next write is the same write: dated as asked (a past timestamp leaves what was written since), or, with "
        "if_exists() added, refused for the timestamp kept; the peer resets timestamp() after every write",
        excuses=EXCUSES,
        applies=lambda step: "timestamp" not in step.opts and (
            "timestamp-kept" in step.history
            or step.ours.raised_kind("QueryException") and step.peer.exc is None
            and "custom TIMESTAMP on a conditional" in str(step.ours.exc))),
    Divergence(
        "empty-operation-with-a-condition", "Writes with nothing to write",
        "a conditional queryset update() whose operations add nothing (infos__append=[]) is sent, so its "
        "condition is checked (LWTException when not applied); the peer sends nothing. Queued in a batch, it "
        "makes the batch conditional: not applied as a whole when the condition fails, refused by the server "
        "when the batch also writes another partition; the peer's batch goes without it",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.peer.exc is None and (
            step.ours.raised_kind("LWTException") and empty_conditional_update(step)
            or step.op == "batch" and "empty-conditional" in step.history and (
                step.ours.raised_kind("LWTException") or step.ours.raised_kind("InvalidRequest")
                and "conditions cannot span multiple partitions" in str(step.ours.exc)))),
    Divergence(
        "empty-map-operation-keeps-the-map", "Writes with nothing to write",
        "a queryset update() whose map operation names no key (mp__update={}, mp__remove=set()) leaves the map "
        "as it is; the peer turns it into an assignment of the empty map, which deletes the map (a tombstone "
        "dated as the update: a future one hides later writes of the map), and the row with it where an "
        "update made it and the map was all it held",
        excuses=frozenset({"rows"}),
        applies=lambda step: step.op == "qs_update" and step.ours.exc is None and step.peer.exc is None
        and any(key.split("__")[0] in ("mp", "ms") and key.endswith(("__update", "__remove")) and _nothing(value)
                for key, value in step.values.items())
        and (step.diff is None or _rows_emptied(step.diff[1], step.diff[0], kept={
            *step.keys, *(key.split("__")[0] for key in step.values)})), hides=True),
    Divergence(
        "save-of-unchanged-nones", "Writes with nothing to write",
        "save() or update() of an instance with nothing changed since it was written sends nothing; the peer "
        "deletes again every column its constructor was given None for, over what other writes put there since",
        excuses=frozenset({"rows"}),
        applies=lambda step: step.op in ("save", "assign_update", "update_kw") and not step.values
        and step.diff is not None
        and _nulls_in(step.diff[1], step.diff[0])),
    Divergence(
        "delete-without-clustering-key", "Writes of new instances",
        "delete() of an instance whose clustering key is None raises NullKeyValue; the peer deletes the whole "
        "partition, every row in it (or, with if_exists() and iff() both, sends CQL the server refuses)",
        excuses=EXCUSES,
        applies=lambda step: step.op == "delete" and step.ours.raised_kind("NullKeyValue")
        and (step.peer.exc is None or step.peer.raised_kind("RequestValidationException"))),
    Divergence(
        "untyped-row-through-the-base", "Polymorphic models",
        "a row with no polymorphic key (made by a queryset update() through the base) reads through the base "
        "as an instance of the base; the peer raises PolymorphicModelException, also where get() matches it and "
        "other rows (ours: MultipleObjectsReturned, as for any rows)",
        excuses=frozenset({"exception", "result", "instance"}),
        applies=lambda step: step.label == "animal"
        and (step.ours.exc is None or step.ours.raised_kind("MultipleObjectsReturned"))
        and step.peer.raised_kind("PolymorphicModelException")
        and "discriminator value was not found" in str(step.peer.exc), drifts=False),
    Divergence(
        "polymorphic-base-reads-whole-rows", "Polymorphic models",
        "a query of the polymorphic base gives each subclass instance all its columns; the peer's base query "
        "reads the base's columns only, so a subclass's own columns are None (or their default) on what it returns",
        excuses=frozenset({"result", "instance"}),
        # Any step: an instance the base's query returned is compared again after later steps.
        applies=lambda step: step.diff is not None and _subclass_columns_none(*step.diff), drifts=False),
    Divergence(
        "date-time-read-as-datetime", "Types",
        "Date and Time fields read back as datetime.date/datetime.time, not cassandra.util.Date/Time "
        "(fields typed by their column)",
        normalise=_driver_date_time),
    Divergence(
        "subclass-queryset-write", "Polymorphic models",
        "update()/delete() through a polymorphic subclass's queryset raise QueryException (the peer writes by "
        "key, over the other subclasses' rows)",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.op in ("qs_update", "qs_delete") and step.label in ("dog", "cat")
        and step.ours.raised_kind("QueryException")),
    Divergence(
        "query-refused-before-sending", "Queries",
        "a query Cassandra refuses for its restrictions raises QueryException before anything is sent "
        "(InvalidQuery, also an InvalidRequest, where the peer's fails at the server with one or with a "
        "SyntaxException); ours sends nothing, where the peer may have applied part of the write first",
        # The peer may have sent part of the write first (an UPDATE, then the DELETE of its None columns fails):
        # its rows then differ though both raised an InvalidRequest.
        excuses=frozenset({"exception", "rows"}),
        applies=lambda step: _ours_first(step, "QueryException", "RequestValidationException")),
    Divergence(
        "values-of-filtered-columns", "Queries",
        "values_list() or only() of columns restricted by equality (keys and filters given a value) reads them; "
        "the peer leaves such columns out of its SELECT: with none left it raises QueryException ('No fields in "
        "select query'), with only static columns left the server refuses it (InvalidRequest: 'Cannot restrict "
        "clustering columns when selecting only static columns')",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.op == "read" and step.opts.get("how") in ("values_list", "flat", "only")
        and step.ours.exc is None and (
            step.peer.raised_kind("QueryException") and "No fields in select query" in str(step.peer.exc)
            or step.peer.raised_kind("InvalidRequest") and "selecting only static columns" in str(step.peer.exc)),
        drifts=False),
    Divergence(
        "part-read-collection-none", "Iteration",
        "an instance read in part (only(), distinct()) holds None for a column left out, a collection, a counter "
        "and a column with a default too; the peer's holds an empty collection, 0 for a counter whatever it "
        "counts, and the default whatever is stored",
        excuses=frozenset({"result"}),
        applies=lambda step: step.op == "read" and step.opts.get("how") in ("only", "distinct")
        and step.diff is not None and _each_none_for_empty(*step.diff, _LEFT_OUT.get(step.label)),
        drifts=False),
    Divergence(
        "refused-when-queued", "Queries",
        "a write refused before sending (QueryException, ValidationError) is refused when queued in a batch; the "
        "peer queues it and its whole batch fails at the server when executed",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.batched and _ours_refused(step, "QueryException", "ValidationError")),
    Divergence(
        "timestamp-with-condition", "Queries",
        "timestamp() on a conditional write raises QueryException before sending (Cassandra refuses it; the "
        "peer's statement fails at the server, or first fails its condition with LWTException, or the peer "
        "drops the condition of an INSERT, or has nothing to send)",
        excuses=frozenset({"exception"}),
        applies=lambda step: "timestamp" in step.opts and any(step.opts.get(o) for o in _CONDITIONAL)
        and step.ours.raised_kind("QueryException")
        and (step.peer.exc is None or step.peer.raised_kind("InvalidRequest", "LWTException"))),
    Divergence(
        "validated-before-sending", "Validation",
        "a value or key the server would refuse raises ValidationError before anything is sent (the peer's "
        "statement fails at the server with InvalidRequest)",
        excuses=frozenset({"exception"}),
        applies=lambda step: _ours_first(step, "ValidationError", "InvalidRequest"), drifts=False),
    Divergence(
        "nothing-to-write", "Writes with nothing to write",
        "a write that would send nothing raises ValidationError (the peer sends nothing, silently, or for a "
        "conditional save() of an instance its last write made known, a statement whose condition fails, or "
        "that the server refuses)",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.ours.raised_kind("ValidationError") and "nothing to write" in str(step.ours.exc)
        and (step.peer.exc is None or step.peer.raised_kind("LWTException", "RequestValidationException"))
        and not _new_conditional(step),
        drifts=False),
    Divergence(
        "new-instance-conditional", "Writes of new instances",
        "save() of a new instance with if_exists()/iff() is an UPDATE with the condition checked; the peer "
        "INSERTs and drops the condition",
        excuses=EXCUSES,
        applies=_new_conditional),
    Divergence(
        "if-not-exists-on-update", "Lightweight transactions",
        "if_not_exists() on the save() or update() of a persisted instance (an UPDATE) raises; the peer drops it",
        excuses=EXCUSES,
        applies=lambda step: bool(step.opts.get("if_not_exists")) and step.origin in ("get", "create", "new")
        and step.op in ("save", "update_kw", "assign_update")
        and step.ours.raised_kind("ValidationError", "QueryException")),
    Divergence(
        "nothing-to-write-conditional", "Writes with nothing to write",
        "if_exists()/iff() on a new instance with no column to set raise ValidationError; the peer does not "
        "send nothing, as the section says, but an INSERT of the primary key alone, its condition dropped",
        excuses=frozenset({"exception"}),
        applies=lambda step: _ours_refused(step, "ValidationError") and "nothing to write" in str(step.ours.exc)
        and _new_conditional(step)),
    Divergence(
        "read-null-not-defaulted", "Values",
        "a row read back with a null column that has a default (Cat.lives = Integer(default=9)) gives None on "
        "the instance, as stored; the peer's instance shows the default (9) though the row holds null",
        excuses=frozenset({"result", "instance"}),
        applies=lambda step: step.op in ("get", "read") and step.diff is not None and _none_for(*step.diff, (9, 42))),
    Divergence(
        "unchanged-counter-in-batch", "Batches",
        "update() of a counter instance with nothing changed, queued in a logged batch, adds nothing to the batch; "
        "the peer queues 'c = c + 0' for every counter and its batch fails at the server (a counter statement in "
        "a logged batch)",
        excuses=EXCUSES,
        applies=lambda step: step.op == "batch" and step.ours.exc is None and step.peer.raised_kind("InvalidRequest")
        and "counter statement in a logged batch" in str(step.peer.exc)),
    Divergence(
        "map-key-removal-beside-a-static-column", "Queries",
        "save() or update() of an instance that drops keys from a map, in a table with a static column, "
        "deletes them from its row; the peer deletes them with the partition key alone, which the server "
        "refuses (InvalidRequest: range deletions) after the peer's UPDATE applied, or refuses its whole batch",
        excuses=EXCUSES,
        applies=lambda step: step.op in ("save", "update_kw", "assign_update", "batch") and step.ours.exc is None
        and step.peer.raised_kind("InvalidRequest")
        and any(refusal in str(step.peer.exc) for refusal in (
            "Range deletions are not supported for specific columns",  # the DELETE without a condition
            "DELETE statements must restrict all PRIMARY KEY columns"))),  # with one (if_exists(), iff())
    Divergence(
        "new-instance-none-keeps-old", "Writes of new instances",
        "create()/save() of a new instance given None (v=None, li=None) over an existing row leaves the stored "
        "value as it was; the peer deletes it (an empty collection given is written by both)",
        excuses=STATE,
        applies=lambda step: step.op in ("create", "save_new") and any(v is None for v in step.values.values())),
    Divergence(
        "static-none-without-clustering-key", "Writes of new instances",
        "update(s=None, ...) (or s = None, then update() or save()) of an instance with its clustering key None "
        "deletes the static value (with if_exists(), its condition checked: LWTException when there is no "
        "partition); the peer sends nothing",
        excuses=EXCUSES,
        applies=lambda step: step.op in ("update_new", "update_kw", "assign_update", "save")
        and {**step.keys, **step.instance_keys}.get("ck", 0) is None
        and "s" in step.values and step.values["s"] is None, hides=True),
    Divergence(
        "new-instance-none-no-tombstone", "Writes of new instances",
        "since a None given to a new instance writes nothing (new-instance-none-keeps-old), a later write with "
        "an older timestamp() shows through in our row, where the peer's tombstone hides it (when the batch "
        "holding it runs, for a batched write)",
        excuses=frozenset({"rows"}),
        applies=lambda step: (step.opts.get("timestamp") in PAST_TIMESTAMPS
                              or (step.op == "batch" and "dated-in-the-past" in step.history))
        and step.diff is not None and _nulls_in(step.diff[1], step.diff[0])),
    Divergence(
        "query-refused-when-empty", "Queries",
        "a queryset update() with only empty operations (li__append=[]) on a partial key is refused (QueryException) "
        "by its key before anything else; the peer sends nothing, having nothing to write",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.op == "qs_update" and _ours_refused(step, "QueryException")
        and all(_nothing(v) for v in step.values.values()), drifts=False),
    Divergence(
        "empty-operation-names-its-row", "Queries",
        "a queryset update() on a partial key setting static columns and giving a regular column an operation "
        "that adds nothing, or None (s=0, li__append=[], mp=None), is refused (QueryException) as the same update "
        "with a value would be; the peer drops the empty operation and writes the static columns (the None's "
        "delete, which the server refuses without the clustering key, is sent only after the write applied)",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.op == "qs_update" and step.ours.raised_kind("QueryException")
        and (step.peer.exc is None or step.peer.raised_kind("LWTException"))
        and all(_nothing(v) for k, v in step.values.items() if k.split("__")[0] not in _STATIC)),
    Divergence(
        "static-only-with-a-regular-value", "Writes of new instances",
        "a write with its clustering key None and a value for (or a condition on) a regular column raises "
        "NullKeyValue; the peer drops the regular value and writes the static columns (a conditional one may "
        "then not apply, or be refused by the server), and refuses a condition on None itself",
        excuses=EXCUSES,
        applies=lambda step: step.ours.raised_kind("NullKeyValue")
        and "only the static columns can be written" in str(step.ours.exc)
        and (step.peer.exc is None or step.peer.raised_kind("LWTException", "RequestValidationException")
             or "None values on iff are not allowed" in str(step.peer.exc))),
    Divergence(
        "list-remove", "Queries",
        "objects(...).update(li__remove=[x]) removes x from the list; the peer has no list remove and assigns "
        "li = [x]",
        excuses=EXCUSES,
        applies=lambda step: "li__remove" in step.values),
    Divergence(
        "static-only-by-full-key", "Queries",
        "objects(p=.., ck=..).update(s=...) of the static column alone, or s=None with others, writes it; the "
        "peer's UPDATE (its DELETE, for None) restricts the clustering key too, which Cassandra refuses",
        excuses=EXCUSES,
        applies=lambda step: step.op == "qs_update" and step.keys.get("ck") is not None and "s" in step.values
        and (step.values["s"] is None or all(_nothing(v) for k, v in step.values.items() if k != "s"))
        and step.peer.raised_kind("InvalidRequest") and not step.ours.raised_kind("InvalidRequest")),
    Divergence(
        "static-with-an-emptied-collection", "Queries",
        "save() or update() of a loaded instance setting a static column and emptying a collection writes both "
        "in one UPDATE of the row; the peer empties the collection in a DELETE of its own, leaving an UPDATE of "
        "the static column alone that restricts the clustering key, which Cassandra refuses",
        excuses=EXCUSES,
        applies=lambda step: step.op in ("save", "assign_update", "update_kw") and "s" in step.values
        and any(_nothing(v) and v is not None for k, v in step.values.items() if k != "s")
        and step.peer.raised_kind("InvalidRequest") and step.ours.exc is None),
    Divergence(
        "subclass-read-of-other-rows", "Polymorphic models",
        "a polymorphic subclass's queryset over a partition holding another subclass's rows: count() raises "
        "PolymorphicModelException (the peer counts every row), and an empty slice [0:0] returns [] without "
        "reading (the peer reads and raises PolymorphicModelException)",
        excuses=frozenset({"exception"}),
        applies=lambda step: step.op == "read" and step.label in ("dog", "cat")
        and step.ours.raised_kind("PolymorphicModelException") != step.peer.raised_kind("PolymorphicModelException"),
        drifts=False),
    Divergence(
        "if-exists-with-if-not-exists", "Lightweight transactions",
        "if_not_exists() with if_exists() on one instance raises ValidationError; the peer keeps both flags "
        "and writes by the one its statement uses (INSERT ... IF NOT EXISTS for a new instance)",
        excuses=EXCUSES,
        applies=lambda step: bool(step.opts.get("if_exists") and step.opts.get("if_not_exists"))
        and step.ours.raised_kind("ValidationError", "QueryException")),
    Divergence(
        "instance-options-one-shot", "Model attributes",
        "an instance's batch()/iff()/if_exists()/if_not_exists() apply to its next write only; on the peer's "
        "instance they stay set and apply to every later write (only timestamp() is reset)",
        excuses=EXCUSES,
        applies=lambda step: bool((step.history & _ONE_SHOT) - set(step.opts))
        # batch() again with no batch open: ours writes at once, the peer's instance into the batch it ran before
        or ("batch" in step.history and "batch" in step.opts and not step.batched)),
    Divergence(
        "write-after-a-batched-write", "Model attributes",
        "an instance that joined a batch sends its next write (without batch()) at once; the peer's instance "
        "queues it in the batch it joined, which, still open, applies it with the batch's writes (a delete there "
        "wins over the batch's insert of the row: nothing shows until the batch runs)",
        excuses=EXCUSES,
        applies=lambda step: step.op in ("save", "assign_update", "update_kw", "delete")
        and "batch" in step.history and "batch" not in step.opts, hides=True),
    Divergence(
        "qs-update-none-dated", "Queries",
        "a queryset timestamp(...).update() setting columns to None deletes them at that timestamp; the peer "
        "sends the delete without it (dated now), so later writes differ (a future-dated delete locks ours out)",
        excuses=frozenset({"rows"}),
        applies=lambda step: step.op == "qs_update" and "timestamp" in step.opts
        and any(v is None for v in step.values.values()), hides=True),
    Divergence(
        "empty-collection-dated", "Writes of new instances",
        "a timestamp(...).create(), save() or update() setting a collection to empty writes it at that "
        "timestamp (a future one then hides later writes of the collection); the peer empties it with a DELETE "
        "of the column dated now, which wipes what was written since even at a later timestamp",
        excuses=frozenset({"rows"}),
        applies=lambda step: step.op in ("create", "save_new", "update_new", "update_kw", "assign_update", "save")
        and "timestamp" in step.opts
        and any(isinstance(v, (list, set, dict)) and not v for v in step.values.values()), hides=True),
    Divergence(
        "unchanged-counters-add-nothing", "Writes with nothing to write",
        "update()/save() of a written counter instance sends the counters that changed, and nothing when none "
        "did (none given, or each given its own value); the peer adds 0 to each other counter, which brings "
        "back a row or a count deleted since, or sets a counter with no value to 0",
        excuses=frozenset({"rows"}),
        applies=lambda step: step.label == "tally" and step.op in ("update_kw", "assign_update", "save")
        and step.ours.exc is None and step.peer.exc is None
        and step.diff is not None and _zeros_added(*step.diff, named=frozenset(step.values))),
    Divergence(
        "timestamp-kept-after-delete", "Model attributes",
        "an instance's timestamp() applies to its next write only, delete() included; the peer's delete() "
        "keeps it, so the instance's later writes are dated with it too",
        excuses=EXCUSES,
        applies=lambda step: {"timestamp", "deleted"} <= step.history and "timestamp" not in step.opts),
    Divergence(
        "iff-none", "Lightweight transactions",
        "iff(col=None) is sent as IF col = null (LWTException when the row holds a value, the values "
        "assigned kept, as after any condition not met or other refusal); the peer raises CQLEngineException "
        "('None values on iff are not allowed') before sending, or assigning",
        excuses=frozenset({"exception", "instance"}),
        applies=lambda step: _iff_none(step) and step.peer.raised_kind("CQLEngineException")
        and (step.ours.exc is None or step.ours.raised_kind("LWTException", "ValidationError", "QueryException"))),
]

def _iff_none(step: Step) -> bool:
    return any(v is None for v in (step.opts.get("iff") or {}).values())


def _walk(value: Any) -> Any:
    """``value`` and every value inside it (collections, user-type values given as ``UDT``)."""
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(k)
            yield from _walk(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _walk(v)
    elif hasattr(value, "fields"):
        yield from _walk(value.fields)


def _given(step: Step, test: Callable[[Any], bool]) -> bool:
    return any(test(v) for v in _walk([step.values, step.opts]))


COLLECTIONS = ("li", "st", "mp", "ms", "ls", "infos")


def _none_for_empty(ours: Any, peer: Any) -> bool:
    """Whether ``ours`` is ``peer`` but for None where the peer holds an empty collection."""
    if not (isinstance(ours, tuple) and isinstance(peer, tuple) and len(ours) == 2 and len(peer) == 2):
        return False
    (name, a), (other, b) = ours, peer
    if name != other or not isinstance(a, tuple) or not isinstance(b, tuple) or len(a) != len(b):
        return False
    found = False
    for (key, x), (key2, y) in zip(a, b):
        if key != key2:
            return False
        if x != y:
            if not (x is None and isinstance(y, tuple) and len(y) == 2 and y[0] in ("list", "set", "map")
                    and not y[1]):
                return False
            found = True
    return found


#: What the peer's instance holds for a column a part read left out, by model: a counter's 0, a default.
_LEFT_OUT = {"tally": {"c1": 0, "c2": 0}, "row": {"d": 42}}


def _each_none_for_empty(ours: Any, peer: Any, stand_ins: Optional[dict[str, Any]] = None) -> bool:
    """Whether two lists of instances are the same but for None where the peer holds an empty collection
    or a value of ``stand_ins`` (column -> the value the peer gives it when it was not read)."""
    if not (isinstance(ours, tuple) and isinstance(peer, tuple) and ours[:1] == peer[:1] == ("list",)):
        return False
    a, b = ours[1], peer[1]
    if len(a) != len(b) or a == b:
        return False
    if stand_ins:  # such a value stands as None does, for the comparison below
        b = tuple((name, tuple((k, None if x is None and k in stand_ins and v == stand_ins[k] else v)
                               for (k, v), (_, x) in zip(fields, mine)))
                  for (name, fields), (_, mine) in zip(b, a))
    return all(x == y or _none_for_empty(x, y) for x, y in zip(a, b))


def unchanged_rewrite(step: Step) -> bool:
    """An instance update() naming a column with its unchanged value, which ours writes again for its TTL or
    write time (the peer leaves it out)."""
    return step.op == "update_kw" and bool(step.unchanged) \
        and ("ttl" in step.opts or "timestamp" in step.opts or "ttl" in step.history)  # its own, or its creation's


def _not_applied(step: Step) -> bool:
    """Ours raised LWTException for a conditional write the peer did not send."""
    return step.ours.raised_kind("LWTException") and (step.op == "batch" or any(step.opts.get(o) for o in _CONDITIONAL))


def empty_conditional_update(step: Step) -> bool:
    """A conditional queryset update() whose operations add nothing (the peer sends nothing for it)."""
    return step.op == "qs_update" and any(step.opts.get(o) for o in _CONDITIONAL) \
        and all(_nothing(v) for v in step.values.values())


def _nothing(value: Any) -> bool:
    """None or an empty collection: what the peer leaves out of an UPDATE."""
    return value is None or (isinstance(value, (set, frozenset, list, dict)) and not value)


def _subclass_columns_none(ours: Any, peer: Any) -> bool:
    """Whether ``peer`` is ``ours`` but for None (or the default the peer shows for it, lives=9) in columns
    only a subclass has (bark, lives)."""
    if ours == peer:
        return True
    if isinstance(ours, tuple) and isinstance(peer, tuple) and len(ours) == len(peer):
        if len(ours) == 2 and ours[0] in ("bark", "lives") and peer[0] == ours[0]:
            return peer[1] in (None, 9)
        return all(_subclass_columns_none(a, b) for a, b in zip(ours, peer))
    return False


def _nulls_in(mine: Any, other: Any) -> bool:
    """Whether ``mine`` is ``other`` but for None in places where ``other`` has a value."""
    if mine == other or mine is None:
        return True
    if isinstance(mine, tuple) and isinstance(other, tuple) and len(mine) == len(other):
        return all(_nulls_in(a, b) for a, b in zip(mine, other))
    return False


def _rows_emptied(theirs: Any, mine: Any, kept: set[str]) -> bool:
    """Whether the rows ``theirs`` are ``mine`` but for None where ``mine`` has a value, or with a row of
    ``mine`` missing that holds nothing but the columns ``kept`` (its key, what the step emptied): a row
    an UPDATE made has no row marker, so it is gone once its last value is deleted. Rows are tuples of
    (name, value) pairs."""
    unmatched = list(theirs)
    for row in mine:
        match = next((other for other in unmatched if _nulls_in(other, row)), None)
        if match is not None:
            unmatched.remove(match)
        elif any(value is not None for name, value in row if _column_of(name) not in kept):
            return False
    return not unmatched


def _column_of(name: str) -> str:
    """The column a selector of the machine's read is about (``wt_v`` and ``ttl_v``: ``v``)."""
    prefix, _, column = name.partition("_")
    return column if prefix in ("wt", "ttl") and column else name


def _none_for(ours: Any, peer: Any, values: tuple[Any, ...]) -> bool:
    """Whether ``ours`` is ``peer`` but for None where the peer has one of ``values``."""
    if ours == peer or (ours is None and peer in values):
        return True
    if isinstance(ours, tuple) and isinstance(peer, tuple) and len(ours) == len(peer):
        return all(_none_for(a, b, values) for a, b in zip(ours, peer))
    return False


def _zeros_added(ours: Any, peer: Any, named: frozenset[str] = frozenset()) -> bool:
    """Whether the peer's rows of the counter table are ours with 0 added to counters ours has no value
    for. A row ours has none of (deleted) may come back with any counts: after a counter delete, Cassandra
    may keep the old count under a later increment, 0 included; so may a counter the step did not name
    (not in ``named``), which only the peer's +0 touched. Rows are tuples of (name, value) pairs, key ``k``."""
    mine = {dict(row)["k"]: dict(row) for row in ours}
    for row in peer:
        theirs = dict(row)
        if theirs["k"] not in mine:
            continue  # brought back by the peer's +0
        own = mine.pop(theirs["k"])
        for name, value in theirs.items():
            if own.get(name) != value and not (own.get(name) is None and (value == 0 or name not in named)):
                return False
    return not mine


_ONE_SHOT = {"batch", "iff", "if_exists", "if_not_exists"}


DEFAULTS = {"row": ("d",), "cat": ("lives",)}  # the columns with a default=


PENDING_FIXES: list[Divergence] = [
]


def active() -> list[Divergence]:
    """The entries the comparison consults: the on-purpose ones, and the pending ones unless strict."""
    if os.environ.get("CQLENGINE_DIFF_STRICT") == "1":
        return list(ON_PURPOSE)
    return ON_PURPOSE + PENDING_FIXES


def hidden(step: Step) -> Optional[Divergence]:
    """The first active entry saying ``step`` may have left the sides apart where nothing shows yet."""
    return next((entry for entry in active() if entry.hides and entry.applies(step)), None)


#: How the batch step's history names an entry that applied to a write queued in the batch (see ``queued``).
QUEUED = "queued:"


def queued(step: Step) -> set[str]:
    """Notes for the batch ``step`` queued its write in: the entries that would excuse the rows it writes, had
    it been sent at once. What it writes shows when the batch runs, so the batch step is excused the same
    differences of state (not of exceptions: those entries are told by the outcome, which the batch step has)."""
    return {QUEUED + entry.name for entry in active() if "rows" in entry.excuses and entry.applies(step)}


def excused(step: Step, what: str) -> Optional[Divergence]:
    """The first active entry excusing ``what`` for ``step``, if any."""
    for entry in active():
        if what in entry.excuses and (
                entry.applies(step)
                or step.op == "batch" and what in STATE and QUEUED + entry.name in step.history):
            return entry
    return None


def normalise(value: Any) -> Any:
    for entry in active():
        if entry.normalise is not None:
            value = entry.normalise(value)
    return value


__all__ = ["EXCUSES", "ON_PURPOSE", "PENDING_FIXES", "Divergence", "Outcome", "Step", "active",
           "empty_conditional_update", "excused", "hidden", "normalise", "queued", "datetime"]
