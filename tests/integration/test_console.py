"""The duty console in real headless Chromium on the real stack (Kafka + the alerting process):
a county officer sees only the county's warnings, a new 一级 arrives live with colour and sound,
acknowledging on the page stops the repeats, 处置 needs cause and action, another county can
neither see nor act (page or crafted request), wrong password / expired session / missing
CSRF are refused; the same flow on a 390×844 phone, where the 指挥长 also opens a 督办 by hand
(listed) and closes (销号) the warning, refused before its clearance and accepted after (a
值班员 has neither button and the API refuses both); a warning that cleared by itself before
anyone handled it waits in the 已解除待处置 tab (counted on the tab, its 督办 shown) where the
值班员 acknowledges and handles it; screenshots to docs/console/."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import msgspec
import requests
from confluent_kafka import Producer
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from hazardwatch import kafka_tail
from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.users import UserFile
from hazardwatch.alerting.web import sessions
from hazardwatch.commands.sink import TOPICS as SINK_TOPICS
from hazardwatch.contracts.warnings import WarningRecord, encode_warning, warning_id
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port
from tests.helpers import wait_for
from tests.integration.browser import SHOTS, chromium
from tests.integration.receivers import Receivers
from tests.integration.test_alerting import TOKEN, _config

PW = "值班-口令-2026"
RED = "rgba(215, 25, 28, 1)"


def _w(site: str, sensor: str, level: int, now: int, value: float = 52.0,
       drill: bool = False) -> WarningRecord:
    rule = "tank_farm.gas_combustible.threshold"
    return WarningRecord(
        warning_id=warning_id(rule, f"sensor:{site}/{sensor}", now), transition="raised",
        ts=now, level=level, colour="red", rule=rule, kind="threshold", site_id=site,
        device_id="gds-01", sensor=sensor, vehicle_id=None, value=value, threshold=50.0,
        unit="%LEL", started_at=now, message=f"{sensor} 可燃气体浓度 {value}%LEL", drill=drill)


class Console:
    """The alerting process with console accounts, on its own topics and port."""

    def __init__(self, stack: Stack, services: Any, tmp: Path, unique: str, r: Receivers,
                 extra: tuple[str, ...] = ()):
        self.prefix, self.api = f"co-{unique}.", free_port()
        self.base = f"http://127.0.0.1:{self.api}"
        users = UserFile(tmp / "users.json")
        now = int(time.time() * 1000)
        users.add("玉泉区值班员", Role.DUTY, Scope(regions=("150104",)), PW, now)
        users.add("东胜区值班员", Role.DUTY, Scope(regions=("150602",)), PW, now)
        users.add("呼和浩特指挥长", Role.COMMANDER, Scope(regions=("1501",)), PW, now)
        cfg = _config(tmp, r, self.api, repeat_s=3, leader_after_s=600)
        self.bootstrap = stack.settings.kafka_bootstrap
        kafka_tail.ensure_topics(self.bootstrap, [self.prefix + "hw.warnings",
                                                  self.prefix + "hw.alert-actions"])
        self.actions = kafka_tail.mark(self.bootstrap, [self.prefix + "hw.alert-actions"])
        self.db, self.influx = f"console_{unique}", stack.settings.influx_url
        ensure_database(self.influx, self.db)
        self.proc = services(["alerting", "--config", str(cfg), "--topic-prefix", self.prefix,
                              "--api-port", str(self.api), "--users", str(tmp / "users.json"),
                              "--influx-db", self.db, *extra],
                             "alerting: ready", f"console-{unique}")
        self.proc.start()
        self.producer = Producer({"bootstrap.servers": self.bootstrap})

    def send(self, w: WarningRecord) -> None:
        self.producer.produce(self.prefix + "hw.warnings", key=w.subject.encode(),
                              value=encode_warning(w))
        self.producer.flush(10)

    def alert(self, wid: str) -> dict[str, Any]:
        rows = requests.get(f"{self.base}/api/warnings", timeout=5,
                            headers={"Authorization": f"Bearer {TOKEN}"}).json()
        return next((r for r in rows if r["warning"]["warning_id"] == wid), {})

    def alert_any(self, wid: str, state: str) -> dict[str, Any]:
        """The warning among those of a state (active, closing, unhandled), through the API."""
        rows = requests.get(f"{self.base}/api/warnings", params={"state": state}, timeout=5,
                            headers={"Authorization": f"Bearer {TOKEN}"}).json()
        return next((r for r in rows if r["warning"]["warning_id"] == wid), {})

    def events(self, pred: Any) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []

        def done(msgs: list[Any]) -> bool:
            got[:] = [json.loads(m.value()) for m in msgs]
            return bool(pred(got))

        kafka_tail.read_since(self.bootstrap, self.actions, done=done, timeout=30)
        return got


def _login(d: WebDriver, base: str, name: str, pw: str = PW) -> None:
    d.get(base + "/")
    wait_for(lambda: d.find_element(By.ID, "login-name").is_displayed(), 10)
    d.find_element(By.ID, "login-name").send_keys(name)
    d.find_element(By.ID, "login-password").send_keys(pw)
    d.find_element(By.CSS_SELECTOR, "#login-form button").click()


def _text(d: WebDriver, element_id: str) -> str:
    """An element's text, re-read when the page re-rendered it meanwhile."""
    try:
        return str(d.find_element(By.ID, element_id).text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def _row(d: WebDriver, wid: str) -> Any:
    found = d.find_elements(By.CSS_SELECTOR, f'tr[data-wid="{wid}"]')
    return found[0] if found else None


def _row_text(d: WebDriver, wid: str) -> str:
    """A row's text, re-read when the page re-rendered it meanwhile ("" when absent)."""
    try:
        row = _row(d, wid)
        return str(row.text) if row is not None else ""
    except StaleElementReferenceException:
        return ""


def _click_row(d: WebDriver, wid: str) -> bool:
    """Click a row; False when it was re-rendered under the click (try again)."""
    try:
        _row(d, wid).click()
        return True
    except (StaleElementReferenceException, AttributeError):
        return False


def _influx_detail(d: WebDriver, wid: str) -> bool:
    """Open the detail again; True once its deliveries come from InfluxDB (the sink's)."""
    if d.find_element(By.ID, "detail").is_displayed():
        d.find_element(By.ID, "detail-close").click()
    _row(d, wid).click()
    time.sleep(0.3)
    wait_for(lambda: "加载中" not in _text(d, "detail-series"), 10)
    return bool(d.execute_script(
        "return document.getElementById('detail-notified').dataset.source === 'influx'"))


def _flow(c: Console, d: WebDriver, r: Receivers, name: str, shots: str) -> str:
    """Log in, a new 一级 arrives live, detail, 处置 refused without cause, acknowledge stops
    the repeats, 处置 recorded. Returns the warning id."""
    _login(d, c.base, name)
    wait_for(lambda: d.find_element(By.ID, "app").is_displayed(), 10)
    wait_for(lambda: "on" in d.find_element(By.ID, "live").get_attribute("class"), 10)
    w = _w("tf-hohhot-01", f"GAS-{shots}", 1, int(time.time() * 1000))
    t0 = time.monotonic()
    c.send(w)
    row = wait_for(lambda: _row(d, w.warning_id), 5, 0.02)
    seen_s = time.monotonic() - t0
    assert seen_s <= 2.0, f"the new warning took {seen_s:.2f} s to appear"
    assert "flash" in row.get_attribute("class")
    badge = row.find_element(By.CSS_SELECTOR, ".badge")
    assert badge.text == "一级" and badge.value_of_css_property("background-color") == RED
    assert int(d.execute_script("return window.hwSounds")) >= 1
    time.sleep(0.5)
    d.save_screenshot(str(SHOTS / f"{shots}-list.png"))
    row.click()
    wait_for(lambda: d.find_element(By.ID, "detail").is_displayed(), 5)
    wait_for(lambda: "加载中" not in _text(d, "detail-body"), 10)
    d.find_element(By.ID, "resolve-action").send_keys("关闭阀门并堵漏")
    d.find_element(By.CSS_SELECTOR, "#resolve-form button").click()
    wait_for(lambda: "cause" in _text(d, "detail-error"), 5)
    assert c.alert(w.warning_id)["handled_at"] is None
    wait_for(lambda: any(x.channel == "webhook" and w.warning_id in x.delivery
                         for x in r.got), 20)
    d.find_element(By.ID, "btn-ack").click()
    wait_for(lambda: "已确认" in _text(d, "detail-state"), 5)
    assert c.alert(w.warning_id)["acked_by"] == name
    time.sleep(0.5)
    sent = sum(1 for x in r.got if w.warning_id in x.delivery)
    time.sleep(4)  # longer than the 3 s repeat
    assert sum(1 for x in r.got if w.warning_id in x.delivery) == sent, "repeats went on"
    assert "flash" not in (_row(d, w.warning_id).get_attribute("class") or "")
    if name == "呼和浩特指挥长":  # a commander opens a 督办 by hand (a 值班员 has no such button)
        d.find_element(By.CSS_SELECTOR, "#supervise-admin option[value=city]").click()
        d.find_element(By.ID, "supervise-minutes").send_keys("30")
        d.find_element(By.CSS_SELECTOR, "#supervise-form button").click()
        wait_for(lambda: "市级人工督办" in _text(d, "detail-supervisions"), 5)
        (sup,) = c.alert(w.warning_id)["supervisions"]
        assert (sup["by_hand"], sup["opened_by"], sup["deadline"] - sup["opened_at"]) == (
            True, name, 1_800_000)
        wait_for(lambda: "督办" in (_row(d, w.warning_id).text or ""), 5)  # listed
    else:
        assert not d.find_element(By.ID, "supervise-form").is_displayed()
        code = d.execute_script(  # the API refuses what the page does not offer
            "return fetch(arguments[0], {method: 'POST', headers: {'Content-Type': "
            "'application/json', 'X-CSRF-Token': arguments[1]}, body: '{\"admin\": \"city\"}'})"
            ".then(r => r.status)", f"/api/warnings/{w.warning_id}/supervise",
            d.execute_script("return fetch('/api/me').then(r => r.json()).then(j => j.csrf)"))
        assert code == 403 and c.alert(w.warning_id)["supervisions"] == []
    d.find_element(By.CSS_SELECTOR, "#verify-verdict option[value=real]").click()  # 核查
    d.find_element(By.ID, "verify-note").send_keys("现场确认泄漏")
    d.find_element(By.CSS_SELECTOR, "#verify-form button").click()
    wait_for(lambda: "已核查" in _text(d, "detail-state"), 5)
    a = c.alert(w.warning_id)
    assert (a["verified_by"], a["verdict"], a["verify_note"]) == (name, "real", "现场确认泄漏")
    assert not d.find_element(By.ID, "verify-form").is_displayed()
    assert "核查反馈" in _text(d, "detail-log")
    if shots == "desktop":  # the sink runs: readings, transitions and deliveries from InfluxDB
        wait_for(lambda: _influx_detail(d, w.warning_id), 30, 0.5)
        assert "已发送" in _text(d, "detail-notified")
        assert d.find_elements(By.CSS_SELECTOR, "#detail-series svg.spark polyline")
        assert "发生" in _text(d, "detail-transitions")
    d.find_element(By.ID, "resolve-cause").send_keys("阀门密封失效")
    d.find_element(By.CSS_SELECTOR, "#resolve-verdict option[value=real]").click()
    d.find_element(By.CSS_SELECTOR, "#resolve-form button").click()
    wait_for(lambda: "已处置" in _text(d, "detail-state"), 5)
    d.execute_script("document.getElementById('detail').scrollTop = 0")
    time.sleep(0.3)
    d.save_screenshot(str(SHOTS / f"{shots}-detail.png"))
    a = c.alert(w.warning_id)
    assert (a["handled_by"], a["cause"], a["action"], a["verdict"]) == (
        name, "阀门密封失效", "关闭阀门并堵漏", "real")
    if name == "呼和浩特指挥长":
        _close(c, d, w)
    else:
        assert not d.find_element(By.ID, "btn-close").is_displayed()
        d.find_element(By.ID, "detail-close").click()
    return w.warning_id


def _close(c: Console, d: WebDriver, w: WarningRecord) -> None:
    """销号 from the page: refused before the clearance, then from the 待销号 tab."""
    assert a_closed(c, w.warning_id) is None and "督办" in _text(d, "detail-supervisions")
    d.find_element(By.ID, "btn-close").click()
    wait_for(lambda: "尚未解除" in _text(d, "detail-error"), 5)
    c.send(msgspec.structs.replace(w, transition="cleared", ts=w.ts + 1000))
    wait_for(lambda: _row(d, w.warning_id) is None, 5)  # no longer active
    d.find_element(By.ID, "detail-close").click()
    d.find_element(By.CSS_SELECTOR, "nav button[data-tab=closing]").click()
    wait_for(lambda: _row(d, w.warning_id), 5).click()
    wait_for(lambda: "待销号" in _text(d, "detail-state"), 5)
    d.find_element(By.ID, "btn-close").click()
    wait_for(lambda: "已销号" in _text(d, "detail-state"), 5)
    closed = c.events(lambda e: any(x.get("action") == "close" for x in e))  # then archived
    assert [(x["warning_id"], x["who"]) for x in closed if x.get("action") == "close"] == [
        (w.warning_id, "呼和浩特指挥长")]
    assert not d.find_element(By.ID, "btn-close").is_displayed()
    d.find_element(By.ID, "detail-close").click()
    d.find_element(By.CSS_SELECTOR, "nav button[data-tab=list]").click()


def a_closed(c: Console, wid: str) -> str | None:
    """Who closed (销号) the warning, through the API."""
    r = requests.get(f"{c.base}/api/warnings/{wid}", timeout=5,
                     headers={"Authorization": f"Bearer {TOKEN}"})
    r.raise_for_status()
    return r.json()["closed_by"]  # type: ignore[no-any-return]


def test_county_officer_console_flow_in_chromium(stack: Stack, services: Any, tmp_path: Path,
                                                 unique: str, receivers: Receivers) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    c = Console(stack, services, tmp_path, unique, receivers)
    now = int(time.time() * 1000)
    ordos = _w("cm-ordos-01", "CH4-1", 2, now, 1.2)
    drill = _w("tf-hohhot-01", "DRILL-1", 2, now, drill=True)
    c.send(ordos)
    c.send(drill)
    wait_for(lambda: c.alert(ordos.warning_id) and c.alert(drill.warning_id), 20)
    # the sink writes transitions and alerting events; readings of the sensor are there too
    kafka_tail.ensure_topics(c.bootstrap, [c.prefix + t for t in SINK_TOPICS])
    services(["sink", "--topic-prefix", c.prefix, "--group", f"sink-{unique}", "--db", c.db],
             "sink: assigned", f"sink-{unique}").start()
    lines = "\n".join(f"reading,site=tf-hohhot-01,device=gds-01,sensor=GAS-desktop "
                       f"value={40 + k},q=\"good\",drill=false {now - 600_000 + k * 60_000}"
                       for k in range(12))
    requests.post(f"{c.influx}/write", params={"db": c.db, "rp": "chem_30d", "precision": "ms"},
                  data=lines.encode(), timeout=5).raise_for_status()
    d = chromium(1280, 860)
    try:
        _login(d, c.base, "玉泉区值班员", "wrong-password")
        wait_for(lambda: "用户名或密码错误" in _text(d, "login-error"), 5)
        wid = _flow(c, d, receivers, "玉泉区值班员", "desktop")
        assert _row(d, ordos.warning_id) is None  # another county's
        assert _row(d, drill.warning_id) is None  # drills only when asked
        d.find_element(By.CSS_SELECTOR, "#drill option[value=only]").click()
        wait_for(lambda: _row(d, drill.warning_id), 5)
        assert "演练" in _row(d, drill.warning_id).text
        d.find_element(By.CSS_SELECTOR, "#drill option[value=exclude]").click()
        wait_for(lambda: _row(d, drill.warning_id) is None, 5)
        d.find_element(By.CSS_SELECTOR, "nav button[data-tab=map]").click()
        wait_for(lambda: len(d.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")) >= 1,
                 10)
        time.sleep(0.5)
        d.save_screenshot(str(SHOTS / "desktop-map.png"))
        # another county: not on its page, and a crafted request with its session is refused
        d.delete_all_cookies()
        _login(d, c.base, "东胜区值班员")
        wait_for(lambda: _row(d, ordos.warning_id), 10)
        assert _row(d, wid) is None
        code = d.execute_script(
            "return fetch(arguments[0], {method: 'POST', headers: {'Content-Type': "
            "'application/json', 'X-CSRF-Token': arguments[1]}, body: '{}'}).then(r => r.status)",
            f"/api/warnings/{drill.warning_id}/ack", d.execute_script(
                "return fetch('/api/me').then(r => r.json()).then(j => j.csrf)"))
        assert code == 403
        s = requests.Session()
        s.cookies.set("hw_session", d.get_cookie("hw_session")["value"])
        assert s.post(f"{c.base}/api/warnings/{drill.warning_id}/ack", json={}, timeout=5,
                      headers={"X-CSRF-Token": "forged"}).status_code == 403
        assert s.post(f"{c.base}/api/warnings/{ordos.warning_id}/ack", json={},
                      timeout=5).status_code == 403  # own county, but no CSRF token
        assert c.alert(drill.warning_id)["acked_at"] is None
        assert c.alert(ordos.warning_id)["acked_at"] is None
        # an expired session (signed correctly, out of time) puts the page back to the login
        old = sessions.issue("link-secret", "东胜区值班员", int(time.time() - 100) * 1000, 10)
        d.delete_all_cookies()
        d.add_cookie({"name": "hw_session", "value": old, "path": "/"})
        d.get(c.base + "/")
        wait_for(lambda: d.find_element(By.ID, "login").is_displayed(), 5)
    finally:
        d.quit()
    events = c.events(lambda e: any(x.get("what") == "resolve" for x in e))
    audit = next(x for x in events if x.get("what") == "resolve")
    assert audit["who"] == "玉泉区值班员" and audit["from"] == "127.0.0.1"
    assert any(x.get("what") == "login_failed" for x in events)
    influxql(c.influx, f'DROP DATABASE "{c.db}"')


def test_commander_flow_on_a_390x844_phone(stack: Stack, services: Any, tmp_path: Path,
                                           unique: str, receivers: Receivers) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    c = Console(stack, services, tmp_path, unique, receivers)
    d = chromium(390, 844, mobile=True)
    try:
        _flow(c, d, receivers, "呼和浩特指挥长", "phone")
        assert d.execute_script("return window.innerWidth") == 390
        line = (f"position,vehicle=hz-0001 lat=40.83,lon=111.62,speed_kmh=42,heading=90,"
                f"alarm_flags=0i,drill=false {int(time.time() * 1000)}")
        requests.post(f"{c.influx}/write", params={"db": c.db, "rp": "vehicle_184d",
                                                   "precision": "ms"},
                      data=line.encode(), timeout=5).raise_for_status()
        d.find_element(By.CSS_SELECTOR, "nav button[data-tab=map]").click()
        wait_for(lambda: len(d.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")) >= 2,
                 10)  # the site and the vehicle at its last position
        assert "蒙A·D1234" in _text(d, "map-vehicles")
        time.sleep(0.5)
        d.save_screenshot(str(SHOTS / "phone-map.png"))
        assert d.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        d.quit()
        influxql(c.influx, f'DROP DATABASE "{c.db}"')


FAST = """steps:
  1: {ack_s: 2, verify_s: 3, handle_s: 4, close_after_s: 600}
  2: {ack_s: 2, verify_s: 3, handle_s: 4, close_after_s: 600}
  3: {ack_s: 2, verify_s: 3, handle_s: 4, close_after_s: 600}
  4: {ack_s: 2, verify_s: 3, handle_s: 4, close_after_s: 600}
supervision_s: {county: 600, city: 600, province: 600}
"""


def test_a_cleared_unhandled_warning_waits_in_its_tab_and_is_handled_there(
        stack: Stack, services: Any, tmp_path: Path, unique: str, receivers: Receivers) -> None:
    """Warnings that cleared by themselves before anyone's 签收 (the county's, another
    county's, a drill's): the county officer's tab 已解除待处置 counts and lists only the
    county's real one, with its 督办 once the 签收 deadline (2 s here) passed; 确认 and 处置
    from its detail take it out of the tab (then it waits for its 销号)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    (tmp_path / "workflow.yaml").write_text(FAST, encoding="utf-8")
    c = Console(stack, services, tmp_path, unique, receivers,
                ("--workflow", str(tmp_path / "workflow.yaml")))
    now = int(time.time() * 1000)
    mine = _w("tf-hohhot-01", "GAS-GONE", 2, now, 51.0)
    other = _w("cm-ordos-01", "CH4-GONE", 2, now, 1.2)
    drill = _w("tf-hohhot-01", "DRILL-GONE", 2, now, drill=True)
    d = chromium(1280, 860)
    try:
        _login(d, c.base, "玉泉区值班员")
        wait_for(lambda: "on" in d.find_element(By.ID, "live").get_attribute("class"), 10)
        assert _text(d, "unhandled-count") == ""
        for w in (mine, other, drill):
            c.send(w)
        wait_for(lambda: _row(d, mine.warning_id), 10)
        for w in (mine, other, drill):  # cleared by themselves, nobody took them up
            c.send(msgspec.structs.replace(w, transition="cleared", ts=w.ts + 1000))
        wait_for(lambda: _row(d, mine.warning_id) is None, 10)  # off the active list
        wait_for(lambda: _text(d, "unhandled-count") == "（1）", 10)  # on the tab, counted
        d.find_element(By.CSS_SELECTOR, "nav button[data-tab=unhandled]").click()
        wait_for(lambda: "未确认" in _row_text(d, mine.warning_id), 5)
        assert "GAS-GONE" in _row_text(d, mine.warning_id)
        assert _row(d, other.warning_id) is None and _row(d, drill.warning_id) is None
        wait_for(lambda: "督办" in _row_text(d, mine.warning_id), 15)
        (sup,) = c.alert_any(mine.warning_id, "unhandled")["supervisions"]
        assert (sup["admin"], sup["by_hand"]) == ("county", False)
        time.sleep(0.3)
        d.save_screenshot(str(SHOTS / "desktop-unhandled.png"))
        wait_for(lambda: _click_row(d, mine.warning_id), 5)
        wait_for(lambda: "未确认" in _text(d, "detail-state"), 5)
        assert "督办" in _text(d, "detail-supervisions")
        d.find_element(By.ID, "btn-ack").click()
        wait_for(lambda: "已确认" in _text(d, "detail-state"), 5)
        wait_for(lambda: "已确认" in _row_text(d, mine.warning_id), 5)
        d.find_element(By.ID, "resolve-cause").send_keys("探头附近短时泄放,已自行消散")
        d.find_element(By.ID, "resolve-action").send_keys("现场检查阀门并复测")
        d.find_element(By.CSS_SELECTOR, "#resolve-form button").click()
        wait_for(lambda: "已处置" in _text(d, "detail-state"), 5)
        d.find_element(By.ID, "detail-close").click()
        wait_for(lambda: _row(d, mine.warning_id) is None, 5)  # out of the tab
        assert _text(d, "unhandled-count") == ""
        assert d.find_element(By.ID, "no-unhandled").is_displayed()
        a = c.alert_any(mine.warning_id, "closing")  # now waits for its 销号
        assert (a["acked_by"], a["handled_by"], a["cause"]) == (
            "玉泉区值班员", "玉泉区值班员", "探头附近短时泄放,已自行消散")
        assert c.alert_any(other.warning_id, "unhandled")  # the other county's: still due
        d.find_element(By.CSS_SELECTOR, "#drill option[value=only]").click()
        wait_for(lambda: _text(d, "unhandled-count") == "（1）", 5)  # the drill's, when asked
        wait_for(lambda: _row(d, drill.warning_id), 5)
    finally:
        d.quit()
        influxql(c.influx, f'DROP DATABASE "{c.db}"')
