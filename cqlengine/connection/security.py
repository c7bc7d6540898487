"""The driver's options for authentication and TLS, from names of files and credentials.

Shared by the command line (``--username``, ``--ssl-ca`` ...) and the Django
app (``CQLENGINE["SSL_CA"]`` ...): ``labels`` says how the caller names each
option, so that an error names the one to fix.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Optional

__all__ = ["security_options"]

CLI_LABELS = {"ssl_ca": "--ssl-ca", "ssl_cert": "--ssl-cert", "ssl_key": "--ssl-key"}


def security_options(username: Optional[str] = None, password: Optional[str] = None, ssl_ca: Optional[str] = None,
                     ssl_cert: Optional[str] = None, ssl_key: Optional[str] = None,
                     labels: Mapping[str, str] = CLI_LABELS) -> dict[str, Any]:
    """``auth_provider`` and ``ssl_context`` for ``Cluster``; ``ValueError`` naming the option that cannot work."""
    options: dict[str, Any] = {}
    ca, cert, key = labels["ssl_ca"], labels["ssl_cert"], labels["ssl_key"]
    if username:
        from cassandra.auth import PlainTextAuthProvider

        options["auth_provider"] = PlainTextAuthProvider(username=username, password=password or "")
    if ssl_cert or ssl_key:
        if not (ssl_cert and ssl_key):
            raise ValueError(f"{cert} and {key} go together: give both")
        if not ssl_ca:
            raise ValueError(f"{cert}: give {ca} too (the CA the server's certificate is checked against)")
    if ssl_ca:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.check_hostname = False  # contact points are often addresses; the chain is still checked
        for option, path in ((ca, ssl_ca), (cert, ssl_cert), (key, ssl_key)):
            if path and not os.path.isfile(path):
                raise ValueError(f"{option}: no such file: {path}")
        try:
            context.load_verify_locations(cafile=ssl_ca)
        except (ssl.SSLError, ValueError) as exc:
            raise ValueError(f"{ca}: {ssl_ca} holds no usable CA certificate ({exc})") from None
        if ssl_cert:
            try:
                context.load_cert_chain(ssl_cert, ssl_key)
            except (ssl.SSLError, ValueError) as exc:
                raise ValueError(f"{cert}/{key}: {ssl_cert} and {ssl_key} do not make a certificate and its key "
                                 f"({exc})") from None
        options["ssl_context"] = context
    return options
