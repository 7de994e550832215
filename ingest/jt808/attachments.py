"""苏标 alarm attachments: the terminal's upload session (0x1210, 0x1211, the "01cd" stream,
0x1212 → 0x9212; provincial layouts in variants.py) and the file store (content hash, size
limit, an index per alarm)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from hazardwatch.ingest.jt808.variants import LAYOUTS, ActiveSafety

STREAM_MAGIC = b"01cd"  # 0x30316364
STREAM_HEAD = 4 + 50 + 4 + 4  # 苏标 and most provinces: a 50-byte name; 黑标: stream_head_len
FILE_TYPES = {0: "image", 1: "audio", 2: "video", 3: "text", 4: "other"}
_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder."""
    cleaned = _SAFE.sub("_", name).lstrip(".")[:120]
    return cleaned or "file"


@dataclass(frozen=True, slots=True)
class AlarmFiles:
    """0x1210 报警附件信息消息: which alarm, and the files the terminal will send."""

    terminal_id: str
    tag: bytes
    alarm_no: str
    info_type: int
    files: dict[str, int]


def decode_1210(body: bytes, variant: ActiveSafety = ActiveSafety.JSATL) -> AlarmFiles:
    """Decode 0x1210 (苏标: terminal id BYTE[7], tag BYTE[16]; other provinces: variants.py)."""
    lay = LAYOUTS[variant]
    p = lay.terminal_id if lay.id_before_tag else 0
    tag = body[p:p + lay.tag]
    tid = tag[:lay.terminal_id].rstrip(b"\0").decode("ascii", "replace")
    p += lay.tag
    if len(body) < p + 34:
        raise ValueError(f"0x1210 ({variant.value}) needs at least {p + 34} bytes, "
                         f"has {len(body)}")
    alarm_no = body[p:p + 32].rstrip(b"\0").decode("ascii", "replace").lstrip("\0")
    info_type, count = body[p + 32], body[p + 33]
    files: dict[str, int] = {}
    p += 34
    for i in range(count):
        n = body[p] if p < len(body) else 0
        if p + 5 + n > len(body):
            raise ValueError(f"0x1210 ({variant.value}) announces {count} files, file {i} is cut")
        name = body[p + 1:p + 1 + n].decode("gbk", "replace")
        (size,) = struct.unpack_from(">I", body, p + 1 + n)
        files[name] = size
        p += 5 + n
    return AlarmFiles(tid, bytes(tag), alarm_no, info_type, files)


def decode_file_info(body: bytes) -> tuple[str, int, int]:
    """0x1211 / 0x1212: (name, file type, size)."""
    n = body[0]
    name = body[1:1 + n].decode("gbk", "replace")
    ftype = body[1 + n]
    (size,) = struct.unpack_from(">I", body, 2 + n)
    return name, ftype, size


def stream_head_len(buf: bytes | bytearray,
                    variant: ActiveSafety = ActiveSafety.JSATL) -> int | None:
    """How long the head of the stream packet at the start of `buf` is (magic, name, offset,
    length): 62 bytes, or 4 + 1 + n + 8 in 黑标 (name length byte n); None until enough bytes
    are in to tell."""
    if not LAYOUTS[variant].stream_name_len_byte:
        return STREAM_HEAD if len(buf) >= STREAM_HEAD else None
    if len(buf) < 5:
        return None
    head = 4 + 1 + buf[4] + 8
    return head if len(buf) >= head else None


def decode_stream_head(head: bytes,
                       variant: ActiveSafety = ActiveSafety.JSATL) -> tuple[str, int, int]:
    """The head of a stream packet: (name, offset, length); 苏标 a 50-byte NUL-padded name,
    黑标 a length-prefixed one (go-jt808 `attachment/stream_data_handle.go`)."""
    if LAYOUTS[variant].stream_name_len_byte:
        n = head[4]
        raw, at = head[5:5 + n], 5 + n
    else:
        raw, at = head[4:54], 54
    name = raw.strip(b"\0").decode("gbk", "replace")
    offset, length = struct.unpack_from(">II", head, at)
    return name, offset, length


@dataclass
class Upload:
    """One file being received: its ranges so far, written into a part file."""

    name: str
    ftype: int
    size: int
    part: Path
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def write(self, offset: int, data: bytes) -> None:
        """Store bytes at an offset (the caller checked the bounds)."""
        with open(self.part, "r+b" if self.part.exists() else "w+b") as fh:
            fh.seek(offset)
            fh.write(data)
        self.ranges.append((offset, offset + len(data)))

    def missing(self) -> list[tuple[int, int]]:
        """(offset, length) ranges not received yet."""
        out, pos = [], 0
        for a, b in sorted(self.ranges):
            if a > pos:
                out.append((pos, a - pos))
            pos = max(pos, b)
        if pos < self.size:
            out.append((pos, self.size - pos))
        return out


class FileStore:
    """Files under `root/<alarm number>/`, named by content hash, with an `index.json`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def begin(self, alarm_no: str, name: str, ftype: int, size: int) -> Upload:
        """Start (or restart) receiving a file; ValueError if over the size limit."""
        if size > self.max_bytes:
            raise ValueError(f"{name}: {size} bytes, the limit is {self.max_bytes}")
        folder = self.root / safe_name(alarm_no)
        folder.mkdir(exist_ok=True)
        return Upload(name, ftype, size, folder / f".{safe_name(name)}.part")

    def finish(self, alarm_no: str, up: Upload) -> dict[str, object]:
        """Move a complete file to its content-hash name and add it to the alarm's index."""
        folder = self.root / safe_name(alarm_no)
        data = up.part.read_bytes()[:up.size] if up.part.exists() else b""
        digest = hashlib.sha256(data).hexdigest()
        final = folder / f"{digest[:16]}-{safe_name(up.name)}"
        final.write_bytes(data)
        up.part.unlink(missing_ok=True)
        entry: dict[str, object] = {"name": up.name, "file": final.name, "size": len(data),
                                    "sha256": digest, "type": FILE_TYPES.get(up.ftype, "other")}
        index = folder / "index.json"
        items = json.loads(index.read_text()) if index.exists() else []
        items = [i for i in items if i.get("sha256") != digest] + [entry]
        tmp = folder / ".index.json.tmp"
        tmp.write_text(json.dumps(items, ensure_ascii=False, indent=1))
        os.replace(tmp, index)
        return entry
