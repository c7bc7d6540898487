"""Model definitions, read by the metaclass: no server needed."""
from __future__ import annotations

import uuid

import pytest

from cqlengine import columns
from cqlengine.exceptions import (
    DoesNotExist,
    ModelDefinitionException,
    MultipleObjectsReturned,
    PolymorphicModelException,
    ValidationError,
)
from cqlengine.models import Model, normalize_timestamp
from cqlengine.usertype import UserType

# ---------------------------------------------------------------- definition errors


def test_no_primary_key():
    with pytest.raises(ModelDefinitionException, match="primary key"):
        class NoKey(Model):
            name = columns.Text()


def test_two_polymorphic_keys():
    with pytest.raises(ModelDefinitionException, match="polymorphic"):
        class TwoKeys(Model):
            id = columns.Integer(primary_key=True)
            kind = columns.Text(polymorphic_key=True)
            other = columns.Text(discriminator_column=True)


@pytest.mark.parametrize("key_col", [
    lambda: columns.List(columns.Integer, primary_key=True),
    lambda: columns.Set(columns.Text, primary_key=True),
    lambda: columns.Map(columns.Text, columns.Integer, primary_key=True),
    lambda: columns.Duration(primary_key=True),
])
def test_non_frozen_collection_as_key(key_col):
    with pytest.raises(ModelDefinitionException, match="primary key"):
        type("CollKey", (Model,), {"id": columns.Integer(primary_key=True), "k": key_col()})


def test_non_frozen_collection_as_partition_key():
    with pytest.raises(ModelDefinitionException, match="primary key"):
        class CollPartition(Model):
            k = columns.List(columns.Integer, partition_key=True)


def test_frozen_collection_and_tuple_may_be_keys():
    class FrozenKey(Model):
        k = columns.List(columns.Integer, partition_key=True, frozen=True)
        t = columns.Tuple(columns.Integer, columns.Text, primary_key=True)

    assert list(FrozenKey._partition_keys) == ["k"]
    assert list(FrozenKey._clustering_keys) == ["t"]


def test_counter_as_key():
    with pytest.raises(ModelDefinitionException, match="counter"):
        class CounterKey(Model):
            id = columns.Integer(primary_key=True)
            c = columns.Counter(primary_key=True)


@pytest.mark.parametrize("make", [
    lambda: columns.List(columns.Text, polymorphic_key=True),
    lambda: columns.Set(columns.Text, discriminator_column=True),
    lambda: columns.Map(columns.Text, columns.Text, polymorphic_key=True),
    lambda: columns.Counter(polymorphic_key=True),
])
def test_collection_or_counter_as_polymorphic_key(make):
    with pytest.raises(ModelDefinitionException, match="polymorphic key"):
        type("BadDisc", (Model,), {"id": columns.Integer(primary_key=True), "kind": make()})


def test_counter_mixed_with_regular_columns():
    with pytest.raises(ModelDefinitionException, match="counter"):
        class Mixed(Model):
            id = columns.Integer(primary_key=True)
            hits = columns.Counter()
            name = columns.Text()


def test_counter_table_with_keys_only_is_fine():
    class Counts(Model):
        id = columns.Integer(primary_key=True)
        day = columns.Date(primary_key=True)
        hits = columns.Counter()
        misses = columns.Counter()

    assert Counts._has_counter
    assert Counts(id=1, day=0).hits == 0


def test_static_column_without_clustering_columns():
    with pytest.raises(ModelDefinitionException, match="static"):
        class NoClustering(Model):
            id = columns.Integer(primary_key=True)
            s = columns.Text(static=True)


def test_static_column_with_clustering_columns():
    class WithClustering(Model):
        id = columns.Integer(primary_key=True)
        at = columns.Integer(primary_key=True)
        s = columns.Text(static=True)

    assert WithClustering._columns["s"].static


def test_db_field_clash_between_two_columns():
    with pytest.raises(ModelDefinitionException, match="both map"):
        class Clash(Model):
            id = columns.Integer(primary_key=True)
            a = columns.Text(db_field="x")
            b = columns.Text(db_field="x")


def test_db_field_clash_with_another_attribute():
    with pytest.raises(ModelDefinitionException):
        class Clash2(Model):
            id = columns.Integer(primary_key=True)
            a = columns.Text(db_field="b")
            b = columns.Text()


def test_column_name_clashing_with_a_method():
    with pytest.raises(ModelDefinitionException):
        class Clash3(Model):
            id = columns.Integer(primary_key=True)

            save = columns.Text()  # type: ignore[assignment]


def test_polymorphic_subclass_cannot_add_keys():
    class Base(Model):
        id = columns.Integer(primary_key=True)
        kind = columns.Text(polymorphic_key=True)

    with pytest.raises(ModelDefinitionException, match="primary key"):
        class Sub(Base):
            __polymorphic_key__ = "sub"
            extra = columns.Integer(primary_key=True)


def test_duplicate_polymorphic_value():
    class Base2(Model):
        id = columns.Integer(primary_key=True)
        kind = columns.Text(polymorphic_key=True)

    class A(Base2):
        __polymorphic_key__ = "a"

    with pytest.raises(ModelDefinitionException, match="already used"):
        class B(Base2):
            __polymorphic_key__ = "a"


def test_polymorphic_value_without_key_column():
    with pytest.raises(ModelDefinitionException, match="polymorphic"):
        class Lonely(Model):
            __polymorphic_key__ = "x"
            id = columns.Integer(primary_key=True)


def test_clustering_order_on_a_non_clustering_column():
    with pytest.raises(ModelDefinitionException, match="clustering_order"):
        class BadOrder(Model):
            id = columns.Integer(primary_key=True)
            name = columns.Text(clustering_order="DESC")
    with pytest.raises(ModelDefinitionException, match="clustering_order"):
        class BadOrder2(Model):
            id = columns.Integer(partition_key=True, clustering_order="DESC")


def test_invalid_clustering_order_value():
    with pytest.raises(ModelDefinitionException):
        columns.Integer(primary_key=True, clustering_order="sideways")


def test_abstract_models_skip_the_checks():
    class NoKeysYet(Model):
        __abstract__ = True
        name = columns.Text()

    class Concrete(NoKeysYet):
        id = columns.Integer(primary_key=True)

    assert NoKeysYet.__abstract__ and not Concrete.__abstract__
    assert list(Concrete._columns) == ["name", "id"]


# ---------------------------------------------------------------- keys and columns


class Ordered(Model):
    c = columns.Text()
    b = columns.Integer(primary_key=True)
    a = columns.Integer(primary_key=True, clustering_order="DESC")
    z = columns.Text(db_field="zed")


def test_declaration_order_kept():
    assert list(Ordered._columns) == ["c", "b", "a", "z"]
    assert Ordered().keys() == ["c", "b", "a", "z"]


def test_first_primary_key_is_the_partition_key():
    assert list(Ordered._partition_keys) == ["b"]
    assert list(Ordered._clustering_keys) == ["a"]
    assert list(Ordered._primary_keys) == ["b", "a"]
    assert Ordered._columns["b"].partition_key
    assert Ordered._clustering_keys["a"].clustering_order == "DESC"
    assert Ordered._pk_name == "b"


def test_partition_key_true_names_the_partition_keys():
    class Compound(Model):
        x = columns.Integer(primary_key=True)
        p1 = columns.Text(partition_key=True)
        p2 = columns.Text(partition_key=True)
        y = columns.Integer(primary_key=True, clustering_order="ASC")

    assert list(Compound._partition_keys) == ["p1", "p2"]
    assert list(Compound._clustering_keys) == ["x", "y"]
    assert list(Compound._primary_keys) == ["p1", "p2", "x", "y"]
    assert Compound(p1="a", p2="b", x=1, y=2).pk == ("a", "b")  # the whole partition key, as the peer


def test_db_field_mapping():
    col = Ordered._columns["z"]
    assert col.db_field_name == "zed"
    assert Ordered._db_map["zed"] == "z"
    assert "zed" in Ordered._table_columns()
    row = {"b": 1, "a": 2, "c": "see", "zed": "zz"}
    inst = Ordered._construct_instance(row)
    assert inst.z == "zz" and inst.c == "see"
    assert inst.get_changed_columns() == []


def test_table_names():
    class CamelCaseThing(Model):
        id = columns.Integer(primary_key=True)

    class Named(Model):
        __table_name__ = "MyTable"
        id = columns.Integer(primary_key=True)

    class NamedSensitive(Model):
        __table_name__ = "MyTable"
        __table_name_case_sensitive__ = True
        id = columns.Integer(primary_key=True)

    assert CamelCaseThing._raw_column_family_name() == "camel_case_thing"
    assert Named._raw_column_family_name() == "mytable"
    assert NamedSensitive._raw_column_family_name() == "MyTable"
    assert NamedSensitive.column_family_name(include_keyspace=False) == '"MyTable"'


def test_table_name_inherited_is_not_the_parent_cached_one():
    class ParentT(Model):
        id = columns.Integer(primary_key=True)

    assert ParentT._raw_column_family_name() == "parent_t"

    class ChildT(ParentT):
        pass

    assert ChildT._raw_column_family_name() == "child_t"


def test_keyspace_option():
    class InKs(Model):
        __keyspace__ = "elsewhere"
        id = columns.Integer(primary_key=True)

    assert InKs._get_keyspace() == "elsewhere"
    assert InKs.column_family_name() == "elsewhere.in_ks"


def test_abstract_base_columns_inherited():
    class Stamped(Model):
        __abstract__ = True
        __keyspace__ = "ks1"
        __options__ = {"comment": "hi"}
        __default_ttl__ = 60
        id = columns.UUID(primary_key=True, default=uuid.uuid4)
        created = columns.DateTime()

    class Thing(Stamped):
        name = columns.Text()

    class Other(Stamped):
        size = columns.Integer()

    assert list(Thing._columns) == ["id", "created", "name"]
    assert list(Other._columns) == ["id", "created", "size"]
    # each subclass gets its own column objects, bound to itself
    assert Thing._columns["id"] is not Other._columns["id"]
    assert Thing._columns["id"].model_name == "Thing"
    assert Thing._columns["id"].default is uuid.uuid4
    assert Thing.__keyspace__ == "ks1"
    assert Thing.__options__ == {"comment": "hi"}
    assert Thing.__default_ttl__ == 60
    assert isinstance(Thing().id, uuid.UUID)
    assert Thing().id != Thing().id
    with pytest.raises(Exception, match="abstract"):
        Stamped.objects  # noqa: B018
    with pytest.raises(Exception, match="abstract"):
        Stamped(id=uuid.uuid4()).save()


def test_options_and_default_ttl_are_plain_attributes():
    class Opt(Model):
        __options__ = {"gc_grace_seconds": 10}
        __default_ttl__ = 3600
        id = columns.Integer(primary_key=True)

    assert Opt.__options__ == {"gc_grace_seconds": 10}
    assert Opt.__default_ttl__ == 3600
    assert Model.__default_ttl__ is None


# ---------------------------------------------------------------- polymorphism


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
    __discriminator_value__ = "dog"
    fierceness = columns.Float()


class Beast(Model):
    id = columns.Integer(primary_key=True)
    kind = columns.Integer(discriminator_column=True)


class Wolf(Beast):
    __discriminator_value__ = 1


def test_polymorphic_structure():
    assert Pet._is_polymorphic_base and not Cat._is_polymorphic_base
    assert Pet._discriminator_map == {"cat": Cat, "dog": Dog}
    assert Cat._raw_column_family_name() == Dog._raw_column_family_name() == "pet"
    assert list(Pet._table_columns()) == ["owner_id", "pet_id", "pet_type", "name", "cuteness", "fierceness"]
    assert Cat(owner_id=uuid.uuid4()).pet_type == "cat"


def test_discriminator_synonyms():
    assert Dog.__polymorphic_key__ == "dog" and Dog.__discriminator_value__ == "dog"
    assert Cat.__polymorphic_key__ == "cat" and Cat.__discriminator_value__ == "cat"
    assert Beast._discriminator_column_name == "kind"
    assert Beast._columns["kind"].polymorphic_key
    assert Wolf(id=1).kind == 1
    assert Beast._discriminator_map == {1: Wolf}


def test_rows_become_subclass_instances():
    owner = uuid.uuid4()
    dog = Pet._construct_instance({"owner_id": owner, "pet_id": uuid.uuid4(), "pet_type": "dog",
                                   "name": "destructo", "cuteness": None, "fierceness": 5000.001})
    assert type(dog) is Dog and dog.fierceness == 5000.001
    with pytest.raises(PolymorphicModelException):
        Dog._construct_instance({"owner_id": owner, "pet_id": uuid.uuid4(), "pet_type": "cat"})
    with pytest.raises(PolymorphicModelException):
        Pet._construct_instance({"owner_id": owner, "pet_id": uuid.uuid4(), "pet_type": "hamster"})


def test_saving_the_polymorphic_base_is_refused_before_sending():
    with pytest.raises(PolymorphicModelException, match="polymorphic base"):
        Pet(owner_id=uuid.uuid4(), name="generic").save()


def test_subclass_without_polymorphic_value_is_refused_on_save():
    class Puppy(Dog):
        pass

    with pytest.raises(PolymorphicModelException):
        Puppy(owner_id=uuid.uuid4()).save()


def test_polymorphic_key_is_forced_to_the_subclass_value_on_save():
    dog = Dog(owner_id=uuid.uuid4(), pet_type="cat")
    with pytest.raises((PolymorphicModelException, ValidationError)):
        dog.validate()


# ---------------------------------------------------------------- exceptions


def test_per_model_exceptions():
    assert issubclass(Pet.DoesNotExist, DoesNotExist)
    assert issubclass(Cat.DoesNotExist, Pet.DoesNotExist)
    assert issubclass(Cat.MultipleObjectsReturned, Pet.MultipleObjectsReturned)
    assert issubclass(Pet.MultipleObjectsReturned, MultipleObjectsReturned)
    assert Cat.DoesNotExist is not Pet.DoesNotExist
    assert not issubclass(Cat.DoesNotExist, Dog.DoesNotExist)
    assert not issubclass(Ordered.DoesNotExist, Pet.DoesNotExist)
    assert Cat.DoesNotExist.__qualname__.endswith("Cat.DoesNotExist")


# ---------------------------------------------------------------- instances


def test_repr_shows_class_and_primary_key():
    owner, pet = uuid.UUID(int=1), uuid.UUID(int=2)
    dog = Dog(owner_id=owner, pet_id=pet, name="destructo")
    assert repr(dog) == f"<Dog owner_id={owner!r}, pet_id={pet!r}>"


def test_eq():
    owner, pet = uuid.uuid4(), uuid.uuid4()
    assert Dog(owner_id=owner, pet_id=pet, name="a") == Dog(owner_id=owner, pet_id=pet, name="a")
    assert Dog(owner_id=owner, pet_id=pet, name="a") != Dog(owner_id=owner, pet_id=pet, name="b")
    assert Dog(owner_id=owner, pet_id=pet) != Cat(owner_id=owner, pet_id=pet)
    assert Dog(owner_id=owner, pet_id=pet) != "dog"
    with pytest.raises(TypeError):
        hash(Dog(owner_id=owner))


def test_mapping_access():
    inst = Ordered(b=1, a=2, c="x")
    assert inst.keys() == ["c", "b", "a", "z"]
    assert inst.values() == ["x", 1, 2, None]
    assert inst.items() == [("c", "x"), ("b", 1), ("a", 2), ("z", None)]
    assert inst["c"] == "x"
    inst["z"] = "zz"
    assert inst.z == "zz"
    assert list(inst) == inst.keys() and len(inst) == 4 and "z" in inst and "zed" not in inst
    assert dict(inst.items())["z"] == "zz"
    with pytest.raises(KeyError):
        inst["nope"]
    with pytest.raises(KeyError):
        inst["nope"] = 1


def test_attribute_access_and_class_expressions():
    inst = Ordered(b=1)
    inst.c = "y"
    assert inst["c"] == "y"
    del inst.c
    assert inst.c is None
    assert not isinstance(Ordered.c, columns.Column)  # class attribute builds expressions


def test_unknown_keyword_to_constructor():
    with pytest.raises(ValidationError, match="Ordered.*'nope'"):
        Ordered(b=1, nope=2)


def test_defaults_and_callable_defaults():
    class Defaults(Model):
        id = columns.UUID(primary_key=True, default=uuid.uuid4)
        n = columns.Integer(default=7)
        tags = columns.Set(columns.Text)

    d1, d2 = Defaults(), Defaults()
    assert d1.id != d2.id and d1.n == 7 and d1.tags == set()
    d1.tags.add("x")
    assert d2.tags == set()  # a mutable default is not shared


def test_validate_names_model_column_value_and_rule():
    class Val(Model):
        id = columns.Integer(primary_key=True)
        name = columns.Text(max_length=3)
        req = columns.Integer(required=True)

    with pytest.raises(ValidationError, match=r"Val\.name: 'toolong' is longer than max_length 3"):
        Val(id=1, name="toolong", req=1).validate()
    with pytest.raises(ValidationError, match=r"Val\.req: required"):
        Val(id=1).validate()
    with pytest.raises(ValidationError, match=r"Val\.id: required"):
        Val(req=1).validate()
    with pytest.raises(ValidationError, match=r"Val\.id: 'x' is not an integer"):
        Val(id="x", req=1).validate()


def test_change_tracking_without_server():
    inst = Ordered._construct_instance({"b": 1, "a": 2, "c": "x", "zed": None})
    assert inst.get_changed_columns() == []
    inst.c = "y"
    inst.z = "z"
    assert sorted(inst.get_changed_columns()) == ["c", "z"]
    fresh = Ordered(b=1, a=2)
    assert sorted(fresh.get_changed_columns()) == ["a", "b"]


def test_collection_mutation_is_tracked():
    class Tags(Model):
        id = columns.Integer(primary_key=True)
        tags = columns.Set(columns.Text)
        nums = columns.List(columns.Integer)

    inst = Tags._construct_instance({"id": 1, "tags": {"a"}, "nums": [1]})
    inst.tags.add("b")
    inst.nums.append(2)
    assert sorted(inst.get_changed_columns()) == ["nums", "tags"]


def test_instance_options_chain_and_check_values():
    inst = Ordered(b=1, a=2)
    assert inst.ttl(10) is inst and inst._options.ttl == 10
    assert inst.timestamp(123) is inst
    assert inst.consistency(1) is inst and inst.timeout(2.0) is inst
    assert inst.using(keyspace="ks2") is inst and inst._options.keyspace == "ks2"
    with pytest.raises(ValidationError):
        inst.timestamp("yesterday")
    with pytest.raises(ValidationError):
        inst.iff(nope=1)
    assert Ordered(b=1).if_not_exists()._options.if_not_exists
    with pytest.raises(ValidationError):
        Ordered(b=1).if_not_exists().if_exists()


def test_normalize_timestamp():
    from datetime import datetime, timedelta, timezone

    assert normalize_timestamp(None) is None
    assert normalize_timestamp(1234) == 1234
    assert normalize_timestamp(datetime(1970, 1, 1, 0, 0, 1)) == 1_000_000
    assert normalize_timestamp(datetime(1970, 1, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=1)))) == 1_000_000
    now = normalize_timestamp(timedelta(0))
    assert now is not None
    later = normalize_timestamp(timedelta(seconds=60))
    assert later is not None and 59_000_000 < later - now < 61_000_000
    with pytest.raises(ValidationError):
        normalize_timestamp(True)  # type: ignore[arg-type]


def test_objects_not_reachable_from_instances():
    with pytest.raises(AttributeError):
        Ordered(b=1).objects  # noqa: B018


def test_model_with_udt_column():
    class Addr(UserType):
        street = columns.Text()

    class Person(Model):
        id = columns.Integer(primary_key=True)
        home = columns.UserDefinedType(Addr)

    p = Person(id=1, home={"street": "main"})
    p.validate()
    assert isinstance(p.home, Addr) and p.home.street == "main"


def test_polymorphic_base_with_its_own_key_reads_back_as_itself():
    class Vehicle(Model):
        __polymorphic_key__ = "vehicle"
        id = columns.Integer(primary_key=True)
        kind = columns.Text(polymorphic_key=True)

    class Car(Vehicle):
        __polymorphic_key__ = "car"

    assert Vehicle(id=1).kind == "vehicle"
    assert type(Vehicle._construct_instance({"id": 1, "kind": "vehicle"})) is Vehicle
    assert type(Vehicle._construct_instance({"id": 1, "kind": "car"})) is Car
    Vehicle(id=1).validate()


def test_nan_read_back_is_not_a_change():
    class Measure(Model):
        id = columns.Integer(primary_key=True)
        value = columns.Double()

    a = Measure._construct_instance({"id": 1, "value": float("nan")})
    b = Measure._construct_instance({"id": 1, "value": float("nan")})
    assert a.get_changed_columns() == []
    assert a == b
    a.value = 1.0
    assert a.get_changed_columns() == ["value"] and a != b


def test_datetime_read_back_rounds_the_drivers_float_error():
    from datetime import datetime

    class Stamp(Model):
        id = columns.Integer(primary_key=True)
        at = columns.DateTime()

    # the driver hands back 2243-01-01 00:00:00.001 as ...000999 (milliseconds through a float)
    inst = Stamp._construct_instance({"id": 1, "at": datetime(2243, 1, 1, 0, 0, 0, 999)})
    assert inst.at == datetime(2243, 1, 1, 0, 0, 0, 1000)
    inst = Stamp._construct_instance({"id": 1, "at": datetime(1, 1, 1, 0, 0, 0, 998_997)})
    assert inst.at == datetime(1, 1, 1, 0, 0, 0, 999_000)


def test_polymorphic_siblings_cannot_give_one_column_two_types():
    class Shape(Model):
        id = columns.Integer(primary_key=True)
        kind = columns.Text(polymorphic_key=True)

    class Square(Shape):
        __polymorphic_key__ = "square"
        size = columns.Integer()

    class Circle(Shape):
        __polymorphic_key__ = "circle"
        size = columns.Integer()  # same type: fine, one shared column

    with pytest.raises(ModelDefinitionException, match="'size' is text here but int in Square"):
        class Label(Shape):
            __polymorphic_key__ = "label"
            size = columns.Text()

    assert set(Shape._discriminator_map) == {"square", "circle"}


def test_the_whole_partition_key_cannot_be_indexed():
    with pytest.raises(ModelDefinitionException, match="'id' is the whole partition key"):
        class Indexed(Model):
            id = columns.Integer(primary_key=True, index=True)
            v = columns.Text(index=True)


def test_a_mutable_default_is_never_shared():
    class Tagged(Model):
        id = columns.Integer(primary_key=True)
        tags = columns.List(columns.Text, default=["new"])

    first, second = Tagged(id=1), Tagged(id=2)
    first.tags.append("mine")
    assert second.tags == ["new"]
