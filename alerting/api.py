"""The HTTP API of the alerting service (see web/): active warnings, acknowledge, 处置,
silences, figures, one-time acknowledgement links and the duty console, on uvicorn."""

from __future__ import annotations

from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.web.app import build
from hazardwatch.alerting.web.context import ConsoleOptions
from hazardwatch.alerting.web.server import ApiServer


def serve(service: AlertingService, host: str, port: int,
          console: ConsoleOptions | None = None) -> ApiServer:
    """Start the API in a thread; returns the server (call shutdown() to stop)."""
    return ApiServer(build(service, console), host, port)
