"""Framing never loses sync: corrupted frames are rejected with their reason, the rest decodes."""

from __future__ import annotations

import os
import struct

import pytest

from hazardwatch.ingest.jt808 import header as hdr
from hazardwatch.ingest.jt808.describe import describe_line
from hazardwatch.ingest.jt808.encode import (
    RegisterResult,
    Result,
    general_reply,
    general_reply_head,
    register_reply,
)
from hazardwatch.ingest.jt808.framing import (
    FrameError,
    FrameReason,
    Garbage,
    Splitter,
    escape,
    frame,
    unescape,
    verify,
)
from tests.fixtures.jt808_frames import FRAMES

GOOD = [bytes.fromhex(f.hex.replace(" ", "")) for f in FRAMES if "rejected" not in f.expect]
HEARTBEAT = bytes.fromhex("7e000200001234567820130001387e")  # go-jt808 [0002]-JT2013
ESCAPED_CHECK = bytes.fromhex("7E00020000040021679287002B7D027E")  # SmallChi 0x0002 Test3


def frames_of(stream: bytes, chunk: int = 0) -> list[bytes | Garbage]:
    s = Splitter()
    if not chunk:
        return s.feed(stream)
    out: list[bytes | Garbage] = []
    for i in range(0, len(stream), chunk):
        out += s.feed(stream[i:i + chunk])
    return out


def outcome(part: bytes | Garbage) -> str:
    if isinstance(part, Garbage):
        return part.reason.value
    try:
        return f"{hdr.parse(verify(part)).header.msg_id:04x}"
    except FrameError as exc:
        return exc.reason.value


def corrupt(kind: str) -> bytes:
    raw = bytearray(HEARTBEAT)
    if kind == "check":
        raw[-2] ^= 0x01
    elif kind == "escape":
        raw[5:6] = b"\x7d\x05"
    elif kind == "length":  # says 3 body bytes, has none; the check code is right
        return frame(bytes(raw[1:4]) + b"\x03" + bytes(raw[5:-2]))
    return bytes(raw)


@pytest.mark.parametrize(("kind", "reason"), [("check", "bad_check"), ("escape", "bad_escape"),
                                              ("length", "bad_length")])
@pytest.mark.parametrize("chunk", [0, 1, 7])
def test_a_corrupted_frame_is_rejected_and_its_neighbours_decode(kind: str, reason: str,
                                                                 chunk: int) -> None:
    stream = GOOD[3] + corrupt(kind) + ESCAPED_CHECK + GOOD[20]
    got = [outcome(p) for p in frames_of(stream, chunk)]
    assert got == ["0100", reason, "0002", got[-1]]
    assert got[-1] not in {r.value for r in FrameReason}


def test_every_real_frame_survives_byte_by_byte_splitting() -> None:
    stream = b"".join(GOOD)
    parts = frames_of(stream, 1)
    assert [outcome(p) for p in parts] == [outcome(p) for p in frames_of(stream)]
    assert len(parts) == len(GOOD)
    assert all(isinstance(p, bytes) for p in parts)


def test_shared_flags_between_frames() -> None:
    a, b = HEARTBEAT, ESCAPED_CHECK
    assert [outcome(p) for p in frames_of(a[:-1] + b)] == ["0002", "0002"]


def test_garbage_before_and_between_frames_is_counted_not_fatal() -> None:
    junk = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    got = [outcome(p) for p in frames_of(junk + HEARTBEAT + junk + HEARTBEAT)]
    assert got == ["garbage", "0002", "bad_check", "0002"]


def test_a_megabyte_without_a_flag_is_dropped_once_and_memory_stays_bounded() -> None:
    s = Splitter()
    noise = bytes(b for b in os.urandom(1 << 20) if b != 0x7E)
    parts: list[bytes | Garbage] = s.feed(HEARTBEAT)
    for i in range(0, len(noise), 4096):
        parts += s.feed(noise[i:i + 4096])
        assert s.buffered <= s.max_run
    parts += s.feed(HEARTBEAT)
    kinds = [outcome(p) for p in parts]
    assert kinds[0] == "0002" and kinds[-1] == "0002"
    assert kinds.count("too_long") == 1


def test_random_bytes_never_raise() -> None:
    s = Splitter()
    for _ in range(50):
        for part in s.feed(os.urandom(997)):
            outcome(part)
            if isinstance(part, bytes):
                list(describe_line(part.hex()))


def test_escape_round_trip() -> None:
    data = bytes(range(256)) * 2
    assert unescape(escape(data)) == data
    assert 0x7E not in escape(data)
    with pytest.raises(FrameError) as err:
        unescape(b"\x01\x7d")
    assert err.value.reason is FrameReason.BAD_ESCAPE


def test_escape_in_the_length_byte_and_check_code() -> None:
    out = list(describe_line(FRAMES[16].hex))  # go 0x64: 7d 02 in the body-length byte
    assert out[0]["body_len"] == 126
    assert next(iter(describe_line(ESCAPED_CHECK.hex())))["serial"] == 43


@pytest.mark.parametrize(("request_hex", "reply_hex"), [
    # go-jt808 terminal/testdata [0002]-JT2013 and [0002]-JT2019: 0x0002 → 0x8001
    ("7e000200001234567820130001387e", "7e8001000512345678201300010001000200bd7e"),
    ("7e0002400001123456789012345620190001937e",
     "7e80014005011234567890123456201900010001000200167e"),
    # [0200]-JT2011 → 0x8001
    ("7e0200001c1234567820110001000004000000080006eeb6ad02633df70138000300632410012359593d7e",
     "7e8001000512345678201100010001020000bf7e"),
])
def test_general_reply_matches_the_peers_bytes(request_hex: str, reply_hex: str) -> None:
    h = hdr.parse(verify(bytes.fromhex(request_hex)[1:-1])).header
    assert general_reply(h, 1, Result.OK).hex() == reply_hex
    # the gateway's fast path: the header made once per terminal, serial and body appended
    tail = struct.pack(">HHHB", 1, h.serial, h.msg_id, Result.OK)
    assert frame(general_reply_head(h) + tail).hex() == reply_hex


@pytest.mark.parametrize(("request_hex", "reply_hex", "auth"), [
    # go-jt808 [0100]-JT2013 and [0100]-JT2019 → 0x8100 with the auth code
    ("7e010000301234567820130001001f006e63643132337777772e3830382e636f6d00000000000000000037"
     "36353433323101b2e2413132333435363738437e",
     "7e8100000f1234567820130001000100313233343536373832303133bd7e", "123456782013"),
    ("7e0100405701123456789012345620190001001f006e63643132333435363738397777772e3830382e636f"
     "6d0000000000000000000000000000000000000037363534333231000000000000000000000000000000000"
     "000000000000001b2e24131323334353637388e7e",
     "7e810040170112345678901234562019000100010031323334353637383930313233343536323031390a7e",
     "12345678901234562019"),
])
def test_register_reply_matches_the_peers_bytes(request_hex: str, reply_hex: str,
                                                auth: str) -> None:
    h = hdr.parse(verify(bytes.fromhex(request_hex)[1:-1])).header
    assert register_reply(h, 1, RegisterResult.OK, auth).hex() == reply_hex


def test_refused_registration_has_no_auth_code() -> None:
    h = hdr.parse(verify(HEARTBEAT[1:-1])).header
    reply = register_reply(h, 7, RegisterResult.NO_TERMINAL, "x")
    out = next(iter(describe_line(reply.hex())))
    assert out["register_reply"] == {"reply_serial": 1, "result": 4, "auth_code": ""}
    assert out["serial"] == 7


def test_frame_is_the_inverse_of_verify() -> None:
    payload = bytes.fromhex("00020000123456782013007e")
    assert verify(frame(payload)[1:-1]) == payload
