"""Edge cases of contexts, batches, LWT flags, polymorphic writes and partial reads."""
from __future__ import annotations

import time

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import CQLEngineException, PolymorphicModelException, QueryException, ValidationError
from cqlengine.models import Model
from cqlengine.query import BatchQuery, ContextQuery, IfExistsWithCounterColumn, IfNotExistsWithCounterColumn


class EItem(Model):
    __table_name__ = "edge_items"
    id = columns.Integer(primary_key=True)
    v = columns.Text()


class ECount(Model):
    __table_name__ = "edge_counts"
    id = columns.Integer(primary_key=True)
    n = columns.Counter()


class EPet(Model):
    __table_name__ = "edge_pets"
    owner = columns.Integer(partition_key=True)
    pet = columns.Integer(primary_key=True)
    kind = columns.Text(polymorphic_key=True, index=True)
    name = columns.Text()


class ECat(EPet):
    __polymorphic_key__ = "cat"
    lives = columns.Integer()


class EDog(EPet):
    __polymorphic_key__ = "dog"


class PPet(Model):
    __table_name__ = "edge_plain_pets"
    owner = columns.Integer(partition_key=True)
    pet = columns.Integer(primary_key=True)
    kind = columns.Text(polymorphic_key=True)
    name = columns.Text()


class PCat(PPet):
    __polymorphic_key__ = "cat"


class PDog(PPet):
    __polymorphic_key__ = "dog"


class ERow(Model):
    __table_name__ = "edge_rows"
    p = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)
    v = columns.Text()
    w = columns.Text()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    for model in (EItem, ECount, ECat, EDog, PCat, PDog, ERow):
        management.sync_table(model)
    keyspace = cqlengine_connection.default_keyspace
    other = f"{keyspace}_ctx"
    management.create_keyspace_simple(other, 1)
    management.sync_table(EItem, keyspaces=[other])
    yield keyspace, other
    management.drop_keyspace(other)


def ids_in(keyspace: str) -> list[int]:
    return sorted(r["id"] for r in connection.execute(f"SELECT id FROM {keyspace}.edge_items"))


def test_context_query_options_stay_in_the_context(ks):
    default, other = ks
    with ContextQuery(EItem, keyspace=other) as item:
        item.create(id=1)
        item.ttl(3600).create(id=2)
        item.if_not_exists().create(id=3)
        batch = BatchQuery()
        item.batch(batch).create(id=4)
        batch.execute()
        item(id=5).save()
    assert ids_in(other) == [1, 2, 3, 4, 5]
    assert ids_in(default) == []


def test_a_batch_runs_on_the_connection_of_its_models(ks, cassandra):
    connection.register_connection("edge_other", hosts=cassandra.contact_points,
                                   cluster_options={"port": cassandra.port},
                                   default_keyspace=ks[0])
    try:

        class OtherItem(EItem):
            __connection__ = "edge_other"

        other = connection.get_connection("edge_other").stats
        default = connection.get_connection().stats
        before = (other.executed, default.executed)
        with BatchQuery() as batch:
            OtherItem.batch(batch).create(id=10)
        assert (other.executed - before[0], default.executed - before[1]) == (1, 0)
        mixed = BatchQuery()
        OtherItem.batch(mixed).create(id=11)
        with pytest.raises(CQLEngineException, match="one connection"):
            EItem.batch(mixed).create(id=12)
    finally:
        connection.unregister_connection("edge_other")


def test_if_not_exists_is_never_dropped_silently(ks):
    with pytest.raises(IfNotExistsWithCounterColumn, match="ECount"):
        ECount.if_not_exists()
    with pytest.raises(IfExistsWithCounterColumn, match="ECount"):
        ECount.objects(id=1).if_exists()
    item = EItem.create(id=20, v="a")
    loaded = EItem.get(id=20)
    loaded.v = "over"
    with pytest.raises(ValidationError, match="EItem: if_not_exists.*UPDATE"):
        loaded.if_not_exists().save()
    with pytest.raises(QueryException, match="EItem.update: if_not_exists"):
        EItem.objects(id=20).if_not_exists().update(v="over")
    assert EItem.get(id=20).v == item.v == "a"


def test_polymorphic_subclass_writes_go_through_instances_or_the_base(ks):
    ECat.create(owner=1, pet=1, name="tom", lives=9)
    EDog.create(owner=1, pet=2, name="rex")
    # Cassandra writes by key alone: a Cat queryset could not keep off the Dog row at the same key.
    for write in (lambda: ECat.objects(owner=1, pet=2).update(lives=3), lambda: ECat.objects(owner=1).delete()):
        with pytest.raises(QueryException, match="ECat.*other subclasses.*EPet.objects"):
            write()
    ECat.get(owner=1, pet=1).update(lives=8)
    assert ECat.get(owner=1, pet=1).lives == 8
    EPet.objects(owner=1, pet=1).delete()
    assert [(type(p).__name__, p.name) for p in EPet.objects(owner=1)] == [("EDog", "rex")]


def test_indexed_subclass_queries_that_cannot_use_the_index_skip_other_rows(ks):
    ECat.create(owner=3, pet=1, name="a")
    EDog.create(owner=3, pet=2, name="b")
    ECat.create(owner=4, pet=1, name="c")
    assert [c.name for c in ECat.objects(owner__in=[3, 4])] == ["a", "c"]
    assert [c.name for c in ECat.objects(owner=3).order_by("-pet")] == ["a"]
    assert ECat.objects(owner__in=[3, 4]).count() == 2
    assert {3, 4} <= set(ECat.objects.distinct().values_list("owner", flat=True))  # partitions, any type


def test_distinct_count_counts_partitions(ks):
    for p in range(3):
        for c in range(4):
            ERow.create(p=p, c=c, v="x")
    assert ERow.objects.distinct().count() == 3 == len(list(ERow.objects.distinct()))


def test_none_assigned_to_a_column_that_was_not_read_is_written(ks):
    ERow.create(p=10, c=1, v="keep", w="keep")
    row = ERow.objects.defer("v").get(p=10, c=1)
    row.update(v=None)
    row = ERow.objects.only("p", "c").get(p=10, c=1)
    row.w = None
    row.save()
    got = ERow.get(p=10, c=1)
    assert (got.v, got.w) == (None, None)


def test_a_save_after_a_partial_read_leaves_unread_columns_alone(ks):
    ERow.create(p=11, c=1, v="keep", w="old")
    row = ERow.objects.only("p", "c", "w").get(p=11, c=1)
    row.w = "new"
    row.save()
    got = ERow.get(p=11, c=1)
    assert (got.v, got.w) == ("keep", "new")


def test_polymorphic_reads_agree(ks):
    PCat.create(owner=2, pet=1, name="tom")
    PDog.create(owner=2, pet=2, name="rex")
    assert [type(p).__name__ for p in PPet.objects(owner=2).defer("kind")] == ["PCat", "PDog"]
    for read in (lambda: list(PCat.objects(owner=2)), lambda: list(PCat.objects(owner=2).values_list("name")),
                 lambda: PCat.objects(owner=2).count()):
        with pytest.raises(PolymorphicModelException, match="PDog"):
            read()
    assert PCat.objects(owner=2, pet=1).count() == 1
    assert PPet.objects(owner=2).count() == 2


def test_option_errors_name_the_model(ks):
    with pytest.raises(ValidationError, match=r"EItem\.ttl: -1"):
        EItem.ttl(-1)
    with pytest.raises(ValidationError, match=r"EItem\.timestamp: 'soon'"):
        EItem.objects(id=1).timestamp("soon")
    with pytest.raises(ValidationError, match=r"EItem\.ttl"):
        EItem(id=1).ttl(1.5)


class RRow(Model):
    __table_name__ = "edge_required"
    p = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)
    v = columns.Text()
    w = columns.Text(required=True)


@pytest.fixture(scope="module")
def rrow(ks):
    management.sync_table(RRow)


def writetime_of(column: str, p: int, c: int, keyspace: str) -> int:
    return connection.execute(f"SELECT WRITETIME({column}) AS t FROM {keyspace}.edge_required WHERE p = ? AND c = ?",
                              [p, c]).one()["t"]


def test_a_write_refused_before_sending_keeps_its_one_shot_options(ks, rrow):
    # As the peer: nothing was sent, so the retry is the write the caller asked for,
    # dated and conditioned as asked (dropping a condition would silently overwrite).
    from datetime import timedelta

    row = RRow(p=1, c=1, w=None)
    with pytest.raises(ValidationError, match="RRow.w"):
        row.timestamp(timedelta(days=-1000)).save()
    row.w = "x"
    row.save()  # dated 1000 days back, as asked
    days_ago = (time.time() * 1_000_000 - writetime_of("w", 1, 1, ks[0])) / 86_400_000_000
    assert 999 < days_ago < 1001
    row.w = "x2"
    row.save()  # the timestamp was spent by the write that carried it
    assert (time.time() * 1_000_000 - writetime_of("w", 1, 1, ks[0])) / 86_400_000_000 < 1
    loaded = RRow.get(p=1, c=1)
    loaded.w = "y"
    with pytest.raises(ValidationError, match="if_not_exists"):
        loaded.if_not_exists().save()
    with pytest.raises(ValidationError, match="if_not_exists"):
        loaded.save()  # still asked for: refused again, never silently dropped
    loaded.if_not_exists(False).save()
    assert RRow.get(p=1, c=1).w == "y"


def test_a_partial_read_saves_despite_unread_required_columns(ks, rrow):
    RRow.create(p=2, c=1, v="a", w="keep")
    row = RRow.objects.only("p", "c", "v").get(p=2, c=1)
    row.v = "b"
    row.save()
    RRow.objects.defer("w").get(p=2, c=1).update(v="c")
    got = RRow.get(p=2, c=1)
    assert (got.v, got.w) == ("c", "keep")


def test_moving_a_partial_read_to_another_key_writes_only_what_is_known(ks):
    ERow.create(p=20, c=1, v="v1", w="w1")
    ERow.create(p=20, c=2, v="v2", w="w2")
    row = ERow.objects.only("p", "c", "v").get(p=20, c=1)
    row.c, row.v = 2, "moved"
    row.if_exists().save()
    got = ERow.get(p=20, c=2)
    assert (got.v, got.w) == ("moved", "w2")


def test_a_batched_write_counts_as_written_only_when_the_batch_runs(ks):
    item = EItem.create(id=30, v="a")
    item.v = "b"
    with pytest.raises(KeyError):
        with BatchQuery() as batch:
            item.batch(batch).save()
            raise KeyError("abandoned")
    assert item.get_changed_columns() == ["v"]  # nothing was sent: still a change
    with BatchQuery() as batch:
        item.batch(batch).save()
        assert item.get_changed_columns() == ["v"]
    assert item.get_changed_columns() == [] and EItem.get(id=30).v == "b"


def test_deleting_an_unread_attribute_writes_null(ks):
    ERow.create(p=21, c=1, v="v", w="w")
    row = ERow.objects.only("p", "c", "v").get(p=21, c=1)
    del row.w
    row.save()
    assert ERow.get(p=21, c=1).w is None


def test_distinct_over_a_polymorphic_subclass(ks):
    PCat.create(owner=30, pet=1, name="tom")
    assert 30 in [p.owner for p in PCat.objects.distinct()]
    assert PCat.objects.distinct().count() >= 1


class SGroup(Model):
    __table_name__ = "edge_static"
    user_id = columns.Integer(partition_key=True)
    group_id = columns.Integer(primary_key=True)
    admin = columns.Boolean()
    motto = columns.Text(static=True)


class SCount(Model):
    __table_name__ = "edge_counter_batch"
    id = columns.Integer(primary_key=True)
    n = columns.Counter()


@pytest.fixture(scope="module")
def more_tables(ks):
    management.sync_table(SGroup)
    management.sync_table(SCount)


def test_a_static_column_alone_is_updated_through_its_partition(more_tables):
    SGroup.create(user_id=1, group_id=1, admin=False, motto="a")
    SGroup.create(user_id=1, group_id=2, admin=True)
    row = SGroup.get(user_id=1, group_id=1)
    row.motto = "b"
    row.save()
    assert {r.motto for r in SGroup.objects(user_id=1)} == {"b"}
    row.update(motto="c")
    SGroup.objects(user_id=1, group_id=2).update(motto="d")
    assert {r.motto for r in SGroup.objects(user_id=1)} == {"d"}


def test_saving_a_counter_twice_in_one_batch_adds_each_increment_once(more_tables):
    SCount.create(id=1)
    counter = SCount.get(id=1)
    from cqlengine.query import BatchType

    with BatchQuery(batch_type=BatchType.Counter) as batch:
        counter.n += 1
        counter.batch(batch).save()
        counter.n += 1
        counter.batch(batch).save()
    assert SCount.get(id=1).n == 2


def test_limits_on_an_indexed_subclass_count_its_own_rows(ks):
    for pet in range(6):
        (ECat if pet % 2 else EDog).create(owner=50, pet=pet, name=str(pet))
    ordered = ECat.objects(owner=50).order_by("pet")
    assert ordered.first().pet == 1
    assert [c.pet for c in ordered[0:2]] == [1, 3]
    assert [c.pet for c in ordered.limit(2)] == [1, 3]
    assert ordered.limit(2).count() == 2
    assert [c.pet for c in ECat.objects(owner__in=[50]).limit(2)] == [1, 3]
    page = ordered.page(2)
    assert [c.pet for c in page][:2] == [1, 3]


def test_if_not_exists_on_an_instance_update_or_delete_is_refused(ks):
    item = EItem.create(id=40, v="a")
    with pytest.raises(ValidationError, match="EItem.update: if_not_exists"):
        item.if_not_exists().update(v="b")
    with pytest.raises(ValidationError, match="EItem.delete: if_not_exists"):
        item.if_not_exists().delete()
    assert EItem.get(id=40).v == "a"


def test_a_conditional_write_of_a_new_instance_leaves_unset_columns_alone(ks):
    ERow.if_not_exists().create(p=40, c=1, v="v", w="keep")  # all-conditional: LWTs keep their own clock
    ERow(p=40, c=1, v="z").if_exists().save()
    got = ERow.get(p=40, c=1)
    assert (got.v, got.w) == ("z", "keep")


def test_a_column_a_new_instance_did_not_write_is_not_taken_as_null(ks):
    ERow.create(p=41, c=1, v="v", w="keep")
    row = ERow(p=41, c=1, v="z")
    row.save()
    row.w = None
    row.save()
    assert ERow.get(p=41, c=1).w is None


def test_conditions_on_a_counter_table_are_refused_before_sending(more_tables):
    counter = SCount.get(id=1)
    with pytest.raises(ValidationError, match="SCount.if_exists"):
        counter.if_exists()
    with pytest.raises(ValidationError, match="SCount.iff"):
        counter.iff(n=2)


def test_get_finds_a_second_match_whatever_the_limit(ks):
    ERow.create(p=42, c=1, v="a")
    ERow.create(p=42, c=2, v="b")
    with pytest.raises(ERow.MultipleObjectsReturned):
        ERow.objects(p=42).limit(1).get()
