"""The pure parts of sending a batch (no server)."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from cassandra.query import BatchType

from cqlengine import connection
from cqlengine.query import BatchType as OurBatchType


@pytest.mark.parametrize(("given", "expected"), [
    (None, BatchType.LOGGED),
    ("LOGGED", BatchType.LOGGED),
    ("unlogged", BatchType.UNLOGGED),
    (OurBatchType.Counter, BatchType.COUNTER),
    (BatchType.UNLOGGED, BatchType.UNLOGGED),
])
def test_batch_types(given, expected):
    assert connection._batch_type(given) is expected


def test_an_unknown_batch_type_is_refused():
    with pytest.raises(ValueError, match="unknown batch type 'SOMETIMES'"):
        connection._batch_type("SOMETIMES")


def test_an_empty_batch_is_refused_before_any_connection_is_looked_up(monkeypatch):
    monkeypatch.setattr(connection, "_connections", {})
    monkeypatch.setattr(connection, "_default_name", None)
    with pytest.raises(ValueError, match="empty batch"):
        connection.execute_batch([])
    assert connection._batch_members(iter([("DELETE FROM t WHERE k = ?", [1])])) == [
        ("DELETE FROM t WHERE k = ?", [1])]


def test_the_debug_log_shows_member_texts_never_values(caplog):
    members = [("INSERT INTO t (k, v) VALUES (?, ?)", [1, "secret"]), ("DELETE FROM t WHERE k = ?", [2])]
    text = connection._BatchText(BatchType.UNLOGGED, members)
    assert text.query_string == "UNLOGGED BATCH: INSERT INTO t (k, v) VALUES (?, ?); DELETE FROM t WHERE k = ?"
    with caplog.at_level(logging.DEBUG, logger=connection.log.name):
        connection._log(SimpleNamespace(name="c1"), text)  # type: ignore[arg-type]
    assert "[c1] UNLOGGED BATCH: INSERT INTO t" in caplog.text
    assert "secret" not in caplog.text
