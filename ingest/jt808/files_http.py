"""Serves stored attachments over HTTP: /jt808/attachments/<alarm>/ lists, /<alarm>/<file> reads."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hazardwatch.ingest.jt808.attachments import safe_name

PREFIX = "/jt808/attachments/"


def serve_files(root: Path, host: str, port: int) -> ThreadingHTTPServer:
    """Start a read-only HTTP server for the attachment folder in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            parts = path[len(PREFIX):].split("/") if path.startswith(PREFIX) else []
            target: Path | None = None
            ctype = "application/octet-stream"
            if len(parts) == 2 and parts[0] and safe_name(parts[0]) == parts[0]:
                folder = root / parts[0]
                if parts[1] == "":
                    target, ctype = folder / "index.json", "application/json; charset=utf-8"
                elif safe_name(parts[1]) == parts[1] and not parts[1].startswith("."):
                    target = folder / parts[1]
            if target is None or not target.is_file():
                self.send_error(404)
                return
            body = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="jt808-files", daemon=True).start()
    return server
