"""Queries and paging: filters, ordering, laziness, iterator(), page() and cursors."""
from cqlengine import columns, connection
from cqlengine.exceptions import QueryException
from cqlengine.functions import Token
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model

# -- setup
connection.setup(["127.0.0.1"], default_keyspace="docs_queries")
create_keyspace_simple("docs_queries", replication_factor=1)


class Reading(Model):
    __table_name__ = "readings"
    sensor = columns.Text(partition_key=True)
    seq = columns.Integer(primary_key=True, clustering_order="DESC")
    value = columns.Double()
    unit = columns.Text(index=True)
    note = columns.Text()


sync_table(Reading)
for sensor in ("s1", "s2", "s3"):
    for seq in range(50):
        Reading.create(sensor=sensor, seq=seq, value=seq / 2, unit="C" if seq % 2 else "F", note=f"#{seq}")
# -- end setup

# -- filtering
in_range = Reading.objects(sensor="s1", seq__gte=10, seq__lt=20)
assert sorted(r.seq for r in in_range) == list(range(10, 20))

# The same query with column expressions.
same = Reading.objects(Reading.sensor == "s1", Reading.seq >= 10, Reading.seq < 20)
assert [r.seq for r in same] == [r.seq for r in in_range]

# IN on the partition key, and on the last clustering column.
assert Reading.objects(sensor__in=["s1", "s2"], seq__in=[1, 2]).count() == 4

# An indexed column may be filtered on alone.
assert Reading.objects(unit="C").count() == 75

# Values are bound, never formatted into the CQL text.
cql, params = in_range.render()
print(cql)
print(params)
assert "'s1'" not in cql and params[0] == "s1"
# -- end filtering

# -- allow filtering
try:
    Reading.objects(note="#3").count()  # refused before anything is sent
except QueryException as exc:
    print("refused:", exc)
else:
    raise AssertionError("a filter on an unindexed column needs allow_filtering()")
assert Reading.objects(note="#3").allow_filtering().count() == 3
# -- end allow filtering

# -- token
# Partitions in token order: the partition key takes only = and IN, its token takes ranges.
first = Reading.objects.distinct().limit(1)[0]
after = Reading.objects(pk__token__gt=Token(first.sensor)).distinct()
assert first.sensor not in {r.sensor for r in after}
assert len(after) == 2
# -- end token

# -- ordering
newest_first = [r.seq for r in Reading.objects(sensor="s1").limit(3)]  # clustering_order="DESC"
oldest_first = [r.seq for r in Reading.objects(sensor="s1").order_by("seq").limit(3)]
assert newest_first == [49, 48, 47]
assert oldest_first == [0, 1, 2]
# -- end ordering

# -- selection
values = Reading.objects(sensor="s1", seq__lt=3).values_list("seq", "value")
assert list(values) == [[2, 1.0], [1, 0.5], [0, 0.0]]
seqs = Reading.objects(sensor="s1", seq__lt=3).values_list("seq", flat=True)
assert list(seqs) == [2, 1, 0]

light = Reading.objects(sensor="s1", seq=1).only("sensor", "seq", "value").get()
assert light.value == 0.5 and light.note is None  # note was not read
without_note = Reading.objects(sensor="s1", seq=1).defer("note").get()
assert without_note.unit == "C" and without_note.note is None
# -- end selection

# -- get and first
reading = Reading.get(sensor="s1", seq=7)
assert reading.note == "#7"
assert Reading.objects(sensor="s1").first().seq == 49
assert Reading.objects(sensor="nobody").first() is None
try:
    Reading.get(sensor="s1", seq=1000)
except Reading.DoesNotExist:
    print("no such reading")
try:
    Reading.objects(sensor="s1").get()
except Reading.MultipleObjectsReturned:
    print("more than one reading")
# -- end get and first

# -- laziness
stats = connection.get_connection().stats
before = stats.executed
qs = Reading.objects(sensor="s2").filter(seq__lt=10).order_by("seq")  # nothing sent yet
assert stats.executed == before
rows = list(qs)  # the query runs here
assert stats.executed == before + 1
again = [r.seq for r in qs]  # read from the queryset's cache
assert stats.executed == before + 1 and len(rows) == len(again) == 10
fresh = qs.all()  # a new queryset: runs again when it is read
assert len(fresh) == 10 and stats.executed == before + 2
# -- end laziness

# -- fetch size
big = Reading.objects(sensor="s3").fetch_size(20)
total = sum(1 for _ in big.iterator())  # keeps no rows: one page in memory at a time
assert total == 50 and big.pages_fetched == 3
# -- end fetch size

# -- pages
query = Reading.objects(sensor="s3").order_by("seq")
page = query.page(20)
assert [r.seq for r in page] == list(range(20))
token = page.cursor  # a str: hand it to the client
assert isinstance(token, str)

# Later, in another request: rebuild the same query and resume with the client's cursor.
page = Reading.objects(sensor="s3").order_by("seq").page(20, cursor=token)
assert [r.seq for r in page] == list(range(20, 40))
page = Reading.objects(sensor="s3").order_by("seq").page(20, cursor=page.cursor)
assert [r.seq for r in page] == list(range(40, 50))
assert page.cursor is None  # the last page
# -- end pages

# -- bad cursors
damaged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
for bad in (damaged, token[:10], "not a cursor!"):
    try:
        query.page(20, cursor=bad)
    except QueryException as exc:
        print("refused:", exc)
    else:
        raise AssertionError(f"{bad!r} was accepted")
try:
    Reading.objects(sensor="s2").order_by("seq").page(20, cursor=token)  # another query's cursor
except QueryException as exc:
    print("refused:", exc)
else:
    raise AssertionError("a cursor of another query was accepted")
# -- end bad cursors

# -- timeouts
assert Reading.objects(sensor="s1").timeout(5.0).count() == 50  # seconds, for every page
assert Reading.objects(sensor="s1").timeout(None).count() == 50  # no limit at all
# -- end timeouts
print("ok")
