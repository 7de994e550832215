"""Chinese notification texts: level colour, what happened, evidence and the ack link."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hazardwatch.alerting.plan import Kind
from hazardwatch.alerting.state import Alert
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH

COLOUR_HEX = {1: "#FF0000", 2: "#FF8C00", 3: "#E6B800", 4: "#1E90FF"}
HEAD = {"alert": "预警通知", "upgrade": "预警升级", "repeat": "未确认·再次通知",
        "reminder": "已确认未处置·提醒", "resolved": "预警解除", "level_change": "级别变更"}


def title(kind: Kind, alerts: list[Alert]) -> str:
    """One line: drill mark, kind, level, how many."""
    a = alerts[0]
    drill = "【演练】" if a.warning.drill else ""
    more = f" 等{len(alerts)}条" if len(alerts) > 1 else ""
    return f"{drill}【{HEAD[kind]}】{LEVEL_NAMES_ZH[a.level]}{more}"


def body(kind: Kind, alerts: list[Alert], links: list[str], tz: str, markdown: bool,
         max_bytes: int | None = None, full_list: str = "") -> str:
    """The message: each warning with its time, evidence and acknowledgement link; with
    max_bytes a digest: the warnings that fit (most urgent first), then how many more and the
    link to the full list."""
    if max_bytes is not None:
        return _digest(kind, alerts, links, tz, markdown, max_bytes, full_list)
    lines = [("### " if markdown else "") + title(kind, alerts)]
    for a, link in zip(alerts, links, strict=True):
        w = a.warning
        at = datetime.fromtimestamp(w.ts / 1000, ZoneInfo(tz)).strftime("%m-%d %H:%M:%S")
        msg = (f'<font color="{COLOUR_HEX[a.level]}">{w.message}</font>' if markdown
               else w.message)
        lines.append(f"- {msg}（{at}）")
        if w.evidence:
            lines.append("  证据：" + " ".join(e.uri for e in w.evidence))
        if kind == "reminder":
            lines.append(f"  已由{a.acked_by}确认，尚未反馈处置结果")
        if kind == "level_change":
            lines.append(f"  级别已变更为{LEVEL_NAMES_ZH[a.level]}，预警尚未解除，仍需处置")
        if kind != "resolved":
            lines.append(f"  确认：{link}")
    return "\n".join(lines)


def _digest(kind: Kind, alerts: list[Alert], links: list[str], tz: str, markdown: bool,
            max_bytes: int, full_list: str) -> str:
    whole = body(kind, alerts, links, tz, markdown)
    if len(whole.encode()) <= max_bytes:
        return whole
    order = sorted(range(len(alerts)), key=lambda i: (alerts[i].level, -alerts[i].warning.ts))
    head = ("### " if markdown else "") + title(kind, alerts)
    budget = max_bytes - 400  # room for the footer and the request's JSON around the text
    out, size = [head], len(head.encode())
    shown = 0
    for i in order:
        part = body(kind, [alerts[i]], [links[i]], tz, markdown).split("\n", 1)[1]
        if size + len(part.encode()) + 1 > budget:
            break
        out.append(part)
        size += len(part.encode()) + 1
        shown += 1
    out.append(f"……另有{len(alerts) - shown}条未列出，完整列表：{full_list}")
    return "\n".join(out)
