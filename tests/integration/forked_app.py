"""A WSGI application served by ``gunicorn --preload`` in the pre-fork test (tests/integration/test_fork.py).

It connects and reads at import, in gunicorn's master process, as an
application that loads its models and warms its connection before forking
does; every worker then serves requests through the connection it inherited.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Callable, Iterable

from cqlengine import columns, connection
from cqlengine.models import Model


class ForkNote(Model):
    __table_name__ = "fork_notes"

    id = columns.UUID(primary_key=True)
    body = columns.Text()


def _connect_in_master() -> None:
    hosts = os.environ.get("FORKED_APP_HOSTS")
    if not hosts:
        return  # imported by the test itself, which connects on its own
    connection.setup(hosts.split(","), default_keyspace=os.environ["FORKED_APP_KEYSPACE"],
                     port=int(os.environ["FORKED_APP_PORT"]))
    ForkNote.objects.filter(id=uuid.UUID(int=0)).first()  # a live session, a prepared statement


_connect_in_master()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``GET /<uuid>``: that note's body and the pid of the worker that read it."""
    key = uuid.UUID(environ["PATH_INFO"].strip("/"))
    note = ForkNote.objects.timeout(5).get(id=key)
    time.sleep(0.05)  # requests overlap, so that both workers serve some
    body = json.dumps({"pid": os.getpid(), "body": note.body}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
