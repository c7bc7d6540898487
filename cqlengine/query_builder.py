"""What a query is: its model, relations, order, limit and options; checked against Cassandra's
restrictions and rendered as statements.

:class:`QueryBuilder` holds a query's parts and turns them into
:mod:`cqlengine.statements` (which render the CQL); it never sends anything.
:class:`cqlengine.query.QuerySet` is its lazy, chainable face: it clones,
runs and pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Optional, Sequence, TypeVar

from cqlengine import ann, lifecycle, statements
from cqlengine.columns import Column, List, Map, Set
from cqlengine.exceptions import InvalidQuery, QueryException, UnknownUpdateColumn, ValidationError
from cqlengine.functions import BaseFunction, Token
from cqlengine.mapped import MappedModel
from cqlengine.operators import FILTER_SUFFIXES, UPDATE_SUFFIXES
from cqlengine.writes import NO_OPTIONS, WriteOptions, merges_into_row, refuse_read_only, split_map_nulls

__all__ = ["QueryBuilder"]

M = TypeVar("M", bound=MappedModel)

#: Valid query shapes remembered per model (validation depends on shape only).
_SHAPE_CACHE_SIZE = 1024


@dataclass(frozen=True)
class _Relation:
    """A validated WHERE relation on one model column (or the token of the partition key)."""

    attr: str  # model attribute, or "pk__token" for token relations
    operator: str
    value: Any
    implicit: bool = False  # added by the queryset itself (an indexed polymorphic key)

    @property
    def is_token(self) -> bool:
        return self.attr == "pk__token"


#: SAI indexes these types as literals: equality only, no ranges (Cassandra 5.0).
_SAI_LITERAL_TYPES = frozenset({"text", "ascii", "varchar", "boolean", "uuid"})
_RANGE = frozenset({">", ">=", "<", "<="})


def _index_kind(column: Column, operators: Sequence[str]) -> Optional[str]:
    """``'sai'`` or ``'legacy'`` when the column's index can serve all ``operators``, else None.

    Our indexes are created on the column itself: a collection's index holds its
    values (CONTAINS), never a map's keys (CONTAINS KEY); a frozen collection's
    index holds it whole (``full()``), which serves = only.
    """
    frozen_collection = column.is_collection and getattr(column, "frozen", False)
    if frozen_collection:
        served = {"="}
    elif column.is_collection:
        served = {"CONTAINS"}
    else:
        served = {"="}
        if column.custom_index and column.db_type not in _SAI_LITERAL_TYPES:
            served |= _RANGE
    if column.custom_index:
        return "sai" if all(op in served for op in operators) else None
    if column.index:
        return "legacy" if all(op in served for op in operators) else None
    return None


def _element_column(column: Column, operator: str) -> Column:
    """The column that validates the value of CONTAINS / CONTAINS KEY on a collection."""
    subs = column.sub_types
    if operator == "CONTAINS KEY":
        return subs[0]
    return subs[-1]  # list/set element or map value


class QueryBuilder(Generic[M]):
    """A query's parts, the checks Cassandra would make of them, and the statements they render."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._where: list[_Relation] = []
        self._order: list[tuple[str, str]] = []
        self._limit: Optional[int] = None
        self._allow_filtering = False
        self._fields: Optional[list[str]] = None  # only()
        self._deferred: list[str] = []
        self._values_list: Optional[list[str]] = None
        self._flat = False
        self._distinct: Optional[list[str]] = None
        self._fetch_size: Optional[int] = None
        self._skip_foreign_rows = False  # an indexed subclass whose key filter had to be dropped
        self._ann: Optional[ann.Ann] = None
        self._options: WriteOptions = NO_OPTIONS  # never changed in place: a clone copies it
        discriminator = model._discriminator_column
        if (model._is_polymorphic and not model._is_polymorphic_base and discriminator is not None
                and discriminator.has_index and model.__polymorphic_key__ is not None):
            # An indexed polymorphic key lets Cassandra return only this subclass's rows.
            keys = [k for k, m in model._polymorphic_base._discriminator_map.items() if issubclass(m, model)]
            value = keys[0] if len(keys) == 1 else None
            if value is not None:
                self._where.append(_Relation(discriminator.attr_name or "", "=",
                                             discriminator.to_database(value), implicit=True))

    # -- building: filters ---------------------------------------------------

    def _label(self, attr: str) -> str:
        return f"{self.model.__name__}.{attr}"

    def _column(self, attr: str) -> Column:
        if attr == "pk" and attr not in self.model._columns:
            # ``pk`` names the partition key, as ``instance.pk`` does; a column named pk wins.
            keys = list(self.model._partition_keys)
            if len(keys) != 1:
                raise QueryException(
                    f"{self.model.__name__}: pk is the composite partition key ({', '.join(keys)}); "
                    "name its columns instead"
                )
            attr = keys[0]
        col = self.model._columns.get(attr)
        if col is None:
            raise QueryException(
                f"{self.model.__name__}: unknown column {attr!r} (columns: {', '.join(self.model._columns)})"
            )
        return col

    def _convert(self, col: Column, value: Any) -> Any:
        if isinstance(value, BaseFunction):
            return value
        return col.compared_value(value)  # a row may hold what this model would not write

    def _relation(self, attr: str, operator: str, value: Any) -> _Relation:
        if attr == "pk__token":
            return self._token_relation(operator, value)
        col = self._column(attr)
        attr = col.attr_name or attr
        label = self._label(attr)
        if value is None:
            raise QueryException(f"{label} {operator} None: Cassandra cannot filter on null")
        if operator == "IN":
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise QueryException(f"{label}__in takes a list of values, got {value!r}")
            if col.is_collection and not getattr(col, "frozen", False):
                raise InvalidQuery(f"{label}: a non-frozen collection cannot be restricted by IN")
            converted: Any = [self._convert(col, v) for v in value]
        elif operator in ("CONTAINS", "CONTAINS KEY"):
            if not col.is_collection:
                raise QueryException(f"{label}: {operator} needs a list, set or map column, not {col.cql_type()}")
            if operator == "CONTAINS KEY" and not isinstance(col, Map):
                raise QueryException(f"{label}: CONTAINS KEY needs a map column, not {col.cql_type()}")
            try:
                converted = self._convert(_element_column(col, operator), value)
            except ValidationError as exc:
                raise ValidationError(f"{label} {operator}: {exc}") from exc
        elif operator == "LIKE":
            if col.db_type not in ("text", "ascii"):
                raise QueryException(f"{label}: LIKE needs a text column, not {col.cql_type()}")
            if not isinstance(value, str):
                raise QueryException(f"{label}__like takes a string pattern, got {value!r}")
            # Cassandra 5.0 refuses LIKE on SAI indexes (only SASI served it, and SASI is off by
            # default), with or without ALLOW FILTERING: refuse it here rather than send it.
            raise InvalidQuery(f"{label}: LIKE is not supported: Cassandra 5.0 refuses LIKE on SAI indexes")
        else:
            if col.is_collection and not getattr(col, "frozen", False):
                raise InvalidQuery(f"{label}: a non-frozen collection cannot be compared with {operator}")
            converted = self._convert(col, value)
        return _Relation(attr, operator, converted)

    def _token_relation(self, operator: str, value: Any) -> _Relation:
        if operator not in ("=", ">", ">=", "<", "<="):
            raise QueryException(f"{self.model.__name__}: token() takes =, >, >=, < or <=, not {operator}")
        keys = list(self.model._partition_keys.values())
        if isinstance(value, Token):
            if len(value.params) != len(keys):
                raise QueryException(
                    f"{self.model.__name__}: token() of the partition key ({', '.join(self.model._partition_keys)}) "
                    f"needs {len(keys)} value(s), got {len(value.params)}"
                )
            value = value.with_values([c.to_database(c.validate(v)) for c, v in zip(keys, value.params)])
        elif not isinstance(value, int) or isinstance(value, bool):
            raise QueryException(f"{self.model.__name__}: pk__token compares with Token(...) or an int token")
        return _Relation("pk__token", operator, value)

    def _split_filter_key(self, key: str) -> tuple[str, str]:
        if key.startswith("pk__token"):
            rest = key[len("pk__token"):]
            suffix = rest[2:] if rest.startswith("__") else "eq"
            operator = FILTER_SUFFIXES.get(suffix)
            if operator is None:
                raise QueryException(f"{self.model.__name__}: unknown token operator {suffix!r}")
            return "pk__token", operator
        attr, sep, suffix = key.partition("__")
        if not sep:
            return attr, "="
        if suffix == "ne":
            return attr, "!="  # the peer's spelling: refused when the query runs, as Cassandra refuses it
        operator = FILTER_SUFFIXES.get(suffix)
        if operator is None:
            raise QueryException(
                f"{self._label(attr)}: unknown filter operator {suffix!r} "
                f"(known: {', '.join(sorted(FILTER_SUFFIXES))})"
            )
        return attr, operator

    def _settle_implicit(self) -> None:
        """Drop the implicit polymorphic-key relation where Cassandra cannot combine it with the query.

        (IN on the partition key, ORDER BY, DISTINCT, token ranges, another index, or the
        key named explicitly.) Rows of other subclasses are then skipped client-side.
        """
        implicit = [r for r in self._where if r.implicit]
        if not implicit:
            return
        columns = self.model._columns
        explicit = [r for r in self._where if not r.implicit]

        def clashes(rel: _Relation) -> bool:
            if rel.is_token or rel.attr == implicit[0].attr:
                return True
            col = columns[rel.attr]
            return (col.partition_key and rel.operator == "IN") or (col.has_index and not col.primary_key)

        if self._order or self._distinct is not None or any(clashes(r) for r in explicit):
            self._where = explicit
            self._skip_foreign_rows = True

    # -- validation against Cassandra's restrictions -------------------------

    def _shape(self) -> tuple[Any, ...]:
        """What validation depends on: columns and operators, never values."""
        return (
            tuple((r.attr, r.operator) for r in self._where), tuple(self._order),
            None if self._distinct is None else tuple(self._distinct), self._allow_filtering,
        )

    def _validate(self) -> None:
        """Validate once per query shape and model; later queries of that shape skip the work."""
        shapes = self.model.__dict__.get("_valid_query_shapes")
        if shapes is None:
            shapes = set()
            self.model._valid_query_shapes = shapes  # type: ignore[attr-defined]
        shape = self._shape()
        if shape in shapes:
            return
        self._validate_where()
        if len(shapes) >= _SHAPE_CACHE_SIZE:
            shapes.clear()
        shapes.add(shape)

    def _validate_where(self) -> None:
        """Refuse, client-side, what Cassandra would refuse for its restrictions."""
        model = self.model
        name = model.__name__
        for rel in self._where:
            if rel.operator == "!=":
                raise InvalidQuery(f"{self._label(rel.attr)}__ne: Cassandra refuses != in a WHERE clause "
                                   "(\"Unsupported '!=' relation\"); filter the rows read instead")
        if not self._allow_filtering:
            reason = self._needs_filtering()
            if reason:
                raise InvalidQuery(f"{name}: {reason}; add the missing restrictions or use allow_filtering()")
        by_attr: dict[str, list[_Relation]] = {}
        for rel in self._where:
            by_attr.setdefault(rel.attr, []).append(rel)
        for attr, rels in by_attr.items():
            if attr == "pk__token":
                ops = [r.operator for r in rels]
                if ("=" in ops and len(ops) > 1) or len([op for op in ops if op in (">", ">=")]) > 1 or len(
                    [op for op in ops if op in ("<", "<=")]
                ) > 1:
                    raise InvalidQuery(f"{name}: token() takes one = or at most one lower and one upper bound")
                continue
            col = model._columns[attr]
            ops = [r.operator for r in rels]
            if col.partition_key and any(op not in ("=", "IN") for op in ops) and not self._allow_filtering:
                raise InvalidQuery(
                    f"{self._label(attr)}: the partition key takes only = and IN; use pk__token__gt=Token(...) "
                    "for ranges (or allow_filtering())"
                )
            if "IN" in ops and not col.primary_key and not self._allow_filtering:
                raise InvalidQuery(f"{self._label(attr)}: IN on a non-primary-key column needs allow_filtering()")
            if col.partition_key and "IN" in ops and self._index_kinds():
                raise InvalidQuery(
                    f"{self._label(attr)}: IN on the partition key cannot be combined with an index restriction"
                )
            if ("=" in ops or "IN" in ops) and len(ops) > 1:
                raise InvalidQuery(f"{self._label(attr)}: = or IN cannot be combined with another relation")
            if col.primary_key and any(op in ("CONTAINS", "CONTAINS KEY") for op in ops):
                raise InvalidQuery(f"{self._label(attr)}: CONTAINS is not supported on primary key columns")
            if len([op for op in ops if op in (">", ">=")]) > 1 or len([op for op in ops if op in ("<", "<=")]) > 1:
                raise InvalidQuery(f"{self._label(attr)}: more than one lower or upper bound")
        if any(r.is_token for r in self._where) and any(
            model._columns[r.attr].partition_key for r in self._where if not r.is_token
        ):
            raise InvalidQuery(f"{name}: token() and partition key relations cannot be combined")
        if self._order:
            self._validate_order(by_attr)
        if self._distinct is not None:
            for rel in self._where:
                if not rel.is_token and not model._columns[rel.attr].partition_key:
                    raise InvalidQuery(f"{self._label(rel.attr)}: DISTINCT queries restrict partition keys only")

    def _needs_filtering(self) -> Optional[str]:
        """Why this WHERE needs ALLOW FILTERING, or None."""
        model = self.model
        if not self._where:
            return None
        by_attr: dict[str, list[str]] = {}
        for rel in self._where:
            by_attr.setdefault(rel.attr, []).append(rel.operator)
        token = "pk__token" in by_attr
        partition = list(model._partition_keys)
        restricted_pk = [k for k in partition if k in by_attr]
        pk_complete = len(restricted_pk) == len(partition)
        if restricted_pk and not pk_complete:
            missing = [k for k in partition if k not in by_attr]
            return f"the partition key is only partly restricted (missing {', '.join(missing)})"
        ranged = [k for k in partition if any(op not in ("=", "IN") for op in by_attr.get(k, []))]
        if ranged:
            return (f"partition key column {ranged[0]} is restricted by a range (the partition key takes "
                    "= and IN; use pk__token__gt=Token(...) for ranges)")
        for attr, ops in by_attr.items():
            if attr == "pk__token" or attr in model._primary_keys:
                continue
            if _index_kind(model._columns[attr], ops) is None:
                return f"{attr} is not indexed for {' and '.join(ops)}"
        kinds = self._index_kinds()
        legacy = [a for a, k in kinds.items() if k == "legacy"]
        if len(legacy) > 1:
            return f"{legacy[1]} is a second secondary-index restriction"
        if legacy and len(kinds) > 1:
            return "secondary-index and SAI restrictions cannot be combined"
        index_used = bool(kinds)
        # Clustering columns: a prefix, with only the last one a range.
        previous_eq = True
        for attr in model._clustering_keys:
            ops = by_attr.get(attr, [])
            if not ops:
                previous_eq = False
                continue
            if not previous_eq:
                return f"clustering column {attr} is restricted but a preceding clustering column is not"
            if any(op in ("CONTAINS", "CONTAINS KEY", "LIKE") for op in ops):
                return f"clustering column {attr} takes {', '.join(ops)} only with filtering"
            previous_eq = all(op in ("=", "IN") for op in ops)
        clustering_restricted = any(k in by_attr for k in model._clustering_keys)
        if not pk_complete and not token and clustering_restricted:
            return "clustering columns are restricted without the partition key"
        if token and not pk_complete and clustering_restricted and not index_used:
            return "clustering columns are restricted with a token range"
        return None

    def _index_kinds(self) -> dict[str, str]:
        """attr -> ``'sai'`` / ``'legacy'`` for each non-key relation an index serves."""
        ops: dict[str, list[str]] = {}
        for rel in self._where:
            if not rel.is_token and rel.attr not in self.model._primary_keys:
                ops.setdefault(rel.attr, []).append(rel.operator)
        kinds = {a: _index_kind(self.model._columns[a], o) for a, o in ops.items()}
        return {a: k for a, k in kinds.items() if k is not None}

    def _validate_order(self, by_attr: dict[str, list[_Relation]]) -> None:
        model = self.model
        name = model.__name__
        partition_ops = [r.operator for k in model._partition_keys for r in by_attr.get(k, [])]
        if len({k for k in model._partition_keys if k in by_attr}) != len(model._partition_keys) or any(
            op not in ("=", "IN") for op in partition_ops
        ):
            raise InvalidQuery(f"{name}: order_by needs the partition key restricted by = or IN")
        if "IN" in partition_ops:
            raise InvalidQuery(
                f"{name}: order_by cannot be combined with IN on the partition key when results are paged"
            )
        if any(model._columns[a].has_index and not model._columns[a].primary_key for a in by_attr
               if a != "pk__token"):
            raise InvalidQuery(f"{name}: order_by is not supported with secondary index restrictions")
        # Cassandra's rule: the columns follow the clustering order, skipping only columns restricted
        # by =, and each is either all in its declared direction or all reversed.
        clustering = list(model._clustering_keys)
        equal = {a for a, rels in by_attr.items() if [r.operator for r in rels] == ["="]}
        wanted = [attr for attr, _ in self._order]
        reversal: dict[str, bool] = {}
        position = 0
        for attr, direction in self._order:
            declared_desc = (model._columns[attr].clustering_order or "ASC").upper() == "DESC"
            flipped = (direction == "DESC") != declared_desc
            if attr in reversal:
                if reversal[attr] != flipped:
                    raise InvalidQuery(f"{self._label(attr)}: order_by names it twice, in both directions")
                continue  # named twice the same way: Cassandra reads it once
            index = clustering.index(attr)
            skipped = [c for c in clustering[position:index] if c not in equal]
            if index < position or skipped:
                raise InvalidQuery(
                    f"{name}: order_by must follow the clustering columns in order ({', '.join(clustering)}), "
                    f"skipping only columns restricted by =; got {', '.join(wanted)}"
                    + (f" ({', '.join(skipped)} not restricted by =)" if skipped and index >= position else "")
                )
            reversal[attr] = flipped
            position = index + 1
        if len(set(reversal.values())) > 1:
            declared = ", ".join(f"{a} {(model._columns[a].clustering_order or 'ASC').upper()}" for a in clustering)
            raise InvalidQuery(
                f"{name}: order_by directions must all match the clustering order or all be reversed "
                f"(declared: {declared})"
            )

    # -- rendering -------------------------------------------------------------

    def _table(self) -> tuple[Optional[str], str, Optional[str]]:
        return self._options.table(self.model)

    def _where_clauses(self) -> list[statements.Relation]:
        out: list[statements.Relation] = []
        for rel in self._where:
            if rel.is_token:
                names = [c.db_field_name for c in self.model._partition_keys.values()]
                out.append(statements.TokenWhereClause(names, rel.operator, rel.value))
            else:
                col = self.model._columns[rel.attr]
                out.append(statements.WhereClause(col.db_field_name, rel.operator, rel.value))
        return out

    def _select_columns(self) -> list[str]:
        model = self.model
        if self._values_list is not None:
            attrs = self._values_list
        elif self._fields is not None:
            attrs = list(self._fields)
        else:
            if model._is_polymorphic_base:
                names = [c.db_field_name for c in model._table_columns().values()]
            else:
                names = [c.db_field_name for c in model._columns.values()]
            deferred = {model._columns[a].db_field_name for a in self._deferred}
            if model._discriminator_column is not None:
                deferred.discard(model._discriminator_column.db_field_name)  # it picks each row's class
            return self._with_fixed_columns([n for n in names if n not in deferred])
        names = [model._columns[a].db_field_name for a in attrs]
        disc = model._discriminator_column
        if disc is not None and disc.db_field_name not in names and (
                self._values_list is None or self._checks_row_class):
            names.append(disc.db_field_name)  # needed to pick (or check) the subclass of each row
        return names if self._values_list is not None else self._with_fixed_columns(names)

    def _with_fixed_columns(self, names: list[str]) -> list[str]:
        """``names`` and the columns the filter fixes (restricted by ``=``), for instances read in part.

        An instance of ``only()``/``defer()`` holds the values its filter fixes, so that it can be
        saved, updated or deleted by its key: the peer leaves those columns out of the SELECT and
        fills them in from the filter; they are read here, which gives the same values as stored.
        """
        model = self.model
        fixed = [model._columns[r.attr].db_field_name for r in self._where
                 if r.operator == "=" and not r.is_token and r.attr in model._columns]
        return names + [name for name in dict.fromkeys(fixed) if name not in names]

    @property
    def _checks_row_class(self) -> bool:
        """Whether rows must be checked against a polymorphic subclass the server did not filter on."""
        model = self.model
        return (model._is_polymorphic and not model._is_polymorphic_base and self._distinct is None
                and not any(r.implicit for r in self._where))

    def _accept(self, row: dict[str, Any]) -> bool:
        """Whether a row belongs in the results (another subclass's row raises, or is skipped)."""
        if not self._checks_row_class:
            return True
        model = self.model
        assert model._discriminator_column is not None
        found = model._polymorphic_base._discriminator_map.get(row.get(model._discriminator_column.db_field_name))
        if found is not None and issubclass(found, model):
            return True
        if self._skip_foreign_rows:
            return False
        model._model_for_row(row)  # raises, naming both classes
        return True

    def _select_statement(self, count: bool = False, limit: Optional[int] = None) -> statements.SelectStatement:
        self.model._check_concrete("query")
        self._validate()
        keyspace, table, _ = self._table()
        fields = self._select_columns()
        if self._distinct is not None:
            fields = [self.model._columns[a].db_field_name for a in self._distinct]
        if limit is None:
            limit = self._limit
        if self._skip_foreign_rows:
            limit = None  # rows of other subclasses are skipped here: the server's LIMIT would count them
        nearest = self._ann
        if nearest is not None:
            limit = ann.check(self.model.__name__, nearest, limit, bool(self._order), self._distinct is not None)
        return statements.SelectStatement(
            table, keyspace=keyspace, fields=None if count else fields, where=self._where_clauses(),
            order_by=[(self.model._columns[a].db_field_name, d) for a, d in self._order],
            limit=limit, allow_filtering=self._allow_filtering,
            distinct=self._distinct is not None and not count, count=count,
            ann_of=None if nearest is None else (nearest.column, nearest.vector),
            similarity=(nearest.similarity, nearest.column, nearest.vector)
            if nearest is not None and nearest.reads_scores else None,
        )

    def __str__(self) -> str:
        return self.render()[0]

    def render(self) -> tuple[str, list[Any]]:
        """The SELECT this queryset runs: its CQL text and bound values, as sent (nothing is sent here)."""
        cql, params = self._select_statement().render()
        return cql, list(params)

    # -- write statements ------------------------------------------------------

    def _require_keys(self, action: str, full: bool) -> None:
        """Refuse a write whose filter does not name the rows Cassandra writes by (an ``InvalidQuery``: the
        server refuses what the peer sends here)."""
        model = self.model
        ops = {r.attr: r.operator for r in self._where}
        if any(r.is_token for r in self._where):
            raise InvalidQuery(f"{model.__name__}.{action}: token() relations are not allowed here")
        keys = list(model._primary_keys) if full else list(model._partition_keys)
        missing = [k for k in keys if ops.get(k) not in ("=", "IN")]
        if missing:
            raise InvalidQuery(
                f"{model.__name__}.{action}: needs {', '.join(missing)} restricted by = or IN "
                f"({'the full primary key' if full else 'the partition key'})"
            )
        extra = [a for a in ops if a not in model._primary_keys]
        if extra:
            raise InvalidQuery(f"{model.__name__}.{action}: only primary key columns may be filtered ({extra})")

    def _refuse_subclass_write(self, action: str) -> None:
        model = self.model
        refuse_read_only(model, action)  # first: the refusal, not a complaint about the filters
        if model._is_polymorphic and not model._is_polymorphic_base:
            base = model._polymorphic_base.__name__
            raise QueryException(
                f"{model.__name__}.{action}: Cassandra writes by key alone, so a {model.__name__} queryset "
                f"cannot keep its write off the rows of {base}'s other subclasses; write through "
                f"{base}.objects(...) or through a {model.__name__} instance"
            )

    def _update_statement(self, values: dict[str, Any]) -> statements.BaseStatement:
        model = self.model
        self._refuse_subclass_write("update")
        if not values:
            raise QueryException(f"{model.__name__}.update: nothing to update")
        if model._extends_writes:
            values = lifecycle.queryset_update_values(model, values, self._options.timestamp)
        assignments: list[Any] = []
        only_static = True
        for key, value in values.items():
            attr, _, op = key.partition("__")
            if attr not in model._columns and attr != "pk":
                raise UnknownUpdateColumn(f"{model.__name__}.update: unknown column {attr!r} "
                                          f"(columns: {', '.join(model._columns)})")
            col = self._column(attr)
            label = self._label(attr)
            if col.primary_key:
                raise ValidationError(f"{label}: primary key columns cannot be updated")
            if not col.static:
                only_static = False
            assignments.extend(self._assignments(col, label, op, value))
        self._require_keys("update", full=not only_static)
        if self._options.if_not_exists:
            raise QueryException(f"{model.__name__}.update: if_not_exists() applies to INSERT only; "
                                 "use if_exists() or iff() for a conditional update")
        names_row = only_static and bool(model._clustering_keys) and self._names_row_for_conditions()
        where = self._where_clauses()
        if only_static and not names_row:
            # Static columns belong to the partition: Cassandra refuses clustering keys here.
            partition = {c.db_field_name for c in model._partition_keys.values()}
            where = [w for w in where if getattr(w, "column", None) in partition]
        table, args = self._options.statement_args(model, "update")
        return statements.UpdateStatement(table, assignments=assignments, where=where, **args)

    def _names_row_for_conditions(self) -> bool:
        """Whether an update of static columns alone keeps its clustering key: it does when a condition is
        on a regular column, which needs a row (Cassandra takes the row's key then, and refuses it
        otherwise); without the full key restricted, such a condition is refused here, as Cassandra would
        ("Some clustering keys are missing")."""
        model = self.model
        compared = [attr for attr in (key.partition("__")[0] for key in self._options.conditions)
                    if attr in model._columns and not (model._columns[attr].static or model._columns[attr].primary_key)]
        if not compared:
            return False
        ops = {r.attr: r.operator for r in self._where}
        if any(ops.get(k) != "=" for k in model._primary_keys):
            raise QueryException(
                f"{model.__name__}.update: the condition on {', '.join(compared)} needs a row, and an update of "
                "static columns alone is sent for the partition (Cassandra refuses its clustering key there); "
                "restrict the full primary key by = (the condition then reads that row), make the condition on "
                "static columns, or set a regular column too")
        return True

    def _assignments(self, col: Column, label: str, op: str, value: Any) -> list[Any]:
        """The assignments of one ``update()`` keyword: a None map value deletes its key, as in the peer.

        A non-empty map given to a non-frozen map column without an operator is merged into the row's
        key by key (``m = m + ?``), as the peer's ``m[k] = ?``: the keys not given keep their values.
        An empty map empties the column; a frozen map is one value and is replaced whole.
        """
        if op == "" and merges_into_row(col, value):
            op = "update"
        if isinstance(col, Map) and op in ("", "update"):
            value, nulls = split_map_nulls(col, value)
            if nulls and op == "update":
                key_col = col.sub_types[0]
                # ``m = m - ?`` binds the keys (the peer sends ``m[key] = null`` per key).
                removal = statements.RemoveAssignment(
                    col.db_field_name, {key_col.to_database(key_col.validate(k)) for k in nulls})
                return [self._assignment(col, label, op, value), removal] if value else [removal]
        return [self._assignment(col, label, op, value)]

    def _assignment(self, col: Column, label: str, op: str, value: Any) -> Any:
        name = col.db_field_name
        if op and op not in UPDATE_SUFFIXES:
            raise QueryException(f"{label}: unknown update operation {op!r} ({', '.join(sorted(UPDATE_SUFFIXES))})")
        if col.is_counter:
            if op not in ("", "add", "remove") or isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(f"{label}: a counter takes an int increment (or __remove to decrement), "
                                      f"got {value!r}")
            # An increment counts again each time it runs: never retried.
            if op == "remove":
                return statements.RemoveAssignment(name, value, idempotent=False)
            return statements.AddAssignment(name, value, idempotent=False)
        if not op:
            return statements.SetAssignment(name, col.database_value(value))
        allowed = {List: ("append", "prepend", "remove"), Set: ("add", "remove"), Map: ("update", "remove")}
        kind = next((k for k in allowed if isinstance(col, k)), None)
        if kind is None or op not in allowed[kind]:
            raise QueryException(f"{label}: __{op} is not an operation of a {col.cql_type()} column")
        if kind is Map and op == "remove":
            if not isinstance(value, (set, frozenset)):
                # As the peer: a string would otherwise be read as a set of its characters.
                raise ValidationError(f"{label}__remove: {value!r} is not a set; map key removal takes a "
                                      "set of keys")
            keys = set(value)
            key_col = col.sub_types[0]
            return statements.RemoveAssignment(name, {key_col.to_database(key_col.validate(k)) for k in keys})
        if kind is Set and not isinstance(value, (set, frozenset)):
            value = set(value)
        converted = col.to_database(col.validate(value))
        if op == "prepend":
            return statements.PrependAssignment(name, converted, idempotent=False)  # adds the elements again
        if op == "remove":
            return statements.RemoveAssignment(name, converted)
        # Appending to a list adds the elements again each time; adding to a set or map does not.
        return statements.AddAssignment(name, converted, idempotent=kind is not List)

    def _delete_statement(self) -> statements.BaseStatement:
        model = self.model
        self._refuse_subclass_write("delete")
        conditional = self._options.if_exists or bool(self._options.conditions)
        ops = {r.attr: r.operator for r in self._where}
        if any(r.is_token for r in self._where):
            raise QueryException(f"{model.__name__}.delete: token() relations are not allowed here")
        missing = [k for k in model._partition_keys if ops.get(k) not in ("=", "IN")]
        if missing:
            raise QueryException(f"{model.__name__}.delete: needs the partition key restricted by = or IN "
                                 f"(missing {', '.join(missing)})")
        extra = [a for a in ops if a not in model._primary_keys]
        if extra:
            raise QueryException(f"{model.__name__}.delete: only primary key columns may be filtered ({extra})")
        if conditional:
            self._require_keys("delete", full=True)
        if self._options.if_not_exists:
            raise QueryException(f"{model.__name__}.delete: if_not_exists() applies to INSERT only")
        if self._options.ttl is not None:
            raise QueryException(f"{model.__name__}.delete: ttl({self._options.ttl}) cannot apply to a DELETE "
                                 "(Cassandra has no DELETE ... USING TTL); use timestamp() to date it")
        table, args = self._options.statement_args(model, "delete")
        return statements.DeleteStatement(table, where=self._where_clauses(), **args)
