"""Write timestamps, tombstones, and the future-dated delete as a lock-out (group_membership)."""
import random
import time
from datetime import datetime, timedelta, timezone

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class GroupMembership(Model):
    user_id = columns.Integer(primary_key=True)
    group_id = columns.Integer(primary_key=True)
    admin = columns.Boolean()
    last_visited = columns.DateTime()


connection.setup(["127.0.0.1"], default_keyspace="docs_timestamps")
create_keyspace_simple("docs_timestamps", replication_factor=1)
sync_table(GroupMembership)

WRITETIME = ("SELECT WRITETIME(last_visited) AS wt FROM docs_timestamps.group_membership "
             "WHERE user_id = ? AND group_id = ?")


def membership(user_id):
    return GroupMembership.objects(user_id=user_id, group_id=1).first()


# Fresh ids on every run: a lock-out left by an earlier run may still be in its window.
alice, bob, carol, dave, erin = random.sample(range(1, 2**31), 5)

# [cells]
# Every cell carries a write timestamp (microseconds since the epoch). Without
# timestamp(), the driver dates a write with the client's clock.
before = time.time_ns() // 1000
GroupMembership.create(user_id=dave, group_id=1, last_visited=datetime(2013, 12, 24))
written_at = connection.execute(WRITETIME, [dave, 1]).one()["wt"]
assert abs(written_at - before) < 5_000_000
print("a plain write is dated", written_at)

# The highest timestamp wins, whatever the order the writes arrive in.
GroupMembership.objects(user_id=dave, group_id=1).timestamp(written_at + 1000).update(
    last_visited=datetime(2013, 12, 26))
GroupMembership.objects(user_id=dave, group_id=1).timestamp(written_at + 500).update(
    last_visited=datetime(2013, 12, 25))  # arrives last, dated earlier: loses
assert membership(dave).last_visited == datetime(2013, 12, 26)

# A delete writes a tombstone: it hides only what is dated at or before it.
GroupMembership.objects(user_id=dave, group_id=1).timestamp(written_at + 700).delete()
assert membership(dave).last_visited == datetime(2013, 12, 26)  # the newer cell survives
GroupMembership.objects(user_id=dave, group_id=1).timestamp(written_at + 2000).delete()
assert membership(dave) is None
# [/cells]

# [race]
# Without the lock-out: the blog's three steps.
GroupMembership.create(user_id=alice, group_id=1, admin=True, last_visited=datetime(2013, 12, 25))
seen = GroupMembership.get(user_id=alice, group_id=1)          # 1. thread 1 reads the membership
GroupMembership.objects(user_id=alice, group_id=1).delete()    # 2. thread 2 removes the user
seen.last_visited = datetime.now(timezone.utc)                 # 3. thread 1 records the visit:
seen.save()                                                    #    an UPDATE of last_visited
back = membership(alice)
assert back is not None and back.admin is None                 # the removed member is back (half a row)
print("without the lock-out:", back, "admin:", back.admin)
# [/race]

# [lockout]
# With the lock-out: the delete is dated 60 s into the future.
GroupMembership.create(user_id=bob, group_id=1, admin=True, last_visited=datetime(2013, 12, 25))
seen = GroupMembership.get(user_id=bob, group_id=1)            # 1. thread 1 reads the membership
GroupMembership.objects(user_id=bob, group_id=1).timestamp(timedelta(seconds=60)).delete()  # 2.
seen.last_visited = datetime.now(timezone.utc)                 # 3. thread 1 records the visit:
seen.save()                                                    #    dated now, before the tombstone
assert membership(bob) is None
print("with the lock-out:", membership(bob))

# The same from an instance; any write inside the window is shadowed.
carol_in_group = GroupMembership.create(user_id=carol, group_id=1, admin=False)
carol_in_group.timestamp(timedelta(seconds=60)).delete()
GroupMembership.objects(user_id=carol, group_id=1).update(last_visited=datetime.now(timezone.utc))
GroupMembership.objects(user_id=carol, group_id=1).timestamp(timedelta(seconds=30)).update(admin=True)
assert membership(carol) is None

# Or every write of a batch, dated when the batch is sent.
GroupMembership.create(user_id=erin, group_id=1, admin=False)
with BatchQuery(timestamp=timedelta(seconds=60)) as b:
    GroupMembership.objects(user_id=erin, group_id=1).batch(b).delete()
GroupMembership.objects(user_id=erin, group_id=1).update(last_visited=datetime.now(timezone.utc))
assert membership(erin) is None
# [/lockout]

# [window]
# The window cuts both ways: adding the user back inside it is acknowledged and lost.
GroupMembership.create(user_id=carol, group_id=1, admin=False)
assert membership(carol) is None
# Even IF NOT EXISTS reports success: the row does not exist, and the write is shadowed.
GroupMembership.if_not_exists().create(user_id=carol, group_id=1, admin=False)
assert membership(carol) is None

# A write dated after the tombstone does come back; its cells then outlive any
# delete dated before them (here, a plain delete made now).
GroupMembership.timestamp(timedelta(seconds=61)).create(user_id=carol, group_id=1, admin=False)
assert membership(carol) is not None
GroupMembership.objects(user_id=carol, group_id=1).delete()
assert membership(carol) is not None
print("re-added past the window:", membership(carol))
# [/window]
