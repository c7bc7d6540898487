"""Semantic search over a small document table: a vector column, its ANN index, scores and re-ranking."""
import asyncio
import hashlib
import math

from cqlengine import columns, connection
from cqlengine.ann import similarity
from cqlengine.exceptions import QueryException, ValidationError
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model

DIMENSIONS = 64


def embed(text):
    """A deterministic local embedding: each word hashed to one of 64 places, with a sign; length 1."""
    vector = [0.0] * DIMENSIONS
    for word in text.lower().split():
        digest = hashlib.blake2b(word.strip(".,?!").encode(), digest_size=2).digest()
        vector[digest[0] % DIMENSIONS] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class Document(Model):
    __table_name__ = "documents"
    id = columns.Integer(partition_key=True)
    topic = columns.Text(custom_index=True)
    text = columns.Text()
    embedding = columns.Vector(DIMENSIONS, index=True, similarity="cosine")


connection.setup(["127.0.0.1"], default_keyspace="docs_vectors")
create_keyspace_simple("docs_vectors", replication_factor=1)
sync_table(Document)

# [documents]
DOCUMENTS = [
    ("garden", "Water a cactus once a month in summer and hardly at all in winter"),
    ("garden", "Tomatoes want full sun, rich soil and water every other day"),
    ("garden", "Prune roses in early spring, just above an outward facing bud"),
    ("kitchen", "Rest a steak for five minutes before you cut it"),
    ("kitchen", "Toast the rice in the pan before the stock goes in"),
    ("kitchen", "A pinch of salt makes a chocolate cake taste of more chocolate"),
    ("bikes", "Pump the tyres to the pressure printed on their side"),
    ("bikes", "Oil the chain after a ride in the rain, then wipe it dry"),
]
for number, (topic, text) in enumerate(DOCUMENTS):
    Document.create(id=number, topic=topic, text=text, embedding=embed(text))
# [/documents]

# [nearest]
query = embed("how often should I water my cactus")
nearest = list(Document.objects.ann("embedding", query).limit(3))
print([doc.text for doc in nearest])
assert "cactus" in nearest[0].text
# [/nearest]

# [scores]
for doc, score in Document.objects.ann("embedding", query, score=True).limit(3):
    print(f"{score:.3f} {doc.text}")
    assert abs(score - similarity("cosine", doc.embedding, query)) < 1e-5
# [/scores]

# [filters]
in_the_kitchen = Document.objects.filter(topic="kitchen").ann("embedding", embed("salt in a cake")).limit(1)
assert "chocolate" in in_the_kitchen.first().text
# [/filters]

# [rerank]
reranked = Document.objects.ann("embedding", query, rerank=4, score=True).limit(3)
assert [doc.id for doc, _ in reranked] == [doc.id for doc, _ in
                                           sorted(reranked, key=lambda pair: -pair[1])]
# [/rerank]

# [async]
async def search(text):
    return [doc.id async for doc in Document.objects.ann("embedding", embed(text)).limit(2)]

assert asyncio.run(search("oil the bike chain"))[0] == 7
# [/async]

# [refused]
try:
    list(Document.objects.ann("embedding", query))
except QueryException as exc:
    print(exc)  # Document: ann() needs a limit() (Cassandra requires one for ANN, at most 1000)
try:
    Document.objects.ann("embedding", [1.0, 0.0])
except ValidationError as exc:
    print(exc)  # Document.embedding: 2 element(s) given, but vector<float, 64> holds exactly 64
# [/refused]
print("ok")
