"""An indexed polymorphic key: subclass queries filter by type on the server."""
import uuid

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model

connection.setup(["127.0.0.1"], default_keyspace="docs_polymorphism")
create_keyspace_simple("docs_polymorphism", replication_factor=1)


# -- models
class Animal(Model):
    __table_name__ = "animals"
    owner_id = columns.UUID(primary_key=True)
    animal_id = columns.UUID(primary_key=True, default=uuid.uuid4)
    animal_type = columns.Text(polymorphic_key=True, index=True)
    name = columns.Text()


class Kitten(Animal):
    __polymorphic_key__ = "kitten"


class Hound(Animal):
    __polymorphic_key__ = "hound"


sync_table(Animal)  # the table, and a secondary index on animal_type
# -- end models

# -- queries
household = uuid.uuid4()
Kitten.create(owner_id=household, name="fluffles")
Hound.create(owner_id=household, name="destructo")
Hound.create(owner_id=household, name="rex")

hounds = Hound.objects(owner_id=household)
cql, params = hounds.render()
print(cql)
print(params)
assert "animal_type = ?" in cql and "hound" in params  # added by the queryset
assert sorted(h.name for h in hounds) == ["destructo", "rex"]
assert Hound.objects(owner_id=household).count() == 2  # SELECT COUNT(*) with the same WHERE
assert [k.name for k in Kitten.objects(owner_id=household)] == ["fluffles"]

# Without the partition key too: the index finds the rows.
assert household in {h.owner_id for h in Hound.objects.all()}
# -- end queries

# -- dropped filter
# ORDER BY cannot be combined with an index restriction: the type filter is left out
# of the CQL, and the rows of other types are skipped as they are read.
ordered = Hound.objects(owner_id=household).order_by("-animal_id")
where = ordered.render()[0].split(" WHERE ")[1]
print(where)
assert "animal_type" not in where
assert len(ordered) == 2 and all(type(h) is Hound for h in ordered)
# -- end dropped filter
print("ok")
