"""Nearest-neighbour search: short texts embedded locally, stored as vectors, found by meaning.

The embedding needs no download: each word but the most common ones, and
each run of three letters in it, is hashed to one of 256 places with a sign;
the sum is scaled to length 1. Texts that share words or word stems
("forgot", "forgotten") land near each other, and unrelated ones apart; a
language model's embedding would also bring synonyms together.
"""
import hashlib
import math

from _demo import connect

from cqlengine import columns
from cqlengine.management import sync_table
from cqlengine.models import Model

DIMENSIONS = 256


COMMON = set("a an the i my we our to of in on by and or it is are do does how can when what yes use your from as "
             "make now under every".split())


def _place(feature: str) -> tuple[int, float]:
    digest = hashlib.sha256(feature.encode()).digest()
    return int.from_bytes(digest[:4], "big") % DIMENSIONS, 1.0 if digest[4] & 1 else -1.0


def embed(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in (w.strip(".,;:!?'\"").lower() for w in text.split()):
        if not word or word in COMMON:
            continue
        padded = f"<{word}>"
        features = [(word, 2.0)] + [(padded[i:i + 3], 1.0) for i in range(len(padded) - 2)]
        for feature, weight in features:
            place, sign = _place(feature)
            vector[place] += sign * weight
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class Snippet(Model):
    __table_name__ = "snippet_texts"  # 256 dimensions (an earlier demo kept 64 in "snippets")
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

for question in ["I forgot my password", "when is my invoice sent", "how fast does support answer"]:
    print(f"\n{question!r}")
    for snippet, score in Snippet.objects.ann("embedding", embed(question), score=True, rerank=4).limit(3):
        print(f"  {score:.2f}  [{snippet.source}] {snippet.text}")

print("\nonly the FAQ, for 'close my account':")
for snippet, score in Snippet.objects.filter(source="faq").ann("embedding", embed("close my account"),
                                                               score=True).limit(2):
    print(f"  {score:.2f}  {snippet.text}")
