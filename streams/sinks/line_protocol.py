"""InfluxDB line protocol for readings, warning transitions, events and positions (pure)."""

from __future__ import annotations

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.daily import VehicleDayRecord, VehicleHourRecord
from hazardwatch.contracts.records import (
    PositionRecord,
    RejectedRecord,
    TelemetryRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.seen import SeenRecord
from hazardwatch.contracts.seen import text as seen_text
from hazardwatch.contracts.warnings import WarningRecord

#: retention policy by site kind (see hazardwatch/stack/influx.py for the sources)
RP_BY_SITE_KIND = {"tank_farm": "chem_30d", "coal_mine": "coal_93d", "tailings_dam": "coal_93d"}
RP_VEHICLE, RP_EVENTS = "vehicle_184d", "events_1096d"
_TAG = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})


def tag(v: str) -> str:
    """Escape a tag key or value."""
    return v.translate(_TAG)


def text(v: str) -> str:
    """A string field value."""
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(v: float) -> str:
    return repr(float(v))


def readings(rec: TelemetryRecord, catalog: Catalog) -> tuple[str, list[str]]:
    """(retention policy, lines) of one telemetry record: one point per sample."""
    site = catalog.sites[rec.site_id]
    lines = []
    base = f"reading,site={tag(rec.site_id)},device={tag(rec.device_id)}"
    drill = "true" if rec.drill else "false"
    for p in rec.points:
        found = catalog.sensors.get((rec.site_id, p.sensor))
        sensor = found[1] if found else None
        extra = f",metric={tag(sensor.metric)}" if sensor else ""
        if sensor and sensor.plant_unit:
            extra += f",unit={tag(sensor.plant_unit)}"
        value = "" if p.value is None else f"value={_num(p.value)},"  # q "bad": no reading
        lines.append(f"{base},sensor={tag(p.sensor)}{extra} {value}"
                     f"q={text(p.q)},drill={drill} {p.ts}")
    return RP_BY_SITE_KIND.get(site.kind, "chem_30d"), lines


def warning(w: WarningRecord, where: tuple[float, float] | None = None,
            pushed_at: int | None = None) -> str:
    """One point per warning transition, tagged for dashboards; a site's location for maps;
    pushed_at: the wall time (ms) the record was appended to hw.warnings (its Kafka
    timestamp), where the handling figures' clock starts (docs/kpis.md)."""
    tags = [f"level={w.level}", f"colour={w.colour}", f"transition={w.transition}",
            f"rule={tag(w.rule)}", f"kind={tag(w.kind)}", f"subject={tag(w.subject)}"]
    for name, value in (("site", w.site_id), ("device", w.device_id), ("sensor", w.sensor),
                        ("vehicle", w.vehicle_id)):
        if value:
            tags.append(f"{name}={tag(value)}")
    fields = [f"warning_id={text(w.warning_id)}", f"message={text(w.message)}",
              f"started_at={w.started_at}i", f"drill={'true' if w.drill else 'false'}",
              f"level_value={w.level}i",
              f"active={0 if w.transition == 'cleared' else 1}i"]
    if w.value is not None:
        fields.append(f"value={_num(w.value)}")
    if w.threshold is not None:
        fields.append(f"threshold={_num(w.threshold)}")
    if where is not None:
        fields += [f"lat={_num(where[0])}", f"lon={_num(where[1])}"]
    if w.evidence:
        fields.append(f"evidence={text(' '.join(e.uri for e in w.evidence))}")
    if pushed_at is not None and pushed_at > 0:
        fields.append(f"pushed_at={pushed_at}i")
    return f"warning,{','.join(tags)} {','.join(fields)} {w.ts}"


def video_event(e: VideoEventRecord) -> str:
    """One point per video-AI event."""
    who = f"vehicle={tag(e.vehicle_id)}" if e.vehicle_id else \
        f"site={tag(str(e.site_id))},device={tag(str(e.device_id))}"
    media = " ".join(m.uri for m in e.media)
    extra = ""
    if e.tyre is not None:  # TPMS: the tyre and its readings
        t = e.tyre
        extra = f",tyre_position={t.position}i,tyre_alarm_bits={t.alarm_bits}i" + "".join(
            f",{name}={_num(v)}" for name, v in (("pressure_kpa", t.pressure_kpa),
                                                 ("temperature_c", t.temperature_c),
                                                 ("battery_pct", t.battery_pct))
            if v is not None)
    return (f"video_event,{who},family={tag(e.family)},type={tag(e.type)} "
            f"event_id={text(e.event_id)},media={text(media)},"
            f"drill={'true' if e.drill else 'false'}{extra} {e.ts}")


def position(p: PositionRecord) -> str:
    """One point per GNSS report."""
    return (f"position,vehicle={tag(p.vehicle_id)} lat={_num(p.lat)},lon={_num(p.lon)},"
            f"speed_kmh={_num(p.speed_kmh)},heading={_num(p.heading)},"
            f"alarm_flags={p.alarm_flags}i,drill={'true' if p.drill else 'false'} {p.ts}")


def vehicle_day(d: VehicleDayRecord) -> str:
    """One point per vehicle and local day (company figures: sums grouped by company)."""
    return (f"vehicle_daily,company={tag(d.company)},vehicle={tag(d.vehicle_id)},"
            f"class={tag(d.vehicle_class)},day={tag(d.day)} positions={d.positions}i,"
            f"drift={d.drift}i,gaps={d.gaps}i,overspeed={d.overspeed}i,"
            f"fatigue_s={_num(d.fatigue_s)},online_s={_num(d.online_s)},"
            f"complete_m={_num(d.complete_m)},incomplete_m={_num(d.incomplete_m)},"
            f"online={1 if d.positions else 0}i,drill={'true' if d.drill else 'false'} {d.ts}")


def vehicle_hour(h: VehicleHourRecord) -> str:
    """One point per vehicle and hour with counters (shift figures: sums over the hours)."""
    return (f"vehicle_hourly,company={tag(h.company)},vehicle={tag(h.vehicle_id)},"
            f"class={tag(h.vehicle_class)} positions={h.positions}i,drift={h.drift}i,"
            f"gaps={h.gaps}i,complete_m={_num(h.complete_m)},"
            f"incomplete_m={_num(h.incomplete_m)},online_s={_num(h.online_s)},"
            f"drill={'true' if h.drill else 'false'} {h.hour}")


def seen(s: SeenRecord) -> str:
    """One point per site and hour, at the hour's start (a rewrite of an open hour replaces it);
    the entries as one text field (contracts/seen.py)."""
    return (f"seen_hourly,site={tag(s.site_id)} entries={text(seen_text(s))},"
            f"drill={'true' if s.drill else 'false'} {s.hour}")


def alert_action(e: dict[str, object]) -> str:
    """One point per alerting event: ack, resolve, silence, notified (who and when)."""
    tags = [f"action={tag(str(e.get('action')))}"]
    for k in ("level", "channel", "kind", "warning_id", "person"):
        if e.get(k) is not None:
            tags.append(f"{k}={tag(str(e[k]))}")
    fields = [f"drill={'true' if e.get('drill') else 'false'}"]
    for k in ("who", "receiver", "cause", "taken", "verdict", "note", "reason", "delivery_id"):
        if e.get(k):
            fields.append(f"{k}={text(str(e[k]))}")
    if e.get("deadline"):  # a 督办's deadline
        fields.append(f"deadline={int(str(e['deadline']))}i")
    at = int(str(e.get("at") or e.get("starts") or 0))
    return f"alert_action,{','.join(tags)} {','.join(fields)} {at}"


def rejected(r: RejectedRecord) -> str:
    """One point per dead-lettered message (the pipeline-health panel counts them by reason)."""
    who = f",device={tag(r.device)}" if r.device else ""  # site/device: 数据合格率 per site
    return (f"rejected,reason={tag(r.reason)}{who} topic={text(r.topic)},"
            f"detail={text(r.detail[:200])},"
            f"size={r.size}i {r.received_at}")


def lag(stage: str, topic: str, records: int, ts: int) -> str:
    """Records of a topic not yet consumed by a pipeline stage."""
    name = topic[topic.find("hw."):] if "hw." in topic else topic  # without a test/drill prefix
    return f"pipeline_lag,stage={tag(stage)},topic={tag(name)} records={records}i {ts}"
