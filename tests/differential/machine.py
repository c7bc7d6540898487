"""The differential oracle: one random program, run through ours and through the peer.

The machine holds the models of :mod:`tests.differential.models` in both mappers
(``World``). Each rule is one operation a porting user writes (``Model.create``,
``save()`` of a loaded or a new instance, ``update()``, queryset updates with
collection operators, deletes, LWT conditions, batches, TTL, timestamps, reads).
It runs on both sides, and after it the machine compares:

* the exceptions: both raise one of a kind (ours may raise a subclass), or neither;
* what the call returned (a read's rows, a count);
* every live instance either side holds, field by field;
* the rows of both tables, read by the raw driver, with whether each cell carries
  a TTL and whether its write time is one the program gave.

A step on an instance names it by ``nth``: the nth (modulo their number) of the
live instances of that model the program has made so far. (Hypothesis bundles
would print nicer programs, but a rule that needs a non-empty bundle is not always
valid, and with rules drawn among the valid ones only the shrinker cannot delete
steps without changing the meaning of the later ones.)

Partition keys are drawn small (0..2) and offset per example, so examples never see
each other's rows and no table is truncated. A difference excused by
:mod:`tests.differential.known` that may leave the two sides apart starts the
example over on fresh keys; any other difference fails, and hypothesis shrinks
the program and prints it.
"""
from __future__ import annotations

import copy
import datetime
import functools
import itertools
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional

from cassandra.util import SortedSet
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from tests.differential import known
from tests.differential.known import Outcome, Step

# ---------------------------------------------------------------- counts (read by make fuzz)

COUNTS = {"examples": 0, "steps": 0}
#: The program (as ``state.<rule>(...)`` lines) of the first example that showed each difference, before
#: hypothesis shrinks it: what ``make fuzz`` prints when a replay does not fail the same way (hypothesis
#: then reports its own ``Flaky`` error and no program). Emptied by the fuzz loop at each round.
UNSHRUNK: dict[str, list[str]] = {}

# ---------------------------------------------------------------- values

TTL = 3600
FUTURE = 4_102_444_800_000_000  # 2100-01-01 in microseconds: later than any write without timestamp()
TIMESTAMPS = (*known.PAST_TIMESTAMPS, FUTURE)
#: The pause before each side's conditional step. Cassandra dates a conditional (Paxos) write by its
#: own clock in whole milliseconds (times 1000), a plain write by the driver's clock in microseconds:
#: a conditional write in the same millisecond as a plain write of the same cell is dated before it
#: and loses (about 1 in 100 back to back here). Without the pause either side could lose it, at
#: random, and hypothesis could neither replay nor shrink the program that showed it.
CONDITIONAL_GAP = 0.002
_CONDITIONAL_OPTS = ("if_not_exists", "if_exists", "iff")


class UDT:
    """A user-type value before it is made into either mapper's ``Info``."""

    def __init__(self, **fields: Any) -> None:
        self.fields = fields

    def __repr__(self) -> str:
        return "UDT(" + ", ".join(f"{k}={v!r}" for k, v in self.fields.items()) + ")"


ints = st.integers(-1, 2)
maybe_int = st.none() | ints
texts = st.sampled_from(["", "a", "b"])
maybe_text = st.none() | texts
small = st.integers(0, 3)
int_sets = st.sets(small, max_size=3)
int_lists = st.lists(small, max_size=3)
map_keys = st.sampled_from(["a", "b", "c"])
text_int_maps = st.dictionaries(map_keys, small, max_size=3)
dates = st.sampled_from([datetime.date(1970, 1, 1), datetime.date(2024, 2, 29)])
udts = st.builds(UDT, name=maybe_text, tags=st.none() | int_sets)


@dataclass(frozen=True)
class Spec:
    """How the machine writes one model: its keys, the values of its other columns, its operators."""

    label: str
    table: str  # the label of the model owning the table (the polymorphic base for its subclasses)
    partition: str
    clustering: dict[str, Any] = field(default_factory=dict)  # column -> strategy of its (clustering) values
    values: dict[str, Any] = field(default_factory=dict)  # non-key column -> strategy
    operators: dict[str, Any] = field(default_factory=dict)  # "col__op" -> strategy (queryset update)
    conditions: dict[str, Any] = field(default_factory=dict)  # column -> strategy, for iff()
    filters: dict[str, Any] = field(default_factory=dict)  # column -> strategy, filtered with allow_filtering()
    counter: bool = False


SPECS = [
    Spec("row", "row", "p", clustering={"ck": st.none() | st.integers(0, 2)},
         values={"s": maybe_int, "v": maybe_text, "d": maybe_int, "li": st.none() | int_lists,
                 "st": st.none() | int_sets | int_lists, "mp": st.none() | text_int_maps},
         operators={"li__append": int_lists, "li__prepend": int_lists, "li__remove": int_lists,
                    "st__add": int_sets, "st__remove": int_sets,
                    "mp__update": st.dictionaries(map_keys, st.none() | small, max_size=2),
                    "mp__remove": st.sets(map_keys, max_size=2)},
         conditions={"v": maybe_text, "d": maybe_int}, filters={"v": texts, "d": ints}),
    Spec("nest", "nest", "k",
         values={"r": maybe_text, "ms": st.none() | st.dictionaries(map_keys, int_sets, max_size=2),
                 "ls": st.none() | st.lists(int_sets, max_size=2),
                 "tp": st.none() | st.tuples(small, texts), "dt": st.none() | dates},
         operators={"ms__update": st.dictionaries(map_keys, int_sets, max_size=2),
                    "ms__remove": st.sets(map_keys, max_size=2), "ls__append": st.lists(int_sets, max_size=2),
                    "ls__prepend": st.lists(int_sets, max_size=2)},
         conditions={"r": maybe_text}),
    Spec("holder", "holder", "k",
         values={"info": st.none() | udts, "infos": st.none() | st.lists(udts, max_size=2)},
         operators={"infos__append": st.lists(udts, max_size=2)}, filters={"info": udts}),
    Spec("tally", "tally", "k", values={"c1": ints, "c2": ints}, counter=True),
    Spec("animal", "animal", "p", clustering={"n": st.integers(0, 2)}, values={"name": maybe_text},
         conditions={"name": maybe_text}),
    Spec("dog", "animal", "p", clustering={"n": st.integers(0, 2)}, values={"name": maybe_text, "bark": maybe_int},
         conditions={"name": maybe_text}),
    Spec("cat", "animal", "p", clustering={"n": st.integers(0, 2)}, values={"name": maybe_text, "lives": maybe_int},
         conditions={"name": maybe_text}),
]
SPEC = {spec.label: spec for spec in SPECS}
TABLES = ("row", "nest", "holder", "tally", "animal")

# ---------------------------------------------------------------- the two sides


@dataclass
class Side:
    name: str  # "ours" or "peer"
    models: dict[str, Any]
    query: Any  # the mapper's query module (BatchQuery)
    batch: Any = None


@dataclass
class World:
    """Both mappers' models on one node, and a plain driver session that reads their tables."""

    ours: Side
    peer: Side
    session: Any  # a driver session of its own (dict rows, no user types registered)
    keyspace: str
    _reads: dict[tuple[str, str], Any] = field(default_factory=dict)

    def rows(self, side: Side, table: str, keys: list[int]) -> list[Any]:
        statement = self._reads.get((side.name, table))
        if statement is None:
            model = side.models[table]
            columns: dict[str, Any] = {}  # the table's columns: its model's and its subclasses'
            for spec in SPECS:
                if spec.table == table:
                    columns.update(side.models[spec.label]._columns)
            # Write times and TTLs of the cells that have one each (not keys, counters, multi-cell collections).
            timed = [n for n, col in columns.items()
                     if not col.primary_key and type(col).__name__ not in ("Counter", "List", "Set", "Map")]
            selectors = list(columns) + [f"writetime({n}) AS wt_{n}" for n in timed] + [
                f"ttl({n}) AS ttl_{n}" for n in timed]
            partition = SPEC[table].partition
            statement = self.session.prepare(
                f"SELECT {', '.join(selectors)} FROM {self.keyspace}.{model.__table_name__} WHERE {partition} IN ?")
            self._reads[(side.name, table)] = statement
        # The observer's own read: a stall of the node (a long GC pause after an hour of DDL) is no difference
        # between the mappers, so it waits longer than the driver's default 10 s before failing the run.
        rows = self.session.execute(statement, [keys], timeout=READ_TIMEOUT)
        return sorted((_canon_row(row) for row in rows), key=repr)


WORLD: Optional[World] = None
#: Seconds the machine waits for its own read of the rows (see ``World.rows``).
READ_TIMEOUT = 60.0


def _canon_row(row: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for name, value in row.items():
        if name.startswith("wt_"):
            value = None if value is None else (value if value in TIMESTAMPS else "now")
        elif name.startswith("ttl_"):
            value = None if value is None else "ttl"
        else:
            value = canon(value)
        out.append((name, value))
    return tuple(out)


def canon(value: Any) -> Any:
    """A comparable, printable form of a value either mapper or the driver returned."""
    value = known.normalise(value)
    if value is None or isinstance(value, (str, bytes, Decimal, datetime.date, datetime.time)):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return value if type(value) in (int, float) else (type(value).__name__, value)
    if isinstance(value, (set, frozenset, SortedSet)):
        return ("set", tuple(sorted((canon(v) for v in value), key=repr)))
    if isinstance(value, Mapping):
        return ("map", tuple(sorted(((canon(k), canon(v)) for k, v in value.items()), key=repr)))
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, tuple):
        if hasattr(value, "_fields"):  # a user type read by the raw driver
            return ("udt", tuple((f, canon(getattr(value, f))) for f in value._fields))
        return ("tuple", tuple(canon(v) for v in value))
    if hasattr(type(value), "_columns") and hasattr(type(value), "objects"):  # a model instance
        return (type(value).__name__, tuple((n, canon(getattr(value, n, "<missing>"))) for n in type(value)._columns))
    if hasattr(type(value), "_fields") and hasattr(value, "keys"):  # a user-type instance
        return ("udt", tuple((f, canon(getattr(value, f, "<missing>"))) for f in type(value)._fields))
    return ("?", type(value).__name__, repr(value))


def materialise(value: Any, side: Side) -> Any:
    """``value`` for ``side``: a deep copy (no object is shared by the two sides), user types made."""
    if isinstance(value, UDT):
        return side.models["Info"](**{k: materialise(v, side) for k, v in value.fields.items()})
    if isinstance(value, dict):
        return {materialise(k, side): materialise(v, side) for k, v in value.items()}
    if isinstance(value, list):
        return [materialise(v, side) for v in value]
    return copy.deepcopy(value)


@dataclass(eq=False)
class Pair:
    """The instances each side returned for one step, followed together."""

    label: str
    ours: Any
    peer: Any
    origin: str  # "create", "new" (a constructor, then save()), "get"
    epoch: int
    history: set[str] = field(default_factory=set)  # the options given to the instances so far

    def of(self, side: Side) -> Any:
        return self.ours if side.name == "ours" else self.peer


def _chain(target: Any, opts: dict[str, Any], side: Side) -> Any:
    """``target`` with the options a step asked for, applied in the order users write them."""
    if opts.get("batch") and side.batch is not None:
        target = target.batch(side.batch)
    if "ttl" in opts:
        target = target.ttl(opts["ttl"])
    if "timestamp" in opts:
        target = target.timestamp(opts["timestamp"])
    if opts.get("if_not_exists"):
        target = target.if_not_exists()
    if opts.get("if_exists"):
        target = target.if_exists()
    if opts.get("iff"):
        target = target.iff(**materialise(opts["iff"], side))
    return target


class Difference(AssertionError):
    """Ours and the peer parted ways on a step no entry of ``known`` excuses."""

    def __init__(self, message: str, signature: str = "") -> None:
        super().__init__(message)
        self.signature = signature  # what differed where, without the values: the same bug found again


def _options(spec: Spec, *names: str) -> Any:
    """The optional ``opts`` of a step: the options ``names`` that make sense for the model."""
    choices: dict[str, Any] = {"batch": st.just(True), "timestamp": st.sampled_from(TIMESTAMPS)}
    if not spec.counter:
        choices.update(ttl=st.just(TTL), if_not_exists=st.just(True), if_exists=st.just(True))
        if spec.conditions:
            choices["iff"] = st.fixed_dictionaries({}, optional=spec.conditions).filter(bool)
    # At most two options a step: a third rarely finds more, and most combinations are refused by both.
    allowed = [n for n in choices if n in names]
    return st.lists(st.sampled_from(allowed), max_size=2, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({n: choices[n] for n in sorted(chosen)}))


class OracleMachine(RuleBasedStateMachine):
    """The rules common to every model; ``_model_rules`` adds the per-model ones."""

    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None, "the oracle runs inside its pytest fixture"
        self.world = WORLD
        COUNTS["examples"] += 1
        self.program: list[str] = []  # the steps run so far, as hypothesis prints them
        self.epoch = 0
        self.pairs: list[Pair] = []
        self._fresh_keys()

    # -------------------------------------------------------- keys and restarts

    def _fresh_keys(self) -> None:
        self.base = next(_BASES) * 10
        for side in self.sides:
            side.batch = None
        self._forget_batch()

    def _forget_batch(self) -> None:
        """What the open batch holds that its closing step is told of (see ``Step.history``)."""
        self.batch_notes: set[str] = set()
        self.batched_pairs: set[int] = set()  # the instances written in the open batch

    def _restart(self) -> None:
        """Forget both sides' rows and instances: the keys of the example start over."""
        self.epoch += 1
        self.pairs = [p for p in self.pairs if p.epoch == self.epoch]
        self._fresh_keys()

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.world.ours, self.world.peer)

    def _keys(self, spec: Spec, keys: dict[str, Any]) -> dict[str, Any]:
        """Keys as stored: the partition key offset by the example's base."""
        return {k: (self.base + v if k == spec.partition else v) for k, v in keys.items()}

    def _alive(self, pair: Pair) -> bool:
        return pair.epoch == self.epoch

    # -------------------------------------------------------- running and comparing

    def _run(self, step: Step, call: Callable[[Side], Any], compare_result: bool = False) -> Step:
        COUNTS["steps"] += 1
        step.batched = bool(step.opts.get("batch")) and self.world.ours.batch is not None
        if step.batched and step.opts.get("timestamp") in known.PAST_TIMESTAMPS:
            self.batch_notes.add("dated-in-the-past")  # what it writes shows when the batch runs
        conditional = step.op == "batch" or any(step.opts.get(name) for name in _CONDITIONAL_OPTS)
        for side in self.sides:
            if conditional:
                time.sleep(CONDITIONAL_GAP)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the peer's deprecation warnings (counters' save())
                try:
                    outcome = Outcome(value=call(side))
                except Exception as exc:  # noqa: BLE001 - the outcome is compared, not handled
                    outcome = Outcome(exc=exc)
            setattr(step, side.name, outcome)
        if step.batched and step.ours.exc is None and step.peer.exc is None:
            self.batch_notes.update(known.queued(step))  # what an entry excuses of it shows when the batch runs
        self._compare(step, compare_result)
        return step

    def _compare(self, step: Step, compare_result: bool) -> None:
        drift = False  # an excused difference may have left the sides apart
        ours, peer = step.ours, step.peer
        if ours.exc is not None or peer.exc is not None:
            same = ours.exc is not None and peer.exc is not None and ours.raised_kind(peer.raised or "")
            if not same:
                entry = self._excuse(step, "exception", f"ours {_describe(ours)}, peer {_describe(peer)}")
                drift = entry.drifts
        elif compare_result:
            a, b = canon(ours.value), canon(peer.value)
            if a != b:
                drift = self._excuse(step, "result", f"result differs:\n  ours: {a}\n  peer: {b}", (a, b)).drifts
        for pair in self.pairs:
            if not self._alive(pair):
                continue
            a, b = canon(pair.ours), canon(pair.peer)
            if a != b:
                if drift:
                    break
                detail = f"instance ({pair.origin}) differs:\n  ours: {a}\n  peer: {b}"
                drift = self._excuse(step, "instance", detail, (a, b)).drifts
                break
        keys = [self.base + i for i in range(3)]
        for table in (TABLES if step.label not in SPEC else (SPEC[step.label].table,)):
            a_rows = self.world.rows(self.world.ours, table, keys)
            b_rows = self.world.rows(self.world.peer, table, keys)
            if a_rows != b_rows:
                if not drift:
                    self._excuse(step, "rows", f"rows of {table} differ:\n  ours: {a_rows}\n  peer: {b_rows}",
                                 (tuple(a_rows), tuple(b_rows)))
                    drift = True  # an entry excusing rows that differ is one that lets the sides apart
                break
        if drift or known.hidden(step) is not None:
            self._restart()

    def _unshrunk(self, seen: str) -> None:
        UNSHRUNK.setdefault(seen, [f"state = {type(self).__name__}()", *self.program, "state.teardown()"])

    def _excuse(self, step: Step, what: str, detail: str, diff: Any = None) -> known.Divergence:
        step.diff = diff
        entry = known.excused(step, what)
        if entry is None:
            signature = f"{step.op} {step.label}: {what} ({step.ours.raised or '-'}/{step.peer.raised or '-'})"
            self._unshrunk(signature)
            raise Difference(f"{step.op} {step.label} keys={step.keys} values={step.values} "
                             f"opts={step.opts}: {detail}", signature)
        return entry

    # -------------------------------------------------------- batches

    @rule(how=st.sampled_from(["exit", "execute"]))
    def batch(self, how: str) -> None:
        """Open a batch (the writes of later steps with ``batch`` go in it), or close the one open."""
        self.program.append(f"state.batch(how={how!r})")
        if self.world.ours.batch is None:
            for side in self.sides:
                side.batch = side.query.BatchQuery()
                side.batch.__enter__()
            self._forget_batch()
            return
        batches = {side.name: side.batch for side in self.sides}
        notes = frozenset(self.batch_notes)
        batched = set(self.batched_pairs)
        for side in self.sides:
            side.batch = None

        def close(side: Side) -> None:
            batch = batches[side.name]
            if how == "exit":
                batch.__exit__(None, None, None)
            else:
                batch.execute()

        step = self._run(Step("batch", how, history=notes), close)
        if step.ours.exc is not None:
            for pair in self.pairs:
                if id(pair) in batched:
                    pair.history.add("batch-refused")  # its writes were not applied


_BASES = itertools.count(1)


def _describe(outcome: Outcome) -> str:
    if outcome.exc is None:
        return "raised nothing"
    return f"raised {type(outcome.exc).__module__}.{type(outcome.exc).__name__}: {outcome.exc}"


def _model_rules(spec: Spec) -> dict[str, Any]:
    """The rules of one model, named ``<op>_<label>`` in the printed programs."""
    key_strategies = {spec.partition: st.integers(0, 2), **spec.clustering}
    full_keys = st.fixed_dictionaries(key_strategies)
    some_keys = st.fixed_dictionaries({spec.partition: st.integers(0, 2)}, optional=spec.clustering)
    values = st.fixed_dictionaries({}, optional=spec.values)
    nth = st.integers(0, 3)  # which of the model's live instances (modulo their number)
    label = spec.label
    made: dict[str, Any] = {}

    def add(name: str, function: Callable[..., Any], decorator: Any) -> None:
        function.__name__ = function.__qualname__ = f"{name}_{label}"

        @functools.wraps(function)
        def logged(self: OracleMachine, **arguments: Any) -> Any:
            shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
            self.program.append(f"state.{function.__name__}({shown})")
            try:
                return function(self, **arguments)
            except Exception as exc:
                if not isinstance(exc, Difference):  # the machine's own failure (a timeout reading the rows ...)
                    self._unshrunk(f"{type(exc).__name__}: {str(exc)[:200]}")
                raise

        made[function.__name__] = decorator(logged)

    def pair_of(self: OracleMachine, step: Step, origin: str, epoch: int) -> None:
        """Follow the instances a step returned from now on (unless it failed or the example restarted)."""
        if step.batched and known._new_conditional(step):
            self.batch_notes.add("new-conditional")
        if step.ours.exc is None and step.peer.exc is None and self.epoch == epoch:
            pair = Pair(label, step.ours.value, step.peer.value, origin, self.epoch, set(step.opts))
            if any(step.values.get(column, 0) is None for column in known.STATIC):
                pair.history.add("static-none")  # the peer deletes it again at each later write
            self.pairs.append(pair)
            if step.batched:
                self.batched_pairs.add(id(pair))

    # -- new rows

    def create(self, keys, values, opts):
        step = Step("create", label, keys, values, opts)
        epoch = self.epoch
        where = self._keys(spec, keys)
        self._run(step, lambda side: _chain(side.models[label], opts, side).create(
            **where, **materialise(values, side)), compare_result=True)
        pair_of(self, step, "create", epoch)

    add("create", create, rule(keys=full_keys, values=values,
                               opts=_options(spec, "batch", "ttl", "timestamp", "if_not_exists")))

    def save_new(self, keys, values, opts):
        step = Step("save_new", label, keys, values, opts)
        epoch = self.epoch
        where = self._keys(spec, keys)

        def call(side: Side) -> Any:
            instance = side.models[label](**where, **materialise(values, side))
            _chain(instance, opts, side).save()
            return instance

        self._run(step, call, compare_result=True)
        pair_of(self, step, "new", epoch)

    add("save_new", save_new, rule(keys=full_keys, values=values,
                                   opts=_options(spec, "batch", "ttl", "timestamp", "if_not_exists", "if_exists",
                                                 "iff")))

    def update_new(self, keys, values, opts):
        """``M(k=..., col=...).update(**values)``: an instance never read, updated."""
        step = Step("update_new", label, keys, values, opts, origin="new")
        epoch = self.epoch
        where = self._keys(spec, keys)

        def call(side: Side) -> Any:
            instance = side.models[label](**where)
            _chain(instance, opts, side).update(**materialise(values, side))
            return instance

        self._run(step, call, compare_result=True)
        pair_of(self, step, "new", epoch)

    add("update_new", update_new, rule(keys=full_keys, values=values,
                                       opts=_options(spec, "batch", "ttl", "timestamp", "if_exists", "iff")))

    def get(self, keys):
        step = Step("get", label, keys)
        epoch = self.epoch
        where = self._keys(spec, keys)
        self._run(step, lambda side: side.models[label].get(**where), compare_result=True)
        pair_of(self, step, "get", epoch)

    add("get", get, rule(keys=full_keys))

    # -- instances

    def on_instance(op: str, act: Callable[[Any, dict[str, Any], dict[str, Any], Side], Any]) -> Callable[..., None]:
        def function(self, nth, values=None, opts=None):
            mine = [p for p in self.pairs if p.label == label and self._alive(p)]
            if not mine:
                return
            instance = mine[nth % len(mine)]
            ours = self.world.ours
            unchanged = frozenset(k for k, v in (values or {}).items()
                                  if canon(getattr(instance.ours, k)) == canon(materialise(v, ours)))
            keys = {k: getattr(instance.ours, k) for k in type(instance.ours)._primary_keys}
            step = Step(op, label, {}, values or {}, opts or {}, origin=instance.origin,
                        history=frozenset(instance.history), unchanged=unchanged, instance_keys=keys)
            instance.history.update(opts or {})
            self._run(step, lambda side: act(instance.of(side), materialise(values or {}, side), opts or {}, side))
            if step.batched:
                if id(instance) in self.batched_pairs:
                    self.batch_notes.add("rewritten-in-batch")
                self.batched_pairs.add(id(instance))
                if "deleted" in step.history and op in ("save", "update_kw", "assign_update"):
                    self.batch_notes.add("queued-after-delete")  # ours queues the row, the peer what changed
                if known.unchanged_rewrite(step) and any((opts or {}).get(o) for o in ("iff", "if_exists")):
                    self.batch_notes.add("unchanged-conditional")  # ours queues it, the peer nothing
            if op == "delete" and step.ours.exc is None and step.peer.exc is None:
                instance.history.add("deleted")
            if "timestamp" in (opts or {}) and step.ours.raised_kind("ValidationError", "QueryException"):
                instance.history.add("timestamp-kept")  # refused before sending: ours keeps it for the next write
            elif step.ours.exc is None:
                instance.history.discard("timestamp-kept")

        return function

    def assign(obj: Any, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(obj, name, value)

    def save(obj, values, opts, side):
        assign(obj, values)
        _chain(obj, opts, side).save()

    def update_kw(obj, values, opts, side):
        _chain(obj, opts, side).update(**values)

    def assign_update(obj, values, opts, side):
        assign(obj, values)
        _chain(obj, opts, side).update()

    def delete(obj, values, opts, side):
        _chain(obj, opts, side).delete()

    add("save", on_instance("save", save), rule(
        nth=nth, values=values,
        opts=_options(spec, "batch", "ttl", "timestamp", "if_exists", "iff", "if_not_exists")))
    add("update_kw", on_instance("update_kw", update_kw), rule(
        nth=nth, values=values, opts=_options(spec, "batch", "ttl", "timestamp", "if_exists", "iff")))
    add("assign_update", on_instance("assign_update", assign_update), rule(
        nth=nth, values=values, opts=_options(spec, "batch", "ttl", "timestamp", "if_exists", "iff")))
    add("delete", on_instance("delete", delete), rule(
        nth=nth, opts=_options(spec, "batch", "timestamp", "if_exists", "iff")))

    # -- querysets

    # A column is set or given one operator (``col=`` with ``col__append=`` makes both refuse the CQL).
    per_column: dict[str, Any] = {}
    for name, strategy in {**spec.values, **spec.operators}.items():
        column = name.split("__")[0]
        choice = st.tuples(st.just(name), strategy)
        per_column[column] = per_column[column] | choice if column in per_column else choice
    updates = st.fixed_dictionaries({}, optional=per_column).filter(bool).map(lambda d: dict(d.values()))

    def qs_update(self, keys, values, opts):
        step = Step("qs_update", label, keys, values, opts)
        where = self._keys(spec, keys)
        self._run(step, lambda side: _chain(side.models[label].objects(**where), opts, side).update(
            **materialise(values, side)))
        if step.batched and known.empty_conditional_update(step):
            self.batch_notes.add("empty-conditional")  # ours queues it, the peer nothing: told when the batch runs

    add("qs_update", qs_update, rule(keys=some_keys, values=updates,
                                     opts=_options(spec, "batch", "ttl", "timestamp", "if_exists", "iff")))

    def qs_delete(self, keys, opts):
        step = Step("qs_delete", label, keys, {}, opts)
        where = self._keys(spec, keys)
        self._run(step, lambda side: _chain(side.models[label].objects(**where), opts, side).delete())

    add("qs_delete", qs_delete, rule(keys=some_keys, opts=_options(spec, "batch", "timestamp", "if_exists", "iff")))

    def read(self, keys, how, where, window):
        step = Step("read", label, keys, where, {"how": how, "window": window})
        found = self._keys(spec, keys)

        def call(side: Side) -> Any:
            qs = side.models[label].objects.filter(**found)
            if where:
                qs = qs.filter(**materialise(where, side)).allow_filtering()
            if how == "count":
                return qs.count()
            if how == "first":
                return qs.first()
            if how == "get":  # of a partial key: DoesNotExist, MultipleObjectsReturned or the one row
                return qs.get()
            if how == "slice":
                return list(qs[window[0]:window[1]])
            if how == "limit":
                return list(qs.limit(window[1]))
            if how == "newest first":  # the clustering order reversed
                return list(qs.order_by(*(f"-{column}" for column in spec.clustering)))
            if how == "values_list":
                return list(qs.values_list(*listed))
            if how == "flat":
                return list(qs.values_list(listed[-1], flat=True))
            if how == "only":
                return list(qs.only(listed))
            if how == "distinct":
                return list(qs.distinct())
            return list(qs)

        self._run(step, call, compare_result=True)

    # a read's columns by name: the keys and one other column
    listed = [spec.partition, *spec.clustering, *list(spec.values)[:1]]
    hows = ["list", "count", "first", "slice", "get", "limit", "values_list", "flat", "only", "distinct"]
    if spec.clustering:
        hows.append("newest first")
    add("read", read, rule(keys=some_keys, how=st.sampled_from(hows),
                           where=st.fixed_dictionaries({}, optional=spec.filters),
                           window=st.tuples(st.integers(0, 3), st.integers(0, 3))))
    return made


def _build() -> type[OracleMachine]:
    attrs: dict[str, Any] = {}
    for spec in SPECS:
        attrs.update(_model_rules(spec))
    return type("Oracle", (OracleMachine,), attrs)


Oracle = _build()
