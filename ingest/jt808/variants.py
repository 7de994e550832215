"""Provincial variants of the active-safety extension: how long the terminal id and the alarm tag
(报警标识号) are in the 0x0200 alarm items, 0x9208 and 0x1210.

The layouts are go-jt808's (cuteLittleDevil/go-jt808 `protocol/model/p_0x9208.go`,
`protocol/model/t_0x1210.go` and `TestP9208AlarmSign` in `protocol/model/parse_test.go`): the
tag is terminal id + BCD time (6) + serial (1) + attachment count (1) + reserved bytes. The file
stream packet's name is 50 bytes, NUL-padded, except in 黑标, where a length byte precedes it
(go-jt808 `attachment/stream_data_handle.go`: `baseStreamDataHandle`, `heiBiaoStreamDataHandle`;
`attachment/jt808_data_handle.go` `CreateStreamDataHandler` picks the latter for 黑标 only).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActiveSafety(StrEnum):
    """Which standard a terminal's 主动安全 extension follows (a per-terminal catalog setting)."""

    JSATL = "jsatl"  # 苏标 T/JSATL 12-2017 (the default; most provinces follow it)
    HEILONGJIANG = "heilongjiang"  # 黑标
    GUANGDONG = "guangdong"  # 粤标 / 广东标
    HUNAN = "hunan"  # 湖南标
    SICHUAN = "sichuan"  # 四川标


@dataclass(frozen=True, slots=True)
class Layout:
    """Byte sizes of one variant."""

    terminal_id: int  # the terminal id inside the alarm tag (and in front of it in 0x1210)
    tag: int  # the whole alarm tag
    id_before_tag: bool  # 0x1210 starts with the terminal id (黑标: no, the tag holds it)
    stream_name_len_byte: bool = False  # "01cd" packet: name = BYTE n + n bytes (黑标), else 50

    @property
    def reserved(self) -> int:
        """Reserved bytes at the end of the tag."""
        return self.tag - self.terminal_id - 8


LAYOUTS: dict[ActiveSafety, Layout] = {
    ActiveSafety.JSATL: Layout(7, 16, True),
    ActiveSafety.HEILONGJIANG: Layout(30, 38, False, stream_name_len_byte=True),
    ActiveSafety.GUANGDONG: Layout(30, 40, True),
    ActiveSafety.HUNAN: Layout(7, 32, True),
    ActiveSafety.SICHUAN: Layout(30, 39, True),
}
