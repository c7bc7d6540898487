"""What a BulkWriteError says: each failure with its instance, and what to do when a vector index refused."""
from __future__ import annotations

from cassandra import WriteFailure, WriteTimeout

from cqlengine import columns
from cqlengine.bulk import BulkFailure, BulkWriteError
from cqlengine.models import Model


class Embedded(Model):
    __table_name__ = "bulk_errors_embedded"
    id = columns.Integer(partition_key=True)
    embedding = columns.Vector(3, index=True)


class Plain(Model):
    __table_name__ = "bulk_errors_plain"
    id = columns.Integer(partition_key=True)
    embedding = columns.Vector(3)  # no index: nothing is indexed as it is written


REPLICA_FAILED = 'Error from server: code=1500 [Replica(s) failed to execute write] message="Operation failed"'


def test_a_replica_failure_on_a_vector_indexed_table_says_to_lower_the_concurrency():
    error = BulkWriteError("bulk_create", [BulkFailure(Embedded(id=1), WriteFailure(REPLICA_FAILED))],
                           [Embedded(id=2)])
    message = str(error)
    assert message.startswith("bulk_create: 1 of 2 write(s) failed: <Embedded id=1>: WriteFailure: ")
    assert "the others were written. Cassandra 5.0 fails a write to a vector index" in message
    assert "lower concurrency" in message and "concurrent_writes" in message


def test_other_failures_say_nothing_of_vector_indexes():
    for failure in (BulkFailure(Plain(id=1), WriteFailure(REPLICA_FAILED)),
                    BulkFailure(Embedded(id=1), WriteTimeout("timed out", write_type=0))):
        message = str(BulkWriteError("bulk_create", [failure], []))
        assert message.endswith("; the others were written")
