"""deploy/Caddyfile run by a real Caddy: TLS with the mounted certificate files, ack links and
the alerting API to the alerting service, everything else to Grafana, HTTP redirected.

Only the addresses change (free ports instead of 443/80/18090/3000, a temporary certificate
folder); the routing is the file's own. Stand-in backends answer with the path they got.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hazardwatch.stack.process import port_is_listening
from tests.deployfiles import DEPLOY
from tests.helpers import free_port, wait_for

HOST = "hw.test.cn"


def _backend(name: str) -> ThreadingHTTPServer:
    class Echo(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            body = f"{name} {self.command} {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, Path]]:
    """Caddy on (https port, http port) with the deploy Caddyfile; the certificate file."""
    caddy = shutil.which("caddy")
    assert caddy, "caddy is not installed (deploy/setup.sh installs it)"
    tmp = tmp_path_factory.mktemp("caddy")
    certs = tmp / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem"),
                    "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"],
                   check=True, capture_output=True, timeout=60)
    alerting, grafana = _backend("alerting"), _backend("grafana")
    https, http = free_port(), free_port()
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    for old, new in (("/etc/caddy/certs/", f"{certs}/"),
                     ("127.0.0.1:18090", f"127.0.0.1:{alerting.server_port}"),
                     ("127.0.0.1:3000", f"127.0.0.1:{grafana.server_port}"),
                     ("\tadmin off\n", f"\tadmin off\n\thttps_port {https}\n\thttp_port {http}\n")):
        assert old in text, old
        text = text.replace(old, new)
    (tmp / "Caddyfile").write_text(text, encoding="utf-8")
    env = {**os.environ, "HW_PUBLIC_HOST": HOST, "XDG_DATA_HOME": str(tmp / "data"),
           "XDG_CONFIG_HOME": str(tmp / "config")}
    proc = subprocess.Popen([caddy, "run", "--config", str(tmp / "Caddyfile"), "--adapter",
                             "caddyfile"], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(tmp / "caddy.log", "wb"))  # noqa: SIM115
    try:
        wait_for(lambda: proc.poll() is not None or port_is_listening(https), timeout=30)
        assert proc.poll() is None, (tmp / "caddy.log").read_text()
        yield https, http, certs / "fullchain.pem"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        alerting.shutdown()
        grafana.shutdown()


def _request(port: int, method: str, path: str, cafile: Path | None) -> str:
    """One HTTP/1.1 request with SNI and Host HOST; TLS verified against cafile when given."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock: socket.socket = raw
    if cafile is not None:
        sock = ssl.create_default_context(cafile=str(cafile)).wrap_socket(
            raw, server_hostname=HOST)
    with sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize(("method", "path", "backend"), [
    ("GET", "/ack/eyJ3.abc", "alerting"),
    ("POST", "/ack/eyJ3.abc", "alerting"),
    ("GET", "/api/warnings", "alerting"),
    ("POST", "/api/warnings/w-1/resolve", "alerting"),
    ("GET", "/api/silences", "alerting"),
    ("POST", "/api/silences/s-1/end", "alerting"),
    ("GET", "/api/stats", "alerting"),
    ("GET", "/login", "grafana"),
    ("GET", "/d/hw-duty/", "grafana"),
    ("GET", "/api/dashboards/uid/hw-duty", "grafana"),  # Grafana's own API stays Grafana's
    ("GET", "/api/search?query=x", "grafana"),
])
def test_tls_routes_by_path(proxy: tuple[int, int, Path], method: str, path: str,
                            backend: str) -> None:
    https, _, cert = proxy
    answer = _request(https, method, path, cert)
    status, _, rest = answer.partition("\r\n")
    assert status == "HTTP/1.1 200 OK", answer
    assert answer.endswith(f"{backend} {method} {path}"), answer
    assert "Strict-Transport-Security: max-age=31536000" in rest


def test_plain_http_is_redirected_to_https(proxy: tuple[int, int, Path]) -> None:
    _, http, _ = proxy
    answer = _request(http, "GET", "/ack/eyJ3.abc", None)
    assert answer.split("\r\n")[0] in ("HTTP/1.1 301 Moved Permanently",
                                       "HTTP/1.1 308 Permanent Redirect"), answer
    assert f"Location: https://{HOST}" in answer and "/ack/eyJ3.abc" in answer
