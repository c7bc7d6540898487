"""The pure parts of vector search: the column, the statement, the query checks and the schema plan."""
from __future__ import annotations

import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqlengine import columns
from cqlengine.ann import MAX_LIMIT, similarity
from cqlengine.exceptions import ModelDefinitionException, QueryException, ValidationError
from cqlengine.management.introspect import ColumnInfo, IndexInfo, TableInfo
from cqlengine.management.plan import plan_table, table_spec
from cqlengine.models import Model
from cqlengine.statements import SCORE, SelectStatement


class Doc(Model):
    __keyspace__ = "ks"
    id = columns.Integer(partition_key=True)
    body = columns.Text()
    emb = columns.Vector(3, index=True)
    near = columns.Vector(3, index=True, similarity="euclidean")
    plain = columns.Vector(2, columns.Integer)


def test_the_column_type_and_its_index():
    emb, near, plain = (Doc._columns[n] for n in ("emb", "near", "plain"))
    assert emb.cql_type() == "vector<float, 3>" and plain.cql_type() == "vector<int, 2>"
    assert columns.Vector(2, columns.Double).cql_type() == "vector<double, 2>"
    assert emb.custom_index and not emb.index and emb.similarity == "cosine"
    assert near.index_options() == {"similarity_function": "euclidean"}
    assert not plain.has_index and plain.index_options() == {}


@pytest.mark.parametrize("options, rule", [
    ({"dimension": 0}, "dimension must be a positive int"),
    ({"dimension": 2.0}, "dimension must be a positive int"),
    ({"dimension": 3, "index": True, "similarity": "manhattan"}, "similarity must be one of"),
    ({"dimension": 3, "similarity": "cosine"}, "declare index=True"),
    ({"dimension": 3, "value_type": columns.Integer, "index": True}, "vectors of float only"),
    ({"dimension": 3, "value_type": "float"}, "not a column type"),
])
def test_bad_declarations_are_refused(options, rule):
    with pytest.raises(ModelDefinitionException, match=rule):
        columns.Vector(**options)


def test_values_are_checked_with_the_column_the_dimension_and_the_length_in_the_error():
    emb = Doc._columns["emb"]
    assert emb.validate((1, 2, 3)) == [1.0, 2.0, 3.0]
    assert emb.validate(numpy.array([0.5, 1, 2], dtype=numpy.float32)) == [0.5, 1.0, 2.0]
    assert type(emb.validate(numpy.arange(3.0))[0]) is float  # numpy scalars become Python floats
    with pytest.raises(ValidationError, match=r"Doc\.emb: 2 element\(s\) given, but vector<float, 3> holds exactly 3"):
        emb.validate([1, 2])
    with pytest.raises(ValidationError, match=r"Doc\.emb\[1\]: nan is not allowed in a vector"):
        emb.validate([1, math.nan, 3])
    with pytest.raises(ValidationError, match=r"Doc\.emb\[2\]: inf"):
        emb.validate([1, 2, math.inf])
    with pytest.raises(ValidationError, match=r"Doc\.emb\[0\]: None"):
        emb.validate([None, 2, 3])
    with pytest.raises(ValidationError, match=r"Doc\.emb\[0\]:.*not a number"):
        emb.validate(["1", 2, 3])
    with pytest.raises(ValidationError, match="out of range for float"):
        emb.validate([1e39, 2, 3])
    for not_a_sequence in ("abc", b"abc", {1, 2, 3}, {"a": 1}, 3):
        with pytest.raises(ValidationError, match="is not a sequence"):
            emb.validate(not_a_sequence)
    with pytest.raises(ValidationError, match=r"Doc\.emb: 2 element"):
        emb.validate(numpy.zeros((2, 3)))  # two rows, not one vector
    assert Doc._columns["plain"].validate([1, 2]) == [1, 2]
    with pytest.raises(ValidationError, match=r"Doc\.plain\[1\]"):
        Doc._columns["plain"].validate([1, 2.5])


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=3, max_size=3))
def test_finite_float32_values_pass_through_unchanged(values):
    emb = Doc._columns["emb"]
    assert emb.to_database(emb.validate(values)) == values
    assert emb.to_python(tuple(values)) == values


def test_an_ann_select_binds_the_vector_and_orders_its_parameters_as_the_text():
    statement = SelectStatement("doc", "ks", fields=["id"], where=[], ann_of=("emb", [1.0, 2.0]),
                                similarity=("cosine", "emb", [3.0, 4.0]), limit=5)
    cql, params = statement.render()
    assert cql == (f"SELECT id, similarity_cosine(emb, ?) AS {SCORE} FROM ks.doc ORDER BY emb ANN OF ? LIMIT ?")
    assert params == [[3.0, 4.0], [1.0, 2.0], 5]
    with pytest.raises(QueryException, match="cannot be combined"):
        SelectStatement("doc", fields=["id"], ann_of=("emb", [1.0]), order_by=["c"]).render()
    with pytest.raises(QueryException, match="not one of"):
        SelectStatement("doc", fields=["id"], similarity=("manhattan", "emb", [1.0])).render()


def test_ann_queries_render_as_sent_and_are_refused_where_cassandra_refuses():
    qs = Doc.objects.filter(body="x").allow_filtering().ann("emb", [1, 0, 0]).limit(10)
    cql, params = qs.render()
    assert cql.endswith("WHERE body = ? ORDER BY emb ANN OF ? LIMIT ? ALLOW FILTERING")
    assert params == ["x", [1.0, 0.0, 0.0], 10]
    assert Doc.objects.ann("emb", [1, 0, 0], rerank=4).limit(10).render()[1][-1] == 40  # the candidates
    assert Doc.objects.ann("emb", [1, 0, 0], rerank=4).limit(300).render()[1][-1] == MAX_LIMIT
    assert "similarity_euclidean(near, ?)" in Doc.objects.ann("near", [1, 0, 0], score=True).limit(1).render()[0]
    with pytest.raises(QueryException, match="needs a limit"):
        Doc.objects.ann("emb", [1, 0, 0]).render()
    with pytest.raises(QueryException, match="at most 1000"):
        Doc.objects.ann("emb", [1, 0, 0]).limit(1001).render()
    with pytest.raises(QueryException, match="needs the column indexed"):
        Doc.objects.ann("plain", [1, 0])
    with pytest.raises(QueryException, match="needs a Vector column"):
        Doc.objects.ann("body", [1, 0, 0])
    with pytest.raises(QueryException, match="not a column"):
        Doc.objects.ann("nope", [1, 0, 0])
    with pytest.raises(ValidationError, match=r"Doc\.emb: 4 element"):
        Doc.objects.ann("emb", [1, 0, 0, 0])
    with pytest.raises(QueryException, match="rerank"):
        Doc.objects.ann("emb", [1, 0, 0], rerank=0)
    with pytest.raises(QueryException, match="distinct"):
        Doc.objects.distinct().ann("emb", [1, 0, 0]).limit(3).render()


def test_python_similarities_follow_cassandras_formulas():
    assert similarity("cosine", [1, 0], [0, 1]) == pytest.approx(0.5)
    assert similarity("cosine", [1, 0], [2, 0]) == pytest.approx(1.0)
    assert similarity("euclidean", [0, 0], [3, 4]) == pytest.approx(1 / 26)
    assert similarity("dot_product", [0.6, 0.8], [0.6, 0.8]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        similarity("cosine", [0, 0], [1, 1])
    with pytest.raises(ValueError):
        similarity("cosine", [1], [1, 2])


def live_doc(emb_type="vector<float, 3>", similarity_function=None):
    options = {"class_name": "StorageAttachedIndex", "target": "emb"}
    if similarity_function:
        options["similarity_function"] = similarity_function
    near = {"class_name": "StorageAttachedIndex", "target": "near", "similarity_function": "euclidean"}
    return TableInfo("ks", "doc", columns={
        "id": ColumnInfo("id", "int", "partition_key", 0),
        "body": ColumnInfo("body", "text"),
        "emb": ColumnInfo("emb", emb_type),
        "near": ColumnInfo("near", "vector<float, 3>"),
        "plain": ColumnInfo("plain", "vector<int, 2>"),
    }, indexes={"doc_emb": IndexInfo("doc_emb", "CUSTOM", options), "doc_near": IndexInfo("doc_near", "CUSTOM", near)})


def test_the_plan_creates_the_index_with_its_similarity_and_refuses_what_cannot_change():
    created = plan_table("ks", table_spec(Doc), None)
    cql = [c.cql for c in created.changes]
    assert "CREATE TABLE ks.doc (id int, body text, emb vector<float, 3>, near vector<float, 3>, " \
           "plain vector<int, 2>, PRIMARY KEY ((id)))" in cql
    assert "CREATE CUSTOM INDEX ON ks.doc (emb) USING 'StorageAttachedIndex' WITH OPTIONS = " \
           "{'similarity_function': 'cosine'}" in cql
    assert any("(near)" in c and "'euclidean'" in c for c in cql)
    assert not plan_table("ks", table_spec(Doc), live_doc(similarity_function="COSINE")).changes
    assert not plan_table("ks", table_spec(Doc), live_doc()).conflicts  # cosine is the default
    other = plan_table("ks", table_spec(Doc), live_doc(similarity_function="dot_product"))
    assert [(c.column, c.problem) for c in other.conflicts] == [("index on emb", "similarity_function differs")]
    resized = plan_table("ks", table_spec(Doc), live_doc(emb_type="vector<float, 4>"))
    assert [(c.column, c.problem) for c in resized.conflicts] == [("column emb", "type differs")]
