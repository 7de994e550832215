"""The 0x0200 fast path gives byte for byte the records of the general path, and declines
(None) every frame the general path treats otherwise; the 0x8001 built from fields is the
encoder's frame."""

from __future__ import annotations

import struct
import time

import pytest

from hazardwatch.contracts.records import encode
from hazardwatch.ingest.jt808 import encode as enc
from hazardwatch.ingest.jt808 import records as rec
from hazardwatch.ingest.jt808.fastpath import CLEAR_ON_ACK, FastPositions
from hazardwatch.ingest.jt808.framing import Splitter, escape, frame, unescape, verify, xor
from hazardwatch.ingest.jt808.header import Header, Version, encode_header, parse
from hazardwatch.ingest.jt808.location import decode_fix
from hazardwatch.simulators.jt808.messages import SimFix, dsm_item, location_body
from tests.fixtures.jt808_frames import FRAMES

NOW = int(time.time()) * 1000
PHONE = "013912345678"
VID = "hz-0001"
OFFSET = 8 * 3600


def general(data: bytes, now: int, offset: int = OFFSET, drill: bool = False
            ) -> bytes | None:
    """The record bytes the general path produces for a frame it would take as one plain
    valid position (Session._locations), or None."""
    msg = parse(data)
    h = msg.header
    if h.msg_id != 0x0200 or h.is_subpackage or h.encryption:
        return None
    fix = decode_fix(msg.body, offset, now)
    if (fix.invalid is not None or fix.ts is None or fix.clock_fast_ms is not None
            or fix.items.alarms or fix.alarm_flags & CLEAR_ON_ACK
            or any(k in fix.items.raw for k in (0x64, 0x65, 0x66, 0x67))):
        return None
    origin = rec.Origin(VID, h.phone, now, "hw-jt808-1", drill)
    return encode(rec.position(fix, origin))


def fast(data: bytes, session: Header, now: int, offset: int = OFFSET,
         drill: bool = False) -> bytes | None:
    """The fast path's record bytes for a session authenticated with header `session`."""
    fp = FastPositions.of(session, VID, offset, drill)
    got = None if fp is None else fp.decode(data, len(data), now)
    if fp is not None:  # the same from the wire frame (escaped, check code appended)
        assert fp.take(frame(data)[1:-1], now) == got
        bad_check = escape(data + bytes((xor(data) ^ 0x55,)))
        assert fp.take(bad_check, now) is None
    if got is None:
        return None
    serial, ts, body, record = got
    msg = parse(data)
    assert (serial, body) == (msg.header.serial, msg.body)
    assert ts == decode_fix(msg.body, offset, now).ts
    return record


def wire(body: bytes, phone: str = PHONE, version: Version = Version.V2013,
         serial: int = 7, attrs_or: int = 0, proto: int = 1) -> bytes:
    """Header + body (verified form) of a 0x0200."""
    head = bytearray(encode_header(0x0200, len(body), phone, serial, version, proto))
    head[2] |= attrs_or >> 8
    return bytes(head) + body


def fix(**kw: object) -> SimFix:
    base: dict[str, object] = {"ts": NOW - 60_000, "lat": 40.81, "lon": 111.65,
                               "speed_kmh": 62.5, "heading": 90, "alt_m": 1050}
    return SimFix(**{**base, **kw})  # type: ignore[arg-type]


def session(version: Version = Version.V2013, phone: str = PHONE) -> Header:
    return parse(wire(location_body(fix()), phone, version)).header


# (name, verified frame, whether the general path takes it as a plain position)
PLAIN = [
    ("simulator fix", location_body(fix())),
    ("with mileage", location_body(fix(mileage_km=1234.5))),
    ("south and west", location_body(fix(lat=-33.9, lon=-70.6))),
    ("speed 0, heading 359", location_body(fix(speed_kmh=0.0, heading=359))),
    ("negative altitude", location_body(fix(alt_m=-12))),
    ("alarm bits that do not clear on ack", location_body(fix(alarm=0b1011))),
    ("two mileages: the last wins", location_body(fix(mileage_km=1.0))
     + b"\x01\x04" + struct.pack(">I", 99)),
    ("a bad-sized mileage after a good one", location_body(fix(mileage_km=7.5))
     + b"\x01\x02\x00\x01"),
    ("only a bad-sized mileage", location_body(fix()) + b"\x01\x03\x00\x00\x01"),
    ("unknown and malformed items", location_body(fix()) + b"\xe1\x02ab\x11\x00\x12\x01\x00"),
    ("a short last item", location_body(fix()) + b"\x25\x04\x00"),
    ("one trailing byte", location_body(fix()) + b"\x25"),
    ("a 0x7e and 0x7d in the data", location_body(fix(lat=0x7E7D7E / 1e6))),
    ("27 days old", location_body(fix(ts=NOW - 27 * 86_400_000))),
    ("4 minutes ahead", location_body(fix(ts=NOW + 240_000))),
]
DECLINED = [
    ("not located", location_body(fix(status=0x1))),
    ("heading 360", location_body(fix(heading=360))),
    ("clear-on-ack alarm bit 20", location_body(fix(alarm=1 << 20))),
    ("clear-on-ack alarm bit 31", location_body(fix(alarm=1 << 31))),
    ("fast clock", location_body(fix(ts=NOW + 3_600_000))),
    ("far future", location_body(fix(ts=NOW + 3 * 86_400_000))),
    ("too old", location_body(fix(ts=NOW - 31 * 86_400_000))),
    ("latitude out of range", location_body(fix(lat=91.0))),
    ("longitude out of range", location_body(fix(lon=181.5))),
    ("DSM alarm item", location_body(fix(items=[dsm_item(1, 1, 1, fix(), "T0001")]))),
    ("TPMS item", location_body(fix()) + b"\x66\x01\x00"),
    ("not a BCD time", location_body(fix())[:22] + bytes.fromhex("2413010000ff")),
    ("February 30", location_body(fix())[:22] + bytes.fromhex("240230101010")),
    ("short body", location_body(fix())[:27]),
]


@pytest.mark.parametrize(("name", "body"), PLAIN, ids=[n for n, _ in PLAIN])
def test_plain_positions_take_the_fast_path_with_the_same_record_bytes(
        name: str, body: bytes) -> None:
    for version in (Version.V2013, Version.V2019):
        data = wire(body, version=version)
        want = general(data, NOW)
        assert want is not None, name
        assert fast(data, session(version), NOW) == want
        assert fast(data, session(version), NOW, drill=True) == general(data, NOW, drill=True)
        assert fast(data, session(version), NOW, offset=0) == general(data, NOW, offset=0)


@pytest.mark.parametrize(("name", "body"), DECLINED, ids=[n for n, _ in DECLINED])
def test_other_fixes_are_left_to_the_general_path(name: str, body: bytes) -> None:
    for version in (Version.V2013, Version.V2019):
        data = wire(body, version=version)
        assert fast(data, session(version), NOW) is None, name


def test_other_headers_are_left_to_the_general_path() -> None:
    body = location_body(fix())
    plain = wire(body)
    assert fast(plain, session(), NOW) is not None
    cases = {
        "another phone": wire(body, phone="013912345679"),
        "2019 frame on a 2013 session": wire(body, version=Version.V2019),
        "another protocol version": wire(body, version=Version.V2019, proto=2),
        "2019 flag on a 2013 header": wire(body, attrs_or=0x4000),
        "encrypted": wire(body, attrs_or=0x0400),
        "reserved bit 15": wire(body, attrs_or=0x8000),
        "another message": b"\x07\x04" + plain[2:],
        "body longer than announced": plain + b"\x00",
    }
    for name, data in cases.items():
        sess = session(Version.V2019, "0" * 8 + PHONE) if "protocol" in name else session()
        assert fast(data, sess, NOW) is None, name
    sub = bytearray(wire(body))
    sub[2] |= 0x20
    sub[12:12] = b"\x00\x02\x00\x01"
    assert fast(bytes(sub), session(), NOW) is None
    flagged = parse(wire(body, attrs_or=0x4000)).header  # a session that sets bit 14 wrongly
    assert flagged.version is Version.V2013 and flagged.flag_2019
    assert FastPositions.of(flagged, VID, OFFSET, False) is None


def test_real_peer_frames_give_the_general_path_records() -> None:
    taken = 0
    for f in FRAMES:
        raw = bytes.fromhex(f.hex.replace(" ", ""))
        parts = Splitter().feed(raw)
        if len(parts) != 1 or not isinstance(parts[0], bytes):
            continue
        try:
            data = verify(parts[0])
            msg = parse(data)
        except ValueError:
            continue
        if msg.header.msg_id != 0x0200:
            continue
        ts = decode_fix(msg.body).ts
        now = (ts or NOW) + 1000
        want = general(data, now)
        got = fast(data, msg.header, now)
        if FastPositions.of(msg.header, VID, OFFSET, False) is None:
            assert got is None, f.name  # e.g. SmallChi's 2019 flag on a 2013 header
        else:
            assert got == want, f.name
        taken += got is not None
    assert taken >= 2  # SmallChi Test5_2 and traccar's frames at least


@pytest.mark.parametrize("version", [Version.V2013, Version.V2019])
def test_fields_built_0x8001_is_the_encoders_frame(version: Version) -> None:
    from hazardwatch.ingest.jt808.session import Session

    class W:
        def __init__(self) -> None:
            self.out: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.out.append(data)

        def is_closing(self) -> bool:
            return False

    class G:
        class counters:
            acked = 0

        def flush_soon(self, s: Session) -> None:
            pass

    s = Session.__new__(Session)
    s.gw, s.writer, s.serial, s._out = G(), W(), 0, []  # type: ignore[assignment]
    s._reply_for = None
    h = session(version)
    s._fast_header, s._fast_for = h, (h.phone, h.version, h.protocol_version)
    for own in (0x7D, 0x7E, 0x7E7D, 0x0102, 0xFFFF):
        for their in (0, 0x7E, 0x7D02, 0x027E):
            s.serial = own - 1
            s.reply_position(their)
            s.serial = own - 1
            s.reply(parse(wire(b"", version=version, serial=their)).header, enc.Result.FAILED)
            got, failed = s._out[-2:]
            ok_header = parse(wire(b"", version=version, serial=their)).header
            assert got == enc.general_reply(ok_header, own)
            assert failed == enc.general_reply(ok_header, own, enc.Result.FAILED)
            assert xor(unescape(got[1:-1])[:-1]) == unescape(got[1:-1])[-1]
    assert frame(b"\x01") == b"\x7e\x01\x01\x7e"


def test_retransmission_memory_keeps_the_last_64_new_keys_like_an_ordered_dict() -> None:
    import random
    from collections import OrderedDict

    from hazardwatch.ingest.jt808.session import RECENT, Pending, Session

    s = Session.__new__(Session)
    s._recent, s._ring, s._ring_at = {}, [], 0
    ref: OrderedDict[tuple[int, int], int] = OrderedDict()
    rnd = random.Random(7)
    for k in range(5000):
        ident = (rnd.choice((0x0200, 0x0704)), rnd.randrange(150))
        ref[ident] = k  # the former bookkeeping: a known key keeps its place
        if len(ref) > RECENT:
            ref.popitem(last=False)
        s._remember(ident, k, Pending(s, 1, []))
        assert {i: p.digest for i, p in s._recent.items()} == dict(ref)
    assert len(s._recent) == RECENT
