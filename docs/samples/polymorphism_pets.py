"""Polymorphic models: Pet, Cat and Dog in one table, read back as the right class."""
import uuid

from cqlengine import columns, connection
from cqlengine.exceptions import QueryException
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model, PolymorphicModelException

connection.setup(["127.0.0.1"], default_keyspace="docs_polymorphism")
create_keyspace_simple("docs_polymorphism", replication_factor=1)


# -- models
class Pet(Model):
    __table_name__ = "pets"
    owner_id = columns.UUID(primary_key=True)
    pet_id = columns.UUID(primary_key=True, default=uuid.uuid4)
    pet_type = columns.Text(polymorphic_key=True)
    name = columns.Text()


class Cat(Pet):
    __polymorphic_key__ = "cat"
    cuteness = columns.Float()


class Dog(Pet):
    __polymorphic_key__ = "dog"
    fierceness = columns.Float()


sync_table(Pet)  # one table, with the columns of Pet, Cat and Dog
# -- end models

# -- writes
owner = uuid.uuid4()
tom = Cat.create(owner_id=owner, name="tom", cuteness=9.5)
rex = Dog.create(owner_id=owner, name="rex", fierceness=2.0)
assert tom.pet_type == "cat" and rex.pet_type == "dog"  # set by the model

try:
    Pet.create(owner_id=owner, name="generic")
except PolymorphicModelException as exc:
    print("refused:", exc)
else:
    raise AssertionError("the base itself cannot be saved")
# -- end writes

# -- base queries
pets = sorted(Pet.objects(owner_id=owner), key=lambda p: p.name)
assert [type(p) for p in pets] == [Dog, Cat]  # rex, tom
assert pets[1].cuteness == 9.5
assert type(Pet.get(owner_id=owner, pet_id=rex.pet_id)) is Dog
assert Pet.objects(owner_id=owner).count() == 2
# -- end base queries

# -- subclass queries
# By the whole primary key: the row is checked to be a Dog.
assert Dog.get(owner_id=owner, pet_id=rex.pet_id).name == "rex"
try:
    Dog.get(owner_id=owner, pet_id=tom.pet_id)
except PolymorphicModelException as exc:
    print("refused:", exc)
else:
    raise AssertionError("a Cat row is not a Dog")

# Over the partition: it holds a Cat, so a Dog query raises instead of hiding it.
try:
    list(Dog.objects(owner_id=owner))
except PolymorphicModelException as exc:
    print("refused:", exc)
else:
    raise AssertionError("the unindexed key cannot filter by type")

# Filter by type through the base instead, or on the server with ALLOW FILTERING
# (which reads the whole partition and drops the rows of other types).
dogs = [p for p in Pet.objects(owner_id=owner) if isinstance(p, Dog)]
assert [d.name for d in dogs] == ["rex"]
dogs = Dog.objects(owner_id=owner, pet_type="dog").allow_filtering()
assert [d.name for d in dogs] == ["rex"]
# -- end subclass queries

# -- subclass writes
rex.fierceness = 3.0
rex.save()  # through the instance: fine
try:
    Dog.objects(owner_id=owner, pet_id=rex.pet_id).update(fierceness=4.0)
except QueryException as exc:
    print("refused:", exc)
else:
    raise AssertionError("a subclass queryset cannot write")
Pet.objects(owner_id=owner, pet_id=rex.pet_id).update(name="rex II")  # through the base: fine
assert Pet.get(owner_id=owner, pet_id=rex.pet_id).name == "rex II"
assert Pet.objects(owner_id=owner).count() == 2  # the same two rows: nothing written elsewhere
# -- end subclass writes
print("ok")
