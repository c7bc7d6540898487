"""A LangChain ``VectorStore`` over a model of your own (the ``langchain`` extra)::

    class Chunk(Model):
        chunk_id = columns.Text(partition_key=True)
        text = columns.Text()
        embedding = columns.Vector(768, index=True)
        metadata = columns.Map(columns.Text, columns.Text)
        source = columns.Text(custom_index=True)       # a metadata key that filters may name

    store = ModelVectorStore(Chunk, embeddings, metadata_columns=("source",))
    store.add_texts(["..."], metadatas=[{"source": "faq", "page": 3}])
    store.similarity_search("how do I ...", k=4, filter={"source": "faq"})

The model needs one primary-key column (the document's id: ``Text``, or
``UUID`` when every id given is one), a ``Text`` column for the content and
a ``Vector`` column with its Storage-Attached Index (``index=True``), whose
similarity function ranks the results. A document's metadata goes to the
``metadata_columns`` named (one column per key, which filters can name when
the column is indexed) and the rest to a ``Map(Text, Text)`` column
(``metadata=``), each value JSON-encoded so that it reads back with its type
(an ``int`` stays an ``int``); a key with neither is refused.

Writes go through the bulk API (``bulk_create``, ``bulk_delete``; at most
``concurrency`` in flight, 100 unless given), reads
through ``ann()`` (with ``rerank=`` passed through for a better recall);
the ``a``-prefixed methods use the asyncio API. Scores are the similarity
Cassandra computes (``similarity_<function>``): from 0 to 1, greater is
nearer, which is also what ``similarity_search_with_relevance_scores``
returns. ``max_marginal_relevance_search`` fetches ``fetch_k`` neighbours
with their vectors and picks ``k`` of them with LangChain's MMR.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from cqlengine import columns
from cqlengine.bulk import DEFAULT_CONCURRENCY
from cqlengine.exceptions import CQLEngineException, check_positive_int
from cqlengine.models import Model
from cqlengine.query import QuerySet

__all__ = ["ModelVectorStore"]


class ModelVectorStore(VectorStore):
    """LangChain's vector store interface over the rows of ``model`` (see the module docstring)."""

    def __init__(self, model: type[Model], embedding: Embeddings, *, text: str = "text",
                 vector: str = "embedding", metadata: Optional[str] = "metadata",
                 metadata_columns: Sequence[str] = (), rerank: Optional[int] = None,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.model, self.embedding, self.rerank = model, embedding, rerank
        check_positive_int(concurrency, "ModelVectorStore: concurrency")
        #: The writes in flight when documents are added (Cassandra 5.0's vector index takes a few at once
        #: on a small node: see the vectors guide, "Writing many vectors at once").
        self.concurrency = concurrency
        cols = model._columns
        keys = list(model._primary_keys)
        if len(keys) != 1:
            raise CQLEngineException(f"ModelVectorStore: {model.__name__} has {len(keys)} primary-key columns; "
                                     "a document is found by one id")
        self.id_attr = keys[0]
        self._uuid_ids = isinstance(cols[self.id_attr], columns.UUID)
        if not isinstance(cols[self.id_attr], (columns.Text, columns.UUID)):
            raise CQLEngineException(f"ModelVectorStore: {model.__name__}.{self.id_attr} must be Text or UUID "
                                     "to hold a document id")
        self.text_attr = _checked(model, text, columns.Text, "the content")
        self.vector_attr = _checked(model, vector, columns.Vector, "the embedding")
        if not cols[vector].custom_index:
            raise CQLEngineException(f"ModelVectorStore: {model.__name__}.{vector} needs its index "
                                     "(Vector(..., index=True)): the search goes through it")
        self.metadata_attr = None if metadata is None else _checked(model, metadata, columns.Map, "the metadata")
        self.metadata_columns = tuple(metadata_columns)
        for name in self.metadata_columns:
            if name not in cols or name in (self.id_attr, text, vector, metadata):
                raise CQLEngineException(f"ModelVectorStore: metadata column {name!r} is not a free column of "
                                         f"{model.__name__}")

    @property
    def embeddings(self) -> Embeddings:
        """The embedding model the store embeds texts and queries with."""
        return self.embedding

    # -- documents to rows and back -------------------------------------------------------

    def _id(self, given: Optional[str]) -> Any:
        if given is None:
            return uuid.uuid4() if self._uuid_ids else str(uuid.uuid4())
        if self._uuid_ids:
            try:
                return uuid.UUID(str(given))
            except ValueError:
                raise CQLEngineException(f"ModelVectorStore: {self.model.__name__} ids are UUIDs, not "
                                         f"{given!r}") from None
        return str(given)

    def _row(self, text: str, vector: list[float], metadata: Optional[dict[str, Any]], doc_id: Any) -> Model:
        values: dict[str, Any] = {self.id_attr: doc_id, self.text_attr: text, self.vector_attr: list(vector)}
        rest: dict[str, str] = {}
        for key, value in (metadata or {}).items():
            if key in self.metadata_columns:
                values[key] = value
            elif self.metadata_attr is not None:
                rest[key] = json.dumps(value)
            else:
                raise CQLEngineException(f"ModelVectorStore: metadata key {key!r} has no column in "
                                         f"{self.model.__name__} (and no metadata map)")
        if self.metadata_attr is not None:
            values[self.metadata_attr] = rest
        return self.model(**values)

    def _document(self, row: Model) -> Document:
        metadata: dict[str, Any] = {}
        if self.metadata_attr is not None:
            metadata.update({k: json.loads(v) for k, v in (getattr(row, self.metadata_attr) or {}).items()})
        for name in self.metadata_columns:
            value = getattr(row, name)
            if value is not None:
                metadata[name] = value
        return Document(page_content=getattr(row, self.text_attr) or "", metadata=metadata,
                        id=str(getattr(row, self.id_attr)))

    def _rows(self, texts: Iterable[str], metadatas: Optional[list[dict[str, Any]]],
              ids: Optional[Sequence[Optional[str]]], vectors: list[list[float]]) -> list[Model]:
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        return [self._row(text, vector, metadatas[i] if metadatas else None, self._id(ids[i] if ids else None))
                for i, (text, vector) in enumerate(zip(texts, vectors))]

    # -- writes ---------------------------------------------------------------------------

    def add_texts(self, texts: Iterable[str], metadatas: Optional[list[dict[str, Any]]] = None, *,
                  ids: Optional[list[str]] = None, **kwargs: Any) -> list[str]:
        """Embed ``texts`` and write them as rows (``bulk_create``); their ids (given, else new)."""
        texts = list(texts)
        rows = self._rows(texts, metadatas, ids, self.embedding.embed_documents(texts))
        self.model.objects.bulk_create(rows, concurrency=self.concurrency)
        return [str(getattr(row, self.id_attr)) for row in rows]

    async def aadd_texts(self, texts: Iterable[str], metadatas: Optional[list[dict[str, Any]]] = None, *,
                         ids: Optional[list[str]] = None, **kwargs: Any) -> list[str]:
        """``add_texts()`` on the asyncio API."""
        texts = list(texts)
        rows = self._rows(texts, metadatas, ids, await self.embedding.aembed_documents(texts))
        await self.model.objects.abulk_create(rows, concurrency=self.concurrency)
        return [str(getattr(row, self.id_attr)) for row in rows]

    def _keyed(self, ids: Optional[list[str]]) -> list[Model]:
        if ids is None:
            raise CQLEngineException("ModelVectorStore.delete: name the ids to delete (deleting every row of "
                                     f"{self.model.__name__} is a TRUNCATE, left to you)")
        return [self.model(**{self.id_attr: self._id(i)}) for i in ids]

    def delete(self, ids: Optional[list[str]] = None, **kwargs: Any) -> Optional[bool]:
        """Delete the rows of ``ids`` (``bulk_delete``); without ids, refused."""
        self.model.objects.bulk_delete(self._keyed(ids), concurrency=self.concurrency)
        return True

    async def adelete(self, ids: Optional[list[str]] = None, **kwargs: Any) -> Optional[bool]:
        """``delete()`` on the asyncio API."""
        await self.model.objects.abulk_delete(self._keyed(ids), concurrency=self.concurrency)
        return True

    # -- reads ----------------------------------------------------------------------------

    def _by_ids(self, ids: Sequence[str]) -> QuerySet[Any]:
        return self.model.objects.filter(**{f"{self.id_attr}__in": list({self._id(i) for i in ids})})

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents of ``ids`` that exist (missing ones are left out)."""
        return [self._document(row) for row in self._by_ids(ids)] if ids else []

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """``get_by_ids()`` on the asyncio API."""
        return [self._document(row) async for row in self._by_ids(ids)] if ids else []

    def _nearest(self, vector: list[float], k: int, filter: Optional[dict[str, Any]],
                 rerank: Optional[int]) -> QuerySet[Any]:
        queryset = self.model.objects.all()
        for key, value in (filter or {}).items():
            if key not in self.metadata_columns:
                raise CQLEngineException(f"ModelVectorStore: filter on {key!r}: filters name metadata columns "
                                         f"({', '.join(self.metadata_columns) or 'none declared'})")
            queryset = queryset.filter(**{key: value})
        return queryset.ann(self.vector_attr, list(vector), rerank=rerank if rerank is not None else self.rerank,
                            score=True).limit(k)

    def similarity_search_with_score_by_vector(self, embedding: list[float], k: int = 4,
                                               filter: Optional[dict[str, Any]] = None,
                                               rerank: Optional[int] = None,
                                               **kwargs: Any) -> list[tuple[Document, float]]:
        """The ``k`` rows nearest ``embedding`` (matching ``filter``), with their similarity."""
        return [(self._document(row), float(score)) for row, score in self._nearest(embedding, k, filter, rerank)]

    async def asimilarity_search_with_score_by_vector(self, embedding: list[float], k: int = 4,
                                                      filter: Optional[dict[str, Any]] = None,
                                                      rerank: Optional[int] = None,
                                                      **kwargs: Any) -> list[tuple[Document, float]]:
        """``similarity_search_with_score_by_vector()`` on the asyncio API."""
        return [(self._document(row), float(score))
                async for row, score in self._nearest(embedding, k, filter, rerank)]

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest ``query``, with their similarity (0 to 1, greater is nearer)."""
        return self.similarity_search_with_score_by_vector(self.embedding.embed_query(query), k, **kwargs)

    async def asimilarity_search_with_score(self, query: str, k: int = 4,
                                            **kwargs: Any) -> list[tuple[Document, float]]:
        """``similarity_search_with_score()`` on the asyncio API."""
        return await self.asimilarity_search_with_score_by_vector(await self.embedding.aembed_query(query), k,
                                                                  **kwargs)

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """The ``k`` documents nearest ``query`` (``filter=``, ``rerank=`` as for the scored search)."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """``similarity_search()`` on the asyncio API."""
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        """The ``k`` documents nearest ``embedding``."""
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                           **kwargs: Any) -> list[Document]:
        """``similarity_search_by_vector()`` on the asyncio API."""
        return [doc for doc, _ in await self.asimilarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda score: score  # Cassandra's similarity is already 0 (far) to 1 (near)

    def _mmr(self, query: list[float], rows: list[tuple[Any, float]], k: int, lambda_mult: float) -> list[Document]:
        import numpy as np

        if not rows:
            return []
        vectors = [list(getattr(row, self.vector_attr)) for row, _ in rows]
        chosen = maximal_marginal_relevance(np.array(query, dtype=np.float32), vectors, lambda_mult=lambda_mult,
                                            k=k)
        return [self._document(rows[i][0]) for i in chosen]

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                      filter: Optional[dict[str, Any]] = None, **kwargs: Any) -> list[Document]:
        """``k`` documents picked by MMR among the ``fetch_k`` nearest ``query``."""
        vector = self.embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, filter=filter, **kwargs)

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                lambda_mult: float = 0.5, filter: Optional[dict[str, Any]] = None,
                                                rerank: Optional[int] = None, **kwargs: Any) -> list[Document]:
        """``k`` documents picked by MMR among the ``fetch_k`` nearest ``embedding``."""
        rows = list(self._nearest(embedding, max(k, fetch_k), filter, rerank))
        return self._mmr(embedding, rows, k, lambda_mult)

    async def amax_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                             lambda_mult: float = 0.5, filter: Optional[dict[str, Any]] = None,
                                             rerank: Optional[int] = None, **kwargs: Any) -> list[Document]:
        """``max_marginal_relevance_search()`` on the asyncio API."""
        vector = await self.embedding.aembed_query(query)
        rows = [pair async for pair in self._nearest(vector, max(k, fetch_k), filter, rerank)]
        return self._mmr(vector, rows, k, lambda_mult)

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: Optional[list[dict[str, Any]]] = None,
                   *, ids: Optional[list[str]] = None, model: Optional[type[Model]] = None,
                   **kwargs: Any) -> ModelVectorStore:
        """A store over ``model`` (required) holding ``texts``."""
        if model is None:
            raise CQLEngineException("ModelVectorStore.from_texts: pass model=, the model whose rows hold them")
        store = cls(model, embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _checked(model: type[Model], name: str, kind: type, role: str) -> str:
    col = model._columns.get(name)
    if not isinstance(col, kind):
        raise CQLEngineException(f"ModelVectorStore: {model.__name__}.{name} ({role}) must be a "
                                 f"{kind.__name__} column" + ("" if col is not None else ", and there is none"))
    return name
