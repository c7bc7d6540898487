"""ModelVectorStore against the real node: LangChain's own standard vector-store tests (langchain-tests), then
what they do not cover: metadata columns and filters, relevance scores, MMR, rerank, UUID ids, refusals."""
from __future__ import annotations

import asyncio
import uuid
from typing import Iterator

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from cqlengine import columns, connection
from cqlengine.contrib.langchain import ModelVectorStore
from cqlengine.exceptions import CQLEngineException
from cqlengine.management import drop_table, sync_table
from cqlengine.models import Model
from cqlengine.query import QuerySet

SIZE = 6  # the standard tests' embedding size
pytestmark = pytest.mark.cqlengine_async  # the standard suite's async tests, each in a fresh event loop


class Chunk(Model):
    __table_name__ = "lc_chunks"
    doc_id = columns.Text(partition_key=True)
    text = columns.Text()
    embedding = columns.Vector(SIZE, index=True)
    metadata = columns.Map(columns.Text, columns.Text)
    source = columns.Text(custom_index=True)


class UuidChunk(Model):
    __table_name__ = "lc_uuid_chunks"
    chunk_id = columns.UUID(partition_key=True)
    text = columns.Text()
    embedding = columns.Vector(SIZE, index=True)


@pytest.fixture(scope="module")
def tables(cqlengine_connection) -> Iterator[None]:
    for model in (Chunk, UuidChunk):
        sync_table(model)
    yield
    for model in (Chunk, UuidChunk):
        drop_table(model)


def empty(model: type[Model]) -> None:
    connection.execute(f"TRUNCATE {model.column_family_name()}")


class TestStandardVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tables) -> Iterator[ModelVectorStore]:  # type: ignore[override]
        empty(Chunk)
        yield ModelVectorStore(Chunk, self.get_embeddings(), metadata_columns=("source",))
        empty(Chunk)


@pytest.fixture
def store(tables) -> Iterator[ModelVectorStore]:
    empty(Chunk)
    yield ModelVectorStore(Chunk, VectorStoreIntegrationTests.get_embeddings(), metadata_columns=("source",))
    empty(Chunk)


def test_metadata_columns_filter_and_every_value_keeps_its_type(store):
    ids = store.add_texts(["alpha", "beta", "gamma"],
                          metadatas=[{"source": "faq", "page": 3, "tags": ["a"]}, {"source": "blog", "ok": True},
                                     {"source": "faq", "score": 0.5, "none": None}])
    assert Chunk.get(doc_id=ids[0]).source == "faq"  # its own column, which the SAI index serves
    found = store.similarity_search("alpha", k=3, filter={"source": "faq"})
    assert [d.page_content for d in found] == ["alpha", "gamma"]
    assert found[0].metadata == {"source": "faq", "page": 3, "tags": ["a"]}
    assert found[1].metadata == {"source": "faq", "score": 0.5, "none": None}
    with pytest.raises(CQLEngineException, match="filter on 'page': filters name metadata columns"):
        store.similarity_search("alpha", filter={"page": 3})


def test_scores_are_relevances_from_0_to_1_and_rerank_passes_through(store):
    store.add_texts([f"text {i}" for i in range(20)])
    scored = store.similarity_search_with_relevance_scores("text 7", k=5)
    assert scored[0][0].page_content == "text 7" and scored[0][1] == pytest.approx(1.0)
    assert all(0 <= s <= 1 for _, s in scored) and [s for _, s in scored] == sorted((s for _, s in scored),
                                                                                    reverse=True)
    reranked = store.similarity_search_with_score("text 7", k=5, rerank=4)
    assert [d.page_content for d, _ in reranked][0] == "text 7"


def test_mmr_picks_k_of_the_nearest_and_its_async_twin_agrees(store):
    store.add_texts([f"doc {i}" for i in range(12)])
    picked = store.max_marginal_relevance_search("doc 3", k=4, fetch_k=10, lambda_mult=0.5)
    assert len(picked) == 4 and picked[0].page_content == "doc 3" and len({d.id for d in picked}) == 4
    awaited = asyncio.run(store.amax_marginal_relevance_search("doc 3", k=4, fetch_k=10, lambda_mult=0.5))
    assert [d.id for d in awaited] == [d.id for d in picked]


def test_a_uuid_keyed_model_takes_uuid_ids_and_refuses_others(tables):
    empty(UuidChunk)
    store = ModelVectorStore(UuidChunk, VectorStoreIntegrationTests.get_embeddings(), metadata=None)
    given = str(uuid.uuid4())
    ids = store.add_documents([Document(page_content="x", id=given), Document(page_content="y")])
    assert ids[0] == given and uuid.UUID(ids[1])
    assert {d.page_content for d in store.get_by_ids(ids)} == {"x", "y"}
    with pytest.raises(CQLEngineException, match="ids are UUIDs, not 'foo'"):
        store.add_texts(["z"], ids=["foo"])
    with pytest.raises(CQLEngineException, match="metadata key 'k' has no column"):
        store.add_texts(["z"], metadatas=[{"k": 1}])
    assert UuidChunk.objects.count() == 2  # nothing of the refused calls was written


def test_a_model_the_store_cannot_use_is_refused_at_once(tables):
    class NoIndex(Model):
        __table_name__ = "lc_no_index"
        doc_id = columns.Text(partition_key=True)
        text = columns.Text()
        embedding = columns.Vector(SIZE)

    with pytest.raises(CQLEngineException, match=r"NoIndex.embedding needs its index"):
        ModelVectorStore(NoIndex, VectorStoreIntegrationTests.get_embeddings(), metadata=None)
    with pytest.raises(CQLEngineException, match=r"Chunk.body \(the content\) must be a Text column"):
        ModelVectorStore(Chunk, VectorStoreIntegrationTests.get_embeddings(), text="body")


def test_the_store_writes_with_the_concurrency_it_was_given(tables, monkeypatch):
    embeddings = VectorStoreIntegrationTests.get_embeddings()
    with pytest.raises(CQLEngineException, match="concurrency must be a positive int, got 0"):
        ModelVectorStore(Chunk, embeddings, concurrency=0)
    asked: list[int] = []
    bulk_create = QuerySet.bulk_create

    def spy(self, instances, concurrency=100, **kwargs):
        asked.append(concurrency)
        return bulk_create(self, instances, concurrency, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", spy)
    empty(Chunk)
    try:
        store = ModelVectorStore(Chunk, embeddings, concurrency=2)
        ids = store.add_texts([f"slow {i}" for i in range(12)])
        assert asked == [2] and len(store.get_by_ids(ids)) == 12
    finally:
        empty(Chunk)
