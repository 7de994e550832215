"""uvicorn in a thread of the alerting process: bounded connections and idle timeouts.

uvicorn times out an idle keep-alive connection only after a first response; a connection that
never sends a request would be held forever, so `_Protocol` arms the same timer when it opens.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("hazardwatch.alerting")
IDLE_TIMEOUT_S = 5.0  # a connection without a request (new or kept alive) is closed after this
MAX_HEAD_BYTES = 16 * 1024  # request line and headers


class _Protocol(H11Protocol):
    """h11 protocol that also closes a new connection that sends nothing."""

    def connection_made(self, transport: Any) -> None:
        """Arm the idle timer at once, not only after a first response."""
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler)


class ApiServer:
    """A running ASGI app on host:port; `shutdown()` stops it (the old server's interface)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(4096)
        self.server_port: int = self.sock.getsockname()[1]
        cfg = uvicorn.Config(app, http=_Protocol, lifespan="off", log_config=None,
                             access_log=False, timeout_keep_alive=int(IDLE_TIMEOUT_S),
                             timeout_graceful_shutdown=2, backlog=4096,
                             h11_max_incomplete_event_size=MAX_HEAD_BYTES, server_header=False)
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="alerting-api", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError(f"alerting API did not start on {host}:{port}")

    def shutdown(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
