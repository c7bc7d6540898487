"""The app's cqlengine models: found by manage.py cqlengine_sync and the test runner (installed apps' models)."""
import uuid

from cqlengine import columns
from cqlengine.models import Model


class Note(Model):
    __table_name__ = "shop_notes"
    owner = columns.Text(partition_key=True)
    note_id = columns.TimeUUID(primary_key=True, clustering_order="DESC", default=uuid.uuid1)
    title = columns.Text(required=True, max_length=100)
    body = columns.Text(max_length=2000)
    created_at = columns.DateTime(auto_now_add=True)
