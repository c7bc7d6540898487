"""Moving users onto a table keyed by email, with no downtime: mirror, backfill, verify, switch reads."""
import pickle
import uuid

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.migrate import backfill, mirror, verify
from cqlengine.models import Model


class User(Model):
    """The table the application uses today."""
    __table_name__ = "users"
    id = columns.Integer(partition_key=True)
    email = columns.Text()
    name = columns.Text()


class UserByEmail(Model):
    """The new design: looked up by email."""
    __table_name__ = "users_by_email"
    email = columns.Text(partition_key=True)
    id = columns.Integer()
    name = columns.Text()


def by_email(user):
    """The transform: a user's row in the new table (None: the user has none)."""
    if user.email is None:
        return None
    return UserByEmail(email=user.email, id=user.id, name=user.name)


connection.setup(["127.0.0.1"], default_keyspace="docs_migrations")
create_keyspace_simple("docs_migrations", replication_factor=1)
sync_table(User)
sync_table(UserByEmail)
for model in (User, UserByEmail):
    connection.execute(f"TRUNCATE {model.column_family_name()}")  # the sample starts from scratch on every run

# [history]
for i in range(200):
    User.create(id=i, email=f"user{i}@example.com", name=f"User {i}")
# [/history]

# [scan]
scan = User.objects.scan(splits=8)
assert len(scan.splits) >= 8
assert scan.count() == User.objects.count() == 200  # the splits cover the ring once
split = pickle.loads(pickle.dumps(scan.splits[0]))  # a split is a small value: hand it to another process
per_split = scan.map(lambda s: sum(1 for _ in s), concurrency=4)  # each split read in a thread
assert sum(per_split) == 200
# [/scan]

# [writes branch]
mirrored = mirror(User, UserByEmail, by_email)
User.create(id=500, email="new@example.com", name="Newcomer")  # both tables, one timestamp
User.objects(id=1).update(email="one@example.com")  # the row moves in the new table
assert UserByEmail.get(email="one@example.com").id == 1
assert UserByEmail.objects(email="user1@example.com").count() == 0
# [/writes branch]

# [backfill]
# The race a backfill must survive: a live write after the backfill read a
# row, before its copy of that row is written. The transform runs in between,
# so here it makes the live writes itself, the first time it sees users 7 and 8.
raced = set()


def by_email_with_live_writes(user):
    if user.id in (7, 8) and user.id not in raced:
        raced.add(user.id)
        if user.id == 7:
            User.objects(id=7).delete()  # mirrored: deleted from the new table too
        else:
            User.objects(id=8).update(name="Renamed live")  # mirrored, dated now
    return by_email(user)


summary = backfill(User, UserByEmail, by_email_with_live_writes, name=f"users-{uuid.uuid4().hex[:8]}",
                   readers=1, progress=False)
print(summary)
assert summary.complete and summary.rows_read == 201
# Each copy was written with its source cells' WRITETIME, older than the live writes: they won.
assert UserByEmail.objects(email="user7@example.com").count() == 0  # not resurrected
assert UserByEmail.get(email="user8@example.com").name == "Renamed live"  # not overwritten
# [/backfill]

# [verify]
report = verify(User, UserByEmail, by_email)
print(report)
assert report.ok and report.compared == 200 and report.target_rows == 200

sampled = verify(User, UserByEmail, by_email, sample=0.25, seed=1)  # a spot-check of a quarter of the splits
assert sampled.ok and sampled.sampled

UserByEmail.objects(email="user9@example.com").update(name="drifted")  # written to the new table alone
report = verify(User, UserByEmail, by_email)
assert not report.ok and report.different == 1
print(report.differences[0])
# [/verify]

# [reads branch]
def find_user(email):
    """The reads branch: the application now reads the new table."""
    return UserByEmail.objects(email=email).first()


assert find_user("one@example.com").name == "User 1"
mirrored.stop()  # once nothing reads the old table, its writes stop
User.create(id=501, email="late@example.com", name="Late")
assert find_user("late@example.com") is None  # no longer mirrored
# [/reads branch]
print("ok")
