# --- connect
import uuid

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model

connection.setup(["127.0.0.1"], default_keyspace="docs_tutorial")
create_keyspace_simple("docs_tutorial", replication_factor=1)
# --- models


class Pet(Model):
    owner_id = columns.UUID(partition_key=True)
    pet_id = columns.UUID(primary_key=True, default=uuid.uuid4)
    pet_type = columns.Text(polymorphic_key=True)  # which subclass a row belongs to
    name = columns.Text()


class Cat(Pet):
    __polymorphic_key__ = "cat"
    cuteness = columns.Float()


class Dog(Pet):
    __polymorphic_key__ = "dog"
    fierceness = columns.Float()


sync_table(Cat)  # one table, "pet", with the columns of every subclass
sync_table(Dog)
# --- use
owner = uuid.uuid4()
Cat.create(owner_id=owner, name="fluffles", cuteness=100.5)
Dog.create(owner_id=owner, name="destructo", fierceness=5000.0)

pets = sorted(Pet.objects(owner_id=owner), key=lambda pet: pet.name)
assert [type(pet).__name__ for pet in pets] == ["Dog", "Cat"]  # each row as its own class
assert pets[1].cuteness == 100.5  # Float is CQL float: 32 bits, like 100.5 exactly
print(pets)
