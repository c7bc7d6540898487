"""Aggregates compiled without a server: the CQL, and what is refused before anything is sent."""
from __future__ import annotations

import pytest

from cqlengine import columns
from cqlengine.aggregates import Avg, Count, Max, Min, Sum
from cqlengine.exceptions import QueryException
from cqlengine.models import Model


class Reading(Model):
    __keyspace__ = "ks"
    sensor = columns.Text(partition_key=True)
    day = columns.Integer(primary_key=True)
    seq = columns.Integer(primary_key=True)
    value = columns.Integer()
    label = columns.Text(db_field="Label")


def rendered(queryset, **aggregates):
    statement, _ = queryset._aggregate_statement(aggregates)
    return statement.render()


def test_the_aggregates_render_as_one_select_with_aliases_and_bound_values():
    cql, params = rendered(Reading.objects(sensor="a"), n=Count(), total=Sum("value"), mean=Avg("value"),
                           lo=Min("label"), hi=Max("value"), labelled=Count("label"))
    assert cql == ('SELECT COUNT(*) AS n, SUM(value) AS total, AVG(value) AS mean, MIN("Label") AS lo, '
                   'MAX(value) AS hi, COUNT("Label") AS labelled FROM ks.reading WHERE sensor = ?')
    assert params == ["a"]


def test_group_by_selects_the_group_columns_and_groups_in_key_order():
    cql, params = rendered(Reading.objects.group_by("sensor", "day"), n=Count())
    assert cql == "SELECT sensor, day, COUNT(*) AS n FROM ks.reading GROUP BY sensor, day"
    cql, params = rendered(Reading.objects(sensor="a").group_by("day").limit(2), top=Max("value"))
    assert cql == "SELECT day, MAX(value) AS top FROM ks.reading WHERE sensor = ? GROUP BY day LIMIT ?"
    assert params == ["a", 2]


def test_an_aggregate_without_groups_ignores_the_limit():
    assert rendered(Reading.objects(sensor="a").limit(5), n=Count())[0] == \
        "SELECT COUNT(*) AS n FROM ks.reading WHERE sensor = ?"


@pytest.mark.parametrize("queryset, aggregates, message", [
    (Reading.objects.group_by("value"), {"n": Count()}, r"group_by\('value'\): Cassandra groups by primary-key "
                                                          r"columns only \(sensor, day, seq\)"),
    (Reading.objects.group_by("sensor", "seq"), {"n": Count()}, r"seq cannot come before day \(unless day is "
                                                                  r"filtered with =\)"),
    (Reading.objects.group_by("day"), {"n": Count()}, "day cannot come before sensor"),
    (Reading.objects.group_by("day", "sensor"), {"n": Count()}, "the primary key's order is sensor, day, seq"),
    (Reading.objects, {"total": Sum("label")}, r"SUM needs a number column; label is text"),
    (Reading.objects, {"mean": Avg("label")}, r"AVG needs a number column"),
    (Reading.objects, {"x": Max("nope")}, r"Reading has no column 'nope'"),
    (Reading.objects, {"x": Sum()}, r"SUM needs a column"),
    (Reading.objects, {"x": 3}, r"3 is not an aggregate"),
    (Reading.objects, {}, r"name at least one aggregate"),
    (Reading.objects.group_by("sensor"), {"sensor": Count()}, r"sensor names a group column already"),
])
def test_what_cassandra_would_refuse_is_refused_naming_the_model_and_rule(queryset, aggregates, message):
    with pytest.raises(QueryException, match=r"Reading\.[\s\S]*" + message):
        rendered(queryset, **aggregates)


def test_a_column_fixed_by_equality_may_be_left_out_of_the_groups():
    cql, _ = rendered(Reading.objects(sensor="a", day=1).group_by("seq"), n=Count())
    assert cql == "SELECT seq, COUNT(*) AS n FROM ks.reading WHERE sensor = ? AND day = ? GROUP BY seq"


def test_group_by_names_a_column_of_the_model():
    with pytest.raises(QueryException, match="Reading.group_by: no column 'nope'"):
        Reading.objects.group_by("nope")
