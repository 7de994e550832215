"""Valid values of a site's points and devices in one hour, on Kafka `hw.seen-hourly`.

The worker tallies every valid value (a value that is not None) of a catalogued point, and of
its device, and sends one record per site and hour, so that 在线率, 接入率 and 数据合格率 are
read from InfluxDB as 24 rows per site and day instead of every value (docs/kpis.md, "Where
the inputs come from"). While its hour is open the record is rewritten with more values
(same time: InfluxDB keeps the last). In InfluxDB the entries are one text field (`text` /
`parse`): a site of 40 points is one row, not 44 series, which is what makes a day of 1,000
sites quick to read.
"""

from __future__ import annotations

import msgspec


class SeenEntry(msgspec.Struct, frozen=True, array_like=True):
    """Values of a point ("device/sensor") or a device ("device") from `first` to `last`
    (`n`: a point's values; a device's distinct value times).

    `prev` is the last value before `first` (0: none known); `off_ms` the offline time by the
    offline warning's rule of the silences that end in the entry: the one from `prev` to
    `first` and those between its values (each silence minus the device's offline timeout).
    """

    key: str
    first: int
    last: int
    n: int
    prev: int
    off_ms: int


class SeenRecord(msgspec.Struct, frozen=True):
    """The entries of one site and hour (`hour`: its start, UTC epoch ms)."""

    site_id: str
    hour: int
    entries: list[SeenEntry]
    drill: bool = False


_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(SeenRecord)


def encode_seen(rec: SeenRecord) -> bytes:
    """JSON bytes."""
    return _enc.encode(rec)


def decode_seen(data: bytes) -> SeenRecord:
    """The inverse of encode_seen."""
    rec: SeenRecord = _dec.decode(data)
    return rec


def text(rec: SeenRecord) -> str:
    """The entries as InfluxDB's text field: `key,first,last,n,prev,off;…`, times relative to
    the hour (prev empty when none is known); ids hold neither `,` nor `;`."""
    h = rec.hour
    return ";".join(f"{e.key},{e.first - h},{e.last - h},{e.n},{h - e.prev if e.prev else ''},"
                    f"{e.off_ms}" for e in rec.entries)


def parse(hour: int, field: str) -> list[SeenEntry]:
    """The inverse of text."""
    out = []
    for item in field.split(";") if field else []:
        key, first, last, n, prev, off = item.split(",")
        out.append(SeenEntry(key, hour + int(first), hour + int(last), int(n),
                             hour - int(prev) if prev else 0, int(off)))
    return out
