"""NamedTable without a server: CQL type strings -> columns, and models built from a TableInfo."""
from __future__ import annotations

from datetime import date

import pytest

from cqlengine import columns
from cqlengine.exceptions import CQLEngineException, DoesNotExist, MultipleObjectsReturned
from cqlengine.management.introspect import ColumnInfo, IndexInfo, TableInfo, UserTypeInfo
from cqlengine.management.plan import normalize_type
from cqlengine.named import NamedKeyspace, NamedModel, NamedTable, column_for_type, model_for_table
from cqlengine.usertype import UserType

SCALARS = [
    ("ascii", columns.Ascii),
    ("text", columns.Text),
    ("varchar", columns.Text),
    ("blob", columns.Blob),
    ("boolean", columns.Boolean),
    ("tinyint", columns.TinyInt),
    ("smallint", columns.SmallInt),
    ("int", columns.Integer),
    ("bigint", columns.BigInt),
    ("varint", columns.VarInt),
    ("counter", columns.Counter),
    ("float", columns.Float),
    ("double", columns.Double),
    ("decimal", columns.Decimal),
    ("date", columns.Date),
    ("time", columns.Time),
    ("timestamp", columns.DateTime),
    ("duration", columns.Duration),
    ("uuid", columns.UUID),
    ("timeuuid", columns.TimeUUID),
    ("inet", columns.Inet),
]


@pytest.mark.parametrize(("cql", "cls"), SCALARS)
def test_scalar_types(cql, cls):
    col = column_for_type(cql)
    assert type(col) is cls
    assert normalize_type(col.cql_type()) == normalize_type(cql)


def test_float_is_single_precision_and_double_is_double():
    assert column_for_type("float").cql_type() == "float"
    assert column_for_type("double").cql_type() == "double"


@pytest.mark.parametrize("cql", [
    "list<int>",
    "set<text>",
    "map<text, int>",
    "frozen<list<int>>",
    "frozen<set<uuid>>",
    "frozen<map<text, bigint>>",
    "map<text, frozen<list<int>>>",
    "frozen<map<text, frozen<list<int>>>>",
    "list<frozen<map<int, frozen<set<text>>>>>",
    "set<frozen<tuple<int, text>>>",
    "tuple<int, text>",
    "frozen<tuple<int, text>>",
    "tuple<int, frozen<set<text>>, frozen<tuple<date, inet>>>",
    "map<frozen<tuple<int, int>>, frozen<list<timestamp>>>",
])
def test_collection_and_tuple_types_round_trip(cql):
    col = column_for_type(cql)
    assert normalize_type(col.cql_type()) == normalize_type(cql)


def test_collection_structure():
    col = column_for_type("map<text, frozen<list<frozen<tuple<int, varchar>>>>>")
    assert isinstance(col, columns.Map) and not col.frozen
    assert isinstance(col.key_col, columns.Text)
    inner = col.value_col
    assert isinstance(inner, columns.List) and inner.frozen
    tup = inner.value_col
    assert isinstance(tup, columns.Tuple)
    assert [type(t) for t in tup.types] == [columns.Integer, columns.Text]

    frozen_set = column_for_type("frozen<set<int>>")
    assert isinstance(frozen_set, columns.Set) and frozen_set.frozen and frozen_set.can_be_key
    assert not column_for_type("list<int>").frozen


def test_options_go_to_the_outer_column():
    col = column_for_type("frozen<list<int>>", partition_key=True, db_field="xs")
    assert col.partition_key and col.primary_key and col.db_field == "xs"
    assert not col.value_col.primary_key
    ck = column_for_type("timestamp", primary_key=True, clustering_order="DESC")
    assert ck.clustering_order == "DESC"
    assert column_for_type("int", static=True).static


def test_user_types_need_a_resolver():
    with pytest.raises(CQLEngineException, match="'address' is a user type"):
        column_for_type("frozen<address>")


def test_user_types_resolve():
    class Address(UserType):
        __type_name__ = "address"
        street = columns.Text()

    col = column_for_type("list<frozen<address>>", lambda name: Address)
    assert isinstance(col.value_col, columns.UserDefinedType)
    assert col.value_col.user_type is Address
    udt = column_for_type('frozen<"Address">', lambda name: Address)
    assert isinstance(udt, columns.UserDefinedType) and udt.frozen


@pytest.mark.parametrize("cql", ["vector<float>", "vector<float, x>", "list<int", "map<int>", "frozen<int, int>",
                                 "int<text>", "custom"])
def test_unsupported_or_malformed_types_are_refused(cql):
    with pytest.raises(CQLEngineException):
        column_for_type(cql)


# --------------------------------------------------------------------------- models


def _info(**extra_columns: ColumnInfo) -> TableInfo:
    cols = {
        "tenant": ColumnInfo("tenant", "text", "partition_key", 0),
        "day": ColumnInfo("day", "date", "partition_key", 1),
        "ts": ColumnInfo("ts", "timestamp", "clustering", 0, "desc"),
        "seq": ColumnInfo("seq", "int", "clustering", 1, "asc"),
        "owner": ColumnInfo("owner", "text", "static"),
        "items": ColumnInfo("items", "map<text, int>"),
        "Mixed": ColumnInfo("Mixed", "text"),
        "two words": ColumnInfo("two words", "text"),
        "_private": ColumnInfo("_private", "int"),
        "from": ColumnInfo("from", "int"),
        "save": ColumnInfo("save", "boolean"),
        "a__b": ColumnInfo("a__b", "int"),
        "items_": ColumnInfo("items_", "int"),
    }
    cols.update(extra_columns)
    return TableInfo("ks", "events", columns=cols, indexes={
        "mixed_idx": IndexInfo("mixed_idx", "CUSTOM",
                               {"target": '"Mixed"', "class_name": "StorageAttachedIndex"}),
        "items_idx": IndexInfo("items_idx", "COMPOSITES", {"target": "keys(items)"}),
    })


def test_model_keys_order_and_static():
    model = model_for_table(_info(), connection="other")
    assert issubclass(model, NamedModel) and not model.__abstract__
    assert list(model._partition_keys) == ["tenant", "day"]
    assert list(model._clustering_keys) == ["ts", "seq"]
    assert model._columns["ts"].clustering_order == "DESC"
    assert model._columns["seq"].clustering_order == "ASC"
    assert model._columns["owner"].static
    assert model.__keyspace__ == "ks" and model.__table_name__ == "events"
    assert model.__table_name_case_sensitive__ and model.__connection__ == "other"
    assert model.column_family_name() == "ks.events"


def test_model_safe_attribute_names():
    model = model_for_table(_info())
    by_cql = {c.db_field_name: attr for attr, c in model._columns.items()}
    assert by_cql["Mixed"] == "Mixed"
    assert by_cql["items"] == "items_col"  # "items" is a Model method
    assert by_cql["items_"] == "items_col2"  # a trailing "_" would break items___gt=...
    assert by_cql["two words"] == "two_words"
    assert by_cql["from"] == "from_col"
    assert by_cql["save"] != "save"
    assert "__" not in by_cql["a__b"] and not by_cql["_private"].startswith("_")
    for attr in by_cql.values():
        assert attr.isidentifier() and not attr.endswith("_") and "__" not in attr
    assert model._attr_for_cql == {cql: attr for cql, attr in by_cql.items() if cql != attr}
    # Model methods are intact.
    assert callable(model.save) and callable(model.items)


def test_index_flags_follow_the_live_indexes():
    model = model_for_table(_info())
    assert model._columns["Mixed"].custom_index
    assert not model._columns[model._attr_for_cql["items"]].has_index  # keys() index: another operator


def test_mapping_access_uses_cql_names():
    model = model_for_table(_info())
    row = model(tenant="t", items={"a": 1}, Mixed="m", two_words="x")
    assert row["items"] == {"a": 1} and row["two words"] == "x" and row["Mixed"] == "m"
    assert row[model._attr_for_cql["items"]] == {"a": 1}
    assert "items" in row.keys() and "two words" in row
    assert dict(row.items())["Mixed"] == "m"
    assert dict(row)["tenant"] == "t"
    assert row.iff(items={"a": 1})._options.conditions == {"items_col": {"a": 1}}
    assert model.objects.iff(items__ne={})._options.conditions == {"items_col__ne": {}}
    row["two words"] = "y"
    assert row.two_words == "y"
    with pytest.raises(KeyError):
        row["nope"]


def test_queryset_takes_cql_names():
    model = model_for_table(_info())
    qs = model.objects.filter(tenant="t", day=date(2024, 1, 2)).filter(**{"two words": "x"}).allow_filtering()
    cql = str(qs.order_by("-ts").values_list("items", "two words"))
    assert 'SELECT items, "two words" FROM ks.events' in cql
    assert '"two words" = ?' in cql and "ORDER BY ts DESC" in cql
    assert "a__b IN ?" in str(model.objects.filter(a__b__in=[1]).allow_filtering())
    assert "items CONTAINS KEY ?" in str(model.objects.filter(items__contains_key="k").allow_filtering())
    assert "items_ > ?" in str(model.objects.filter(items___gt=1).allow_filtering())
    assert "items_ > ?" in str(model.objects.filter(items_col2__gt=1).allow_filtering())


def test_exceptions_are_per_table_and_shared():
    model = model_for_table(_info())
    assert issubclass(model.DoesNotExist, NamedTable.DoesNotExist)
    assert issubclass(NamedTable.DoesNotExist, DoesNotExist)
    assert issubclass(model.MultipleObjectsReturned, NamedTable.MultipleObjectsReturned)
    assert issubclass(NamedTable.MultipleObjectsReturned, MultipleObjectsReturned)


def test_user_type_model():
    info = TableInfo("ks", "people", columns={
        "id": ColumnInfo("id", "int", "partition_key", 0),
        "home": ColumnInfo("home", "frozen<address>"),
        "past": ColumnInfo("past", "list<frozen<address>>"),
    })
    types = {
        "address": UserTypeInfo("ks", "address", ("street", "items", "geo"), ("text", "list<text>", "frozen<geo>")),
        "geo": UserTypeInfo("ks", "geo", ("lat", "lon"), ("double", "double")),
    }
    model = model_for_table(info, types)
    home = model._columns["home"]
    assert isinstance(home, columns.UserDefinedType)
    address = home.user_type
    assert address.type_name() == "address"
    assert model._columns["past"].value_col.user_type is address  # built once per table
    fields = address._fields
    assert fields["street"].db_field_name == "street"
    renamed = next(a for a, c in fields.items() if c.db_field_name == "items")
    assert renamed != "items"
    assert fields["geo"].user_type.type_name() == "geo"
    value = address(street="x", items=["a"], geo={"lat": 1.0, "lon": 2.0})
    assert value["items"] == ["a"]

    with pytest.raises(CQLEngineException, match=r"ks\.people.*'home'.*address.*does not exist"):
        model_for_table(info, {})


def test_unsupported_column_names_table_column_and_type():
    info = TableInfo("ks", "odd", columns={
        "id": ColumnInfo("id", "int", "partition_key", 0),
        "v": ColumnInfo("v", "custom"),
    })
    with pytest.raises(CQLEngineException, match=r"ks\.odd.*'v'.*custom"):
        model_for_table(info)


def test_vector_columns_and_their_index_are_reflected():
    info = TableInfo("ks", "vecs", columns={
        "id": ColumnInfo("id", "int", "partition_key", 0),
        "v": ColumnInfo("v", "vector<float, 3>"),
        "w": ColumnInfo("w", "vector<int, 2>"),
    }, indexes={"v_idx": IndexInfo("v_idx", "CUSTOM", {"class_name": "StorageAttachedIndex", "target": "v",
                                                        "similarity_function": "DOT_PRODUCT"})})
    model = model_for_table(info)
    v, w = model._columns["v"], model._columns["w"]
    assert isinstance(v, columns.Vector) and v.cql_type() == "vector<float, 3>"
    assert v.custom_index and v.similarity == "dot_product"
    assert w.cql_type() == "vector<int, 2>" and not w.has_index


def test_named_keyspace_and_table_without_a_server():
    table = NamedKeyspace("ks", connection="c").table("MyTable")
    assert isinstance(table, NamedTable)
    assert (table.keyspace, table.name, table._get_connection()) == ("ks", "MyTable", "c")
    assert table.column_family_name() == 'ks."MyTable"'
    assert table.column_family_name(include_keyspace=False) == '"MyTable"'
    assert table.using(connection="d")._get_connection() == "d"
