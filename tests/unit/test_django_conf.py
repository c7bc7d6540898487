"""settings.CQLENGINE checked when Django starts, without a server (each case in a fresh interpreter)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CASES = [
    ({"HOSTS": ["127.0.0.1"], "KEYSPCE": "x"}, "CQLENGINE: unknown key(s) KEYSPCE"),
    ({"HOSTS": "127.0.0.1"}, "CQLENGINE['HOSTS'] must be a list of contact points"),
    ({"HOSTS": ["h"], "SSL_CA": "/no/such/ca.pem"}, "CQLENGINE['SSL_CA']: no such file: /no/such/ca.pem"),
    ({"HOSTS": ["h"], "SSL_CERT": "c.pem"}, "CQLENGINE['SSL_CERT'] and CQLENGINE['SSL_KEY'] go together"),
    ({"HOSTS": ["h"], "CONNECTIONS": {"two": {"HOSTS": ["h"], "PORTS": 1}}},
     "CQLENGINE['CONNECTIONS']['two']: unknown key(s) PORTS"),
    (None, "cqlengine.contrib.django: settings.CQLENGINE must be a dict"),
]


@pytest.mark.parametrize("config, message", CASES)
def test_settings_that_cannot_work_stop_django_at_start_naming_the_key(config, message):
    code = textwrap.dedent(f"""
        import django
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        options = dict(INSTALLED_APPS=["cqlengine.contrib.django"])
        if {config!r} is not None:
            options["CQLENGINE"] = {config!r}
        settings.configure(**options)
        try:
            django.setup()
        except ImproperlyConfigured as exc:
            print("refused:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert f"refused: {message}" in done.stdout, done.stdout + done.stderr


def test_good_settings_connect_lazily_with_the_keyspace_and_named_connections():
    code = textwrap.dedent("""
        import django
        from django.conf import settings
        settings.configure(INSTALLED_APPS=["cqlengine.contrib.django"], CQLENGINE={
            "HOSTS": ["127.0.0.1"], "PORT": 9999, "KEYSPACE": "shop",
            "CONNECTIONS": {"analytics": {"HOSTS": ["127.0.0.2"], "KEYSPACE": "events"}}})
        django.setup()  # lazily: nothing listens on 9999, and nothing is asked of it
        from cqlengine import connection
        print(sorted(connection.connections()), connection.get_connection().default_keyspace,
              connection.get_connection("analytics").default_keyspace)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['analytics', 'default'] shop events", done.stdout + done.stderr
