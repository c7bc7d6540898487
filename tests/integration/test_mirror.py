"""Dual writes against the real server: every write of a mirrored model reaches the target, dated alike."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from cqlengine import columns, connection, management
from cqlengine.bulk import BulkWriteError
from cqlengine.exceptions import LWTException
from cqlengine.mirroring import MirrorError, mirror
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class User(Model):
    __table_name__ = "mirror_users"
    id = columns.Integer(partition_key=True)
    email = columns.Text()
    name = columns.Text()
    tags = columns.Set(columns.Text)


class UserCopy(Model):
    """Same key, one column renamed."""
    __table_name__ = "mirror_users_copy"
    id = columns.Integer(partition_key=True)
    email = columns.Text()
    full_name = columns.Text()
    tags = columns.Set(columns.Text)


class UserByEmail(Model):
    """Re-partitioned by another column: the transform changes the primary key."""
    __table_name__ = "mirror_users_by_email"
    email = columns.Text(partition_key=True)
    id = columns.Integer()
    name = columns.Text()


def to_copy(user):
    return {"id": user.id, "email": user.email, "full_name": user.name, "tags": user.tags}


def by_email(user):
    return None if user.email is None else UserByEmail(email=user.email, id=user.id, name=user.name)


@pytest.fixture(scope="module")
def tables(cqlengine_connection):
    for model in (User, UserCopy, UserByEmail):
        management.sync_table(model)
    mirrors = [mirror(User, UserCopy, to_copy), mirror(User, UserByEmail, by_email)]
    yield
    for m in mirrors:
        m.stop()


@pytest.fixture(autouse=True)
def empty(tables):
    for model in (User, UserCopy, UserByEmail):
        connection.execute(f"TRUNCATE {model.column_family_name()}")


def writetime(model, column, **key):
    where = " AND ".join(f"{k} = ?" for k in key)
    row = connection.execute(f"SELECT WRITETIME({column}) AS wt FROM {model.column_family_name()} WHERE {where}",
                             list(key.values())).one()
    return None if row is None else row["wt"]


def test_create_update_delete_reach_the_target_with_the_same_timestamp(tables):
    user = User.create(id=1, email="a@x", name="Ann", tags={"t"})
    copy = UserCopy.get(id=1)
    assert (copy.email, copy.full_name, copy.tags) == ("a@x", "Ann", {"t"})
    assert UserByEmail.get(email="a@x").id == 1
    assert writetime(User, "name", id=1) == writetime(UserCopy, "full_name", id=1) == \
        writetime(UserByEmail, "name", email="a@x")

    user.name = "Anna"
    user.save()
    assert UserCopy.get(id=1).full_name == "Anna" and UserByEmail.get(email="a@x").name == "Anna"
    assert writetime(User, "name", id=1) == writetime(UserCopy, "full_name", id=1)

    user.update(name=None)  # None deletes the cell in both
    assert UserCopy.get(id=1).full_name is None and UserByEmail.get(email="a@x").name is None

    user.delete()
    assert UserCopy.objects(id=1).count() == 0 and UserByEmail.objects(email="a@x").count() == 0


def test_a_key_changing_update_moves_the_target_row(tables):
    user = User.create(id=2, email="old@x", name="Bo")
    user.update(email="new@x")
    assert UserByEmail.objects(email="old@x").count() == 0
    assert UserByEmail.get(email="new@x").id == 2
    user.update(email=None)  # no longer has a target row
    assert UserByEmail.objects.count() == 0
    assert UserCopy.get(id=2).email is None


def test_a_future_dated_delete_holds_in_the_target(tables):
    """The lock-out: a delete dated into the future keeps both tables empty until then."""
    User.create(id=3, email="c@x", name="Cy")
    User(id=3, email="c@x").timestamp(timedelta(minutes=10)).delete()
    User.create(id=3, email="c@x", name="Cy again")  # dated now: under the lock-out in both tables
    assert User.objects(id=3).count() == 0
    assert UserCopy.objects(id=3).count() == 0 and UserByEmail.objects(email="c@x").count() == 0


def test_an_explicit_timestamp_dates_both(tables):
    when = datetime(2020, 1, 2, tzinfo=timezone.utc)
    User.objects.timestamp(when).create(id=4, email="d@x", name="Di")
    micros = int(when.timestamp() * 1e6)
    assert writetime(User, "name", id=4) == writetime(UserCopy, "full_name", id=4) == micros


def test_batches_carry_the_mirror_writes(tables):
    with BatchQuery() as batch:
        User.batch(batch).create(id=5, email="e@x", name="Ed")
        User.batch(batch).create(id=6, email="f@x", name="Fi")
        assert UserCopy.objects.count() == 0  # nothing sent before the batch runs
    assert {u.id for u in UserCopy.objects.all()} == {5, 6}
    assert writetime(User, "name", id=5) == writetime(UserCopy, "full_name", id=5)
    with BatchQuery() as batch:
        User.objects(id=5).batch(batch).delete()
    assert {u.id for u in UserCopy.objects.all()} == {6} and UserByEmail.objects(email="e@x").count() == 0


def test_queryset_update_and_delete_are_mirrored(tables):
    User.create(id=7, email="g@x", name="Gus", tags={"a"})
    User.objects(id=7).update(name="Gustav", tags__add={"b"})
    assert UserCopy.get(id=7).full_name == "Gustav" and UserCopy.get(id=7).tags == {"a", "b"}
    assert writetime(User, "name", id=7) == writetime(UserCopy, "full_name", id=7)
    User.objects(id=8).update(name="Hal", email="h@x")  # an UPDATE of a row that did not exist creates it
    assert UserCopy.get(id=8).full_name == "Hal" and UserByEmail.get(email="h@x").id == 8
    User.objects(id__in=[7, 8]).delete()
    assert UserCopy.objects.count() == 0 and UserByEmail.objects.count() == 0


def test_conditional_writes_are_mirrored_only_when_applied(tables):
    User.if_not_exists().create(id=9, email="i@x", name="Ida")
    assert UserCopy.get(id=9).full_name == "Ida"
    with pytest.raises(LWTException):
        User.if_not_exists().create(id=9, email="i@x", name="Impostor")
    assert UserCopy.get(id=9).full_name == "Ida"
    User.get(id=9).iff(name="Ida").update(name="Ida B")
    assert UserCopy.get(id=9).full_name == "Ida B"


def test_a_delete_of_an_instance_never_read_reads_its_row_to_find_the_target(tables):
    User.create(id=10, email="j@x", name="Jo")
    User(id=10).delete()  # the target is keyed by email, which only the stored row knows
    assert UserByEmail.objects(email="j@x").count() == 0 and UserCopy.objects(id=10).count() == 0


def test_a_write_the_target_refuses_sends_nothing(tables):
    executed = connection.get_connection().stats.executed
    with pytest.raises(MirrorError, match="transform failed"):
        mirror_of(UserCopy).transform, saved = (lambda u: 1 / 0), mirror_of(UserCopy).transform
        try:
            User.create(id=11, email="k@x", name="Kay")
        finally:
            mirror_of(UserCopy).transform = saved
    assert connection.get_connection().stats.executed == executed
    assert User.objects(id=11).count() == 0


def mirror_of(target):
    return next(m for m in User._mirrors if m.target is target)


def test_bulk_writes_and_async_writes_are_mirrored(tables):
    users = [User(id=100 + i, email=f"b{i}@x", name=f"B{i}") for i in range(20)]
    User.objects.bulk_create(users, concurrency=5)
    assert UserCopy.objects.count() == 20 and UserByEmail.objects.count() == 20
    User.objects.bulk_delete(users[:5])
    assert UserCopy.objects.count() == 15 and UserByEmail.objects(email="b0@x").count() == 0
    saved = mirror_of(UserCopy).transform
    mirror_of(UserCopy).transform = lambda u: 1 / 0 if u.id == 106 else saved(u)
    users[5].name = users[6].name = "changed"
    try:
        with pytest.raises(BulkWriteError) as failed:
            User.objects.bulk_update([users[5], users[6]])
    finally:
        mirror_of(UserCopy).transform = saved
    assert [f.instance.id for f in failed.value.failures] == [106]
    assert UserCopy.get(id=105).full_name == "changed" and User.get(id=106).name == "B6"  # nothing half-written

    async def main():
        user = await User.objects.acreate(id=200, email="z@x", name="Zed")
        await user.aupdate(name="Zoe")
        assert (await UserCopy.objects.aget(id=200)).full_name == "Zoe"
        await User.objects(id=200).adelete()
        assert await UserCopy.objects(id=200).acount() == 0

    asyncio.run(main())


def test_refusals_and_stop(tables):
    with pytest.raises(MirrorError, match="already"):
        mirror(User, UserCopy)
    with pytest.raises(MirrorError, match="share a table"):
        mirror(User, User)

    class Plain(Model):
        __table_name__ = f"mirror_plain_{uuid.uuid4().hex[:6]}"
        id = columns.Integer(partition_key=True)
        email = columns.Text()

    management.sync_table(Plain)
    m = mirror(Plain, UserByEmail)  # same names: the default transform
    Plain.create(id=1, email="p@x")
    assert UserByEmail.get(email="p@x").id == 1
    m.stop()
    Plain.create(id=2, email="q@x")
    assert UserByEmail.objects(email="q@x").count() == 0


def test_queryset_update_of_keys_in_a_list_creates_the_missing_rows_in_both(tables):
    User.create(id=20, email="u@x", name="Una", tags={"t"})
    User.objects(id__in=[20, 21]).update(name="Same")  # 21 had no row: the UPDATE creates it
    copies = sorted((u.id, u.full_name, sorted(u.tags or ())) for u in UserCopy.objects.all())
    assert copies == [(20, "Same", ["t"]), (21, "Same", [])]
    assert writetime(User, "name", id=21) == writetime(UserCopy, "full_name", id=21) == \
        writetime(UserCopy, "full_name", id=20)
    assert UserByEmail.get(email="u@x").name == "Same"  # 21 has no email: no target row
    assert UserByEmail.objects.count() == 1


def test_conditional_queryset_writes_are_mirrored_only_when_applied(tables):
    User.create(id=22, email="v@x", name="Vic")
    with pytest.raises(LWTException):
        User.objects(id=22).iff(name="nobody").update(name="Wrong")
    with pytest.raises(LWTException):
        User.objects(id=22).iff(name="nobody").delete()
    assert UserCopy.get(id=22).full_name == "Vic" and UserByEmail.get(email="v@x").name == "Vic"
    User.objects(id=22).iff(name="Vic").update(name="Victor")
    assert UserCopy.get(id=22).full_name == "Victor"
    User.objects(id=22).if_exists().delete()
    assert UserCopy.objects(id=22).count() == 0 and UserByEmail.objects(email="v@x").count() == 0


def ttl_of(model, column, **key):
    where = " AND ".join(f"{k} = ?" for k in key)
    return connection.execute(f"SELECT TTL({column}) AS t FROM {model.column_family_name()} WHERE {where}",
                              list(key.values())).one()["t"]


def test_a_writes_ttl_reaches_the_target(tables):
    User.objects.ttl(600).create(id=30, email="t@x", name="Tim")
    assert 590 < ttl_of(UserCopy, "full_name", id=30) <= 600 and 590 < ttl_of(UserByEmail, "name", email="t@x")
    User.objects(id=30).ttl(300).update(name="Tom")
    assert 290 < ttl_of(UserCopy, "full_name", id=30) <= 300
    user = User.get(id=30)
    user.name = "Tam"
    user.ttl(100).save()
    assert 90 < ttl_of(UserCopy, "full_name", id=30) <= 100


def test_a_row_an_update_created_leaves_with_its_last_cell_in_both(tables):
    """An UPDATE writes no row marker: the source row is gone once its cells are; so is the target's."""
    User.objects(id=31).update(name="Ghost")
    User.objects(id=31).update(name=None)
    assert User.objects(id=31).count() == 0
    assert UserCopy.objects(id=31).count() == 0


def test_mirrors_of_a_polymorphic_base_and_its_subclass_add_up_and_stop_apart(cqlengine_connection):
    class Pet(Model):
        __table_name__ = "mirror_pets"
        id = columns.Integer(partition_key=True)
        kind = columns.Text(polymorphic_key=True)
        name = columns.Text()

    class Dog(Pet):
        __polymorphic_key__ = "dog"

    class AllPets(Model):
        __table_name__ = "mirror_all_pets"
        id = columns.Integer(partition_key=True)
        name = columns.Text()

    class Dogs(Model):
        __table_name__ = "mirror_dogs"
        id = columns.Integer(partition_key=True)
        name = columns.Text()

    for model in (Pet, AllPets, Dogs):
        management.sync_table(model)
    dogs = mirror(Dog, Dogs)  # the subclass first ...
    pets = mirror(Pet, AllPets)  # ... then the whole family: both apply to a dog
    Dog.create(id=1, name="Rex")
    assert Dogs.get(id=1).name == "Rex" and AllPets.get(id=1).name == "Rex"
    pets.stop()  # stops it for the subclass too
    Dog.create(id=2, name="Fido")
    assert Dogs.objects(id=2).count() == 1 and AllPets.objects(id=2).count() == 0
    dogs.stop()
    assert Dog._mirrors == () and Pet._mirrors == ()


def test_an_atomic_mirror_needs_one_connection(tables):
    class Elsewhere(Model):
        __table_name__ = "mirror_elsewhere"
        __connection__ = "another"
        id = columns.Integer(partition_key=True)
        email = columns.Text()

    with pytest.raises(MirrorError, match="different connections.*atomic=False"):
        mirror(User, Elsewhere)


class Prefs(Model):
    __table_name__ = "mirror_prefs"
    id = columns.Integer(partition_key=True)
    mf = columns.Map(columns.Integer, columns.Integer)
    dummy = columns.Integer(default=42)


class PrefsCopy(Model):
    __table_name__ = "mirror_prefs_copy"
    id = columns.Integer(partition_key=True)
    mf = columns.Map(columns.Integer, columns.Integer)
    dummy = columns.Integer(default=42)
    seen = columns.Text(default="copied")


def test_an_update_of_an_instance_never_read_writes_the_same_columns_in_both(cqlengine_connection):
    management.sync_table(Prefs)
    management.sync_table(PrefsCopy)
    m = mirror(Prefs, PrefsCopy, lambda p: {"id": p.id, "mf": p.mf, "dummy": p.dummy})
    try:
        Prefs.create(id=1, mf={0: 0}, dummy=0)
        copy = PrefsCopy.get(id=1)
        copy.update(seen="kept")
        Prefs(id=1).update(mf={1: 1})  # neither the default of dummy nor of seen is written
        source, target = Prefs.get(id=1), PrefsCopy.get(id=1)
        assert (source.mf, source.dummy) == ({0: 0, 1: 1}, 0)
        assert (target.mf, target.dummy, target.seen) == ({0: 0, 1: 1}, 0, "kept")
    finally:
        m.stop()
        management.drop_table(Prefs)
        management.drop_table(PrefsCopy)


def test_a_queryset_update_of_a_map_merges_it_in_both(cqlengine_connection):
    management.sync_table(Prefs)
    management.sync_table(PrefsCopy)
    m = mirror(Prefs, PrefsCopy, lambda p: {"id": p.id, "mf": p.mf, "dummy": p.dummy})
    try:
        Prefs.create(id=2, mf={0: 0, 1: 1}, dummy=0)
        Prefs.objects(id=2).update(mf={1: 10, 2: 2})  # merged key by key, as the peer: key 0 stays
        Prefs.objects(id=2).update(mf={0: None})  # a None value deletes its key
        source, target = Prefs.get(id=2), PrefsCopy.get(id=2)
        assert source.mf == target.mf == {1: 10, 2: 2}
        Prefs.objects(id=2).update(mf={})  # an empty map empties it
        assert not Prefs.get(id=2).mf and not PrefsCopy.get(id=2).mf
    finally:
        m.stop()
        management.drop_table(Prefs)
        management.drop_table(PrefsCopy)
