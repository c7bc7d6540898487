"""asyncio: the a-prefixed twins of reads and writes, batches, bulk writes, a handler, cancellation."""
import asyncio
import uuid

from cassandra import OperationTimedOut

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model
from cqlengine.query import BatchQuery, LWTException


class Note(Model):
    owner = columns.UUID(partition_key=True)
    seq = columns.Integer(primary_key=True)
    body = columns.Text()


# Blocking set-up, once, before the event loop runs.
connection.setup(["127.0.0.1"], default_keyspace="docs_async")
create_keyspace_simple("docs_async", replication_factor=1)
sync_table(Note)
owner = uuid.uuid4()  # the partition the examples below write to


# [basics]
async def basics(owner):
    note = await Note.acreate(owner=owner, seq=1, body="first")       # INSERT
    got = await Note.objects.aget(owner=owner, seq=1)                  # reads go through objects
    assert got == note

    await note.aupdate(body="edited")                                  # UPDATE of the changed column
    note.body = "saved"
    await note.asave()
    await Note.objects(owner=owner, seq=1).aupdate(body="from a queryset")

    await asyncio.gather(*(Note.acreate(owner=owner, seq=i) for i in range(2, 26)))
    assert await Note.objects(owner=owner).acount() == 25
    assert (await Note.objects(owner=owner).afirst()).body == "from a queryset"

    qs = Note.objects(owner=owner).fetch_size(10)
    seqs = []
    async for n in qs:                                                 # pages fetched as consumed
        seqs.append(n.seq)
        if len(seqs) == 10:
            assert qs.pages_fetched == 1
    assert seqs == list(range(1, 26)) and qs.pages_fetched == 3
    assert len(await Note.objects(owner=owner).aall()) == 25

    first = await Note.objects(owner=owner).apage(10)                  # web pagination
    second = await Note.objects(owner=owner).apage(10, cursor=first.cursor)
    assert [n.seq for n in second] == list(range(11, 21))

    try:
        await Note.if_not_exists().acreate(owner=owner, seq=1, body="again")
        raise AssertionError("not refused")
    except LWTException as refused:
        assert refused.existing["body"] == "from a queryset"

    await note.adelete()
    await Note.objects(owner=owner).adelete()
    assert await Note.objects(owner=owner).acount() == 0


asyncio.run(basics(owner))  # a script's one entry into the event loop
# [/basics]


# [batch-bulk]
async def batch_and_bulk(owner):
    async with BatchQuery() as b:                  # sent with aexecute() when the block ends
        await Note.batch(b).acreate(owner=owner, seq=1, body="a")
        await Note.batch(b).acreate(owner=owner, seq=2, body="b")
        assert await Note.objects(owner=owner).acount() == 0
    assert await Note.objects(owner=owner).acount() == 2

    notes = await Note.objects.abulk_create(
        [{"owner": owner, "seq": i, "body": "bulk"} for i in range(3, 103)], concurrency=32)
    assert len(notes) == 100
    await Note.objects.abulk_delete(notes)
    assert await Note.objects(owner=owner).acount() == 2


asyncio.run(batch_and_bulk(owner))
# [/batch-bulk]


# [handler]
async def show_note(owner, seq):
    """What a web handler does: await the read, answer 404 or 504, never block the loop."""
    try:
        note = await Note.objects.timeout(2.0).aget(owner=owner, seq=seq)
    except Note.DoesNotExist:
        return 404, None
    except OperationTimedOut:
        return 504, None
    return 200, {"seq": note.seq, "body": note.body}


async def serve(owner):
    ticks = 0
    stop = False

    async def ticker():                            # other work the loop does meanwhile
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    answers = await asyncio.gather(*(show_note(owner, seq) for seq in range(1, 51)))
    stop = True
    await task
    assert answers[0] == (200, {"seq": 1, "body": "a"}) and answers[2] == (404, None)
    assert ticks > 0
    print("50 requests answered; the loop ran", ticks, "other steps meanwhile")


asyncio.run(serve(owner))
# [/handler]


# [cancel]
async def cancellation(owner):
    # Cancelling stops the wait, not the request: the write may or may not be applied.
    try:
        await asyncio.wait_for(Note.acreate(owner=owner, seq=500, body="maybe"), timeout=0.0001)
    except asyncio.TimeoutError:
        pass
    # This write is idempotent: send it again, and it is applied exactly once either way.
    await Note.acreate(owner=owner, seq=500, body="maybe")
    assert (await Note.objects.aget(owner=owner, seq=500)).body == "maybe"


asyncio.run(cancellation(owner))
# [/cancel]
