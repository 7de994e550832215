"""Types of the C module built from _fast.c."""

from collections.abc import Iterable

class Positions:
    """The 0x0200 fast path of one terminal's header (see fastpath.FastPositions)."""

    def __init__(self, hlen: int, flag: int, ident: bytes, offset_s: int,
                 alarm_items: Iterable[int], head: bytes, tail: bytes) -> None: ...
    def take(self, raw: bytes, now_ms: int, /) -> tuple[int, int, bytes, bytes] | None:
        """(serial, ts, body, record JSON) of a plain valid 0x0200 frame; None for the general
        path."""

def reply(head: bytes, head_xor: int, serial: int, their: int, msg_id: int, result: int,
          /) -> bytes:
    """The escaped 0x8001 frame."""
