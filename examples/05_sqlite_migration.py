"""Moving one component of a live application from SQLite onto Cassandra, without downtime.

The four steps of cqlengine.migrate with a store that is not Cassandra: the
writes branch (the application writes both stores), the backfill (the history
copied, while live writes go on), the spot-check, and the reads branch.
"""
import random
import sqlite3
import time

from _demo import connect

from cqlengine import columns, connection
from cqlengine.management import sync_table
from cqlengine.migrate import Stamped, backfill, verify
from cqlengine.models import Model


def now_us() -> int:
    return time.time_ns() // 1000


# -- the old store: a SQLite table with a few hundred rows of history ---------
db = sqlite3.connect(":memory:")
db.row_factory = sqlite3.Row
db.execute("CREATE TABLE bookmarks (id INTEGER PRIMARY KEY, user TEXT, url TEXT, title TEXT, updated_us INTEGER)")
USERS = ["ada", "bob", "cyd", "dee", "eli"]
rng = random.Random(5)
month_ago = now_us() - 30 * 86400 * 10**6
db.executemany("INSERT INTO bookmarks (user, url, title, updated_us) VALUES (?, ?, ?, ?)",
               [(rng.choice(USERS), f"https://example.com/{i}", f"page {i}", month_ago + rng.randrange(10**12))
                for i in range(1, 301)])


# -- the new design: one partition per user, bookmarks clustered by id --------
class BookmarkByUser(Model):
    __table_name__ = "bookmarks_by_user"
    user = columns.Text(partition_key=True)
    id = columns.Integer(primary_key=True)
    url = columns.Text()
    title = columns.Text()


def to_cassandra(row):
    """A SQLite row (a dict) as the new table's values: its updated_us is the write timestamp, not a column."""
    return {"user": row["user"], "id": row["id"], "url": row["url"], "title": row["title"]}


connect()
sync_table(BookmarkByUser)
# A rerun starts from an empty table: the spot-check would count an earlier run's rows as extra.
connection.execute(f"TRUNCATE {BookmarkByUser.column_family_name()}")


# -- 1. writes branch: the application's write functions write both stores ----
# Every Cassandra write carries the timestamp SQLite records for the change. The
# backfill dates each copied row with its updated_us, and Cassandra keeps the
# newest timestamp, not the last arrival: so the copy of a version read before a
# live write loses to it even when it lands later, and a live delete's tombstone
# shadows the copy instead of being undone by it. Dated on one clock, SQLite's
# order is Cassandra's; left to each client's own clock, a skewed host could
# date a live write before the copy of the version it replaced, and lose.
def save_bookmark(user, url, title, id=None):
    stamp = now_us()
    if id is None:
        id = db.execute("INSERT INTO bookmarks (user, url, title, updated_us) VALUES (?, ?, ?, ?)",
                        (user, url, title, stamp)).lastrowid
        BookmarkByUser.objects.timestamp(stamp).create(user=user, id=id, url=url, title=title)
    else:
        db.execute("UPDATE bookmarks SET url = ?, title = ?, updated_us = ? WHERE id = ?", (url, title, stamp, id))
        BookmarkByUser.objects(user=user, id=id).timestamp(stamp).update(url=url, title=title)
    return id


def delete_bookmark(user, id):
    db.execute("DELETE FROM bookmarks WHERE id = ?", (id,))
    BookmarkByUser.objects(user=user, id=id).timestamp(now_us()).delete()


# -- 2. backfill, with live traffic racing it ---------------------------------
live = {"updated": [], "deleted": [], "created": []}


def live_traffic(last_read):
    """What users do meanwhile: change and delete a bookmark already read and one not yet read, add one."""
    for kind, id in (("updated", last_read - 10), ("updated", last_read + 10),
                     ("deleted", last_read - 20), ("deleted", last_read + 20)):
        row = db.execute("SELECT * FROM bookmarks WHERE id = ?", (id,)).fetchone()
        if row is None:
            continue
        if kind == "updated":
            save_bookmark(row["user"], row["url"], row["title"] + " (edited)", id=id)
        else:
            delete_bookmark(row["user"], id)
        live[kind].append((row["user"], id))
    live["created"].append(("ada", save_bookmark("ada", "https://example.org/new", "added during the backfill")))


def history():
    """The SQLite table in id order, 50 rows per query, each row stamped with its updated_us."""
    last, pages = 0, 0
    while page := db.execute("SELECT * FROM bookmarks WHERE id > ? ORDER BY id LIMIT 50", (last,)).fetchall():
        yield from (Stamped(values=dict(row), timestamp=row["updated_us"]) for row in page)
        last, pages = page[-1]["id"], pages + 1
        if pages <= 5:
            # backfill() writes rows 100 at a time: after 50, 150 and 250 rows the last 50 read still
            # wait in its buffer, so their older copies reach Cassandra after these live writes.
            live_traffic(last)


# key=: the rows come in id order, so a stopped backfill resumes (resume=True) after the last id
# copied, whatever was added or deleted before it. restart=True: this name is remembered from a last run.
summary = backfill(history(), BookmarkByUser, to_cassandra, name="bookmarks-from-sqlite",
                   key=lambda row: row["id"], restart=True, progress=False)
print(summary)
for kind, keys in live.items():
    print(f"  {kind} live during the backfill (user, id): {keys}")


# -- 3. spot-check: SQLite read again, compared with Cassandra ----------------
def current_rows():
    return (dict(row) for row in db.execute("SELECT * FROM bookmarks ORDER BY id"))


report = verify(current_rows(), BookmarkByUser, to_cassandra)
print(report)
assert report.ok, "Cassandra differs from SQLite"
user, id = live["updated"][0]
print(f"bookmark {id}, edited while its older copy was in flight:", BookmarkByUser.get(user=user, id=id).title)
written = connection.execute(f"SELECT WRITETIME(title) AS wt FROM {BookmarkByUser.column_family_name()} "
                             "WHERE user = ? AND id = ?", [user, id]).one()["wt"]
updated = db.execute("SELECT updated_us FROM bookmarks WHERE id = ?", (id,)).fetchone()[0]
print(f"  its title's WRITETIME {written} is SQLite's updated_us {updated}:", written == updated)
user, id = live["deleted"][0]
print(f"bookmark {id}, deleted while its older copy was in flight:", BookmarkByUser.objects(user=user, id=id).first())
assert BookmarkByUser.objects(user=user, id=id).first() is None


# -- 4. reads branch: the application now reads Cassandra ---------------------
def bookmarks_of(user):
    return [(b.id, b.url, b.title) for b in BookmarkByUser.objects(user=user)]


for user in USERS:
    old = [tuple(row) for row in db.execute("SELECT id, url, title FROM bookmarks WHERE user = ? ORDER BY id",
                                            (user,))]
    assert bookmarks_of(user) == old, user
    print(f"{user}: {len(old)} bookmarks, the same from Cassandra as from SQLite")
# Next: stop writing SQLite in save_bookmark / delete_bookmark, then retire the table.
