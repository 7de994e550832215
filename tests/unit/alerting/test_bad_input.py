"""Bad input and bad state never stop the service: precise 400s, unreadable rows set aside,
--check reports every problem with file and line, placeholder secrets refused."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hazardwatch.alerting import apiinput
from hazardwatch.alerting.api import serve
from hazardwatch.alerting.check import secret_problems
from hazardwatch.alerting.config import AlertingConfigError, load_alerting
from hazardwatch.alerting.links import make_token
from hazardwatch.alerting.secrets import redact, redact_url
from hazardwatch.alerting.store import Store
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.stack.process import free_port
from tests.unit.alerting.test_service import CFG, MIN, T0, feed, service, warning

CAT = load_catalog("deploy/catalog/demo.yaml")


@pytest.mark.parametrize(("body", "says"), [
    ({"rule_prefix": 7, "minutes": 5}, "rule_prefix"),
    ({"site": 12345}, "site"),
    ({"site": "no-such-site"}, "未知场所"),
    ({"vehicle": "蒙Z00000"}, "未知车辆"),
    ({"site": "tf-hohhot-01", "minutes": 0}, "minutes"),
    ({"site": "tf-hohhot-01", "minutes": 30 * 24 * 60}, "minutes"),
    ({"site": "tf-hohhot-01", "minutes": "5"}, "minutes"),
    ({"site": "tf-hohhot-01", "starts": T0, "ends": T0 + 8 * 24 * 60 * MIN}, "7 天"),
    ({"site": "tf-hohhot-01", "ends": T0 - 1}, "ends"),
    ({"reason": "没有范围"}, "至少一项"),
    ({"site": "tf-hohhot-01", "colour": "red"}, "colour"),
])
def test_a_bad_silence_is_refused_with_a_precise_reason(body: dict[str, Any], says: str) -> None:
    with pytest.raises(apiinput.BadRequest, match=says):
        apiinput.silence(json.dumps(body).encode(), CAT, "x", T0, "id")


def test_a_good_silence_is_accepted() -> None:
    s = apiinput.silence(b'{"site": "tf-hohhot-01", "minutes": 30, "reason": "\\u68c0\\u4fee"}',
                         CAT, "管理员", T0, "id")
    assert (s.site, s.starts, s.ends, s.by, s.reason) == ("tf-hohhot-01", T0, T0 + 30 * MIN,
                                                          "管理员", "检修")


def test_a_state_file_with_unreadable_rows_still_starts_and_reports_them(tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    w = warning(1)
    feed(svc, w, T0)
    bad = msgspec.msgpack.encode({"id": "s-bad", "starts": T0, "ends": T0 + MIN, "by": "x",
                                  "reason": "", "rule_prefix": 7})
    with svc.store.tx():
        svc.store.db.execute("INSERT INTO silences VALUES ('s-bad', ?)", (bad,))
        svc.store.db.execute("INSERT INTO alerts VALUES ('W-bad', x'c1ff')")
    again, box2 = service(tmp_path)  # a restart on this state
    assert set(again.alerts) == {w.warning_id} and again.silences == []
    assert {(t, i) for t, i, _ in again.store.set_aside()} == {("silences", "s-bad"),
                                                               ("alerts", "W-bad")}
    again.step(T0)
    assert box2.sent  # and it pages
    assert Store(tmp_path / "a.db").set_aside()  # the rows are kept for a person to look at


BROKEN = """version: 1
timezone: Asia/Shangai
public_url: 127.0.0.1:18090
link_secret: x
api_tokens: {t: x}
people:
  - id: a
    name: 甲
    channels: [{type: webhook, url: "http://127.0.0.1:1/h"}]
  - id: b
    name: 乙
    channels:
      - {type: dingtalk, url: "127.0.0.1/robot"}
receivers:
  - id: duty
    shifts:
      - {start: "08:00", end: "20:00", people: [a]}
      - {start: "20:00", end: "07:00", people: [b]}
  - {id: drill, people: [a], drill: true}
drill_receivers: [drill]
route:
  name: root
  escalation: [{after_s: 0, receivers: [duty]}]
"""


def test_check_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "alerting.yaml"
    p.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(AlertingConfigError) as err:
        load_alerting(p, catalog=CAT)
    got = err.value.problems
    assert any(x.startswith(f"{p}:2: ") and "Asia/Shangai" in x for x in got), got
    assert any(x.startswith(f"{p}:3: ") and "public_url" not in x and "127.0.0.1:18090" in x
               for x in got), got
    assert any(x.startswith(f"{p}:13: ") and "127.0.0.1/robot" in x for x in got), got
    assert any(x.startswith(f"{p}:16: ") and "07:00–08:00" in x for x in got), got
    assert len(got) == 4, got


def test_check_reports_a_type_error_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "alerting.yaml"
    p.write_text(BROKEN.replace("after_s: 0", "after_s: soon"), encoding="utf-8")
    with pytest.raises(AlertingConfigError, match=rf"{p}:23: .*after_s"):
        load_alerting(p)


def test_secrets_from_the_environment_and_files(tmp_path: Path) -> None:
    src = (Path("deploy/alerting/alerting.yaml").read_text(encoding="utf-8")
           .replace("link_secret: change-me-local-only", "link_secret_file: link.key")
           .replace("secret: SEClocal", "secret: \"${HW_TEST_DINGTALK}\""))
    (tmp_path / "link.key").write_text("k" * 40 + "\n")
    (tmp_path / "a.yaml").write_text(src, encoding="utf-8")
    cfg = load_alerting(tmp_path / "a.yaml", env={"HW_TEST_DINGTALK": "SEC" + "d" * 30})
    assert cfg.link_secret == "k" * 40 and cfg.people[0].channels[0].secret == "SEC" + "d" * 30
    with pytest.raises(AlertingConfigError, match=r"a.yaml:\d+: environment variable "
                                                  "HW_TEST_DINGTALK is not set"):
        load_alerting(tmp_path / "a.yaml", env={})


def test_placeholder_secrets_are_refused_outside_the_local_stack() -> None:
    assert secret_problems(CFG, "127.0.0.1") == []
    public = msgspec.structs.replace(CFG, public_url="https://hw.example.gov.cn")
    assert {at[0] for at, _ in secret_problems(public, "0.0.0.0")} >= {"link_secret",
                                                                      "api_tokens", "people"}


def test_redaction_keeps_no_secret_and_no_robot_key() -> None:
    doc = {"link_secret": "s3cr3t", "api_tokens": {"tok-1": "值班员"},
           "people": [{"channels": [{"url": "https://oapi.dingtalk.com/robot/send?access_token"
                                            "=abcdef", "secret": "SECxyz"}]}]}
    text = json.dumps(redact(doc), ensure_ascii=False)
    assert not any(s in text for s in ("s3cr3t", "tok-1", "abcdef", "SECxyz"))
    assert redact_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K") == \
        "https://qyapi.weixin.qq.com/cgi-bin/…"
    assert "HOOK" not in redact_url("https://open.feishu.cn/open-apis/bot/v2/hook/HOOK")


def _open(url: str, data: bytes | None = None, token: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_api_bad_silence_is_400_and_the_service_keeps_paging(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    server = serve(svc, "127.0.0.1", free_port())
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for body in (b'{"rule_prefix": 7, "minutes": 5}', b'{"site": 12345}', b"[1",
                     b'{"site": "tf-hohhot-01", "minutes": -1}'):
            code, text = _open(f"{base}/api/silences", body, "local-duty-token")
            assert code == 400, text
        assert _open(f"{base}/api/silences", b'{"site": "x"}', "wrong")[0] == 401
        code, text = _open(f"{base}/api/silences", b'{"site": "cm-ordos-01", "minutes": 5}',
                           "local-duty-token")
        assert code == 201
        sid = json.loads(text)["id"]
        code, text = _open(f"{base}/api/silences", None, "local-duty-token")
        assert [x["id"] for x in json.loads(text)] == [sid]
        assert _open(f"{base}/api/silences/{sid}/end", b"{}", "local-duty-token")[0] == 200
        assert json.loads(_open(f"{base}/api/silences", None, "local-duty-token")[1]) == []
        feed(svc, warning(1), T0)
        svc.step(T0)
        assert box.sent
    finally:
        server.shutdown()


def test_ack_link_get_is_a_page_only_post_acknowledges_and_says_who_was_first(
        tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    server = serve(svc, "127.0.0.1", free_port())
    base = f"http://127.0.0.1:{server.server_port}"
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    now = int(time.time() * 1000)
    link = f"{base}/ack/" + make_token(CFG.link_secret, w.warning_id, "张伟", now)
    try:
        code, page = _open(link)  # a link preview or a mail scanner
        assert code == 200 and "<form method=\"post\">" in page
        assert svc.alerts[w.warning_id].acked_at is None
        stranger = f"{base}/ack/" + make_token(CFG.link_secret, w.warning_id, "路人", now)
        assert _open(stranger, b"")[0] == 403
        code, page = _open(link, b"")
        assert code == 200 and "已确认" in page
        assert svc.alerts[w.warning_id].acked_by == "张伟"
        other = f"{base}/ack/" + make_token(CFG.link_secret, w.warning_id,
                                            "市应急管理局白班值班员", now)
        code, page = _open(other)
        assert "已由张伟于" in page
        forged = f"{base}/ack/" + make_token("guess", w.warning_id, "张伟", now)
        assert _open(forged, b"")[0] == 403
    finally:
        server.shutdown()


def test_the_drill_report_gets_a_redacted_copy_of_the_alerting_config(tmp_path: Path) -> None:
    from hazardwatch.simulators.drill import DrillDesk

    desk = DrillDesk("d" * 32)
    try:
        run = desk.config(Path("deploy/alerting/alerting.yaml"), tmp_path / "run" / "a.yaml",
                          tmp_path / "report.yaml")
    finally:
        desk.close()
    report = (tmp_path / "report.yaml").read_text(encoding="utf-8")
    for secret in ("change-me-local-only", "SEClocal", "access_token=local", "key=local",
                   "local-webhook-secret", "local-duty-token", "d" * 32):
        assert secret not in report and secret in run.read_text(encoding="utf-8") + "d" * 32
    assert run.stat().st_mode & 0o077 == 0
