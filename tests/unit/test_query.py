"""QuerySet building and rendering, without a server."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cqlengine import columns
from cqlengine.exceptions import QueryException
from cqlengine.functions import MaxTimeUUID, MinTimeUUID, Token
from cqlengine.models import Model
from cqlengine.query import BatchQuery, QuerySet


class Event(Model):
    __keyspace__ = "ks"
    __table_name__ = "events"
    tenant = columns.Text(partition_key=True)
    day = columns.Integer(partition_key=True)
    at = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    seq = columns.Integer(primary_key=True)
    kind = columns.Text(index=True)
    score = columns.Integer(custom_index=True)
    label = columns.Text(custom_index=True)
    body = columns.Text()
    tags = columns.Set(columns.Text)
    attrs = columns.Map(columns.Text, columns.Integer)
    nums = columns.List(columns.Integer)


def cql(qs: QuerySet) -> str:
    return str(qs)


def params(qs: QuerySet) -> list:
    return qs._select_statement().render()[1]


PK = {"tenant": "t", "day": 1}


# ---------------------------------------------------------------- laziness and chaining


def test_every_chaining_method_returns_a_new_queryset_and_leaves_the_old_one_alone():
    base = Event.objects(**PK)
    before = cql(base)
    chained = [
        base.filter(seq=1), base.limit(3), base.order_by("at"), base.allow_filtering(), base.only("body"),
        base.defer("body"), base.values_list("body", flat=True), base.fetch_size(10), base.ttl(5),
        base.timestamp(10), base.consistency(1), base.timeout(2.0), base.if_exists(), base.iff(body="x"),
        base.using(keyspace="other"), base.all(), base(seq=1),
    ]
    for qs in chained:
        assert qs is not base
        assert isinstance(qs, QuerySet)
    assert cql(base) == before
    assert base._where == Event.objects(**PK)._where


def test_building_a_queryset_sends_nothing():
    # No connection is set up in the unit tests: building and rendering must not need one.
    qs = Event.objects(**PK).filter(at__gt=_tuuid()).order_by("-at").limit(10)
    assert cql(qs).startswith("SELECT ")


# ---------------------------------------------------------------- rendering


def test_select_renders_every_value_as_a_bound_marker():
    qs = Event.objects(tenant="x'); DROP TABLE events; --", day=3)
    assert cql(qs) == (
        "SELECT tenant, day, at, seq, kind, score, label, body, tags, attrs, nums FROM ks.events "
        "WHERE tenant = ? AND day = ?"
    )
    assert params(qs) == ["x'); DROP TABLE events; --", 3]


@pytest.mark.parametrize("kwargs, text, values", [
    ({"seq__gt": 1}, "seq > ?", [1]),
    ({"seq__gte": 1}, "seq >= ?", [1]),
    ({"seq__lt": 1}, "seq < ?", [1]),
    ({"seq__lte": 1}, "seq <= ?", [1]),
    ({"day__in": [1, 2]}, "day IN ?", [[1, 2]]),
])
def test_filter_operators_render(kwargs, text, values):
    base = {k: v for k, v in PK.items() if k not in {key.split("__")[0] for key in kwargs}}
    qs = Event.objects.filter(**base, **kwargs)
    if "seq" in "".join(kwargs):
        qs = qs.allow_filtering()  # seq is the second clustering column
    assert text in cql(qs)
    assert params(qs)[-len(values):] == values


def test_contains_and_contains_key_render_and_validate_the_element():
    qs = Event.objects(**PK).filter(tags__contains="a", attrs__contains_key="k").allow_filtering()
    assert "tags CONTAINS ? AND attrs CONTAINS KEY ?" in cql(qs)
    assert params(qs)[-2:] == ["a", "k"]
    with pytest.raises(Exception, match="attrs"):
        Event.objects.filter(attrs__contains="not an int")


def test_column_expressions_match_keyword_filters():
    a = Event.objects.filter(Event.tenant == "t", Event.day.in_([1, 2]), Event.seq >= 3).allow_filtering()
    b = Event.objects.filter(tenant="t", day__in=[1, 2], seq__gte=3).allow_filtering()
    assert cql(a) == cql(b)
    assert params(a) == params(b)
    c = Event.objects.filter(Event.tenant == "t", Event.day == 1, Event.at > MinTimeUUID(datetime(2024, 1, 1)),
                             Event.at <= MaxTimeUUID(datetime(2024, 2, 1)))
    assert "at > minTimeuuid(?) AND at <= maxTimeuuid(?)" in cql(c)
    assert params(c)[-2:] == [datetime(2024, 1, 1), datetime(2024, 2, 1)]


def test_token_relation_converts_values_and_renders_token_of_the_partition_key():
    qs = Event.objects.filter(pk__token__gt=Token("t", 1))
    assert cql(qs).endswith("WHERE token(tenant, day) > token(?, ?)")
    assert params(qs) == ["t", 1]
    assert "token(tenant, day) <= ?" in cql(Event.objects.filter(pk__token__lte=42))
    with pytest.raises(QueryException, match="needs 2 value"):
        Event.objects.filter(pk__token__gt=Token("t"))


def test_order_limit_only_defer_values_list_distinct():
    qs = Event.objects(**PK).order_by("-at", "seq").limit(5)
    assert cql(qs).endswith("ORDER BY at DESC, seq ASC LIMIT ?")
    assert params(qs)[-1] == 5
    assert cql(Event.objects(**PK).order_by("at")).endswith("ORDER BY at ASC")
    # The columns the filter fixes are read too: an instance read in part keeps its key (see _with_fixed_columns).
    assert cql(Event.objects(**PK).only("body", "seq")).startswith("SELECT body, seq, tenant, day FROM")
    assert cql(Event.objects(**PK).only(["body", "seq"])).startswith("SELECT body, seq, tenant, day FROM")  # peer's
    assert cql(Event.objects.only("body")).startswith("SELECT body FROM")  # nothing fixed, nothing added
    assert "body" not in cql(Event.objects(**PK).defer("body")).split("FROM")[0]
    assert cql(Event.objects(**PK).defer(["body", "tags"])) == cql(Event.objects(**PK).defer("body", "tags"))
    assert cql(Event.objects(**PK).values_list("body", flat=True)).startswith("SELECT body FROM")
    assert cql(Event.objects.distinct()) == "SELECT DISTINCT tenant, day FROM ks.events"


def test_count_renders_count_star():
    qs = Event.objects(**PK)
    cql_text, values = qs._select_statement(count=True, limit=None).render()
    assert cql_text == "SELECT COUNT(*) FROM ks.events WHERE tenant = ? AND day = ?"
    assert values == ["t", 1]


def test_using_changes_the_keyspace():
    assert " FROM other.events " in cql(Event.objects(**PK).using(keyspace="other"))


def test_allow_filtering_is_rendered():
    assert cql(Event.objects.filter(body="x").allow_filtering()).endswith("ALLOW FILTERING")


# ---------------------------------------------------------------- validation


def _refused(qs_factory, *words: str) -> str:
    with pytest.raises(QueryException) as info:
        qs = qs_factory()
        str(qs)
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


def test_no_partition_key_without_allow_filtering_names_model_and_column():
    _refused(lambda: Event.objects.filter(body="x"), "Event", "body", "allow_filtering")
    _refused(lambda: Event.objects.filter(tenant="t"), "Event", "day", "allow_filtering")
    _refused(lambda: Event.objects.filter(seq=1), "Event", "allow_filtering")


def test_unknown_column_is_refused():
    _refused(lambda: Event.objects.filter(nope=1), "Event", "nope")
    _refused(lambda: Event.objects.filter(Event.body == "x", nope__gt=1), "Event", "nope")
    _refused(lambda: Event.objects(**PK).only("nope"), "Event", "nope")
    _refused(lambda: Event.objects(**PK).order_by("nope"), "Event", "nope")


def test_operator_the_column_cannot_take_is_refused():
    _refused(lambda: Event.objects.filter(body__contains="x"), "Event.body", "CONTAINS")
    _refused(lambda: Event.objects.filter(tags__contains_key="x"), "Event.tags", "CONTAINS KEY")
    _refused(lambda: Event.objects.filter(seq__like="x%"), "Event.seq", "LIKE")
    _refused(lambda: Event.objects.filter(tags__in=[{"a"}]).allow_filtering(), "Event.tags", "IN")
    _refused(lambda: Event.objects.filter(tags={"a"}).allow_filtering(), "Event.tags")
    _refused(lambda: Event.objects.filter(body__startswith="x"), "Event.body", "startswith")
    _refused(lambda: Event.objects.filter(tenant__gt="a", day=1), "Event", "tenant", "Token")


def test_like_is_refused_client_side_because_cassandra_5_sai_refuses_it():
    _refused(lambda: Event.objects.filter(label__like="ab%"), "Event.label", "LIKE")
    _refused(lambda: Event.objects.filter(label__like="ab%").allow_filtering(), "Event.label", "LIKE")


def test_index_rules():
    assert cql(Event.objects.filter(kind="x"))  # one secondary index: fine
    assert cql(Event.objects.filter(score__gt=3, label="x"))  # SAI: numeric range and text equality
    _refused(lambda: Event.objects.filter(label__gt="x"), "label", "allow_filtering")  # SAI text: = only
    _refused(lambda: Event.objects.filter(kind="x", score=1), "allow_filtering")  # index + SAI
    _refused(lambda: Event.objects.filter(kind="x", seq=1), "allow_filtering")  # clustering without pk
    _refused(lambda: Event.objects.filter(tenant__in=["a"], day=1, score=1),
             "Event.tenant", "IN", "index")  # IN on the partition key with an index


def test_ordering_rules():
    _refused(lambda: Event.objects(**PK).order_by("body"), "Event.body", "clustering")
    _refused(lambda: Event.objects(**PK).order_by("seq"), "Event", "order")
    _refused(lambda: Event.objects(**PK).order_by("-at", "-seq"), "Event", "direction")
    _refused(lambda: Event.objects.order_by("at"), "Event", "partition key")
    _refused(lambda: Event.objects.filter(tenant="t", day__gt=1).allow_filtering().order_by("at"),
             "Event", "partition key")


def test_a_zero_slice_step_is_refused_before_any_query():
    # Negative indexes and steps are served (they read the whole result): see the integration tests.
    with pytest.raises(ValueError, match="Event.*step cannot be zero"):
        Event.objects(**PK)[::0]


def test_a_limit_of_0_or_none_is_no_limit_as_in_the_peer():
    assert "LIMIT" not in cql(Event.objects(**PK).limit(3).limit(0))
    assert "LIMIT" not in cql(Event.objects(**PK).limit(3).limit(None))


def test_bad_options_are_refused():
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(QueryException, match="Event.limit: expected a positive int, or 0 or None"):
            Event.objects.limit(bad)
    with pytest.raises(QueryException):
        Event.objects.fetch_size(0)
    with pytest.raises(QueryException):
        Event.objects.values_list("body", "seq", flat=True)
    with pytest.raises(QueryException):
        Event.objects.distinct(["tenant"])  # DISTINCT must select the whole partition key
    with pytest.raises(QueryException):
        Event.objects.filter(body=None)
    with pytest.raises(QueryException):
        Event.objects.if_exists().if_not_exists()


def test_update_and_delete_validate_before_sending():
    with pytest.raises(QueryException, match="seq"):
        Event.objects(**PK).update(body="x")  # a regular column needs the full primary key
    with pytest.raises(QueryException, match="partition key"):
        Event.objects.filter(body="x").allow_filtering().delete()
    with pytest.raises(QueryException, match="__append"):
        Event.objects(**PK, at=None or Event.at.column.get_default() or _tuuid(), seq=1).update(tags__append={"a"})


def _tuuid():
    import uuid

    return uuid.uuid1()


def test_timestamp_accepts_timedelta_datetime_and_int():
    for value in (timedelta(seconds=60), datetime(2024, 1, 1), 1_700_000_000_000_000):
        assert Event.objects(**PK).timestamp(value)._options.timestamp == value
    with pytest.raises(Exception, match="timestamp"):
        Event.objects.timestamp("soon")


def test_batch_collects_queryset_writes_as_members_dated_by_the_batch():
    b = BatchQuery(batch_type="UNLOGGED", timestamp=10)
    key = dict(PK, at=_tuuid(), seq=1)
    Event.objects(**key).batch(b).update(body="x", tags__add={"a"})
    Event.objects(**key).batch(b).delete()
    assert len(b.queries) == 2
    (update, update_values), (delete, delete_values) = b._members()
    assert update.startswith("UPDATE ks.events USING TIMESTAMP ? SET body = ?, tags = tags + ?")
    assert delete.startswith("DELETE FROM ks.events USING TIMESTAMP ? WHERE")
    assert update_values[0] == delete_values[0] == 10
    assert not b.executed
    with pytest.raises(QueryException):
        BatchQuery(batch_type="SOMETIMES")


def test_a_batch_refused_before_sending_runs_its_discard_callbacks():
    b = BatchQuery(timestamp=10)
    Event.objects(**dict(PK, at=_tuuid(), seq=1)).timestamp(5).batch(b).delete()
    discarded: list[str] = []
    b.add_discard_callback(discarded.append, "gone")
    with pytest.raises(QueryException, match="batch-level timestamp"):
        b.execute()
    assert discarded == ["gone"]
    assert BatchQuery()._members() == []  # an empty batch sends nothing


def test_token_takes_at_most_one_bound_each_side():
    _refused(lambda: Event.objects.filter(pk__token__gt=1).filter(pk__token__gte=2), "Event", "token")
    _refused(lambda: Event.objects.filter(pk__token=1, pk__token__lt=2), "Event", "token")
    assert "token(tenant, day) > ? AND token(tenant, day) <= ?" in cql(
        Event.objects.filter(pk__token__gt=1, pk__token__lte=9))
