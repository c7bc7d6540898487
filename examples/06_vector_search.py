"""Nearest-neighbour search: short texts embedded locally, stored as vectors, found by meaning.

The embedding is a stand-in that needs no download: each word but the most
common ones hashed to one of 64 places with a sign, the sum scaled to length
1. Texts sharing words land near each other; a language model's embedding
would also bring synonyms together.
"""
import hashlib
import math

from _demo import connect

from cqlengine import columns
from cqlengine.management import sync_table
from cqlengine.models import Model

DIMENSIONS = 64


COMMON = set("a an the i my we our to of in on by and or it is are do does how can when what yes use your from as "
             "make now under every".split())


def embed(text: str) -> list[float]:
    words = [w.strip(".,;:!?'\"").lower() for w in text.split()]
    vector = [0.0] * DIMENSIONS
    for word in (w for w in words if w and w not in COMMON):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % DIMENSIONS] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class Snippet(Model):
    __table_name__ = "snippets"
    id = columns.Integer(partition_key=True)
    source = columns.Text(custom_index=True)
    text = columns.Text()
    embedding = columns.Vector(DIMENSIONS, index=True, similarity="dot_product")  # unit vectors: as cosine


SNIPPETS = [
    ("faq", "How do I reset my password? Use the forgotten password link on the sign in page."),
    ("faq", "Can I change my email address? Yes, in the account settings page."),
    ("faq", "How do I delete my account? Write to support and we close it within a week."),
    ("docs", "The sign in page accepts a password or a one-time code sent by email."),
    ("docs", "Invoices are sent by email on the first day of every month."),
    ("docs", "Export your data as CSV from the reports page."),
    ("blog", "We moved our servers to a new region to make the reports page faster."),
    ("blog", "Our support team now answers in under an hour on weekdays."),
]

connect()
sync_table(Snippet)
for number, (source, text) in enumerate(SNIPPETS):
    Snippet.create(id=number, source=source, text=text, embedding=embed(text))

for question in ["I forgot my password", "when are invoices sent", "is the support team quick"]:
    print(f"\n{question!r}")
    for snippet, score in Snippet.objects.ann("embedding", embed(question), score=True, rerank=4).limit(3):
        print(f"  {score:.3f}  [{snippet.source}] {snippet.text}")

print("\nonly the FAQ, for 'close my account':")
for snippet, score in Snippet.objects.filter(source="faq").ann("embedding", embed("close my account"),
                                                               score=True).limit(2):
    print(f"  {score:.3f}  {snippet.text}")
