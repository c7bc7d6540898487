"""The app: connects from ``settings.CQLENGINE`` once per process, when Django is ready::

    CQLENGINE = {
        "HOSTS": ["10.0.0.1", "10.0.0.2"],   # required
        "PORT": 9042,
        "KEYSPACE": "shop",                  # the default keyspace of the models
        "USERNAME": "app", "PASSWORD": "...",
        "SSL_CA": "/etc/ssl/cassandra-ca.pem", "SSL_CERT": ..., "SSL_KEY": ...,
        "OPTIONS": {...},                    # anything else connection.setup() takes (profiles, timeouts)
        "CONNECTIONS": {"analytics": {"HOSTS": [...], "KEYSPACE": "events"}},   # named connections
        "MODELS": ["shop.cassandra_models"], # where the models are (default: each installed app's models)
    }

See :func:`cqlengine.contrib.django.conf.connect_from_settings`.
"""
from __future__ import annotations

from django.apps import AppConfig


class CqlengineConfig(AppConfig):
    name = "cqlengine.contrib.django"
    label = "cqlengine"
    verbose_name = "cqlengine"

    def ready(self) -> None:
        from cqlengine.contrib.django.conf import connect_from_settings

        connect_from_settings()
