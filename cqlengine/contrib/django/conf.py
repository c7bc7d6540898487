"""``settings.CQLENGINE`` read, checked and turned into connections (see :mod:`cqlengine.contrib.django.apps`)."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cqlengine import connection
from cqlengine.connection.security import security_options
from cqlengine.models import Model

__all__ = ["connect_from_settings", "installed_models"]

_KEYS = {"HOSTS", "PORT", "KEYSPACE", "USERNAME", "PASSWORD", "SSL_CA", "SSL_CERT", "SSL_KEY", "OPTIONS",
         "CONNECTIONS", "MODELS", "LAZY"}


def _config() -> Mapping[str, Any]:
    config = getattr(settings, "CQLENGINE", None)
    if not isinstance(config, Mapping):
        raise ImproperlyConfigured("cqlengine.contrib.django: settings.CQLENGINE must be a dict with at least "
                                   "HOSTS (and usually KEYSPACE)")
    return config


def _options(config: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    hosts = config.get("HOSTS")
    if not hosts or isinstance(hosts, str):
        raise ImproperlyConfigured(f"{where}['HOSTS'] must be a list of contact points")
    labels = {"ssl_ca": f"{where}['SSL_CA']", "ssl_cert": f"{where}['SSL_CERT']", "ssl_key": f"{where}['SSL_KEY']"}
    try:
        options = security_options(config.get("USERNAME"), config.get("PASSWORD"), config.get("SSL_CA"),
                                   config.get("SSL_CERT"), config.get("SSL_KEY"), labels)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    if config.get("PORT"):
        options["port"] = int(config["PORT"])
    options.update(config.get("OPTIONS") or {})
    return {"hosts": list(hosts), "default_keyspace": config.get("KEYSPACE"),
            "lazy_connect": bool(config.get("LAZY", True)), **options}


def connect_from_settings() -> None:
    """Set up the default connection and the named ones of ``settings.CQLENGINE``. Lazily (no request is
    made until the first query) unless ``LAZY`` is False: a server that forks workers after loading the
    application connects in each worker, never in the parent."""
    config = _config()
    options = _options(config, "CQLENGINE")
    connection.setup(options.pop("hosts"), **options)
    for name, named in (config.get("CONNECTIONS") or {}).items():
        named_options = _options(named, f"CQLENGINE['CONNECTIONS'][{name!r}]")
        hosts = named_options.pop("hosts")
        keyspace = named_options.pop("default_keyspace")
        lazy = named_options.pop("lazy_connect")
        connection.register_connection(name, hosts=hosts, default_keyspace=keyspace, lazy_connect=lazy,
                                       cluster_options=named_options)


def installed_models() -> list[type[Model]]:
    """The concrete cqlengine models (and views) of ``CQLENGINE["MODELS"]``, else of each installed app's
    ``models`` module, in the order found (views last: a view needs its table)."""
    from cqlengine.views import is_view

    names = _config().get("MODELS")
    if names is None:
        names = [f"{app.name}.models" for app in apps.get_app_configs() if app.name != "cqlengine.contrib.django"]
    found: list[type[Model]] = []
    for module_name in names:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name and _config().get("MODELS") is None:
                continue  # an app without a models module
            raise
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Model) and value.__module__ == module.__name__
                    and not value.__dict__.get("__abstract__", False) and value not in found):
                found.append(value)
    return sorted(found, key=is_view)
