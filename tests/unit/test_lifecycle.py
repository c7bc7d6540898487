"""Versions, audit columns and signals without a server: the statements a write builds, the rules, receivers."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cqlengine import columns
from cqlengine.exceptions import ModelDefinitionException, ValidationError
from cqlengine.models import Model
from cqlengine.signals import Signal


class Doc(Model):
    __keyspace__ = "ks"
    id = columns.Integer(partition_key=True)
    body = columns.Text()
    version = columns.Version()
    created_at = columns.DateTime(auto_now_add=True)
    updated_at = columns.DateTime(auto_now=True)


WHEN = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def built(instance, build, deletes=False, action="save"):
    statement, state, _ = instance._begin_write(build, deletes, action)
    return statement.render(), state


def test_a_new_instance_is_inserted_if_not_exists_at_version_1_with_both_times():
    doc = Doc(id=1, body="a")
    (cql, params), state = built(doc, doc._save_statement)
    assert cql == ("INSERT INTO ks.doc (id, body, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?) "
                   "IF NOT EXISTS")
    assert params[2] == params[3] == state["created_at"] and params[4] == 1
    assert state["version"] == 1 and doc.version is None and doc.created_at is None  # taken once written
    dated = Doc(id=1, body="a").timestamp(WHEN)
    with pytest.raises(Exception, match="Cassandra refuses a custom TIMESTAMP with IF NOT EXISTS"):
        built(dated, dated._save_statement)


def test_a_loaded_instance_is_updated_if_its_version_still_holds():
    doc = Doc(id=1, body="a", version=4, created_at=WHEN.replace(tzinfo=None), updated_at=WHEN.replace(tzinfo=None))
    doc._loaded = doc._snapshot()
    doc.body = "b"
    (cql, params), state = built(doc, doc._save_statement)
    assert cql == "UPDATE ks.doc SET body = ?, updated_at = ?, version = ? WHERE id = ? IF version = ?"
    assert params[0] == "b" and params[2:] == [5, 1, 4] and state["version"] == 5
    (cql, params), _ = built(doc, doc._delete_statement, deletes=True)
    assert cql == "DELETE FROM ks.doc WHERE id = ? IF version = ?" and params == [1, 4]


def test_an_instance_not_read_is_deleted_by_key_but_not_updated_blind():
    (cql, _), _ = built(Doc(id=1), Doc(id=1)._delete_statement, deletes=True)
    assert cql == "DELETE FROM ks.doc WHERE id = ?"
    blind = Doc(id=1)
    with pytest.raises(ValidationError, match=r"Doc\(id=1\).update: the row's version is not known"):
        blind._begin_write(lambda: blind._set_for_update({"body": "x"}), False, "update")


@pytest.mark.parametrize("declare, message", [
    (lambda: type("Two", (Model,), {"id": columns.Integer(partition_key=True), "a": columns.Version(),
                                    "b": columns.Version()}), "one Version column per model, not 2"),
    (lambda: columns.DateTime(primary_key=True, auto_now=True), "cannot be on a primary key column"),
    (lambda: columns.DateTime(auto_now=True, auto_now_add=True), "exclude each other"),
])
def test_declarations_that_cannot_work_are_refused(declare, message):
    with pytest.raises(ModelDefinitionException, match=message):
        declare()


def test_a_signal_calls_the_receivers_of_the_sender_and_its_subclasses_once_each():
    signal = Signal("test")
    calls = []

    def receiver(sender, **kw):  # noqa: ANN001
        calls.append((sender.__name__, kw))

    class Sub(Doc):
        pass

    assert signal.connect(receiver, sender=Doc) is receiver
    signal.connect(receiver, sender=Doc)  # twice: called once
    signal.send(Sub, instance=1)
    signal.send(Model, instance=2)  # not a Doc
    assert calls == [("Sub", {"instance": 1})]
    assert signal.disconnect(receiver, sender=Doc) and not signal.disconnect(receiver, sender=Doc)
    signal.send(Doc, instance=3)
    assert len(calls) == 1
    decorated = signal.connect(sender=None)(receiver)
    assert decorated is receiver and signal.has_receivers(Model)
