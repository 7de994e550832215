"""Drill participants played through the real alerting API (stand-ins for people): each
notification the drill desk gets is taken by a participant, who 签收, 核查, 处置 and 销号 it
after the scenario's scripted delays with their own API token (a 销号 refused because the
warning has not cleared yet is tried again every second, for up to 2 minutes); what got
through is kept for the score."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from hazardwatch.simulators.participants import WHAT_ZH, Act, What, schedule, takers
from hazardwatch.simulators.scenario import Participant


class StandIns(threading.Thread):
    """Watches the desk's notifications and acts for the participants when due."""

    def __init__(self, people: list[Participant], got: list[dict[str, Any]], api: str,
                 tokens: dict[str, str]) -> None:
        super().__init__(daemon=True, name="drill-stand-ins")
        self.people, self.got, self.api = people, got, api
        self.token = {name: tok for tok, name in tokens.items()}
        self.taken: dict[tuple[str, str], int] = {}  # (warning id, participant) → level
        self.done: dict[tuple[str, str, What], int] = {}  # (id, who, ack|resolve) → wall ms
        self.errors: list[str] = []  # refused or failed calls, in Chinese
        self.due: list[Act] = []
        self.verdict = {p.name: p.verdict for p in people}
        self.tries: dict[tuple[str, str], int] = {}  # 销号 tried before the warning cleared
        self.stopped = threading.Event()
        self._seen = 0

    def run(self) -> None:
        """Poll every 0.2 s until stopped."""
        while not self.stopped.is_set():
            self.step(int(time.time() * 1000))
            time.sleep(0.2)

    def step(self, now: int) -> None:
        """Take new notifications and make the calls that are due."""
        for n in self.got[self._seen:]:
            self._seen += 1
            if n.get("kind") not in ("alert", "upgrade", "repeat"):
                continue  # a person acts on a warning told to them, not on a 督办 or a clear
            for w in n.get("warnings", []):
                wid = w["warning_id"]
                if any(k[0] == wid for k in self.taken):
                    continue
                for p in takers(self.people, w["rule"]):
                    self.taken[(wid, p.name)] = int(w["level"])
                self.due += schedule(self.people, wid, w["rule"], int(n["arrived"]))
        for a in sorted((a for a in self.due if a.at <= now), key=lambda a: a.at):
            self.due.remove(a)
            self._call(a, self.tries.get((a.warning_id, a.who), 0) if a.what == "close" else 0)

    def last_due(self) -> int:
        """When the last scripted call is due (wall ms; 0: none left)."""
        return max((a.at for a in self.due), default=0)

    def _call(self, a: Act, tries: int = 0) -> None:
        body: dict[str, str] = {}
        if a.what == "verify":
            body = {"verdict": self.verdict[a.who], "note": "演练:现场核查"}
        if a.what == "resolve":
            body = {"cause": "演练:现场核实", "action": "演练:按预案处置"}
        req = urllib.request.Request(
            f"{self.api}/api/warnings/{a.warning_id}/{a.what}", json.dumps(body).encode(),
            {"Authorization": f"Bearer {self.token[a.who]}",
             "Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            self.done[(a.warning_id, a.who, a.what)] = int(time.time() * 1000)
        except (urllib.error.URLError, OSError) as exc:
            detail = exc.read().decode("utf-8", "replace")[:200] if isinstance(
                exc, urllib.error.HTTPError) else str(exc)
            if a.what == "close" and "尚未解除" in detail and tries < 120:
                self.due.append(Act(a.at + 1000, a.who, a.what, a.warning_id))  # not cleared
                self.tries[(a.warning_id, a.who)] = tries + 1  # yet: 销号 again in a second
                return
            self.errors.append(f"{a.who} {WHAT_ZH[a.what]} {a.warning_id} 未成功:{detail}")
