"""Console accounts in the alerting store, on the real Kafka: two alerting instances share no
file; an administrator added with the CLI through the store logs in on both, an account
imported from an older accounts file by one instance logs in on the other, a disabled account
(and its live session) is refused by both, a logout on one ends the session on the other, and
neither the password nor its hash reaches hw.alert-actions or a log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from hazardwatch import kafka_tail
from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.users import UserFile
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port
from tests.helpers import wait_for

PW = "first-admin-pw-0042"


def _config(tmp: Path, api: int) -> Path:
    p = tmp / f"alerting-{api}.yaml"
    p.write_text(f"""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:{api}
link_secret: link-secret-shared
api_tokens: {{tok: 测试}}
people:
  - {{id: duty, name: 值班员, channels: [{{type: webhook, url: "http://127.0.0.1:9/x"}}]}}
  - {{id: drill, name: 演练导调台, channels: [{{type: webhook, url: "http://127.0.0.1:9/d"}}]}}
receivers:
  - {{id: duty, people: [duty]}}
  - {{id: drill, people: [drill], drill: true}}
drill_receivers: [drill]
route: {{name: root, escalation: [{{after_s: 0, receivers: [duty]}}], repeat_s: 600}}
""", encoding="utf-8")
    return p


def _cli(stack: Stack, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazardwatch", "alerting", "user", *args],
                          input=stdin, capture_output=True, text=True, timeout=90,
                          env={**os.environ, **stack.settings.to_env()})


def _login(base: str, name: str, pw: str) -> requests.Response:
    return requests.post(f"{base}/api/login", json={"name": name, "password": pw}, timeout=10)


def _session(base: str, name: str, pw: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/login", json={"name": name, "password": pw}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf"]
    return s


def test_accounts_are_shared_by_two_instances_through_the_store(
        stack: Stack, services: Any, tmp_path: Path) -> None:
    unique = f"{os.getpid()}-{int(time.time())}"
    prefix = f"acc-{unique}."
    boot = stack.settings.kafka_bootstrap
    kafka_tail.ensure_topics(boot, [prefix + "hw.warnings", prefix + "hw.alert-actions"])
    actions = kafka_tail.mark(boot, [prefix + "hw.alert-actions"])
    old = UserFile(tmp_path / "old-users.json")  # an older installation's file, A imports it
    old.add("旧值班员", Role.DUTY, Scope(regions=("150104",)), "old-file-pw-77", 0)
    r = _cli(stack, ["add", "管理员甲", "--role", "管理员", "--all", "--topic-prefix", prefix],
             PW + "\n")  # before any instance runs: the first admin
    assert r.returncode == 0, r.stderr
    base: dict[str, str] = {}
    for name in ("A", "B"):
        port = free_port()
        base[name] = f"http://127.0.0.1:{port}"
        extra = ["--users", str(old.path)] if name == "A" else [
            "--users", str(tmp_path / "none.json")]
        services(["alerting", "--config", str(_config(tmp_path, port)), "--topic-prefix",
                  prefix, "--api-port", str(port), "--instance", name, *extra],
                 "alerting: ready", f"acc-{name}-{unique}").start()
    for b in base.values():  # the CLI's admin and A's imported account, on both
        assert _login(b, "管理员甲", PW).status_code == 200
        wait_for(lambda b=b: _login(b, "旧值班员", "old-file-pw-77").status_code == 200, 10)
        assert _login(b, "管理员甲", "wrong-password-1").status_code == 401
    r = _cli(stack, ["add", "东胜区值班员", "--role", "值班员", "--region", "150602",
                     "--topic-prefix", prefix], "duty-pw-0123\n")
    assert r.returncode == 0, r.stderr
    on_b = _session(base["B"], "东胜区值班员", "duty-pw-0123")  # added while both run
    assert on_b.get(f"{base['B']}/api/me", timeout=10).json()["scope"] == "地区 150602"
    assert _cli(stack, ["disable", "东胜区值班员", "--topic-prefix", prefix]).returncode == 0
    for b in base.values():
        wait_for(lambda b=b: _login(b, "东胜区值班员", "duty-pw-0123").status_code == 401, 10)
    assert on_b.get(f"{base['B']}/api/me", timeout=10).status_code == 401  # live session too
    on_a = _session(base["A"], "管理员甲", PW)  # a logout on B ends A's session
    on_b = _session(base["B"], "管理员甲", PW)
    assert on_b.post(f"{base['B']}/api/logout", timeout=10).status_code == 200
    wait_for(lambda: on_a.get(f"{base['A']}/api/me", timeout=10).status_code == 401, 10)
    listed = _cli(stack, ["list", "--topic-prefix", prefix])
    assert "东胜区值班员\t值班员\t地区 150602\t停用" in listed.stdout
    events: list[str] = []
    kafka_tail.read_since(boot, actions, done=lambda msgs: bool(
        events.extend(m.value().decode() for m in msgs) or events), timeout=10)
    logins = [json.loads(e) for e in events if '"audit"' in e]
    assert {e["what"] for e in logins} >= {"login", "login_failed", "logout"}
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("acc-*.log"))
    for text in (*events, logs, r.stdout, r.stderr, listed.stdout):
        assert "argon2" not in text and PW not in text and "duty-pw-0123" not in text
