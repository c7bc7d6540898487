"""A backfill run in its own process, to be killed midway (see test_backfill)."""
import os

from cqlengine import connection
from cqlengine.migrate import backfill
from tests.integration.test_backfill import Item, ItemCopy

connection.setup([os.environ["BF_HOST"]], port=int(os.environ["BF_PORT"]), default_keyspace=os.environ["BF_KEYSPACE"])
backfill(Item, ItemCopy, name="killed", restart=True, splits=8, readers=2, rate=2000, progress=False)
