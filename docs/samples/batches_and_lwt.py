"""Batches (logged, unlogged, counter; timestamps; callbacks) and lightweight transactions."""
import uuid
from datetime import datetime, timezone

from cassandra import ConsistencyLevel, OperationTimedOut, WriteTimeout
from cassandra.protocol import ServerError

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model, OptionIgnoredInBatch
from cqlengine.query import BatchQuery, BatchType, LWTException, QueryException


class Order(Model):
    __table_name__ = "orders"
    customer = columns.Text(partition_key=True)
    order_id = columns.Integer(primary_key=True)
    status = columns.Text()
    total_cents = columns.Integer()


class OrderCount(Model):
    customer = columns.Text(primary_key=True)
    orders = columns.Counter()


class Lock(Model):
    name = columns.Text(primary_key=True)
    owner = columns.Text()


connection.setup(["127.0.0.1"], default_keyspace="docs_batches")
create_keyspace_simple("docs_batches", replication_factor=1)
for model in (Order, OrderCount, Lock):
    sync_table(model)


def orders(customer):
    return {o.order_id: o.status for o in Order.objects(customer=customer)}


# Fresh keys on every run, so the script can be run again by hand.
ann, ben = f"ann-{uuid.uuid4()}", f"ben-{uuid.uuid4()}"

# [batch]
Order.create(customer=ann, order_id=1, status="new", total_cents=1200)
loaded = Order.get(customer=ann, order_id=1)
with BatchQuery() as b:                                   # LOGGED unless told otherwise
    Order.batch(b).create(customer=ann, order_id=2, status="new", total_cents=500)
    Order.objects(customer=ann, order_id=3).batch(b).update(status="new")
    loaded.status = "paid"
    loaded.batch(b).save()                                # an instance's write, batched
    assert orders(ann) == {1: "new"}                      # nothing is sent inside the block
assert orders(ann) == {1: "paid", 2: "new", 3: "new"}     # one request on a clean exit
# [/batch]

# [types]
with BatchQuery(batch_type=BatchType.Unlogged) as b:      # one partition: no batch log needed
    Order.objects(customer=ann, order_id=2).batch(b).update(status="shipped")
    Order.objects(customer=ann, order_id=3).batch(b).delete()
assert orders(ann) == {1: "paid", 2: "shipped"}

with BatchQuery(batch_type=BatchType.Counter) as b:       # counter updates only
    OrderCount.objects(customer=ann).batch(b).update(orders=2)
    OrderCount.objects(customer=ben).batch(b).update(orders=1)
assert OrderCount.get(customer=ann).orders == 2
# [/types]

# [exceptions]
try:
    with BatchQuery() as b:
        Order.batch(b).create(customer=ben, order_id=1, status="new")
        raise RuntimeError("payment refused")
except RuntimeError:
    pass
assert orders(ben) == {}                                  # the block raised: nothing was sent

sent = []
b = BatchQuery()
b.add_callback(sent.append, "confirmation mail")
Order.batch(b).create(customer=ben, order_id=1, status="new")
assert sent == []
b.execute()                                               # callbacks run once the batch has run
assert sent == ["confirmation mail"] and orders(ben) == {1: "new"}

# A member's own consistency or timeout would be ignored: it is refused when queued.
b = BatchQuery(consistency=ConsistencyLevel.QUORUM, timeout=5)
try:
    Order.objects(customer=ben, order_id=1).consistency(ConsistencyLevel.ONE).batch(b).update(status="x")
    raise AssertionError("not refused")
except OptionIgnoredInBatch as refused:
    print("refused:", refused)
# [/exceptions]

# [timestamps]
# Every member of a batch shares one timestamp. A delete and a write of the same
# cells in one batch tie, and at a tie the tombstone wins: order does not matter.
with BatchQuery() as b:
    Order.objects(customer=ben, order_id=1).batch(b).delete()
    Order.batch(b).create(customer=ben, order_id=1, status="again")
assert orders(ben) == {}

# BatchQuery(timestamp=...) dates every member (a timedelta, a datetime or int microseconds).
dated = datetime(2030, 1, 1, tzinfo=timezone.utc)
with BatchQuery(timestamp=dated) as b:
    Order.batch(b).create(customer=ben, order_id=2, status="new")
    Order.batch(b).create(customer=ben, order_id=3, status="new")
written = connection.execute(
    "SELECT order_id, WRITETIME(status) AS wt FROM docs_batches.orders WHERE customer = ?", [ben]).all()
assert {row["wt"] for row in written} == {int(dated.timestamp()) * 1_000_000}

# A member with a timestamp of its own in such a batch is refused before anything is sent.
try:
    with BatchQuery(timestamp=dated) as b:
        Order.timestamp(1_000).batch(b).create(customer=ben, order_id=4, status="new")
    raise AssertionError("not refused")
except QueryException as refused:
    print("refused:", refused)
assert 4 not in orders(ben)
# [/timestamps]

# [lwt]
Lock.if_not_exists().create(name="nightly-report", owner="worker-1")
try:
    Lock.if_not_exists().create(name="nightly-report", owner="worker-2")
    raise AssertionError("not refused")
except LWTException as refused:
    assert refused.existing == {"[applied]": False, "name": "nightly-report", "owner": "worker-1"}

# iff(): apply only if the row's current values match.
Lock.objects(name="nightly-report").iff(owner="worker-1").update(owner="worker-2")
try:
    Lock.objects(name="nightly-report").iff(owner="worker-1").update(owner="worker-3")
    raise AssertionError("not refused")
except LWTException as refused:
    assert refused.existing == {"[applied]": False, "owner": "worker-2"}

# if_exists(): apply only to a row that exists.
try:
    Lock.objects(name="no-such-lock").if_exists().delete()
    raise AssertionError("not refused")
except LWTException as refused:
    assert refused.existing == {"[applied]": False}

lock = Lock.get(name="nightly-report")
lock.iff(owner="worker-2").delete()                       # the same options on an instance
assert Lock.objects(name="nightly-report").first() is None
# [/lwt]

# [lwt-batch]
# A conditional batch: all its members are in one partition; if a condition
# fails, nothing of it is applied.
b = BatchQuery()
Order.objects(customer=ann, order_id=1).batch(b).iff(status="new").update(status="cancelled")
Order.batch(b).create(customer=ann, order_id=9, status="refund")
try:
    b.execute()
    raise AssertionError("not refused")
except LWTException as refused:
    assert refused.existing["status"] == "paid"
assert orders(ann) == {1: "paid", 2: "shipped"}
# [/lwt-batch]

# [unknown-outcome]
def acquire(name, me, attempts=5):
    """Whether ``me`` holds the lock ``name`` (taking it if it is free)."""
    for _ in range(attempts):
        try:
            Lock.if_not_exists().create(name=name, owner=me)
            return True
        except LWTException as refused:
            # Someone holds it: maybe us, through an earlier attempt whose answer was lost.
            return refused.existing.get("owner") == me
        except (WriteTimeout, OperationTimedOut, ServerError):
            continue  # the outcome is unknown: it may have been applied; ask again
    raise RuntimeError(f"could not learn whether {me} holds {name}")


assert acquire("rebuild-index", "worker-1")
# Say worker-1's answer was lost and it asks again: the refusal names it as the owner.
assert acquire("rebuild-index", "worker-1")
assert not acquire("rebuild-index", "worker-2")
holder = Lock.objects(name="rebuild-index").consistency(ConsistencyLevel.SERIAL).get()
assert holder.owner == "worker-1"
print("rebuild-index is held by", holder.owner)
# [/unknown-outcome]
