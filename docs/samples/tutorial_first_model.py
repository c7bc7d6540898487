# --- connect
import uuid
from datetime import datetime, timezone

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model

connection.setup(["127.0.0.1"], default_keyspace="docs_tutorial")
create_keyspace_simple("docs_tutorial", replication_factor=1)
# --- model


class Comment(Model):
    """One comment on a post: the post is the partition, comments sorted newest first."""

    post_id = columns.UUID(partition_key=True)
    posted_at = columns.DateTime(primary_key=True, clustering_order="DESC")
    comment_id = columns.UUID(primary_key=True, default=uuid.uuid4)
    author = columns.Text(required=True)
    body = columns.Text(max_length=2000)
    likes = columns.Integer(default=0)
    tags = columns.Set(columns.Text)


sync_table(Comment)  # CREATE TABLE comment (...); run it again: nothing to do
# --- write
post = uuid.uuid4()
first = Comment.create(post_id=post, posted_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                       author="ada", body="First!", tags={"hello"})
second = Comment.create(post_id=post, posted_at=datetime(2026, 1, 2, tzinfo=timezone.utc),
                        author="grace", body="Welcome.")
assert second.likes == 0  # the column's default
# --- read
newest = Comment.objects(post_id=post).first()  # clustering order: newest first
assert newest is not None and newest.author == "grace"
everything = list(Comment.objects(post_id=post))
assert [c.author for c in everything] == ["grace", "ada"]
again = Comment.get(post_id=post, posted_at=first.posted_at, comment_id=first.comment_id)
assert again.tags == {"hello"}
# --- change
again.likes += 1
again.tags.add("popular")
again.save()  # an UPDATE of the two changed columns only
assert Comment.get(post_id=post, posted_at=first.posted_at, comment_id=first.comment_id).likes == 1
second.delete()
assert Comment.objects(post_id=post).count() == 1
# --- validation
from cqlengine import ValidationError  # noqa: E402

try:
    Comment.create(post_id=post, posted_at=datetime.now(timezone.utc), body="no author")
except ValidationError as error:
    print(error)  # names the model, the column and the rule: nothing was sent
else:
    raise AssertionError("a comment without an author was accepted")
