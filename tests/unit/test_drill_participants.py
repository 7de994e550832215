"""Drill participants: who takes which warning, when their scripted calls are due, and the
score against the workflow deadlines (一级: 签收 5 min, 处置 30 min), in Chinese."""

from __future__ import annotations

from hazardwatch.alerting.workflow.config import StepDeadlines, WorkflowConfig
from hazardwatch.simulators.participants import Act, assessment_zh, duties, schedule, score
from hazardwatch.simulators.scenario import Participant
from hazardwatch.simulators.stand_ins import StandIns

DUTY = Participant("张三", "值班员", ack_after_s=20, handle_after_s=60,
                   rules=["combo.tank.gas_and_heat"])
TECH = Participant("刘洋", "企业技术负责人", ack_after_s=400)  # late, never handles
T0 = 1_795_000_000_000


def test_schedule_for_every_participant_told_of_the_rule() -> None:
    assert schedule([DUTY], "W1", "combo.tank.gas_and_heat", T0) == [
        Act(T0 + 20_000, "张三", "ack", "W1"), Act(T0 + 60_000, "张三", "resolve", "W1")]
    assert schedule([DUTY, TECH], "W2", "camera.fire", T0) == [
        Act(T0 + 400_000, "刘洋", "ack", "W2")]
    assert schedule([DUTY], "W2", "camera.fire", T0) == []
    both = schedule([DUTY, TECH], "W3", "combo.tank.gas_and_heat", T0)  # both are told
    assert [(a.who, a.what) for a in both] == [("张三", "ack"), ("张三", "resolve"),
                                               ("刘洋", "ack")]


def test_score_against_the_deadlines() -> None:
    taken = {("W1", "张三"): 1, ("W2", "刘洋"): 1, ("W3", "张三"): 2}
    done = {("W1", "张三", "ack"): T0 + 21_000, ("W1", "张三", "resolve"): T0 + 62_000,
            ("W1", "刘洋", "ack"): T0 + 1_000,  # not taken by 刘洋: not scored
            ("W2", "刘洋", "ack"): T0 + 301_000,  # 1 s past the 5 min of 一级
            ("W3", "张三", "ack"): T0 + 600_000}  # 二级: 10 min, on time; 处置 missing
    raised = {"W1": T0, "W2": T0, "W3": T0}
    scores = score([DUTY, TECH], taken, done, raised, WorkflowConfig(),
                   {"W1": "储罐气体与温度组合(1号储罐)"})
    assert len(scores) == 3
    s = {x.warning_id: x for x in scores}
    assert (s["W1"].took("ack"), s["W1"].took("resolve"), s["W1"].on_time) == (21.0, 62.0, True)
    assert [(x.what, x.limit_s) for x in s["W1"].steps] == [("ack", 300), ("resolve", 1800)]
    assert s["W2"].took("ack") == 301.0 and not s["W2"].on_time and s["W2"].role == "企业技术负责人"
    assert s["W3"].took("ack") == 600.0 and s["W3"].took("resolve") is None
    assert not s["W3"].on_time and s["W3"].title == "W3"  # no name given: the id
    text = "\n".join(assessment_zh(list(s.values())))
    row = ("| 张三 | 值班员 | 储罐气体与温度组合(1号储罐) | 一级 | 21 秒 ✓ 按时(时限 300 秒) | — | "
           "62 秒 ✓ 按时(时限 1800 秒) | — |")
    assert row in text
    assert "301 秒 ✗ 超时(时限 300 秒)" in text and "✗ 未处置(时限 3600 秒)" in text
    assert "- 张三:1/2 条预警按时完成签收、处置,不合格" in text
    assert "- 刘洋:0/1 条预警按时完成签收,不合格" in text  # scripted to 签收 only
    assert assessment_zh([]) == []


def test_duties_scored_per_step_with_the_close_deadline_and_the_check() -> None:
    """核查 and 销号 are scored like 签收 and 处置, the 销号 from the moment it became
    possible (the later of the clear and the 处置) against `close_after_s`, as the workflow
    counts it: how long the warning stayed raised is not the 指挥长's doing."""
    duty = Participant("王磊", "企业值班员", ack_after_s=1, verify_after_s=2, handle_after_s=3)
    boss = Participant("赵刚", "带班领导", close_after_s=4)
    assert duties(duty) == ("ack", "verify", "resolve") and duties(boss) == ("close",)
    assert duties(TECH) == ("ack",) and duties(Participant("x", "y")) == ("ack", "resolve")
    wf = WorkflowConfig(steps={lv: StepDeadlines(10, 15, 20, close_after_s=30 if lv == 1
                                                 else 3600) for lv in (1, 2, 3, 4)})
    taken = {("W1", "王磊"): 1, ("W1", "赵刚"): 1, ("W2", "赵刚"): 2, ("W2", "王磊"): 2}
    done = {("W1", "王磊", "ack"): T0 + 9_000, ("W1", "王磊", "verify"): T0 + 16_000,
            ("W1", "王磊", "resolve"): T0 + 20_000, ("W1", "赵刚", "close"): T0 + 61_000,
            ("W2", "王磊", "ack"): T0 + 1_000, ("W2", "王磊", "verify"): T0 + 2_000,
            ("W2", "王磊", "resolve"): T0 + 3_000, ("W2", "赵刚", "close"): T0 + 500_000}
    cleared = {"W1": T0 + 25_000, "W2": T0 + 100_000}  # W2 stayed raised 100 s
    s = {(x.warning_id, x.name): x for x in score([duty, boss], taken, done,
                                                   {"W1": T0, "W2": T0}, wf, None, cleared)}
    w1 = s[("W1", "王磊")]
    assert [(x.what, x.took_s, x.limit_s, x.on_time) for x in w1.steps] == [
        ("ack", 9.0, 10, True), ("verify", 16.0, 15, False), ("resolve", 20.0, 20, True)]
    assert not w1.on_time and s[("W2", "王磊")].on_time
    assert s[("W1", "赵刚")].steps[0].took_s == 36.0  # from the clear at 25 s, not the push
    assert not s[("W1", "赵刚")].on_time  # 36 s > 30 s
    assert s[("W2", "赵刚")].steps[0].took_s == 400.0 and s[("W2", "赵刚")].on_time
    text = "\n".join(assessment_zh(list(s.values())))
    assert "16 秒 ✗ 超时(时限 15 秒)" in text and "36 秒 ✗ 超时(时限 30 秒)" in text
    assert "400 秒 ✓ 按时(时限 3600 秒)" in text
    assert "- 王磊:1/2 条预警按时完成签收、核查、处置,不合格" in text
    assert "- 赵刚:1/2 条预警按时完成销号,不合格" in text
    # not cleared yet (or no 处置): the 销号 cannot be timed
    s = {(x.warning_id, x.name): x for x in score([boss], {("W1", "赵刚"): 1}, done,
                                                   {"W1": T0}, wf, None, {})}
    assert s[("W1", "赵刚")].steps[0].took_s is None


def test_the_close_deadline_comes_after_the_handling_one() -> None:
    import msgspec
    import pytest

    with pytest.raises(msgspec.ValidationError, match="handle_s ≤ close_s"):
        WorkflowConfig(steps={lv: StepDeadlines(10, 15, 20, 19) for lv in (1, 2, 3, 4)})


def test_stand_ins_call_the_api_when_due_and_record_refusals() -> None:
    got = [{"kind": "alert", "arrived": T0, "warnings": [
        {"warning_id": "W1", "rule": "combo.tank.gas_and_heat", "level": 1}]},
        {"kind": "supervise", "arrived": T0}]
    s = StandIns([DUTY], got, "http://127.0.0.1:9", {"张三": "pw"})  # nothing listens
    s.step(T0 + 19_999)
    assert s.taken == {("W1", "张三"): 1} and len(s.due) == 2 and s.done == {}
    s.step(T0 + 20_000)
    assert len(s.due) == 1 and s.done == {} and "张三 签收 W1 未成功" in s.errors[0]
    assert s.last_due() == T0 + 60_000


def test_verify_and_close_are_scripted_and_close_waits_for_the_clearance() -> None:
    """核查 and 销号 through the API, logged in as a console user (session cookie and CSRF
    token on every call); a warning the API does not know yet (404) and a 销号 refused because
    the warning has not cleared are tried again (a local server plays the API)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from hazardwatch.contracts.warnings import WarningRecord

    calls: list[tuple[str, dict[str, str]]] = []
    logins: list[dict[str, str]] = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/api/login":
                logins.append(body)
                self.send_response(200)
                self.send_header("Set-Cookie", "hw_session=s1; HttpOnly; Path=/")
                self.end_headers()
                self.wfile.write(b'{"csrf": "c1"}')
                return
            assert (self.headers["Cookie"], self.headers["X-CSRF-Token"]) == ("hw_session=s1",
                                                                               "c1")
            calls.append((self.path, body))
            n = sum(p == self.path for p, _ in calls)
            status = 404 if self.path.endswith("/ack") and n == 1 else 409 if (
                self.path.endswith("/close") and n == 1) else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write('{"error": "预警尚未解除,不能销号"}'.encode() if status == 409
                             else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    boss = Participant("李四", "值班长", ack_after_s=1, verify_after_s=1.2, handle_after_s=3,
                       close_after_s=4, verdict="false_alarm")
    assert [a.what for a in schedule([boss], "W1", "x", T0)] == [
        "ack", "verify", "resolve", "close"]
    rec = WarningRecord("W1", "raised", T0 - 5000, 2, "orange", "x", "threshold", "s1", None,
                        None, None, None, None, None, T0 - 5000, "m")
    listed = [(rec, T0)]
    s = StandIns([boss], [], f"http://127.0.0.1:{server.server_port}", {"李四": "pw"}, listed)
    try:
        for t in (1, 1.2, 1.5, 3, 4, 5):
            s.step(T0 + int(t * 1000))
    finally:
        server.shutdown()
    assert logins == [{"name": "李四", "password": "pw"}]  # once
    assert [p.rsplit("/", 1)[1] for p, _ in calls] == [  # 核查 waited for the 签收 again
        "ack", "ack", "verify", "resolve", "close", "close"]
    assert calls[2][1] == {"verdict": "false_alarm", "note": "演练:现场核查"}
    assert {k[2] for k in s.done} == {"ack", "verify", "resolve", "close"} and not s.errors
    assert s.taken == {("W1", "李四"): 2} and s.untaken == set()
