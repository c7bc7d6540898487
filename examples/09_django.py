"""A Django project on cqlengine (examples/django_shop): the app connects from settings, manage.py
cqlengine_sync makes the tables, and manage.py test runs the views' tests in a keyspace of its own."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

from _demo import KEYSPACE, connect

from cqlengine.management import create_keyspace_simple, drop_keyspace

PROJECT = Path(__file__).resolve().parent / "django_shop"

connect()
keyspace = f"{KEYSPACE}_django_{uuid.uuid4().hex[:8]}"  # the project's, for this run alone
create_keyspace_simple(keyspace, replication_factor=1)
env = {**os.environ, "SHOP_KEYSPACE": keyspace,
       "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}


def manage(*args: str) -> int:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True)
    print(f"$ python manage.py {' '.join(args)}   # exit {done.returncode}")
    print("\n".join("  " + line for line in (done.stdout + done.stderr).strip().splitlines()))
    return done.returncode


try:
    assert manage("cqlengine_sync", "--plan") == 2  # a table to create: pending
    assert manage("cqlengine_sync") == 0
    assert manage("cqlengine_sync", "--plan") == 0  # in sync
    assert manage("test", "notes") == 0
finally:
    drop_keyspace(keyspace)
