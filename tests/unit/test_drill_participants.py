"""Drill participants: who takes which warning, when their scripted calls are due, and the
score against the workflow deadlines (一级: 签收 5 min, 处置 30 min), in Chinese."""

from __future__ import annotations

from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.simulators.participants import Act, assessment_zh, schedule, score
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
    scores = score([DUTY, TECH], taken, done, raised, WorkflowConfig())
    assert len(scores) == 3
    s = {x.warning_id: x for x in scores}
    assert (s["W1"].ack_s, s["W1"].handle_s, s["W1"].on_time) == (21.0, 62.0, True)
    assert (s["W1"].ack_limit_s, s["W1"].handle_limit_s) == (300, 1800)
    assert s["W2"].ack_s == 301.0 and not s["W2"].on_time and s["W2"].role == "企业技术负责人"
    assert s["W3"].ack_s == 600.0 and s["W3"].handle_s is None and not s["W3"].on_time
    text = "\n".join(assessment_zh(list(s.values())))
    row = "| 张三 | 值班员 | `W1` | 一级 | 21 秒 ✓ 按时 | 300 秒 | 62 秒 ✓ 按时 | 1800 秒 |"
    assert row in text
    assert "301 秒 ✗ 超时" in text and "✗ 未处置" in text
    assert "- 张三:1/2 条预警按时签收并处置,不合格" in text
    assert "- 刘洋:0/1 条预警按时签收并处置,不合格" in text
    assert assessment_zh([]) == []


def test_stand_ins_call_the_api_when_due_and_record_refusals() -> None:
    got = [{"kind": "alert", "arrived": T0, "warnings": [
        {"warning_id": "W1", "rule": "combo.tank.gas_and_heat", "level": 1}]},
        {"kind": "supervise", "arrived": T0}]
    s = StandIns([DUTY], got, "http://127.0.0.1:9", {"tok": "张三"})  # nothing listens
    s.step(T0 + 19_999)
    assert s.taken == {("W1", "张三"): 1} and len(s.due) == 2 and s.done == {}
    s.step(T0 + 20_000)
    assert len(s.due) == 1 and s.done == {} and "张三 签收 W1 未成功" in s.errors[0]
    assert s.last_due() == T0 + 60_000


def test_verify_and_close_are_scripted_and_close_waits_for_the_clearance() -> None:
    """核查 and 销号 through the API; a 销号 refused because the warning has not cleared is
    tried again a second later (a local server plays the API: 409 once, then 200)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[tuple[str, dict[str, str]]] = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append((self.path, body))
            refused = self.path.endswith("/close") and sum(
                p.endswith("/close") for p, _ in calls) == 1
            self.send_response(409 if refused else 200)
            self.end_headers()
            self.wfile.write('{"error": "预警尚未解除,不能销号"}'.encode() if refused else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    boss = Participant("李四", "值班长", ack_after_s=1, verify_after_s=2, handle_after_s=3,
                       close_after_s=4, verdict="false_alarm")
    assert [a.what for a in schedule([boss], "W1", "x", T0)] == [
        "ack", "verify", "resolve", "close"]
    got = [{"kind": "alert", "arrived": T0, "warnings": [
        {"warning_id": "W1", "rule": "x", "level": 2}]}]
    s = StandIns([boss], got, f"http://127.0.0.1:{server.server_port}", {"tok": "李四"})
    try:
        for t in (1, 2, 3, 4, 5):
            s.step(T0 + t * 1000)
    finally:
        server.shutdown()
    assert [p.rsplit("/", 1)[1] for p, _ in calls] == [
        "ack", "verify", "resolve", "close", "close"]
    assert calls[1][1] == {"verdict": "false_alarm", "note": "演练:现场核查"}
    assert {k[2] for k in s.done} == {"ack", "verify", "resolve", "close"} and not s.errors
