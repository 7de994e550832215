"""The monitoring-center dashboards (titles and labels in Chinese), as SDK builders.

Every panel queries InfluxDB with raw InfluxQL over the measurements the sink writes
(streams/sinks/line_protocol.py); tests execute each query against drill data.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as bc
from grafana_foundation_sdk.builders import dashboard as bd
from grafana_foundation_sdk.builders import geomap, stat, table, timeseries
from grafana_foundation_sdk.cog import builder
from grafana_foundation_sdk.models import common as mc
from grafana_foundation_sdk.models import dashboard as md

from hazardwatch.contracts.rules import RuleId
from hazardwatch.dashboards.influxql import InfluxQL
from hazardwatch.dashboards.kpis import assessment

DATASOURCE_UID = "hazardwatch-influxdb"
DS = md.DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
READINGS = '"chem_30d"."reading", "coal_93d"."reading"'
WARNINGS, ACTIONS = '"events_1096d"."warning"', '"events_1096d"."alert_action"'
POSITIONS, VIDEO = '"vehicle_184d"."position"', '"events_1096d"."video_event"'
LEVELS = [(1, "一级(红色)", "red"), (2, "二级(橙色)", "orange"), (3, "三级(黄色)", "yellow"),
          (4, "四级(蓝色)", "blue")]
PanelBuilder = builder.Builder[md.Panel]


def _pos(panel: PanelBuilder, x: int, y: int, w: int, h: int) -> PanelBuilder:
    panel.grid_pos(md.GridPos(h=h, w=w, x=x, y=y))  # type: ignore[attr-defined]
    return panel


def _active_count(level: int) -> str:
    """Active episodes (their last transition is not a clear) at one level."""
    return ('SELECT count("lvl") FROM (SELECT last("active") AS "a", last("level_value") AS '
            '"lvl" FROM ' + WARNINGS + ' WHERE $timeFilter GROUP BY "subject", "rule") '
            f'WHERE "a" = 1 AND "lvl" = {level}')


def _var(name: str, label: str, query: str) -> bd.QueryVariable:
    return (bd.QueryVariable(name).label(label).datasource(DS).query(query)
            .refresh(md.VariableRefresh.ON_TIME_RANGE_CHANGED).include_all(False))


def _markers(name: str, colour_field: str | None) -> bc.MapLayerOptions:
    config: dict[str, object] = {"showLegend": True, "style": {"size": {"fixed": 6}}}
    if colour_field:
        config["style"] = {"size": {"fixed": 8}, "color": {"field": colour_field}}
    return (bc.MapLayerOptions().type("markers").name(name).config(config)
            .location(bc.FrameGeometrySource().mode(mc.FrameGeometrySourceMode.COORDS)
                      .latitude("lat").longitude("lon")))


def _level_thresholds() -> bd.ThresholdsConfig:
    return bd.ThresholdsConfig().mode(md.ThresholdsMode.ABSOLUTE).steps([
        md.Threshold(value=None, color="red"), md.Threshold(value=2, color="orange"),
        md.Threshold(value=3, color="yellow"), md.Threshold(value=4, color="blue")])


def duty_overview() -> bd.Dashboard:
    """值班总览: active warnings by level, latest warnings and acks, map, pipeline health."""
    d = (bd.Dashboard("值班总览").uid("hw-duty").tags(["hazardwatch"]).refresh("30s")
         .time("now-24h", "now").timezone("Asia/Shanghai"))
    for i, (level, name, colour) in enumerate(LEVELS):
        d.with_panel(_pos(stat.Panel().title(f"当前{name}预警").datasource(DS).no_value("0")
                          .color_scheme(bd.FieldColor().mode(md.FieldColorModeId.FIXED)
                                        .fixed_color(colour))
                          .with_target(InfluxQL(_active_count(level)).ref_id("A")),
                          i * 6, 0, 6, 4))
    d.with_panel(_pos(table.Panel().title("最新预警").datasource(DS).with_target(InfluxQL(
        'SELECT "level_value" AS "级别", "transition" AS "变化", "message" AS "预警内容" FROM '
        + WARNINGS + " WHERE $timeFilter ORDER BY time DESC LIMIT 100").table().ref_id("A")),
        0, 4, 16, 10))
    d.with_panel(_pos(table.Panel().title("确认与处置").datasource(DS).with_target(InfluxQL(
        'SELECT "who" AS "确认人", "cause" AS "原因", "taken" AS "措施" FROM ' + ACTIONS
        + " WHERE (\"action\" = 'ack' OR \"action\" = 'resolve') AND $timeFilter "
          "ORDER BY time DESC LIMIT 100").table().ref_id("A")), 16, 4, 8, 10))
    d.with_panel(_pos(geomap.Panel().title("场所与车辆分布（按预警级别着色）").datasource(DS)
                      .view(geomap.MapViewConfig().id("coords").lat(41).lon(111)
                            .zoom(7))
                      .layers([_markers("场所", "level"), _markers("车辆", "level")])
                      .thresholds(_level_thresholds())
                      .with_target(InfluxQL(
                          'SELECT last("lat") AS "lat", last("lon") AS "lon", min("lvl") AS '
                          '"level" FROM (SELECT last("active") AS "a", last("level_value") AS '
                          '"lvl", last("lat") AS "lat", last("lon") AS "lon" FROM ' + WARNINGS
                          + " WHERE $timeFilter AND \"site\" != '' GROUP BY \"site\", "
                            '"subject", "rule") WHERE "a" = 1 GROUP BY "site"').table()
                          .ref_id("A"))
                      .with_target(InfluxQL(
                          'SELECT last("lat") AS "lat", last("lon") AS "lon", '
                          'last("speed_kmh") AS "车速" FROM ' + POSITIONS
                          + ' WHERE $timeFilter GROUP BY "vehicle"').table().ref_id("B"))
                      .with_target(InfluxQL(
                          'SELECT min("lvl") AS "level" FROM (SELECT last("active") AS "a", '
                          'last("level_value") AS "lvl" FROM ' + WARNINGS
                          + " WHERE $timeFilter AND \"vehicle\" != '' GROUP BY \"vehicle\", "
                            '"rule") WHERE "a" = 1 GROUP BY "vehicle"').table().ref_id("C"))
                      .with_transformation(md.DataTransformerConfig(  # vehicles get their level
                          id_val="joinByField", options={"byField": "vehicle", "mode": "outer"})),
                      0, 14, 12, 12))
    d.with_panel(_pos(timeseries.Panel().title("数据接入与拒收（条/间隔）").datasource(DS)
                      .with_target(InfluxQL(
                          'SELECT count("value") AS "传感器读数" FROM ' + READINGS
                          + " WHERE $timeFilter GROUP BY time($__interval) fill(0)")
                          .ref_id("A"))
                      .with_target(InfluxQL(
                          'SELECT count("lat") AS "车辆定位" FROM ' + POSITIONS
                          + " WHERE $timeFilter GROUP BY time($__interval) fill(0)")
                          .ref_id("B"))
                      .with_target(InfluxQL(
                          'SELECT count("size") FROM "events_1096d"."rejected" WHERE '
                          '$timeFilter GROUP BY time($__interval), "reason" fill(0)')
                          .alias("拒收 $tag_reason").ref_id("C"))
                      .with_target(InfluxQL(
                          'SELECT max("records") FROM "events_1096d"."pipeline_lag" WHERE '
                          '$timeFilter GROUP BY time($__interval), "stage", "topic" '
                          'fill(previous)').alias("积压 $tag_stage $tag_topic").ref_id("D")),
                      12, 14, 12, 6))
    d.with_panel(_pos(timeseries.Panel().title("预警发布（按级别）").datasource(DS)
                      .with_target(InfluxQL(
                          'SELECT count("level_value") FROM ' + WARNINGS
                          + " WHERE \"transition\" = 'raised' AND $timeFilter "
                            'GROUP BY time($__interval), "level" fill(0)')
                          .alias("$tag_level 级").ref_id("A")), 12, 20, 12, 6))
    return d


def site_detail() -> bd.Dashboard:
    """场所详情: every sensor's trend with its threshold lines; site, unit and sensor variables."""
    d = (bd.Dashboard("场所详情").uid("hw-site").tags(["hazardwatch"]).refresh("30s")
         .time("now-6h", "now").timezone("Asia/Shanghai")
         .with_variable(_var("site", "场所", 'SHOW TAG VALUES FROM ' + READINGS
                             + ' WITH KEY = "site"'))
         .with_variable(_var("unit", "装置/单元", 'SHOW TAG VALUES FROM ' + READINGS
                             + ' WITH KEY = "unit" WHERE "site" =~ /^$site$/'))
         .with_variable(_var("sensor", "测点", 'SHOW TAG VALUES FROM ' + READINGS
                             + ' WITH KEY = "sensor" WHERE "site" =~ /^$site$/ AND '
                               '"unit" =~ /^$unit$/')))
    where = '"site" =~ /^$site$/ AND "sensor" =~ /^$sensor$/ AND $timeFilter'
    d.with_panel(_pos(timeseries.Panel().title("测点趋势与预警阈值").datasource(DS)
                      .with_target(InfluxQL(
                          'SELECT mean("value") FROM ' + READINGS + " WHERE " + where
                          + ' GROUP BY time($__interval), "sensor" fill(none)')
                          .alias("$tag_sensor").ref_id("A"))
                      .with_target(InfluxQL(
                          'SELECT max("threshold") FROM ' + WARNINGS + " WHERE " + where
                          + ' GROUP BY time($__interval), "sensor", "level" fill(previous)')
                          .alias("阈值 $tag_sensor $tag_level 级").ref_id("B")), 0, 0, 24, 10))
    d.with_panel(_pos(table.Panel().title("本场所预警").datasource(DS).with_target(InfluxQL(
        'SELECT "level_value" AS "级别", "transition" AS "变化", "message" AS "预警内容" FROM '
        + WARNINGS + ' WHERE "site" =~ /^$site$/ AND $timeFilter ORDER BY time DESC LIMIT 200')
        .table().ref_id("A")), 0, 10, 24, 10))
    return d


def vehicle_detail() -> bd.Dashboard:
    """车辆详情: track on a map, speed against its limit, driving time, video-AI alarms."""
    d = (bd.Dashboard("车辆详情").uid("hw-vehicle").tags(["hazardwatch"]).refresh("30s")
         .time("now-12h", "now").timezone("Asia/Shanghai")
         .with_variable(_var("vehicle", "车辆", 'SHOW TAG VALUES FROM ' + POSITIONS
                             + ' WITH KEY = "vehicle"')))
    mine = '"vehicle" =~ /^$vehicle$/ AND $timeFilter'
    d.with_panel(_pos(geomap.Panel().title("行驶轨迹").datasource(DS)
                      .view(geomap.MapViewConfig().id("fit"))
                      .layers([_markers("轨迹", None)])
                      .with_target(InfluxQL('SELECT "lat", "lon", "speed_kmh" AS "车速" FROM '
                                            + POSITIONS + " WHERE " + mine).table()
                                   .ref_id("A")), 0, 0, 12, 12))
    d.with_panel(_pos(timeseries.Panel().title("车速与限速（km/h）").datasource(DS).unit("velocitykmh")
                      .with_target(InfluxQL('SELECT mean("speed_kmh") AS "车速" FROM ' + POSITIONS
                                            + " WHERE " + mine
                                            + " GROUP BY time($__interval) fill(none)")
                                   .ref_id("A"))
                      .with_target(InfluxQL('SELECT max("threshold") AS "限速" FROM ' + WARNINGS
                                            + f" WHERE \"rule\" = '{RuleId.VEHICLE_OVERSPEED}' AND "
                                            + mine + " GROUP BY time($__interval) "
                                              "fill(previous)").ref_id("B")), 12, 0, 12, 6))
    d.with_panel(_pos(timeseries.Panel().title("连续驾驶时间（小时）").datasource(DS)
                      .with_target(InfluxQL('SELECT max("value") AS "连续驾驶" FROM ' + WARNINGS
                                            + " WHERE \"rule\" =~ /^vehicle\\.driving/ AND "
                                            + mine + " GROUP BY time($__interval) fill(none)")
                                   .ref_id("A")), 12, 6, 12, 6))
    d.with_panel(_pos(table.Panel().title("主动安全报警（含证据链接）").datasource(DS)
                      .with_target(InfluxQL('SELECT "family" AS "类别", "type" AS "类型", '
                                            '"media" AS "证据" FROM ' + VIDEO + " WHERE " + mine
                                            + " ORDER BY time DESC LIMIT 100").table()
                                   .ref_id("A")), 0, 12, 24, 8))
    return d


def drill_review() -> bd.Dashboard:
    """演练复盘: the warnings and notifications of drills on a timeline."""
    d = (bd.Dashboard("演练复盘").uid("hw-drill").tags(["hazardwatch", "drill"])
         .time("now-2d", "now").timezone("Asia/Shanghai"))
    d.with_panel(_pos(timeseries.Panel().title("演练预警时间线（按级别）").datasource(DS)
                      .with_target(InfluxQL(
                          'SELECT count("level_value") FROM ' + WARNINGS
                          + " WHERE \"drill\" = true AND \"transition\" <> 'cleared' AND "
                            "$timeFilter GROUP BY time($__interval), \"level\" fill(0)")
                          .alias("$tag_level 级").ref_id("A"))
                      .with_target(InfluxQL(
                          'SELECT count("drill") AS "通知" FROM ' + ACTIONS
                          + " WHERE \"action\" = 'notified' AND \"drill\" = true AND "
                            "$timeFilter GROUP BY time($__interval) fill(0)").ref_id("B")),
                      0, 0, 24, 8))
    d.with_panel(_pos(table.Panel().title("演练预警").datasource(DS).with_target(InfluxQL(
        'SELECT "level_value" AS "级别", "transition" AS "变化", "message" AS "预警内容" FROM '
        + WARNINGS + ' WHERE "drill" = true AND $timeFilter ORDER BY time DESC LIMIT 500')
        .table().ref_id("A")), 0, 8, 14, 12))
    d.with_panel(_pos(table.Panel().title("演练通知送达").datasource(DS).with_target(InfluxQL(
        'SELECT "receiver" AS "接收方", "delivery_id" AS "通知编号" FROM ' + ACTIONS
        + " WHERE \"action\" = 'notified' AND \"drill\" = true AND $timeFilter "
          "ORDER BY time DESC LIMIT 500").table().ref_id("A")), 14, 8, 10, 12))
    return d


def all_dashboards() -> list[bd.Dashboard]:
    """Every dashboard, in menu order."""
    return [duty_overview(), site_detail(), vehicle_detail(), drill_review(), assessment(DS)]
