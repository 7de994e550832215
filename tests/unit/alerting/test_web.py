"""The alerting web stack (uvicorn + Starlette) against today's reproductions and bad input:
a 150 MB body, Content-Length: -1, 5,000 idle connections, malformed and unknown JSON, path
tricks, 1,000 failed logins; accounts, scope, CSRF and expired sessions. Loopback only,
bounded loops."""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.api import serve
from hazardwatch.alerting.users import UserFile
from hazardwatch.alerting.web.context import ConsoleOptions
from hazardwatch.alerting.web.server import IDLE_TIMEOUT_S
from hazardwatch.stack.process import free_port
from tests.unit.alerting.test_service import feed, service, warning

pytestmark = pytest.mark.unit
TOKEN = {"Authorization": "Bearer local-duty-token"}
PW = "correct-horse-battery"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Any, str, UserFile]]:
    svc, _ = service(tmp_path)
    users = UserFile(tmp_path / "users.json")
    now = int(time.time() * 1000)
    users.add("玉泉区值班员", Role.DUTY, Scope(regions=("150104",)), PW, now)
    users.add("东胜区值班员", Role.DUTY, Scope(regions=("150602",)), PW, now)
    users.add("只读", Role.READONLY, Scope(regions=("15",)), PW, now)
    server = serve(svc, "127.0.0.1", free_port(),
                   ConsoleOptions(users=tmp_path / "users.json", session_ttl_s=2))
    try:
        yield svc, f"http://127.0.0.1:{server.server_port}", users
    finally:
        server.shutdown()


def _raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):
            s.sendall(data)
        out = b""
        while True:
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            out += got
        return out


def login(base: str, name: str, pw: str = PW) -> requests.Session:
    """A console session logged in as `name`, carrying its CSRF token."""
    s = requests.Session()
    r = s.post(f"{base}/api/login", json={"name": name, "password": pw}, timeout=5)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf"]
    return s


def test_a_150_mb_body_is_refused_before_it_is_read_and_memory_stays_flat(api: Any) -> None:
    _, base, _ = api
    port = int(base.rsplit(":", 1)[1])
    before = _rss_mb()
    head = (b"POST /api/silences HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer local-duty-token"
            b"\r\nContent-Type: application/json\r\nContent-Length: 157286400\r\n\r\n")
    t0 = time.monotonic()
    reply = _raw(port, head + b"{" * 1_000_000)
    assert reply.startswith(b"HTTP/1.1 413") and "请求体过大".encode() in reply
    # chunked: no length announced, counted while it streams, cut at the limit
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head.replace(b"Content-Length: 157286400", b"Transfer-Encoding: chunked"))
        chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
        sent = 0
        try:
            while sent < 150:
                s.sendall(chunk)
                sent += 1
        except OSError:
            pass
        assert sent < 150  # the server stopped reading long before 150 MB
        assert s.recv(200).startswith(b"HTTP/1.1 413")
    assert time.monotonic() - t0 < 10
    assert _rss_mb() - before < 64
    assert requests.get(f"{base}/health", timeout=5).json()["status"] == "ok"


def test_content_length_minus_one_gets_400_at_once(api: Any) -> None:
    _, base, _ = api
    port = int(base.rsplit(":", 1)[1])
    t0 = time.monotonic()
    reply = _raw(port, b"POST /api/silences HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400") and time.monotonic() - t0 < 3


def _timed_health(base: str) -> float:
    t0 = time.monotonic()
    assert requests.get(f"{base}/health", timeout=10).status_code == 200
    return time.monotonic() - t0


def test_5000_idle_connections_neither_take_threads_nor_stop_the_api(api: Any) -> None:
    _, base, _ = api
    port = int(base.rsplit(":", 1)[1])
    threads = threading.active_count()
    socks = []
    try:
        for _ in range(5000):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        t0 = time.monotonic()  # the first one waits behind the accepts of the 5,000
        assert requests.get(f"{base}/health", timeout=10).status_code == 200
        assert time.monotonic() - t0 < 5.0  # the old server stalled ~20 s
        assert min(_timed_health(base) for _ in range(3)) < 1.0  # while all 5,000 are held
        assert threading.active_count() <= threads + 2
        sel = selectors.DefaultSelector()
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        closed, deadline = 0, time.monotonic() + IDLE_TIMEOUT_S + 10
        while closed < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(0.5):
                sel.unregister(key.fileobj)
                closed += 1
        assert closed == len(socks)  # the server closed every idle connection
        assert min(_timed_health(base) for _ in range(3)) < 1.0
    finally:
        for s in socks:
            s.close()


def test_bad_json_unknown_fields_and_path_tricks_are_precise_errors_changing_nothing(
        api: Any) -> None:
    svc, base, _ = api
    w = warning(1)
    feed(svc, w, int(time.time() * 1000))
    url = f"{base}/api/warnings/{w.warning_id}/resolve"
    r = requests.post(url, data=b"{not json", headers=TOKEN, timeout=5)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = requests.post(url, json={"cause": "a", "action": "b", "extra": 1}, headers=TOKEN,
                      timeout=5)
    assert r.status_code == 400 and "extra" in r.json()["error"]
    r = requests.post(url, json={"cause": "阀门泄漏"}, headers=TOKEN, timeout=5)
    assert r.status_code == 400 and "action" in r.json()["error"]
    for path in ("/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                 f"/api/warnings/{w.warning_id}/delete", "/api/warnings/..%2F..%2Fetc",
                 "/ack/..%2F..%2Fapi%2Fwarnings"):
        r = requests.get(base + path, headers=TOKEN, timeout=5)
        assert r.status_code in (403, 404, 405), (path, r.status_code)
        assert "root:" not in r.text
    assert svc.alerts[w.warning_id].acked_at is None and svc.alerts[w.warning_id].cause is None
    assert requests.get(f"{base}/api/openapi.json", timeout=5).json()["paths"]


def test_1000_failed_logins_are_rate_limited_and_the_service_stays_up(api: Any) -> None:
    _, base, _ = api
    codes: dict[int, int] = {}
    t0 = time.monotonic()
    for i in range(1000):  # a connection each (keep-alive + small bodies meet delayed ACKs)
        r = requests.post(f"{base}/api/login", json={"name": f"玉泉区值班员{i % 3}",
                                                     "password": "guess"}, timeout=30)
        codes[r.status_code] = codes.get(r.status_code, 0) + 1
        assert r.headers["content-type"].startswith("application/json")
    assert codes.get(401, 0) <= 5 and codes[429] >= 995, codes
    assert time.monotonic() - t0 < 120  # a busy shared machine; alone it takes ~6 s
    r = requests.post(f"{base}/api/login", json={"name": "玉泉区值班员", "password": PW},
                      timeout=5)
    assert r.status_code == 429 and "Retry-After" in r.headers  # this address waits
    assert requests.get(f"{base}/health", timeout=5).status_code == 200


def test_scope_role_csrf_and_session_expiry_are_enforced_by_the_api(api: Any) -> None:
    svc, base, _ = api
    now = int(time.time() * 1000)
    mine, other = warning(1), warning(2, site="cm-ordos-01", sensor="S1")
    feed(svc, mine, now)
    feed(svc, other, now)
    assert requests.post(f"{base}/api/login", json={"name": "玉泉区值班员", "password": "x"},
                         timeout=5).status_code == 401
    yq, ds, ro = (login(base, n) for n in ("玉泉区值班员", "东胜区值班员", "只读"))
    assert [r["warning"]["warning_id"] for r in yq.get(f"{base}/api/warnings").json()] == [
        mine.warning_id]
    assert ds.get(f"{base}/api/warnings/{mine.warning_id}").status_code == 403
    r = ds.post(f"{base}/api/warnings/{mine.warning_id}/ack", json={})
    assert r.status_code == 403 and "管辖" in r.json()["error"]
    assert ro.post(f"{base}/api/warnings/{mine.warning_id}/ack", json={}).status_code == 403
    no_csrf = requests.post(f"{base}/api/warnings/{mine.warning_id}/ack", json={},
                            cookies=yq.cookies, timeout=5)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]
    assert yq.post(f"{base}/api/silences", json={"site": "tf-hohhot-01",
                                                  "minutes": 5}).status_code == 403  # role
    assert svc.alerts[mine.warning_id].acked_at is None
    r = yq.post(f"{base}/api/warnings/{mine.warning_id}/resolve",
                json={"cause": "阀门密封失效", "action": "更换密封并复测"})
    assert r.status_code == 200
    assert svc.alerts[mine.warning_id].handled_by == "玉泉区值班员"
    assert svc.alerts[other.warning_id].acked_at is None
    copied = ds.cookies["hw_session"]
    assert ds.post(f"{base}/api/logout").status_code == 200
    r = requests.get(f"{base}/api/warnings", headers={"Cookie": f"hw_session={copied}"},
                     timeout=5)
    assert r.status_code == 401  # a copy of a logged-out session is void
    cookie = yq.cookies["hw_session"]
    time.sleep(2.2)  # session_ttl_s=2; the browser would drop it, a crafted request keeps it
    r = requests.get(f"{base}/api/warnings", headers={"Cookie": f"hw_session={cookie}"},
                     timeout=5)
    assert r.status_code == 401 and "过期" in r.json()["error"]


def test_user_cli_adds_lists_and_disables_without_showing_a_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hazardwatch.cli import main as cli

    def main(argv: list[str]) -> int:
        with pytest.raises(SystemExit) as done:
            cli(argv)
        return int(done.value.code or 0)

    path = str(tmp_path / "u.json")
    assert main(["alerting", "user", "add", "管理员甲", "--role", "管理员", "--users", path]) == 2
    assert "--all" in capsys.readouterr().err  # no silent full scope
    assert main(["alerting", "user", "add", "管理员甲", "--role", "管理员", "--all", "--users",
                 path, "--generate"]) == 0
    password = capsys.readouterr().out.split("password: ")[1].strip()
    assert UserFile(Path(path)).check("管理员甲", password) is not None
    assert (tmp_path / "u.json").stat().st_mode & 0o077 == 0
    assert main(["alerting", "user", "list", "--users", path]) == 0
    listed = capsys.readouterr().out
    assert "管理员甲\t管理员\t全部\t启用" in listed and "argon2" not in listed
    assert main(["alerting", "user", "disable", "管理员甲", "--users", path]) == 0
    assert UserFile(Path(path)).check("管理员甲", password) is None


def test_access_log_has_a_line_per_request_and_never_an_ack_token(
        api: Any, caplog: pytest.LogCaptureFixture) -> None:
    _, base, _ = api
    caplog.set_level(logging.INFO, logger="hazardwatch.alerting.access")
    requests.get(f"{base}/ack/SECRET-TOKEN-123", timeout=5)
    requests.get(f"{base}/api/warnings", headers=TOKEN, timeout=5)
    deadline = time.monotonic() + 5
    while len(caplog.records) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [r.getMessage() for r in caplog.records if r.name == "hazardwatch.alerting.access"]
    assert any("GET /ack/… 403" in x for x in lines), lines
    assert any("GET /api/warnings 200" in x for x in lines), lines
    assert not any("SECRET-TOKEN" in x for x in lines)


def test_the_live_stream_carries_only_the_subscribers_scope(api: Any) -> None:
    svc, base, _ = api
    got: dict[str, list[str]] = {"玉泉区值班员": [], "东胜区值班员": []}
    subscribed = {name: threading.Event() for name in got}

    def listen(name: str) -> None:
        s = login(base, name)
        with contextlib.suppress(requests.RequestException), s.get(
                f"{base}/api/events", stream=True, timeout=10) as r:
            for line in r.iter_lines():  # ends when the server stops (the other county's)
                if line == b"event: hello":
                    subscribed[name].set()
                if line.startswith(b"data: {\"changed\""):
                    got[name] += [x["warning"]["warning_id"]
                                  for x in json.loads(line[6:])["changed"]]
                if got[name]:
                    return

    threads = [threading.Thread(target=listen, args=(n,), daemon=True) for n in got]
    for t in threads:
        t.start()
    assert all(e.wait(10) for e in subscribed.values()), "a console did not subscribe"
    w = warning(1)
    t0 = time.monotonic()
    feed(svc, w, int(time.time() * 1000))
    threads[0].join(5)
    assert got["玉泉区值班员"] == [w.warning_id] and time.monotonic() - t0 < 2
    time.sleep(0.5)
    assert got["东胜区值班员"] == []  # another county's stream never carries it
