"""The shift report's plots (matplotlib, Agg): warnings per hour, figures, response times."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hazardwatch.kpis.figures import FIGURES
from hazardwatch.reports.shift import LEVEL_COLOUR, LEVEL_ZH, ShiftReport, local

#: fonts that carry Chinese, in order (fonts-noto-cjk on Debian; others for other systems)
CJK_FONTS = ["Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
             "PingFang SC", "SimHei", "DejaVu Sans"]
plt.rcParams.update({"font.family": "sans-serif", "font.sans-serif": CJK_FONTS,
                     "axes.unicode_minus": False, "pdf.fonttype": 3,
                     "svg.fonttype": "none"})  # SVG text stays text: the browser's CJK font


def hourly(report: ShiftReport) -> Figure:
    """Stacked bars: warnings raised per hour, by level, with a legend."""
    hours, counts = report.hourly_by_level()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    bottom = [0] * len(hours)
    x = list(range(len(hours)))
    for level, values in counts.items():
        ax.bar(x, values, bottom=bottom, color=LEVEL_COLOUR[level], label=LEVEL_ZH[level])
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    step = max(1, len(hours) // 12)
    ax.set_xticks(x[::step], [local(h, False) for h in hours[::step]])
    ax.set_ylabel("预警数")
    ax.set_title("本班各小时新发预警(按级别)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def rates(report: ShiftReport) -> Figure:
    """Horizontal bars of the rate figures of the scope, with the 99.5 % online norm."""
    rows = [r for r in report.figures if r.level is None and not r.figure.endswith("_s")]
    fig, ax = plt.subplots(figsize=(8, 0.4 * max(3, len(rows)) + 1))
    names = [FIGURES[r.figure].zh for r in rows]
    values = [r.value * 100 for r in rows]
    ax.barh(names, values, color="#4c72b0")
    for i, v in enumerate(values):
        ax.text(min(v, 100) + 0.5, i, f"{v:.2f}%", va="center", fontsize=8)
    ax.axvline(99.5, color="#d62728", linestyle="--", linewidth=1, label="在线率要求 99.5%")
    ax.set_xlim(0, 112)
    ax.invert_yaxis()
    ax.set_title("本班考核指标(%)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def response(report: ShiftReport) -> Figure:
    """Bars of the time to 签收 and to 处置 (p50, p90) per level, in minutes (in seconds when
    every one is under two minutes, as in a drill)."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    times = [r.value for r in report.figures if r.figure.endswith("_s")]
    unit, per = ("秒", 1) if times and max(times) < 120 else ("分钟", 60)
    series = [("ack_p50_s", "签收P50"), ("ack_p90_s", "签收P90"), ("handle_p50_s", "处置P50"),
              ("handle_p90_s", "处置P90")]
    width = 0.2
    for j, (figure, label) in enumerate(series):
        got = {r.level: r.value / per for r in report.figures if r.figure == figure}
        ax.bar([lvl - 1 + (j - 1.5) * width for lvl in LEVEL_ZH],
               [got.get(lvl, 0) for lvl in LEVEL_ZH], width, label=label)
    ax.set_xticks(range(4), list(LEVEL_ZH.values()))
    ax.set_ylabel(unit)
    ax.set_title("签收与处置时长(按级别)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def svg(fig: Figure) -> str:
    """The figure as inline SVG (closed afterwards)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]
