"""The C fast path (ingest/jt808/_fast.c) decides as its Python reference, frame for frame:
generated 0x0200 frames of both versions, valid and at every limit, then corrupted (a byte
changed, dropped or added, a stray escape); and builds the same 0x8001 frames."""

from __future__ import annotations

import calendar
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazardwatch.ingest.jt808 import fastpath
from hazardwatch.ingest.jt808.fastpath import FastPositions
from hazardwatch.ingest.jt808.framing import escape, frame, xor
from hazardwatch.ingest.jt808.header import Version, encode_header, parse

pytestmark = pytest.mark.unit
NOW = int(time.time()) * 1000
PHONE = "013912345678"
PHONE_2019 = "00000000013912345678"
# beyond the poles, and the millionths written with an exponent (left to the general path)
EDGES_LAT = [0, 1, 99, 100, 90_000_000, 90_000_001]
EDGES_LON = [0, 1, 99, 100, 180_000_000, 180_000_001]


def test_the_c_module_is_built_and_used() -> None:
    # the package builds it wherever a compiler is (pyproject.toml `ext-modules`)
    assert fastpath.USE_C and fastpath.c_reply is not None
    fp = FastPositions.of(parse(encode_header(0x0102, 0, PHONE, 1, Version.V2013)).header,
                          "v", 28_800, False)
    assert fp is not None and fp._c is not None and fp.take == fp._c.take


def bcd(n: int) -> int:
    return (n // 10) << 4 | n % 10


@st.composite
def times(draw: st.DrawFn) -> tuple[bytes, int]:
    """A BCD time and a clock near it: any year of 2000–2099, every month, the days around a
    month's end (29 February of leap and other years), hours 23/24, minutes and seconds
    59/5A/60, one nibble that is not a digit; the clock mostly minutes to days after it."""
    def pick(plain: st.SearchStrategy[int], edge: st.SearchStrategy[int]) -> int:
        return draw(edge if draw(st.integers(0, 4)) == 0 else plain)

    year = draw(st.integers(0, 99))
    month = pick(st.integers(1, 12), st.sampled_from([0, 13]))
    day = pick(st.integers(1, 28), st.sampled_from([0, 29, 30, 31, 32]))
    hour = pick(st.integers(0, 23), st.sampled_from([23, 24]))
    minute, second = (pick(st.integers(0, 59).map(bcd), st.sampled_from([0x59, 0x5A, 0x60, 0x0A]))
                      for _ in range(2))
    raw = bytearray((bcd(year), bcd(month), bcd(day), bcd(hour), minute, second))
    if draw(st.integers(0, 9)) == 0:  # a nibble that is not a digit
        at, high = draw(st.integers(0, 5)), draw(st.booleans())
        nib = draw(st.integers(0xA, 0xF))
        raw[at] = (raw[at] & 0x0F | nib << 4) if high else (raw[at] & 0xF0 | nib)
    try:  # near the time as read leniently (31 April as 1 May, hour 24 as the next day):
        # a decoder that took such a time would find it within the clock limits
        t = calendar.timegm((2000 + year, month, day, hour, int(f"{minute:x}"),
                             int(f"{second:x}"))) - 8 * 3600
    except ValueError:
        t = draw(st.integers(946_684_800, 4_102_444_800))  # 2000–2099
    edges = st.sampled_from([-300, -301, 30 * 86_400, 30 * 86_400 + 1])  # the clock limits
    return bytes(raw), t * 1000 + 1000 * pick(st.integers(-300, 30 * 86_400), edges)


@st.composite
def items(draw: st.DrawFn) -> bytes:
    """Additional items: mileage (well-formed or not), 苏标 alarms, others, a cut-off tail."""
    out = b""
    for _ in range(draw(st.integers(0, 3))):
        item = draw(st.sampled_from([0x01] * 4 + [0x02, 0x30, 0xE1] * 4 + [0x64, 0x65, 0x66, 0x67]))
        size = 4 if item == 0x01 and draw(st.booleans()) else draw(st.integers(0, 12))
        out += bytes((item, size)) + draw(st.binary(min_size=size, max_size=size))
    if draw(st.integers(0, 4)) == 0:
        out += draw(st.binary(max_size=3))
    return out


@st.composite
def positions(draw: st.DrawFn) -> tuple[bytes, Version, int]:
    """A 0x0200 frame's header + body, of the session's phone or another."""
    version = draw(st.sampled_from([Version.V2013, Version.V2019]))
    phone = PHONE if version is Version.V2013 else PHONE_2019
    if draw(st.integers(0, 9)) == 0:
        phone = phone[:-1] + "9"
    def field(plain: st.SearchStrategy[int], wild: st.SearchStrategy[int]) -> int:
        """Mostly a value the fast path takes; one in five anything."""
        return draw(wild if draw(st.integers(0, 4)) == 0 else plain)

    u32 = st.integers(0, 0xFFFFFFFF)
    status = field(st.integers(0, 0x3F).map(lambda v: v | 1 << 1), u32)
    body = struct.pack(">IIIIhHH", field(st.just(0), u32), status,
                       field(st.integers(0, 90_000_000), st.sampled_from(EDGES_LAT) | u32),
                       field(st.integers(0, 180_000_000), st.sampled_from(EDGES_LON) | u32),
                       draw(st.integers(-32768, 32767)), draw(st.integers(0, 0xFFFF)),
                       field(st.integers(0, 360), st.integers(0, 0xFFFF)))
    when, now = draw(times())
    body += when + draw(items())
    msg_id = 0x0200 if draw(st.integers(0, 9)) else 0x0201
    head = encode_header(msg_id, len(body), phone, draw(st.integers(0, 0xFFFF)), version)
    if draw(st.integers(0, 9)) == 0:  # attributes: another length, sub-package, encryption…
        bit = draw(st.sampled_from([0x0001, 0x0200, 0x0400, 0x0800, 0x1000, 0x2000, 0x4000,
                                    0x8000]))
        head = head[:2] + struct.pack(">H", struct.unpack(">H", head[2:4])[0] ^ bit) + head[4:]
    return head + body, version, now


@st.composite
def corruptions(draw: st.DrawFn, raw: bytes) -> bytes:
    """The escaped frame (between flags) as sent, or damaged on the way."""
    how = draw(st.sampled_from(["none"] * 6 + ["flip", "drop", "add", "stray_escape"]))
    if how == "none" or not raw:
        return raw
    at = draw(st.integers(0, len(raw) - 1))
    if how == "flip":
        return raw[:at] + bytes((raw[at] ^ draw(st.integers(1, 255)),)) + raw[at + 1:]
    if how == "drop":
        return raw[:at] + raw[at + 1:]
    if how == "add":
        return raw[:at] + bytes((draw(st.integers(0, 255)),)) + raw[at:]
    return raw[:at] + b"\x7d" + bytes((draw(st.sampled_from([0x00, 0x03, 0x7d])),)) + raw[at:]


def session(version: Version) -> FastPositions:
    phone = PHONE if version is Version.V2013 else PHONE_2019
    fp = FastPositions.of(parse(encode_header(0x0102, 0, phone, 1, version)).header,
                          "hz-0001", 8 * 3600, False)
    assert fp is not None
    return fp


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_c_and_python_take_the_same_frames_the_same_way(data: st.DataObject) -> None:
    payload, version, now = data.draw(positions())
    raw = frame(payload)[1:-1]
    raw = data.draw(corruptions(raw))
    if b"\x7e" in raw:
        return  # the splitter never hands over a flag
    fp = session(version)
    assert fp.take(raw, now) == fp.take_py(raw, now)


@settings(max_examples=3000, deadline=None)
@given(times())
def test_c_and_python_read_the_bcd_time_the_same_way(when_now: tuple[bytes, int]) -> None:
    """A plain valid frame but for its time: the date, hour, minute and second checks and the
    clock limits decide."""
    when, now = when_now
    body = struct.pack(">IIIIhHH", 0, 2, 40_000_000, 111_000_000, 5, 600, 90) + when
    raw = frame(encode_header(0x0200, len(body), PHONE, 7, Version.V2013) + body)[1:-1]
    fp = session(Version.V2013)
    assert fp.take(raw, now) == fp.take_py(raw, now)


def test_generated_frames_reach_both_outcomes() -> None:
    """The generator is not all rejects: plain valid frames are taken by both."""
    taken = 0
    fp = session(Version.V2013)
    for k in range(200):
        t = time.gmtime(NOW / 1000 + 8 * 3600 - k)
        body = struct.pack(">IIIIhHH", 0, 2, 40_000_000 + k, 111_000_000, 5, 600, 90)
        body += bytes(bcd(v) for v in (t.tm_year % 100, t.tm_mon, t.tm_mday, t.tm_hour,
                                       t.tm_min, t.tm_sec)) + b"\x01\x04" + struct.pack(">I", k)
        raw = frame(encode_header(0x0200, len(body), PHONE, 0x7e7d + k, Version.V2013)
                    + body)[1:-1]
        got = fp.take(raw, NOW)
        assert got == fp.take_py(raw, NOW)
        taken += got is not None
    assert taken == 200


@given(st.binary(min_size=12, max_size=17), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
       st.integers(0, 0xFFFF), st.integers(0, 4))
def test_c_builds_the_0x8001_frame_as_python(head: bytes, serial: int, their: int,
                                             msg_id: int, result: int) -> None:
    assert fastpath.c_reply is not None
    tail = struct.pack(">HHHB", serial, their, msg_id, result)
    want = b"\x7e" + escape(head + tail + bytes((xor(head + tail),))) + b"\x7e"
    assert fastpath.c_reply(head, xor(head), serial, their, msg_id, result) == want


def test_a_vehicle_id_beyond_the_c_encoder_goes_to_the_general_path() -> None:
    header = parse(encode_header(0x0102, 0, PHONE, 1, Version.V2013)).header
    assert FastPositions.of(header, "v" * 600, 28_800, False) is None
    assert FastPositions.of(header, "v" * 60, 28_800, False) is not None
