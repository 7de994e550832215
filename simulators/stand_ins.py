"""Drill participants played through the real alerting API (stand-ins for people): each
notification the drill desk gets is taken by a participant, who 签收, 核查, 处置 and 销号 it
after the scenario's scripted delays, logged in with a console account of their own role
(session cookie and CSRF token, as a person at the console: a 值班员 is refused a 销号); a
销号 refused because the warning has not cleared yet is tried again every second, for up to
2 minutes; what got through is kept for the score."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.simulators.participants import STEPS, WHAT_ZH, Act, What, schedule, takers
from hazardwatch.simulators.scenario import Participant


class StandIns(threading.Thread):
    """Watches the console's warning list and the desk's notifications and acts for the
    participants when due."""

    def __init__(self, people: list[Participant], got: list[dict[str, Any]], api: str,
                 passwords: dict[str, str],
                 listed: list[tuple[WarningRecord, int]] | None = None) -> None:
        super().__init__(daemon=True, name="drill-stand-ins")
        self.people, self.got, self.api = people, got, api
        self.listed = listed if listed is not None else []  # (record, push ms) as listed
        self.passwords = passwords  # participant → their console account's password
        self.sessions: dict[str, tuple[str, str]] = {}  # participant → (cookie, CSRF token)
        self.seen: dict[str, str] = {}  # warning id → rule, of every warning seen or told
        self.taken: dict[tuple[str, str], int] = {}  # (warning id, participant) → level
        self.done: dict[tuple[str, str, What], int] = {}  # (id, who, what) → wall ms
        self.errors: list[str] = []  # refused or failed calls, in Chinese
        self.due: list[Act] = []
        self.verdict = {p.name: p.verdict for p in people}
        self.tries: dict[tuple[str, str, What], int] = {}  # calls tried again (see _call)
        self.stopped = threading.Event()
        self._seen = self._listed = 0

    def run(self) -> None:
        """Poll every 0.2 s until stopped."""
        while not self.stopped.is_set():
            self.step(int(time.time() * 1000))
            time.sleep(0.2)

    @property
    def untaken(self) -> set[str]:
        """The warnings seen or told that no participant takes."""
        return {wid for wid, rule in self.seen.items() if not takers(self.people, rule)}

    def _take(self, wid: str, rule: str, level: int, at: int) -> None:
        if wid in self.seen:  # an upgrade: scored against the most severe level's deadlines
            for key, was in self.taken.items():
                if key[0] == wid and level < was:
                    self.taken[key] = level
            return
        self.seen[wid] = rule
        for p in takers(self.people, rule):
            self.taken[(wid, p.name)] = level
        self.due += schedule(self.people, wid, rule, at)

    def step(self, now: int) -> None:
        """Take new warnings (listed on the console, or told) and make the calls that are
        due, each participant's steps of a warning in order."""
        for rec, pushed in self.listed[self._listed:]:
            self._listed += 1
            if rec.transition in ("raised", "upgraded"):
                self._take(rec.warning_id, rec.rule, rec.level, pushed)
        for n in self.got[self._seen:]:
            self._seen += 1
            if n.get("kind") not in ("alert", "upgrade", "repeat"):
                continue  # a person acts on a warning told to them, not on a 督办 or a clear
            for w in n.get("warnings", []):
                self._take(w["warning_id"], w["rule"], int(w["level"]), int(n["arrived"]))
        for a in sorted((a for a in self.due if a.at <= now), key=lambda a: a.at):
            if any(b.warning_id == a.warning_id and b.who == a.who
                   and STEPS.index(b.what) < STEPS.index(a.what) for b in self.due):
                continue  # an earlier step of theirs waits to be tried again
            self.due.remove(a)
            self._call(a, now, self.tries.get((a.warning_id, a.who, a.what), 0))

    def last_due(self) -> int:
        """When the last scripted call is due (wall ms; 0: none left)."""
        return max((a.at for a in self.due), default=0)

    def _login(self, who: str) -> tuple[str, str]:
        """Log in once with the participant's console account: (cookie, CSRF token)."""
        if who not in self.sessions:
            req = urllib.request.Request(
                f"{self.api}/api/login", json.dumps(
                    {"name": who, "password": self.passwords[who]}).encode(),
                {"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(req, timeout=10) as r:
                csrf = json.loads(r.read())["csrf"]
                cookie = r.headers.get("Set-Cookie", "").split(";", 1)[0]
            self.sessions[who] = (cookie, csrf)
        return self.sessions[who]

    def _call(self, a: Act, now: int, tries: int = 0) -> None:
        body: dict[str, str] = {}
        if a.what == "verify":
            body = {"verdict": self.verdict[a.who], "note": "演练:现场核查"}
        if a.what == "resolve":
            body = {"cause": "演练:现场核实", "action": "演练:按预案处置"}
        try:
            cookie, csrf = self._login(a.who)
            req = urllib.request.Request(
                f"{self.api}/api/warnings/{a.warning_id}/{a.what}", json.dumps(body).encode(),
                {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"},
                method="POST")
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            self.done[(a.warning_id, a.who, a.what)] = int(time.time() * 1000)
        except (urllib.error.URLError, OSError) as exc:
            detail = exc.read().decode("utf-8", "replace")[:200] if isinstance(
                exc, urllib.error.HTTPError) else str(exc)
            again = ((a.what == "close" and "尚未解除" in detail and tries < 120)  # 销号
                     # before the clearance: again each second; a warning the API does not
                     # know yet (it reads hw.warnings too): again each 0.5 s, 20 times
                     or (getattr(exc, "code", 0) == 404 and tries < 20))
            if again:
                self.due.append(Act(now + (1000 if a.what == "close" else 500), a.who, a.what,
                                    a.warning_id))
                self.tries[(a.warning_id, a.who, a.what)] = tries + 1
                return
            self.errors.append(f"{a.who} {WHAT_ZH[a.what]} {a.warning_id} 未成功:{detail}")
