"""A delete dated one minute into the future: a cheap lock-out against a racing update."""
import random
from datetime import datetime, timedelta, timezone

from _demo import KEYSPACE, connect

from cqlengine import columns, connection
from cqlengine.management import sync_table
from cqlengine.models import Model


class GroupMembership(Model):
    user_id = columns.Integer(primary_key=True)
    group_id = columns.Integer(primary_key=True)
    admin = columns.Boolean()
    last_visited = columns.DateTime()


connect()
sync_table(GroupMembership)
# Fresh ids per run: a lock-out from an earlier run may still be in its window.
alice, bob = random.sample(range(1, 10**9), 2)

GroupMembership.create(user_id=alice, group_id=1, admin=False, last_visited=datetime.now(timezone.utc))
print("membership read:", GroupMembership.objects(user_id=alice, group_id=1).first())

# Thread 2 removes the user, dating the tombstone 60 s ahead.
GroupMembership.objects(user_id=alice, group_id=1).timestamp(timedelta(seconds=60)).delete()
# Thread 1, racing, updates last_visited: the future tombstone shadows it.
GroupMembership.objects(user_id=alice, group_id=1).update(last_visited=datetime.now(timezone.utc))
print("after the future-dated delete and a racing update:", GroupMembership.objects(user_id=alice, group_id=1).first())

# Without the lock-out the same race resurrects the row.
GroupMembership.create(user_id=bob, group_id=1, admin=False)
GroupMembership.objects(user_id=bob, group_id=1).delete()
GroupMembership.objects(user_id=bob, group_id=1).update(last_visited=datetime.now(timezone.utc))
print("plain delete, same race:", GroupMembership.objects(user_id=bob, group_id=1).first())
row = connection.execute(
    f"SELECT WRITETIME(last_visited) AS wt FROM {KEYSPACE}.group_membership WHERE user_id = ? AND group_id = ?",
    [bob, 1],
).one()
written = datetime.fromtimestamp(row["wt"] / 1_000_000, timezone.utc)
print(f"  its last_visited was written at {written:%Y-%m-%d %H:%M:%S.%f} UTC (WRITETIME {row['wt']} µs)")
GroupMembership.objects(user_id=bob, group_id=1).delete()
