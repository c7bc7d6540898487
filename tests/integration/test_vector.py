"""Vector columns and ANN queries against the real server: round trips, recall against brute force, scores."""
from __future__ import annotations

import asyncio
import math
import random

import numpy
import pytest

from cqlengine import columns, connection, management
from cqlengine.ann import similarity
from cqlengine.exceptions import QueryException, ValidationError
from cqlengine.management import SchemaMismatch
from cqlengine.models import Model

ROWS, DIM, QUERIES, K = 5000, 32, 20, 10
#: Writes in flight to a vector-indexed table: Cassandra 5.0 fails a write when more than a few (3 on a
#: node of 2 cores) reach one vector index at once ("outstanding pooled objects ... beyond the limit").
#: The node the tests start applies two mutations at a time (concurrent_writes); a node named by
#: CQLENGINE_TEST_HOSTS may not, so the module's own loads stay this low.
WRITERS = 2


class Shapes(Model):
    """Vectors of 1, 3 and 1 536 elements (no index), and one of ints."""
    __table_name__ = "vec_shapes"
    id = columns.Integer(partition_key=True)
    one = columns.Vector(1)
    three = columns.Vector(3)
    wide = columns.Vector(1536)
    ints = columns.Vector(2, columns.Integer)


class Item(Model):
    __table_name__ = "vec_items"
    id = columns.Integer(partition_key=True)
    shelf = columns.Integer(custom_index=True)
    embedding = columns.Vector(DIM, index=True)


class Near(Model):
    """The same vectors indexed by euclidean distance, in partitions of 100."""
    __table_name__ = "vec_near"
    part = columns.Integer(partition_key=True)
    id = columns.Integer(primary_key=True)
    embedding = columns.Vector(DIM, index=True, similarity="euclidean")


@pytest.fixture(scope="module")
def vectors(cqlengine_connection):
    for model in (Shapes, Item, Near):
        management.sync_table(model)
    rng = numpy.random.default_rng(7)
    data = rng.uniform(-1, 1, size=(ROWS, DIM)).astype(numpy.float32)  # what the server stores, exactly
    Item.objects.bulk_create([Item(id=i, shelf=i % 10, embedding=data[i]) for i in range(ROWS)], concurrency=WRITERS)
    Near.objects.bulk_create([Near(part=i % 50, id=i, embedding=data[i]) for i in range(ROWS)], concurrency=WRITERS)
    return data


def test_vectors_round_trip_whatever_their_size_and_form(vectors):
    wide = [random.Random(1).uniform(-1, 1) for _ in range(1536)]
    Shapes.create(id=1, one=[0.5], three=(1, 2, 3), wide=wide, ints=[7, -8])
    Shapes.create(id=2, one=numpy.array([2.5], dtype=numpy.float32), three=numpy.arange(3.0),
                  wide=numpy.asarray(wide), ints=numpy.array([1, 2]))
    first, second = Shapes.get(id=1), Shapes.get(id=2)
    assert first.one == [0.5] and first.three == [1.0, 2.0, 3.0] and first.ints == [7, -8]
    assert first.wide == pytest.approx(wide, rel=1e-6)  # float: single precision
    assert all(type(x) is float for x in first.wide)
    assert (second.one, second.three, second.ints) == ([2.5], [0.0, 1.0, 2.0], [1, 2])
    first.update(three=[4, 5, 6])
    assert Shapes.get(id=1).three == [4.0, 5.0, 6.0]


def test_bad_vectors_are_refused_before_anything_is_sent(vectors):
    stats = connection.get_connection().stats
    executed = stats.executed
    with pytest.raises(ValidationError, match=r"Shapes\.three: 2 element\(s\) given, but vector<float, 3> holds "
                                              r"exactly 3"):
        Shapes.create(id=3, three=[1, 2])
    with pytest.raises(ValidationError, match=r"Shapes\.three\[1\]: nan"):
        Shapes.create(id=3, three=[1, math.nan, 2])
    with pytest.raises(ValidationError, match=r"Item\.embedding: 3 element"):
        Item.objects.ann("embedding", [1, 2, 3]).limit(3)
    with pytest.raises(QueryException, match="needs a limit"):
        list(Item.objects.ann("embedding", vectors[0]))
    assert stats.executed == executed
    assert Shapes.objects(id=3).count() == 0


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return sum(len(set(f) & set(t)) for f, t in zip(found, truth)) / sum(len(t) for t in truth)


def test_ann_recall_against_brute_force_and_rerank(vectors):
    rng = numpy.random.default_rng(11)
    queries = rng.uniform(-1, 1, size=(QUERIES, DIM)).astype(numpy.float32)
    unit = vectors / numpy.linalg.norm(vectors, axis=1, keepdims=True)
    truth = []
    for q in queries:
        cosines = unit @ (q / numpy.linalg.norm(q))
        truth.append([int(i) for i in numpy.argsort(-cosines)[:K]])
    plain = [[item.id for item in Item.objects.ann("embedding", q).limit(K)] for q in queries]
    reranked = [[item.id for item in Item.objects.ann("embedding", q, rerank=4).limit(K)] for q in queries]
    plain_recall, rerank_recall = recall(plain, truth), recall(reranked, truth)
    print(f"\nrecall@{K} over {ROWS} vectors of {DIM} dimensions, {QUERIES} queries: ann {plain_recall:.3f}, "
          f"ann rerank=4 {rerank_recall:.3f}")
    assert all(len(ids) == K for ids in plain + reranked)
    assert rerank_recall >= 0.95 and rerank_recall >= plain_recall


def test_scores_are_the_similarity_in_python_and_rank_the_results(vectors):
    query = vectors[17] * 0.5 + vectors[23] * 0.5
    results = list(Item.objects.ann("embedding", query, score=True, rerank=3).limit(K))
    assert len(results) == K
    for item, score in results:
        assert score == pytest.approx(similarity("cosine", item.embedding, query.tolist()), abs=1e-5)
    scores = [score for _, score in results]
    assert scores == sorted(scores, reverse=True)
    exact = Item.objects.ann("embedding", vectors[42], score=True).limit(1).first()
    assert exact[0].id == 42 and exact[1] == pytest.approx(1.0, abs=1e-6)
    far = list(Near.objects.ann("embedding", vectors[5], score=True).limit(3))
    assert far[0][0].id == 5 and far[0][1] == pytest.approx(1.0)  # euclidean: 1 / (1 + 0)
    assert far[1][1] == pytest.approx(similarity("euclidean", far[1][0].embedding, vectors[5].tolist()), abs=1e-5)


def test_ann_combines_with_a_partition_key_and_indexed_filters(vectors):
    in_part = list(Near.objects(part=7).ann("embedding", vectors[0]).limit(5))
    assert len(in_part) == 5 and {n.part for n in in_part} == {7}
    on_shelf = list(Item.objects.filter(shelf=3).ann("embedding", vectors[3]).limit(5))
    assert len(on_shelf) == 5 and {i.shelf for i in on_shelf} == {3} and on_shelf[0].id == 3
    assert Item.objects.ann("embedding", vectors[3]).limit(7).count() == 7
    ids = Item.objects.values_list("id", flat=True).ann("embedding", vectors[9], score=True).limit(2)
    assert [pair[0] for pair in ids][0] == 9


def test_async_twins_return_the_same(vectors):
    query = vectors[100]

    async def main():
        plain = [i.id async for i in Item.objects.ann("embedding", query).limit(5)]
        scored = await Item.objects.ann("embedding", query, score=True, rerank=2).limit(5).aall()
        return plain, scored

    plain, scored = asyncio.run(main())
    assert plain == [i.id for i in Item.objects.ann("embedding", query).limit(5)]
    assert [(i.id, s) for i, s in scored] == [(i.id, s) for i, s in
                                              Item.objects.ann("embedding", query, score=True, rerank=2).limit(5)]


def test_sync_table_is_idempotent_and_refuses_a_dimension_or_similarity_change(vectors):
    again = management.sync_table(Item)
    assert not again.changes and not again.conflicts

    class Resized(Model):
        __table_name__ = "vec_items"
        id = columns.Integer(partition_key=True)
        shelf = columns.Integer(custom_index=True)
        embedding = columns.Vector(DIM + 1, index=True)

    class Rescored(Model):
        __table_name__ = "vec_items"
        id = columns.Integer(partition_key=True)
        shelf = columns.Integer(custom_index=True)
        embedding = columns.Vector(DIM, index=True, similarity="dot_product")

    with pytest.raises(SchemaMismatch, match="type differs"):
        management.sync_table(Resized)
    with pytest.raises(SchemaMismatch, match="similarity_function differs"):
        management.sync_table(Rescored)


def test_a_named_table_reads_vectors_and_searches_them(vectors, cqlengine_connection):
    from cqlengine.named import NamedTable

    table = NamedTable(cqlengine_connection.default_keyspace, "vec_items")
    column = table.model()._columns["embedding"]
    assert isinstance(column, columns.Vector) and column.cql_type() == f"vector<float, {DIM}>"
    assert column.similarity == "cosine"
    found = list(table.objects.ann("embedding", vectors[8], score=True).limit(1))
    assert found[0][0].id == 8 and found[0][1] == pytest.approx(1.0, abs=1e-6)


class Loaded(Model):
    __table_name__ = "vec_loaded"
    id = columns.Integer(partition_key=True)
    embedding = columns.Vector(8, index=True)


def test_the_node_the_tests_start_takes_a_vector_load_at_full_concurrency(cqlengine_connection):
    """Its cassandra.yaml keeps the mutations applied at once under the vector index's limit (2224 of these
    3000 writes failed with WriteFailure on a 2-core node without it)."""
    management.sync_table(Loaded)
    try:
        rng = random.Random(3)
        Loaded.objects.bulk_create([Loaded(id=i, embedding=[rng.uniform(-1, 1) for _ in range(8)])
                                    for i in range(3000)], concurrency=100)
        assert Loaded.objects.count() == 3000
    finally:
        management.drop_table(Loaded)
