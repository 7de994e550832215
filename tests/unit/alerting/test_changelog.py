"""The shared changelog store: what instances write, what a new owner reads back, and an
unreadable record set aside instead of stopping the start."""

from __future__ import annotations

from typing import Any

import msgspec

from hazardwatch.alerting.changelog import ChangelogStore
from hazardwatch.alerting.state import Action, Silence, apply_warning
from tests.unit.alerting.test_service import MIN, T0, warning


class Log:
    """A producer that keeps records per partition, like a topic."""

    def __init__(self) -> None:
        self.records: list[tuple[int, bytes | None, bytes | None]] = []

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                partition: int = 0) -> None:
        self.records.append((partition, key, value))

    def replay(self, into: ChangelogStore) -> list[Any]:
        return [into.apply(p, i, k, v) for i, (p, k, v) in enumerate(self.records)]


def test_a_new_owner_reads_back_alerts_actions_silences_links_and_responses() -> None:
    log = Log()
    old = ChangelogStore(log, "t", 4)
    a = apply_warning(None, warning(1), "r", T0)
    wid = a.warning.warning_id
    old.partition_of[wid] = 2
    old.put_alert(a)
    old.put_action(Action(wid, "ack", "值班员", T0 + MIN))
    old.put_silence(Silence("s", T0, T0 + MIN, "x", "y", site="tf-hohhot-01"))
    assert old.use_link("tok", T0) and not old.use_link("tok", T0)
    old.put_response(wid, "ack", 1, 60_000)
    new = ChangelogStore(log, "t", 4)
    log.replay(new)
    assert set(new.owned_by({2})) == {wid} and new.owned_by({0, 1, 3}) == {}
    assert [x.who for x in new.actions[wid]] == ["值班员"]
    assert [s.id for s in new.silences()] == ["s"]
    assert not new.use_link("tok", T0)
    assert new.responses() == [("ack", 1, 60_000)]
    old.drop_alert(wid)
    log.replay(new)
    assert new.owned_by({2}) == {} and wid not in new.actions


def test_an_unreadable_record_is_set_aside_and_the_rest_is_read() -> None:
    log = Log()
    store = ChangelogStore(log, "t", 4)
    a = apply_warning(None, warning(1), "r", T0)
    log.records.append((1, b"alert:W-bad", b"\xc1\xff"))
    log.records.append((0, b"silence:s-bad", msgspec.json.encode(
        {"id": "s-bad", "starts": T0, "ends": T0 + MIN, "by": "x", "reason": "",
         "rule_prefix": 7})))
    log.records.append((0, b"what:ever", b"{}"))
    store.partition_of[a.warning.warning_id] = 1
    store.put_alert(a)
    fresh = ChangelogStore(log, "t", 4)
    log.replay(fresh)
    assert set(fresh.owned_by({1})) == {a.warning.warning_id}
    assert [k for _, k, _ in fresh.set_aside()] == ["alert:W-bad", "silence:s-bad", "what:ever"]
    assert fresh.silences() == []


def test_an_ack_taken_on_another_instance_reaches_the_owner_and_stops_the_chain(
        tmp_path: Any) -> None:
    from tests.unit.alerting.test_service import feed, service

    owner, box = service(tmp_path / "owner")
    other, _ = service(tmp_path / "other")
    w = warning(1)
    feed(owner, w, T0)
    owner.step(T0)
    other.others[w.warning_id] = owner.alerts[w.warning_id]  # what the other instance reads
    shared: list[Action] = []
    other.store.put_action = shared.append  # type: ignore[method-assign]
    reply = other.act("ack", w.warning_id, "值班员", T0 + MIN)
    assert reply is not None and reply.acked_by == "值班员"
    assert owner.alerts[w.warning_id].acked_at is None  # not touched by the other instance
    for rec in shared:
        owner.on_action(rec)
    box.sent.clear()
    owner.step(T0 + 20 * MIN)
    assert box.sent == [] and owner.alerts[w.warning_id].acked_by == "值班员"
    owner.release({w.warning_id})
    assert owner.alerts == {} and owner.pending == {}


def test_verify_close_and_supervise_taken_on_another_instance_are_read_by_the_owner() -> None:
    """Every action the API takes (核查, 销号, 督办 by hand too, not only 签收 and 处置) goes
    through the changelog to the owner; before, the owner set them aside as unreadable."""
    from hazardwatch.alerting.workflow.case import Supervision

    log = Log()
    other = ChangelogStore(log, "t", 4)
    wid = warning(1).warning_id
    other.partition_of[wid] = 3
    sup = Supervision(f"{wid}:督办1", wid, "city", "region:150104", "region:150100", T0,
                      T0 + MIN, by_hand=True, opened_by="市值班员")
    sent = [Action(wid, "ack", "王磊", T0), Action(wid, "verify", "王磊", T0 + 1, verdict="real",
                                                   note="现场核查"),
            Action(wid, "resolve", "王磊", T0 + 2, "原因", "措施"),
            Action(wid, "close", "赵刚", T0 + 3), Action(wid, "supervise", "市值班员", T0 + 4,
                                                         supervision=sup)]
    for act in sent:
        other.put_action(act)
    owner = ChangelogStore(Log(), "t", 4)
    got = [r.action for r in log.replay(owner)]
    assert got == sent and owner.set_aside() == [] and owner.actions[wid] == sent
    other.drop_alert(wid)
    assert {k.decode().split(":")[0] for _, k, v in log.records[-6:] if v is None} == {
        "alert", "ack", "verify", "resolve", "close", "supervise"}
