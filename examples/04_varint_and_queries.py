"""VarInt beyond 64 bits, and a tour of the QuerySet."""
from _demo import connect

from cqlengine import columns
from cqlengine.management import sync_table
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class VarIntDemo(Model):
    row_id = columns.Integer(primary_key=True)
    bignum = columns.VarInt()


class Reading(Model):
    sensor = columns.Text(partition_key=True)
    seq = columns.Integer(primary_key=True, clustering_order="DESC")
    value = columns.Double()
    tags = columns.Set(columns.Text)


connect()
sync_table(VarIntDemo)
sync_table(Reading)

big = 2**200 + 12345
VarIntDemo.create(row_id=1, bignum=big)
VarIntDemo.create(row_id=2, bignum=-big)
print("VarInt round trip:", VarIntDemo.get(row_id=1).bignum == big, VarIntDemo.get(row_id=2).bignum == -big)

with BatchQuery(batch_type="UNLOGGED") as batch:
    for seq in range(25):
        Reading.batch(batch).create(sensor="s1", seq=seq, value=seq / 10, tags={"demo"})
print("25 readings written in one batch")

latest = Reading.objects(sensor="s1").limit(3)
print("latest three (clustering DESC):", [r.seq for r in latest])
ascending = Reading.objects(sensor="s1", seq__gte=20).order_by("seq").values_list("seq", flat=True)
print("ascending, seq >= 20:", list(ascending))
print("count:", Reading.objects(sensor="s1").count())
page = Reading.objects(sensor="s1").page(10)
print("first page:", [r.seq for r in page], "more:", page.paging_state is not None)
page = Reading.objects(sensor="s1").page(10, page.paging_state)
print("second page:", [r.seq for r in page])
Reading.objects(sensor="s1", seq=0).update(tags__add={"first"})
print("tags of seq 0:", sorted(Reading.get(sensor="s1", seq=0).tags))
print("the CQL of a query:", Reading.objects(sensor="s1", seq__lt=5))
