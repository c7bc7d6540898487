"""OpenTelemetry for cqlengine: ``cqlengine.telemetry.enable()`` reports a span and metrics of every request.

It needs the ``otel`` extra (``pip install 'cqlengine-mapper[otel]'``); what
is reported is told in :mod:`cqlengine.connection.telemetry`.
"""
from cqlengine.connection import disable_telemetry as disable
from cqlengine.connection import enable_telemetry as enable

__all__ = ["disable", "enable"]
