"""The seed's Pet / Cat / Dog: several models stored in one table, read back as the right class."""
import uuid

from _demo import connect

from cqlengine import columns
from cqlengine.management import sync_table
from cqlengine.models import Model, PolymorphicModelException


class Pet(Model):
    __table_name__ = "pet"
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


connect()
sync_table(Cat)
sync_table(Dog)
owner_id = uuid.uuid4()
Cat.create(owner_id=owner_id, name="fluffles", cuteness=100.1)
Dog.create(owner_id=owner_id, name="destructo", fierceness=5000.001)

pets = list(Pet.objects(owner_id=owner_id))
print("Pet.objects(owner_id=...) ->", pets)
for pet in pets:
    print(f"  {type(pet).__name__}: name={pet.name!r}")

try:
    list(Dog.objects(owner_id=owner_id))
except PolymorphicModelException as exc:
    print("Dog.objects(owner_id=...) refuses the cat row:", exc)
