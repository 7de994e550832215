"""The drill report: Markdown and JSON, with SVG plots of the signals and the warning timeline."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH
from hazardwatch.simulators.drill import DrillRun
from hazardwatch.simulators.player import incident_end_min
from hazardwatch.simulators.scenario import Scenario, subject_of
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.setpoints import resolve
from hazardwatch.streams.vehicles.config import VehicleRules

COLOUR = {1: "#d62728", 2: "#ff7f0e", 3: "#e6b800", 4: "#1f77b4"}
W, H, ML, MR, MT, MB = 760, 230, 60, 20, 30, 35


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def write_report(run: DrillRun, sc: Scenario, catalog: Catalog, rules: RulesConfig,
                 vrules: VehicleRules, out: Path) -> Path:
    """Write report.md, report.json and the plots into `out`; return the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    ev = run.evaluation
    (out / "timeline.svg").write_text(_timeline(run, sc), encoding="utf-8")
    plots = []
    for key, series in run.signals.items():
        if not series:
            continue
        name = "signal-" + key.replace("/", "-") + ".svg"
        (out / name).write_text(_signal(run, key, series, catalog, rules, vrules),
                                encoding="utf-8")
        plots.append(name)
    p50, p99 = _pct(run.pipeline_latency_ms, 0.5), _pct(run.pipeline_latency_ms, 0.99)
    met = sum(o.ok for o in ev.outcomes)
    lines = [
        f"# 演练报告：{sc.title}", "",
        f"- 演练编号 drill id: `{run.drill_id}`（所有数据带 drill 标记，不通知真实人员）",
        f"- 场景 scenario: `{sc.name}`，场景时钟起点 {_fmt(run.start, sc.timezone)}"
        f"（{sc.timezone}），"
        f"时长 {sc.duration_min:.0f} 分钟，实际用时 {run.wall_s:.0f} 秒",
        f"- 发布消息 messages published over MQTT: {run.published}",
        f"- 结论 verdict: **{'通过 PASSED' if ev.ok else '未通过 FAILED'}** — "
        f"{met}/{len(ev.outcomes)} 项预期预警按时以正确级别发布，意外预警 {len(ev.unexpected)} 条",
        f"- 管道时延 pipeline latency (sent → on hw.warnings, raised): p50 "
        f"{_ms(p50)}, p99 {_ms(p99)} over {len(run.pipeline_latency_ms)} raises", "",
        "## 预期预警 Expected warnings", "",
        "| 事件 incident | 规则 rule | 对象 subject | 预期级别 | 结果 | 实际级别 "
        "| 检测时延 s | 时限 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in ev.outcomes:
        got = LEVEL_NAMES_ZH.get(o.level or 0, "—")
        verdict = "✓ 检出" if o.ok else ("✗ 级别不符" if o.detected else "✗ 未检出")
        lat = f"{o.latency_s:.0f}" if o.latency_s is not None else "—"
        lines.append(f"| {o.title} | `{o.rule}` | `{o.subject}` | "
                     f"{LEVEL_NAMES_ZH[o.expected_level]} | {verdict} | {got} | {lat} | "
                     f"{o.within_s:.0f} |")
    lines += ["", "## 意外预警 Unexpected warnings", ""]
    lines += [f"- {_fmt(w.ts)} `{w.rule}` {LEVEL_NAMES_ZH[w.level]}: {w.message}"
              for w in ev.unexpected] or ["- 无 none"]
    n_lat = _notify_latency(run)
    kinds: dict[str, int] = {}
    for n in run.notifications:
        kinds[n["kind"]] = kinds.get(n["kind"], 0) + 1
    lines += ["", "## 通知 Notifications (drill desk only)", "",
              f"- 演练导调台收到通知 {len(run.notifications)} 条（"
              + "，".join(f"{k} {v}" for k, v in sorted(kinds.items())) + "），"
              "未向任何真实人员发送 — only the drill desk webhook was notified",
              f"- 通知时延 warning on Kafka → notification received: p50 "
              f"{_ms(_pct(list(n_lat.values()), 0.5))}, p99 "
              f"{_ms(_pct(list(n_lat.values()), 0.99))} over {len(n_lat)} warnings "
              "(includes the routes' storm-control grouping windows, 0–30 s)", ""]
    lines += [f"- {o.title} `{o.rule}`: "
              + (f"通知已送达，{n_lat[o.warning_id] / 1000:.1f} s" if o.warning_id in n_lat
                 else "✗ 未收到通知") for o in ev.outcomes]
    lines += ["",
              "## 预警时间线 Warning timeline", "", "![timeline](timeline.svg)", "",
              "## 信号 Signals", ""]
    lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "## 全部预警记录 All warning transitions", ""]
    lines += [f"- {_fmt(w.ts)} [{w.colour}] {w.transition}: {w.message}" for w in run.warnings]
    md = out / "report.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data: dict[str, Any] = {
        "drill_id": run.drill_id, "scenario": sc.name, "start": run.start, "ok": ev.ok,
        "published": run.published, "wall_s": round(run.wall_s, 1),
        "pipeline_latency_ms": {"p50": p50, "p99": p99, "n": len(run.pipeline_latency_ms)},
        "outcomes": [{**o.__dict__, "ok": o.ok} for o in ev.outcomes],
        "unexpected": [msgspec.to_builtins(w) for w in ev.unexpected],
        "warnings": [msgspec.to_builtins(w) for w in run.warnings],
        "notifications": run.notifications,
        "notification_latency_ms": n_lat,
    }
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return md


def _notify_latency(run: DrillRun) -> dict[str, float]:
    """Warning id → ms from its raise on hw.warnings to its first notification's arrival."""
    out: dict[str, float] = {}
    for n in sorted(run.notifications, key=lambda n: float(n["arrived"])):
        for w in n.get("warnings", []):
            wid = w["warning_id"]
            if wid in run.raised_at and wid not in out:
                out[wid] = max(0.0, float(n["arrived"]) - run.raised_at[wid])
    return out


def _fmt(ts: int, tz: str = "Asia/Shanghai") -> str:
    return datetime.fromtimestamp(ts / 1000, ZoneInfo(tz)).strftime("%m-%d %H:%M:%S")


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} ms"


def _x(t_min: float, total: float) -> float:
    return ML + (W - ML - MR) * t_min / total


def _svg(body: list[str], title: str, height: int = H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
            f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" '
            f'fill="white"/><text x="{ML}" y="18" font-size="13">{title}</text>'
            + "".join(body) + "</svg>")


def _axis(total: float, height: int) -> list[str]:
    out = [f'<line x1="{ML}" y1="{height - MB}" x2="{W - MR}" y2="{height - MB}" stroke="#333"/>']
    step = 60 if total > 180 else 10 if total > 30 else 5
    t = 0.0
    while t <= total:
        x = _x(t, total)
        out.append(f'<line x1="{x:.1f}" y1="{height - MB}" x2="{x:.1f}" y2="{height - MB + 4}" '
                   f'stroke="#333"/><text x="{x:.1f}" y="{height - MB + 16}" '
                   f'text-anchor="middle">{t:.0f}</text>')
        t += step
    out.append(f'<text x="{W - MR}" y="{height - 4}" text-anchor="end">场景时间 / 分钟</text>')
    return out


def _timeline(run: DrillRun, sc: Scenario) -> str:
    total, rows = sc.duration_min, len(sc.incidents) + 1
    height = MT + 22 * rows + MB + 10
    body = _axis(total, height)
    for k, inc in enumerate(sc.incidents):
        y = MT + 22 * k + 10
        x0, x1 = _x(inc.at_min, total), _x(max(incident_end_min(inc), inc.at_min + 0.5), total)
        body.append(f'<rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="12" '
                    f'fill="#ccc"/><text x="{ML - 4}" y="{y + 10}" text-anchor="end">'
                    f'{inc.id}</text>')
        keys = {(e.rule, subject_of(inc, e)) for e in inc.expect}
        for w in run.warnings:
            if (w.rule, w.subject) in keys and w.transition != "cleared":
                x = _x((w.ts - run.start) / 60000, total)
                body.append(f'<circle cx="{x:.1f}" cy="{y + 6}" r="5" fill="{COLOUR[w.level]}">'
                            f'<title>{w.message}</title></circle>')
    y = MT + 22 * len(sc.incidents) + 10
    body.append(f'<text x="{ML - 4}" y="{y + 10}" text-anchor="end">意外</text>')
    for w in run.evaluation.unexpected:
        x = _x((w.ts - run.start) / 60000, total)
        body.append(f'<circle cx="{x:.1f}" cy="{y + 6}" r="5" fill="{COLOUR[w.level]}"/>')
    return _svg(body, f"{sc.title}：注入事件（灰）与预警（按级别着色）", height)


def _signal(run: DrillRun, key: str, series: list[tuple[int, float]], catalog: Catalog,
            rules: RulesConfig, vrules: VehicleRules) -> str:
    owner, name = key.split("/", 1)
    lines: list[tuple[float, str]] = []
    if name == "speed_kmh":
        veh = catalog.vehicles[owner]
        lines.append((vrules.speed.limits_kmh[veh.vehicle_class], "限速"))
        title = f"{veh.plate} 车速 km/h"
    else:
        _, sensor = catalog.sensors[(owner, name)]
        site = catalog.sites[owner]
        lines += [(s.value, s.name) for s in resolve(rules, site, sensor).stages]
        title = f"{site.name} {name} ({sensor.unit})"
    total = max(1.0, (series[-1][0] - run.start) / 60000)
    values = [v for _, v in series] + [v for v, _ in lines]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0

    def y(v: float) -> float:
        return MT + (H - MT - MB) * (1 - (v - lo) / span)

    body = _axis(total, H)
    for v, label in lines:
        body.append(f'<line x1="{ML}" y1="{y(v):.1f}" x2="{W - MR}" y2="{y(v):.1f}" '
                    f'stroke="#d62728" stroke-dasharray="4 3"/><text x="{W - MR}" '
                    f'y="{y(v) - 2:.1f}" text-anchor="end" fill="#d62728">{label} {v:g}</text>')
    pts = " ".join(f"{_x((t - run.start) / 60000, total):.1f},{y(v):.1f}" for t, v in series)
    body.append(f'<polyline points="{pts}" fill="none" stroke="#1f4e79" stroke-width="1.2"/>')
    body.append(f'<text x="{ML - 4}" y="{y(hi) + 4:.1f}" text-anchor="end">{hi:.4g}</text>'
                f'<text x="{ML - 4}" y="{y(lo) + 4:.1f}" text-anchor="end">{lo:.4g}</text>')
    return _svg(body, title)
