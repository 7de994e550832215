"""InfluxDB line protocol for readings, warning transitions, events and positions (pure)."""

from __future__ import annotations

from contracts.catalog import Catalog
from contracts.records import PositionRecord, TelemetryRecord, VideoEventRecord
from contracts.warnings import WarningRecord

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
        lines.append(f"{base},sensor={tag(p.sensor)}{extra} value={_num(p.value)},"
                     f"q={text(p.q)},drill={drill} {p.ts}")
    return RP_BY_SITE_KIND.get(site.kind, "chem_30d"), lines


def warning(w: WarningRecord) -> str:
    """One point per warning transition, tagged for dashboards."""
    tags = [f"level={w.level}", f"colour={w.colour}", f"transition={w.transition}",
            f"rule={tag(w.rule)}", f"kind={tag(w.kind)}", f"subject={tag(w.subject)}"]
    for name, value in (("site", w.site_id), ("device", w.device_id), ("sensor", w.sensor),
                        ("vehicle", w.vehicle_id)):
        if value:
            tags.append(f"{name}={tag(value)}")
    fields = [f"warning_id={text(w.warning_id)}", f"message={text(w.message)}",
              f"started_at={w.started_at}i", f"drill={'true' if w.drill else 'false'}",
              f"level_value={w.level}i"]
    if w.value is not None:
        fields.append(f"value={_num(w.value)}")
    if w.threshold is not None:
        fields.append(f"threshold={_num(w.threshold)}")
    if w.evidence:
        fields.append(f"evidence={text(' '.join(e.uri for e in w.evidence))}")
    return f"warning,{','.join(tags)} {','.join(fields)} {w.ts}"


def video_event(e: VideoEventRecord) -> str:
    """One point per video-AI event."""
    who = f"vehicle={tag(e.vehicle_id)}" if e.vehicle_id else \
        f"site={tag(str(e.site_id))},device={tag(str(e.device_id))}"
    media = " ".join(m.uri for m in e.media)
    return (f"video_event,{who},family={tag(e.family)},type={tag(e.type)} "
            f"event_id={text(e.event_id)},media={text(media)},"
            f"drill={'true' if e.drill else 'false'} {e.ts}")


def position(p: PositionRecord) -> str:
    """One point per GNSS report."""
    return (f"position,vehicle={tag(p.vehicle_id)} lat={_num(p.lat)},lon={_num(p.lon)},"
            f"speed_kmh={_num(p.speed_kmh)},heading={_num(p.heading)},"
            f"alarm_flags={p.alarm_flags}i,drill={'true' if p.drill else 'false'} {p.ts}")
