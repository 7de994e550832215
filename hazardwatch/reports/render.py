"""The shift report as an HTML page (inline SVG plots) and a PDF (matplotlib pages)."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hazardwatch.kpis.figures import FIGURES
from hazardwatch.reports import plots
from hazardwatch.reports.shift import LEVEL_ZH, ShiftReport, WarningLine, local

_CSS = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;"
        "margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
        "td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px}th{background:#eee}"
        ".l1{color:#d62728}.l2{color:#ff7f0e}.l3{color:#b59b00}.l4{color:#1f77b4}")


def _value(figure: str, value: float) -> str:
    """A rate in %, a time in minutes (under a minute in seconds: a drill's are seconds)."""
    if not figure.endswith("_s"):
        return f"{value * 100:.2f}%"
    return _duration(value)


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} 秒" if seconds < 60 else f"{seconds / 60:.1f} 分钟"


def _step(w: WarningLine, t: int | None) -> str:
    """A step's time and how long after the push it came (one clock, also in a drill)."""
    return "" if t is None else f"{local(t)}(用时 {_duration(w.since_push_s(t))})"


def _rows(items: list[WarningLine]) -> list[list[str]]:
    return [[local(w.raised_at), LEVEL_ZH.get(w.level, str(w.level)), w.where, w.message,
             w.state, _step(w, w.acked_at), _step(w, w.handled_at)] for w in items]


_HEAD = ["发生时间", "级别", "场所/车辆", "预警内容", "状态", "签收时间", "处置时间"]


def title(r: ShiftReport) -> str:
    """交接班报告 heading with the shift's times and year."""
    drill = "(演练)" if r.drill else ""
    return f"交接班报告{drill}:{r.scope},{local(r.start)} 至 {local(r.end)}"


def to_html(r: ShiftReport) -> str:
    """A standalone page."""
    def table(head: list[str], rows: list[list[str]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in rows)
        return f"<table><tr>{th}</tr>{body}</table>" if rows else "<p>无</p>"
    figs = [[FIGURES[x.figure].zh + (f"({LEVEL_ZH.get(x.level, '')})" if x.level else ""),
             _value(x.figure, x.value), f"{x.num:g} / {x.den:g}" if x.den else "",
             FIGURES[x.figure].formula] for x in r.figures]
    parts = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title(r))}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title(r))}</h1>",
             f"<p>本班新发预警 {len(r.warnings)} 条,交班时仍未闭环 {len(r.still_open)} 条,"
             f"待办督办 {len(r.supervision)} 条。</p>",
             plots.svg(plots.hourly(r)), plots.svg(plots.rates(r)), plots.svg(plots.response(r)),
             "<h2>仍未闭环的预警</h2>", table(_HEAD, _rows(r.still_open)),
             "<h2>待办督办</h2>",
             table(["督办"], [[s] for s in r.supervision]) if r.supervision
             else "<p>无</p>",
             "<h2>本班考核指标</h2>", table(["指标", "数值", "分子 / 分母", "口径"], figs),
             "<h2>本班预警</h2>", table(_HEAD, _rows(r.warnings)), "</body></html>"]
    return "\n".join(parts)


def _table_page(pdf: PdfPages, heading: str, head: list[str], rows: list[list[str]]) -> None:
    for i in range(0, max(1, len(rows)), 28):
        fig = plt.figure(figsize=(11.69, 8.27))  # A4 landscape
        fig.text(0.04, 0.95, heading + (f"(续 {i // 28 + 1})" if i else ""), fontsize=14)
        chunk = [[c[:40] for c in row] for row in rows[i:i + 28]] or [["无"] + [""] *
                                                                       (len(head) - 1)]
        ax = fig.add_axes((0.03, 0.04, 0.94, 0.86))
        ax.axis("off")
        t = ax.table(cellText=chunk, colLabels=head, loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7)
        t.auto_set_column_width(list(range(len(head))))
        _save(pdf, fig)


def to_pdf(r: ShiftReport, path: Path) -> None:
    """A4 pages: summary, each plot as a vector page, then the tables; the CJK glyphs used
    are embedded (Type 3 subsets: Noto CJK is CFF in a collection, which Type 42 mislabels)."""
    with PdfPages(path, metadata={"Title": title(r), "Creator": "HazardWatch"}) as pdf:
        fig = plt.figure(figsize=(11.69, 8.27))
        fig.text(0.04, 0.93, title(r), fontsize=15)
        fig.text(0.04, 0.87, f"本班新发预警 {len(r.warnings)} 条,交班时仍未闭环 "
                 f"{len(r.still_open)} 条,待办督办 {len(r.supervision)} 条"
                 "。", fontsize=11)
        _save(pdf, fig)
        for make in (plots.hourly, plots.rates, plots.response):
            _save(pdf, make(r))
        _table_page(pdf, "仍未闭环的预警", _HEAD, _rows(r.still_open))
        _table_page(pdf, "待办督办", ["督办"], [[x] for x in r.supervision])
        _table_page(pdf, "本班考核指标", ["指标", "数值", "分子 / 分母"], [
            [FIGURES[x.figure].zh + (f"({LEVEL_ZH.get(x.level, '')})" if x.level else ""),
             _value(x.figure, x.value), f"{x.num:g} / {x.den:g}" if x.den else ""]
            for x in r.figures])
        _table_page(pdf, "本班预警", _HEAD, _rows(r.warnings))


def _save(pdf: PdfPages, fig: Figure) -> None:
    pdf.savefig(fig)  # type: ignore[no-untyped-call]
    plt.close(fig)
