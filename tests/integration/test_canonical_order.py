"""Sets and map keys inside frozen values are bound in Cassandra's own order.

Cassandra compares a frozen value by its bytes and does not re-sort what a
client binds, so two orders of one Python set would be two values. The
oracle here is the server: a CQL literal is sorted by Cassandra when it is
parsed, and ``toJson`` shows the stored order. Each example writes the same
value twice, bound by cqlengine and as a literal, and the two must read back
alike.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from cassandra.encoder import Encoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cqlengine import columns, connection, management
from cqlengine.models import Model
from cqlengine.usertype import UserType

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

ELEMENTS = {
    "int": (columns.Integer, st.integers(-2**31, 2**31 - 1)),
    "bigint": (columns.BigInt, st.integers(-2**63, 2**63 - 1)),
    "varint": (columns.VarInt, st.integers(-2**80, 2**80)),
    "text": (columns.Text, st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=4)),
    "blob": (columns.Blob, st.binary(max_size=4)),
    "boolean": (columns.Boolean, st.booleans()),
    "double": (columns.Double, st.floats(allow_nan=False, width=64)),
    "decimal": (columns.Decimal, st.decimals(allow_nan=False, allow_infinity=False, places=3,
                                            min_value=-10**6, max_value=10**6)),
    "uuid": (columns.UUID, st.one_of(st.uuids(), st.builds(uuid.uuid1, clock_seq=st.integers(0, 2**14 - 1)))),
    "timeuuid": (columns.TimeUUID, st.builds(uuid.uuid1, node=st.integers(0, 2**48 - 1),
                                             clock_seq=st.integers(0, 2**14 - 1))),
    "timestamp": (columns.DateTime, st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
                  .map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))),
    "date": (columns.Date, st.dates(min_value=date(1, 1, 1))),
    "time": (columns.Time, st.times()),
    "inet": (columns.Inet, st.one_of(st.ip_addresses().map(str))),
}


class OrderUdt(UserType):
    __type_name__ = "order_udt"
    n = columns.Integer()
    s = columns.Set(columns.Integer)
    m = columns.Map(columns.Text, columns.Integer)


def _model_attrs() -> dict:
    attrs: dict = {"__table_name__": "canonical_order", "p": columns.UUID(partition_key=True),
                   "c": columns.Integer(primary_key=True)}
    for name, (col, _) in ELEMENTS.items():
        attrs[f"s_{name}"] = columns.Set(col, frozen=True)
        attrs[f"m_{name}"] = columns.Map(col, columns.Integer, frozen=True)
    attrs["s_tuple"] = columns.Set(columns.Tuple(columns.Integer, columns.Text), frozen=True)
    attrs["m_set"] = columns.Map(columns.Integer, columns.Set(columns.Integer), frozen=True)
    attrs["l_set"] = columns.List(columns.Set(columns.Integer))
    attrs["u"] = columns.UserDefinedType(OrderUdt)
    attrs["l_u"] = columns.List(columns.UserDefinedType(OrderUdt))
    return attrs


CanonicalOrder = type("CanonicalOrder", (Model,), _model_attrs())


@pytest.fixture(scope="module")
def table(cqlengine_connection):
    management.sync_table(CanonicalOrder)
    yield
    management.drop_table(CanonicalOrder)


@st.composite
def row(draw):
    values = {}
    for name, (_, element) in ELEMENTS.items():
        values[f"s_{name}"] = draw(st.sets(element, max_size=6))
        values[f"m_{name}"] = draw(st.dictionaries(element, st.integers(0, 9), max_size=6))
    values["s_tuple"] = draw(st.sets(st.tuples(st.integers(-5, 5), st.text(max_size=2)), max_size=6))
    values["m_set"] = draw(st.dictionaries(st.integers(0, 3), st.sets(st.integers(-99, 99), max_size=4), max_size=3))
    values["l_set"] = draw(st.lists(st.sets(st.integers(-99, 99), max_size=5), max_size=3))
    values["u"] = OrderUdt(n=draw(st.integers(0, 3)), s=draw(st.sets(st.integers(-99, 99), max_size=6)),
                           m=draw(st.dictionaries(st.text(max_size=3), st.integers(0, 99), max_size=5)))
    values["l_u"] = [OrderUdt(n=1, s=s) for s in draw(st.lists(st.sets(st.integers(-99, 99), max_size=4), max_size=3))]
    return values


_ENCODER = Encoder()


def _literal(col: columns.Column, value) -> str:
    """``value`` as a CQL literal, which the server sorts as it parses it."""
    if isinstance(col, columns.Set):
        return "{" + ", ".join(_literal(col.value_col, v) for v in value) + "}"
    if isinstance(col, columns.Map):
        return "{" + ", ".join(f"{_literal(col.key_col, k)}: {_literal(col.value_col, v)}"
                               for k, v in value.items()) + "}"
    if isinstance(col, columns.List):
        return "[" + ", ".join(_literal(col.value_col, v) for v in value) + "]"
    if isinstance(col, columns.Tuple):
        return "(" + ", ".join(_literal(t, v) for t, v in zip(col.types, value)) + ")"
    if isinstance(col, columns.UserDefinedType):
        return "{" + ", ".join(f"{name}: {_literal(f, value[name])}"
                               for name, f in col.user_type._fields.items()) + "}"
    if isinstance(col, columns.Inet):
        return f"'{value}'"
    if isinstance(col, columns.DateTime):
        return str((value.replace(tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc))
                   // (datetime(1970, 1, 1, 0, 0, 0, 1000) - datetime(1970, 1, 1)))
    if isinstance(col, columns.Date):
        return f"'{value.isoformat()}'"
    if isinstance(col, columns.Time):
        return f"'{value.isoformat()}'"
    if isinstance(col, columns.Double):
        return repr(float(value)) if value == value and abs(value) != float("inf") else (
            "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity"))
    if isinstance(col, columns.Decimal):
        return str(Decimal(value))
    return _ENCODER.cql_encode_all_types(value)


@SETTINGS
@given(values=row())
def test_frozen_values_are_bound_in_cassandras_order(table, values):
    p = uuid.uuid4()
    CanonicalOrder.create(p=p, c=0, **values)
    cols = CanonicalOrder._columns
    names = list(values)
    literals = ", ".join(_literal(cols[n], values[n]) for n in names)
    table_name = CanonicalOrder.column_family_name()
    connection.execute(f"INSERT INTO {table_name} (p, c, {', '.join(names)}) VALUES ({p}, 1, {literals})")
    json_columns = ", ".join(f"toJson({n})" for n in names)
    ours, server = [list(r.values()) for r in connection.execute(
        f"SELECT {json_columns} FROM {table_name} WHERE p = ? ORDER BY c", [p])]
    for name, got, expected in zip(names, ours, server):
        assert got == expected, (name, values[name])
    # And the frozen value finds the literal's row: one value, one key.
    for name in ("s_int", "s_text", "s_uuid", "s_timeuuid", "m_inet", "u"):
        assert CanonicalOrder.objects(p=p, c=1).filter(**{name: values[name]}).allow_filtering().count() == 1


def test_a_user_type_key_is_one_row_whatever_the_order_of_its_set(table):
    class KeyedByUdt(Model):
        __table_name__ = "canonical_udt_key"
        u = columns.UserDefinedType(OrderUdt, primary_key=True)
        v = columns.Integer()

    management.sync_table(KeyedByUdt)
    try:
        big = set(range(-300, 300, 7))
        KeyedByUdt.create(u=OrderUdt(n=1, s=big), v=1)
        KeyedByUdt.create(u=OrderUdt(n=1, s=set(sorted(big, reverse=True))), v=2)
        KeyedByUdt.create(u=OrderUdt(n=1, s={9, 1}), v=3)
        KeyedByUdt.create(u=OrderUdt(n=1, s={1, 9}), v=4)
        assert KeyedByUdt.objects.count() == 2
        assert KeyedByUdt.get(u=OrderUdt(n=1, s={9, 1})).v == 4
    finally:
        management.drop_table(KeyedByUdt)
