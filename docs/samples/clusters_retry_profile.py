# --- profile
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
from cassandra.policies import RetryPolicy

from cqlengine import columns, connection
from cqlengine.management import create_keyspace_simple, sync_table
from cqlengine.models import Model


class RetryReadTimeouts(RetryPolicy):
    """A read timed out on the server (a replica is dead but not yet convicted): ask again."""

    def on_read_timeout(self, query, consistency, required_responses, received_responses,
                        data_retrieved, retry_num):
        return (self.RETRY, consistency) if retry_num < 4 else (self.RETHROW, None)


# QUORUM, and a client timeout above the server's read timeouts times the retries.
profile = ExecutionProfile(consistency_level=ConsistencyLevel.QUORUM, request_timeout=60,
                           retry_policy=RetryReadTimeouts())
connection.setup(["127.0.0.1"], default_keyspace="docs_clusters",
                 execution_profiles={EXEC_PROFILE_DEFAULT: profile})
# --- use
create_keyspace_simple("docs_clusters", replication_factor=1)  # 3 on a real cluster


class Reading(Model):
    sensor = columns.Text(partition_key=True)
    seq = columns.Integer(primary_key=True)
    value = columns.Double()


sync_table(Reading)
Reading.create(sensor="s1", seq=1, value=0.5)
rows = Reading.objects(sensor="s1").fetch_size(100)  # every page: QUORUM, 60 s, the retry policy
assert [r.value for r in rows] == [0.5]
assert connection.get_session().cluster.profile_manager.default is profile  # the profile as handed over
