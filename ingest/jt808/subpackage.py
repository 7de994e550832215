"""Sub-package reassembly per terminal and message, with a timeout and memory caps."""

from __future__ import annotations

from dataclasses import dataclass, field

from hazardwatch.ingest.jt808.header import Header, Message


@dataclass
class Budget:
    """Bytes held by all reassemblies of a process (shared by its sessions)."""

    limit: int = 64 * 1024 * 1024
    used: int = 0


@dataclass
class _Pending:
    header: Header
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


@dataclass(frozen=True, slots=True)
class Expired:
    """A message whose fragments did not all arrive in time: ask for `missing` (0x8003)."""

    header: Header
    first_serial: int
    missing: list[int]


class Reassembler:
    """Collects fragments keyed by (msg id, total, first serial) and returns whole messages.

    A fragment over the per-session or per-process cap is refused (the caller counts it); a
    message not complete within `timeout_s` is reported once by `expire` and forgotten.
    """

    def __init__(self, budget: Budget | None = None, session_limit: int = 1024 * 1024,
                 timeout_s: float = 30.0, max_total: int = 4096) -> None:
        self.budget = budget if budget is not None else Budget()
        self.session_limit = session_limit
        self.timeout_s = timeout_s
        self.max_total = max_total
        self._pending: dict[tuple[int, int, int], _Pending] = {}
        self.held = 0

    def add(self, msg: Message, now: float) -> Message | None:
        """Store one fragment; the reassembled message when it was the last one missing.

        Raises ValueError with the reason when the fragment is refused.
        """
        h = msg.header
        total, index = h.packet_total or 0, h.packet_index or 0
        if not 1 <= index <= total or total > self.max_total:
            raise ValueError(f"fragment {index} of {total} is out of range")
        first = (h.serial - (index - 1)) & 0xFFFF
        key = (h.msg_id, total, first)
        p = self._pending.get(key)
        if p is None:
            p = self._pending[key] = _Pending(h, now)
        if index in p.parts:
            return None  # a retransmitted fragment
        size = len(msg.body)
        if self.held + size > self.session_limit or self.budget.used + size > self.budget.limit:
            raise ValueError(f"reassembly memory cap reached ({self.held} bytes held)")
        p.parts[index] = msg.body
        p.size += size
        self.held += size
        self.budget.used += size
        if index == 1:
            p.header = h
        if len(p.parts) < total:
            return None
        del self._pending[key]
        self._release(p)
        body = b"".join(p.parts[i] for i in range(1, total + 1))
        first_h = p.header
        whole = Header(first_h.msg_id, first_h.version, len(body), first_h.encryption,
                       first_h.phone, first, first_h.protocol_version, None, None,
                       first_h.flag_2019, first_h.phone_bcd)
        return Message(whole, body)

    def expire(self, now: float) -> list[Expired]:
        """Drop messages older than the timeout and say which fragments they lacked."""
        out = []
        for key, p in list(self._pending.items()):
            if now - p.started >= self.timeout_s:
                del self._pending[key]
                self._release(p)
                total = key[1]
                missing = [i for i in range(1, total + 1) if i not in p.parts]
                out.append(Expired(p.header, key[2], missing))
        return out

    def clear(self) -> None:
        """Forget everything (the session ends)."""
        for p in self._pending.values():
            self._release(p)
        self._pending.clear()

    def _release(self, p: _Pending) -> None:
        self.held -= p.size
        self.budget.used -= p.size
