"""The drill report: Markdown and JSON, with SVG plots of the signals and the warning timeline."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import msgspec

from hazardwatch.alerting.workflow.chain import ADMIN_ZH
from hazardwatch.alerting.workflow.config import WorkflowConfig, load_workflow
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH
from hazardwatch.simulators.drill import GROUP_WAIT_S, DrillRun
from hazardwatch.simulators.names import rule_zh, subject_zh
from hazardwatch.simulators.participants import (
    WHAT_ZH,
    Score,
    assessment_zh,
    delays,
    score,
)
from hazardwatch.simulators.player import incident_end_min
from hazardwatch.simulators.scenario import Participant, Scenario, subject_of
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
    n_lat = _notify_latency(run)
    end = run.start + int(sc.duration_min * 60_000)
    shift = shift_link(run.start)
    names = {w.warning_id: f"{rule_zh(w.rule)}({_subject(w.subject, catalog)})"
             for w in run.warnings}
    scores = score(sc.participants, run.taken, run.done, run.raised_at,
                   load_workflow(Path(sc.workflow)) if sc.workflow else WorkflowConfig(), names,
                   run.cleared_at)
    lines = [
        f"# 演练报告:{sc.title}", "",
        "## 一、基本情况", "",
        f"- 演练编号:`{run.drill_id}`(所有数据带演练标记,不通知真实人员、不下发真实终端)",
        f"- 演练场景:{sc.title}(`{sc.name}`)",
        f"- 演练时间:{_fmt(run.start, sc.timezone)} 至 {_fmt(end, sc.timezone)}"
        f"({sc.timezone}),时长 {sc.duration_min:.0f} 分钟,实际用时 {run.wall_s:.0f} 秒",
        f"- 发布消息:{run.published} 条"
        + ("(MQTT)" if sc.transport == "mqtt" and "jt808" not in sc.vehicle_transport.values()
           else "(车辆经 JT/T 808 演练网关接入,其余 MQTT;演练网关不下发)" if sc.transport == "jt808"
           else "(" + "、".join(sorted(v for v, t in sc.vehicle_transport.items() if t == "jt808"))
           + " 经 JT/T 808 演练网关接入,其余 MQTT;演练网关不下发)"),
        f"- 演练时段的交接班报告:[{shift}.html]({shift}.html)(PDF:[{shift}.pdf]({shift}.pdf))",
        "",
        "## 二、参演人员", "",
        "- 演练导调台(本地 webhook,验证通知送达;不是真实人员)",
        *([_person_zh(p) for p in sc.participants]
          or ["- 值班人员:本次演练无人员在值班台或链接上签收、处置,未对人员响应计分"
              "(见“问题与改进”)"]), "",
        "## 三、演练目标", "",
    ]
    lines += [f"{i}. {o.title}:{_subject(o.subject, catalog)} 在 {o.within_s:.0f} 秒内发布"
              f"{LEVEL_NAMES_ZH[o.expected_level]}“{rule_zh(o.rule)}”预警并送达通知"
              for i, o in enumerate(ev.outcomes, 1)] or ["无"]
    lines += [
        "", "## 四、评估", "",
        f"- 结论:**{'通过' if ev.ok else '未通过'}**,{met}/{len(ev.outcomes)} 项预期预警按时"
        f"以正确级别发布,意外预警 {len(ev.unexpected)} 条",
        f"- 管道时延(发送 → hw.warnings 发布):P50 {_ms(p50)},P99 {_ms(p99)},"
        f"共 {len(run.pipeline_latency_ms)} 次发布",
        f"- 通知时延(预警发布 → 导调台收到):P50 {_ms(_pct(list(n_lat.values()), 0.5))},"
        f"P99 {_ms(_pct(list(n_lat.values()), 0.99))},共 {len(n_lat)} 条预警"
        "(含分组抑制窗口 0–30 秒)", "",
        "| 事件 | 预警名称 | 对象 | 预期级别 | 结果 | 实际级别 | 检测时延(秒) | 时限(秒) | 通知 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in ev.outcomes:
        got = LEVEL_NAMES_ZH.get(o.level or 0, "—")
        verdict = "✓ 检出" if o.ok else ("✗ 级别不符" if o.detected else "✗ 未检出")
        lat = f"{o.latency_s:.0f}" if o.latency_s is not None else "—"
        sent = (f"{n_lat[o.warning_id] / 1000:.1f} 秒送达" if o.warning_id in n_lat
                else "— 分组等待内已解除" if _cleared_unsent(run, o.warning_id)
                else "✗ 未收到")
        lines.append(f"| {o.title} | {rule_zh(o.rule)} | {_subject(o.subject, catalog)} | "
                     f"{LEVEL_NAMES_ZH[o.expected_level]} | {verdict} | {got} | {lat} | "
                     f"{o.within_s:.0f} | {sent} |")
    if scores:
        lines += ["", *assessment_zh(scores)]
    lines += [f"- {_named(e, names)}" for e in run.stand_in_errors]
    lines += supervision_zh(run.notifications, names)
    kinds: dict[str, int] = {}
    for n in run.notifications:
        kinds[n["kind"]] = kinds.get(n["kind"], 0) + 1
    lines += ["", f"导调台共收到通知 {len(run.notifications)} 条("
              + ",".join(f"{k} {v}" for k, v in sorted(kinds.items())) + "),未向任何真实人员发送。",
              "", "### 意外预警", ""]
    lines += [f"- {_fmt(w.ts)} {rule_zh(w.rule)} {LEVEL_NAMES_ZH[w.level]}:{w.message}"
              for w in ev.unexpected] or ["- 无"]
    lines += ["", "## 五、问题与改进", ""]
    lines += [f"{i}. {p}" for i, p in enumerate(problems(run, n_lat, scores, names), 1)]
    lines += ["", "## 六、预警时间线", "", "![预警时间线](timeline.svg)", "",
              "## 七、信号曲线", ""]
    lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "## 八、全部预警记录", ""]
    lines += [f"- {_fmt(w.ts)} {LEVEL_NAMES_ZH.get(w.level, '')} "
              f"{_TRANSITION.get(w.transition, w.transition)}:{w.message}" for w in run.warnings]
    lines += ["", "## 九、签字确认", "", "| 角色 | 姓名 | 签字 | 日期 |", "|---|---|---|---|",
              "| 演练总指挥 | | | |", "| 演练评估人员 | | | |", "| 参演单位负责人 | | | |"]
    md = out / "report.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data: dict[str, Any] = {
        "drill_id": run.drill_id, "scenario": sc.name, "start": run.start, "ok": ev.ok,
        "published": run.published, "wall_s": round(run.wall_s, 1),
        "pipeline_latency_ms": {"p50": p50, "p99": p99, "n": len(run.pipeline_latency_ms)},
        "outcomes": [{**o.__dict__, "ok": o.ok} for o in ev.outcomes],
        "participants": [{"name": x.name, "role": x.role, "warning_id": x.warning_id,
                          "title": x.title, "level": x.level, "on_time": x.on_time,
                          **{f"{st.what}_s": st.took_s for st in x.steps},
                          **{f"{st.what}_limit_s": st.limit_s for st in x.steps}}
                         for x in scores],
        "supervisions": supervisions(run.notifications),
        "stand_in_errors": run.stand_in_errors,
        "unexpected": [msgspec.to_builtins(w) for w in ev.unexpected],
        "warnings": [msgspec.to_builtins(w) for w in run.warnings],
        "notifications": run.notifications,
        "notification_latency_ms": n_lat,
    }
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return md


_TRANSITION = {"raised": "发布", "escalated": "升级", "downgraded": "降级", "cleared": "解除",
               "upgraded": "升级"}


def shift_link(start: int) -> str:
    """File stem of the shift report of the drill period (`hazardwatch report shift --drill`)."""
    from hazardwatch.reports.shift import shift_name

    return shift_name(start, "all", True)


def problems(run: DrillRun, n_lat: dict[str, float], scores: list[Score] | None = None,
             names: dict[str, str] | None = None) -> list[str]:
    """What the drill showed that needs work, derived from its outcomes."""
    ev, out = run.evaluation, []
    for o in ev.outcomes:
        if not o.detected:
            out.append(f"{o.title}:未检出“{rule_zh(o.rule)}”,核查规则与测点配置")
        elif not o.ok:
            out.append(f"{o.title}:级别为{LEVEL_NAMES_ZH.get(o.level or 0, '—')},预期"
                       f"{LEVEL_NAMES_ZH[o.expected_level]},核查分级阈值")
        elif o.latency_s is not None and o.latency_s > o.within_s:
            out.append(f"{o.title}:检测时延 {o.latency_s:.0f} 秒超过时限 {o.within_s:.0f} 秒")
        if o.detected and o.warning_id not in n_lat:
            out.append(f"{o.title}:预警在通知分组等待({GROUP_WAIT_S} 秒)内已解除,按路由不单独"
                       "通知(演练时钟约百倍于实际;值班台列表可见)" if _cleared_unsent(
                           run, o.warning_id) else f"{o.title}:预警未送达导调台,核查通知路由")
    if ev.unexpected:
        out.append(f"意外预警 {len(ev.unexpected)} 条,逐条判定是否误报并调整规则")
    if not scores:
        out.append("本次演练无人员签收、处置:在场景中列出参演人员(participants),"
                   "按处置流程时限计分")
    for x in scores or []:
        if not x.on_time:
            late = "、".join(WHAT_ZH[st.what] for st in x.steps if not st.on_time)
            out.append(f"{x.name}({x.role})未按时{late}{LEVEL_NAMES_ZH[x.level]}预警"
                       f"“{x.title}”,加强值守与处置培训")
    for v in supervisions(run.notifications):
        if v["admin"] in ("city", "province"):
            name = (names or {}).get(v["warning_id"], v["warning_id"])
            out.append(f"预警“{name}”未按时处置,已上推至{ADMIN_ZH[v['admin']]}督办"
                       f"({v['id']}),被督办方须在期限前反馈处置结果")
    return out


def _person_zh(p: Participant) -> str:
    """A participant: role, account, what they do and when (wall seconds after the push)."""
    did = [f"{WHAT_ZH[w]}(推送后 {after:g} 秒{'起,预警解除后' if w == 'close' else ''})"
           for w, after in delays(p).items()]
    which = "全部预警" if p.rules is None else "、".join(rule_zh(r) for r in p.rules)
    return (f"- {p.name}({p.role},值班台账户角色 {p.access}):经真实接口"
            + ("、".join(did) if did else "不签收、不处置(不作为)") + f";负责:{which}")


def supervisions(notifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 督办 the desk was told of, once each: id, warning, level, deadline, from, to."""
    out: dict[str, dict[str, Any]] = {}
    for n in notifications:
        if n.get("kind") == "supervise" and n.get("supervision") not in out:
            out[n["supervision"]] = {
                "id": n["supervision"], "warning_id": n.get("warning_id", ""),
                "admin": n.get("admin", ""), "level": n.get("level"),
                "deadline": n.get("deadline"), "from": n.get("from", ""),
                "to": n.get("to", ""), "told_at": n.get("arrived")}
    return list(out.values())


def supervision_zh(notifications: list[dict[str, Any]], names: dict[str, str]) -> list[str]:
    """The report's 督办 table (pushed up the chain when a deadline was missed)."""
    rows = supervisions(notifications)
    if not rows:
        return []
    lines = ["", "### 督办记录(未按时处置的预警逐级上推)", "",
             "| 督办编号 | 督办层级 | 预警 | 预警级别 | 督办方 | 被督办方 | 反馈期限 |",
             "|---|---|---|---|---|---|---|"]
    for v in rows:
        level = LEVEL_NAMES_ZH.get(v["level"], "—") if v["level"] else "—"
        lines.append(f"| {v['id']} | {ADMIN_ZH.get(v['admin'], v['admin'])}督办 | "
                     f"{names.get(v['warning_id'], v['warning_id'])} | {level} | "
                     f"{_region(v['from'])} | {_region(v['to'])} | "
                     f"{_fmt(int(v['deadline'])) if v['deadline'] else '—'} |")
    return lines


def _region(who: str) -> str:
    kind, _, code = who.partition(":")
    return {"region": f"地区 {code}", "site": f"场所 {code}"}.get(kind, who)


def _named(error: str, names: dict[str, str]) -> str:
    for wid, name in names.items():
        error = error.replace(wid, f"“{name}”")
    return error


def _subject(subject: str, catalog: Catalog) -> str:
    return subject_zh(subject, catalog)


def _cleared_unsent(run: DrillRun, wid: str | None) -> bool:
    """A warning below 一级 (一级 goes at once) cleared within the grouping wait of its push:
    it is not told on its own."""
    raised, cleared = run.raised_at.get(wid or ""), run.cleared_at.get(wid or "")
    levels = [w.level for w in run.warnings if w.warning_id == wid]
    return (raised is not None and cleared is not None and bool(levels) and min(levels) > 1
            and cleared - raised < GROUP_WAIT_S * 1000)


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
    return datetime.fromtimestamp(ts / 1000, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} ms"


def _x(t_min: float, total: float, ml: int = ML) -> float:
    return ml + (W - ml - MR) * t_min / total


#: fonts that carry Chinese (fonts-noto-cjk on Debian, then Windows and macOS ones)
FONTS = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'Microsoft YaHei', "
         "'PingFang SC', SimHei, sans-serif")


def _svg(body: list[str], title: str, height: int = H, ml: int = ML) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
            f'font-family="{FONTS}" font-size="11"><rect width="100%" height="100%" '
            f'fill="white"/><text x="{ml}" y="18" font-size="13">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def _axis(total: float, height: int, ml: int = ML) -> list[str]:
    out = [f'<line x1="{ml}" y1="{height - MB}" x2="{W - MR}" y2="{height - MB}" stroke="#333"/>']
    step = 60 if total > 180 else 10 if total > 30 else 5
    t = 0.0
    while t <= total:
        x = _x(t, total, ml)
        out.append(f'<line x1="{x:.1f}" y1="{height - MB}" x2="{x:.1f}" y2="{height - MB + 4}" '
                   f'stroke="#333"/><text x="{x:.1f}" y="{height - MB + 16}" '
                   f'text-anchor="middle">{t:.0f}</text>')
        t += step
    out.append(f'<text x="{W - MR}" y="{height - 4}" text-anchor="end">场景时间 / 分钟</text>')
    return out


def _label_width(text: str) -> int:
    """Pixels of a label at 11 px: CJK characters are square, others about half."""
    return sum(11 if ord(c) > 0x2E80 else 6 for c in text)


def _timeline(run: DrillRun, sc: Scenario) -> str:
    """Incidents (grey) and their warnings (dots by level) on scene time, one row per
    incident labelled by its title, an 意外 row, and a legend of the colours."""
    total, rows = sc.duration_min, len(sc.incidents) + 1
    labels = [inc.title[:18] for inc in sc.incidents] + ["意外预警"]
    ml = min(320, max(ML, max(_label_width(t) for t in labels) + 12))
    height = MT + 22 * rows + MB + 34
    body = _axis(total, height - 24, ml)
    for k, inc in enumerate(sc.incidents):
        y = MT + 22 * k + 10
        x0 = _x(inc.at_min, total, ml)
        x1 = _x(max(incident_end_min(inc), inc.at_min + 0.5), total, ml)
        body.append(f'<rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="12" '
                    f'fill="#ccc"><title>{escape(inc.id)}</title></rect>'
                    f'<text x="{ml - 6}" y="{y + 10}" text-anchor="end">{escape(labels[k])}'
                    "</text>")
        keys = {(e.rule, subject_of(inc, e)) for e in inc.expect}
        for w in run.warnings:
            if (w.rule, w.subject) in keys and w.transition != "cleared":
                x = _x((w.ts - run.start) / 60000, total, ml)
                body.append(f'<circle cx="{x:.1f}" cy="{y + 6}" r="5" fill="{COLOUR[w.level]}">'
                            f'<title>{escape(w.message)}</title></circle>')
    y = MT + 22 * len(sc.incidents) + 10
    body.append(f'<text x="{ml - 6}" y="{y + 10}" text-anchor="end">意外预警</text>')
    for w in run.evaluation.unexpected:
        x = _x((w.ts - run.start) / 60000, total, ml)
        body.append(f'<circle cx="{x:.1f}" cy="{y + 6}" r="5" fill="{COLOUR[w.level]}">'
                    f'<title>{escape(w.message)}</title></circle>')
    lx, ly = ml, height - 10
    body.append(f'<rect x="{lx}" y="{ly - 9}" width="18" height="10" fill="#ccc"/>'
                f'<text x="{lx + 22}" y="{ly}">注入事件</text>')
    lx += 90
    for level, colour in COLOUR.items():
        body.append(f'<circle cx="{lx + 5}" cy="{ly - 4}" r="5" fill="{colour}"/>'
                    f'<text x="{lx + 14}" y="{ly}">{LEVEL_NAMES_ZH[level]}预警</text>')
        lx += 120
    return _svg(body, f"{sc.title}:注入事件与预警(按级别着色)", height, ml)


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
