"""JT/T 808 framing: 0x7e delimiters, 0x7d escapes, XOR check code, splitting a TCP stream."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FLAG = 0x7E
ESC = 0x7D
MIN_FRAME = 12 + 1  # shortest header (2013) + check code
MAX_FRAME = 12 + 1 + 17 + 1023 + 8  # longest header + longest body + slack, unescaped


class FrameReason(StrEnum):
    """Why a frame was dropped; the value is the stable code counted and printed."""

    BAD_ESCAPE = "bad_escape"
    BAD_CHECK = "bad_check"
    BAD_LENGTH = "bad_length"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    GARBAGE = "garbage"
    NOT_HEX = "not_hex"
    BAD_BODY = "bad_body"
    ENCRYPTED = "encrypted"


class FrameError(ValueError):
    """A frame that cannot be used: the reason code and a precise detail."""

    def __init__(self, reason: FrameReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


_MASKS = [(1 << (8 * h)) - 1 for h in range(MAX_FRAME + 2)]  # the low h bytes


def xor(data: bytes | bytearray | memoryview) -> int:
    """The check code: XOR of every byte (header + body, before escaping). The bytes as one
    integer are folded (high half XOR low half) down to 64 bytes, then XORed with themselves
    shifted by 32, 16, … 1 bytes: the low byte is then the XOR of all of them. A few
    big-integer operations instead of a Python step per byte."""
    n = len(data)
    v = int.from_bytes(data, "little")
    while n > 64:
        h = (n + 1) >> 1
        v = (v ^ (v >> (h << 3))) & (_MASKS[h] if h < len(_MASKS) else (1 << (h << 3)) - 1)
        n = h
    v ^= v >> 256
    v ^= v >> 128
    v ^= v >> 64
    v ^= v >> 32
    v ^= v >> 16
    v ^= v >> 8
    return v & 0xFF


def escape(data: bytes) -> bytes:
    """Escape 0x7d → 7d 01 and 0x7e → 7d 02."""
    if FLAG not in data and ESC not in data:
        return data
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    """Undo the escapes; raise FrameError(BAD_ESCAPE) on 0x7d not followed by 01/02 or a 0x7e."""
    if FLAG in data:
        raise FrameError(FrameReason.BAD_ESCAPE, f"0x7e inside a frame at byte {data.index(FLAG)}")
    if ESC not in data:
        return data
    # every 0x7d must start a 7d 01 or 7d 02 pair (pairs cannot overlap: their second byte is
    # never 0x7d); then 7d 02 → 7e first, 7d 01 → 7d second (the other order would turn
    # 7d 01 02 into 7e)
    if data.count(b"\x7d") == data.count(b"\x7d\x01") + data.count(b"\x7d\x02"):
        return data.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    i = 0
    while True:  # find the first bad escape, for the reason
        i = data.index(ESC, i)
        nxt = data[i + 1] if i + 1 < len(data) else -1
        if nxt not in (0x01, 0x02):
            shown = "end of frame" if nxt < 0 else f"0x{nxt:02x}"
            raise FrameError(FrameReason.BAD_ESCAPE, f"0x7d followed by {shown} at byte {i}")
        i += 2


def verify(raw: bytes) -> bytes:
    """Unescape the bytes between two flags and check the code; return header + body."""
    if len(raw) > 2 * MAX_FRAME:
        raise FrameError(FrameReason.TOO_LONG, f"{len(raw)} bytes between flags")
    data = unescape(raw)
    if len(data) < MIN_FRAME:
        raise FrameError(FrameReason.TOO_SHORT, f"{len(data)} bytes, a frame has at least "
                                                f"{MIN_FRAME}")
    if len(data) > MAX_FRAME:
        raise FrameError(FrameReason.TOO_LONG, f"{len(data)} bytes, at most {MAX_FRAME}")
    body, check = data[:-1], data[-1]
    want = xor(body)
    if want != check:
        raise FrameError(FrameReason.BAD_CHECK,
                         f"check code 0x{check:02x}, computed 0x{want:02x}")
    return body


def frame(payload: bytes) -> bytes:
    """A wire frame for header + body: check code appended, escaped, flags around."""
    return b"\x7e" + escape(payload + bytes((xor(payload),))) + b"\x7e"


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes outside any frame, or a run too long to be a frame (counted, then dropped)."""

    size: int
    reason: FrameReason


class Splitter:
    """Splits a TCP byte stream into the raw bytes between 0x7e flags; never loses sync.

    Every flag delimits: `7e A 7e 7e B 7e` and `7e A 7e B 7e` both give A and B, and junk
    between two frames becomes one candidate that fails its check. Bytes before the first flag
    are garbage. A run longer than `max_run` without a flag is reported once and skipped up to
    the next flag, so memory stays bounded whatever a peer sends.
    """

    def __init__(self, max_run: int = 2 * MAX_FRAME + 2) -> None:
        self.max_run = max_run
        self._buf = bytearray()
        self._seen_flag = False
        self._skipping = False

    @property
    def buffered(self) -> int:
        """Bytes held waiting for a closing flag."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | Garbage]:
        """Raw frames (between flags, still escaped) and garbage notes, in stream order."""
        out: list[bytes | Garbage] = []
        parts = data.split(b"\x7e")
        self._extend(parts[0], out)
        if len(parts) == 1:  # no flag in this read: the run goes on
            return out
        self._close(out)
        max_run = self.max_run
        for p in parts[1:-1]:  # whole runs between two flags of this read
            if not p:
                continue
            if len(p) > max_run:
                out.append(Garbage(len(p), FrameReason.TOO_LONG))
            else:
                out.append(p)
        if len(parts) > 1:
            self._extend(parts[-1], out)
        return out

    def _extend(self, run: bytes, out: list[bytes | Garbage]) -> None:
        """Bytes with no flag in them: they continue the current run."""
        if self._skipping or not run:
            return
        buf = self._buf
        buf += run
        if len(buf) > self.max_run:
            out.append(Garbage(len(buf), FrameReason.TOO_LONG))
            buf.clear()
            self._skipping = True

    def _close(self, out: list[bytes | Garbage]) -> None:
        """A flag: the current run ends (a frame candidate, or garbage before the first flag)."""
        if self._skipping:
            self._skipping = False
        elif self._buf:
            if self._seen_flag:
                out.append(bytes(self._buf))
            else:
                out.append(Garbage(len(self._buf), FrameReason.GARBAGE))
            self._buf.clear()
        self._seen_flag = True
