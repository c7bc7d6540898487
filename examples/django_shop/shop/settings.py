"""Settings of the example project: no SQL database, one Cassandra (the demo's local node, or
CQLENGINE_TEST_HOSTS), the models' keyspace from SHOP_KEYSPACE."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # examples/: where the other examples connect from
from _demo import contact  # noqa: E402  (the local node of make demo, or CQLENGINE_TEST_HOSTS)

SECRET_KEY = "an example project's key: never use it anywhere"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["cqlengine.contrib.django", "notes"]
MIDDLEWARE: list = []
ROOT_URLCONF = "shop.urls"
DATABASES: dict = {}
USE_TZ = True
TEST_RUNNER = "cqlengine.contrib.django.test.CqlengineTestRunner"


HOSTS, PORT = contact()
CQLENGINE = {
    "HOSTS": HOSTS,
    "PORT": PORT,
    "KEYSPACE": os.environ.get("SHOP_KEYSPACE", "cqlengine_demo_shop"),
}
