"""考核指标 dashboard: the assessment figures written by `hazardwatch kpis` (docs/kpis.md)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as bd
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.cog import builder
from grafana_foundation_sdk.models import dashboard as md

from hazardwatch.dashboards.influxql import InfluxQL

KPI = '"events_1096d"."kpi"'
PanelBuilder = builder.Builder[md.Panel]


def _pos(panel: PanelBuilder, x: int, y: int, w: int, h: int) -> PanelBuilder:
    panel.grid_pos(md.GridPos(h=h, w=w, x=x, y=y))  # type: ignore[attr-defined]
    return panel


def _where(figure: str, scope: str, period: str = "day") -> str:
    return (f"\"figure\" = '{figure}' AND \"scope\" = '{scope}' AND \"period\" = '{period}' "
            "AND \"drill\" =~ /^$drill$/ AND $timeFilter")


def assessment(ds: md.DataSourceRef) -> bd.Dashboard:
    """考核指标: totals, per site / company / region over days, per shift, times per level."""
    place = _pos
    d = (bd.Dashboard("考核指标").uid("hw-kpi").tags(["hazardwatch", "kpi"])
         .time("now-30d", "now").timezone("Asia/Shanghai")
         .with_variable(bd.QueryVariable("drill").label("演练数据").datasource(ds)
                        .query(f'SHOW TAG VALUES FROM {KPI} WITH KEY = "drill"')
                        .refresh(md.VariableRefresh.ON_TIME_RANGE_CHANGED).include_all(False)))
    totals = [("online_rate_point", "在线率(测点)"), ("online_rate_device", "在线率(设备)"),
              ("access_rate", "接入率"), ("data_valid_rate", "数据合格率"),
              ("handled_rate", "报警处置率"), ("handled_in_time_rate", "及时处置率"),
              ("false_alarm_share", "误报占比"), ("vehicle_online_rate", "上线率"),
              ("track_complete_rate", "轨迹完整率"), ("drift_rate", "漂移率")]
    for i, (figure, name) in enumerate(totals):
        d.with_panel(place(stat.Panel().title(f"{name}（最近一天）").datasource(ds)
                           .unit("percent").decimals(2)
                           .with_target(InfluxQL(f'SELECT last("value") * 100 AS "{name}" FROM '
                                                 f"{KPI} WHERE " + _where(figure, "all"))
                                        .ref_id("A")), (i % 4) * 6, (i // 4) * 4, 6, 4))
    for j, (figure, name, scope) in enumerate([("online_rate_point", "在线率(测点)", "site"),
                                               ("handled_rate", "报警处置率", "region"),
                                               ("track_complete_rate", "轨迹完整率", "company")]):
        d.with_panel(place(timeseries.Panel().title(f"{name}（按{_ZH[scope]}，每天）")
                           .datasource(ds).unit("percent")
                           .with_target(InfluxQL(f'SELECT "value" * 100 FROM {KPI} WHERE '
                                                 + _where(figure, scope) + ' GROUP BY "id"')
                                        .alias("$tag_id").ref_id("A")), j * 8, 12, 8, 8))
    d.with_panel(place(table.Panel().title("各场所考核指标（所选时段内最近一天）").datasource(ds)
                       .with_target(InfluxQL(
                           f'SELECT last("value") AS "值" FROM {KPI} WHERE "scope" = \'site\' '
                           "AND \"period\" = 'day' AND \"drill\" =~ /^$drill$/ AND $timeFilter "
                           'GROUP BY "id", "figure"').table().ref_id("A")), 0, 20, 12, 10))
    d.with_panel(place(table.Panel().title("各班次指标").datasource(ds)
                       .with_target(InfluxQL(
                           f'SELECT "value" AS "值", "num" AS "分子", "den" AS "分母" FROM {KPI} '
                           "WHERE \"scope\" = 'all' AND \"period\" = 'shift' AND "
                           "\"drill\" =~ /^$drill$/ AND $timeFilter GROUP BY \"figure\"")
                           .table().ref_id("A")), 12, 20, 12, 10))
    d.with_panel(place(timeseries.Panel().title("签收与处置时长P90（秒，按级别）").datasource(ds)
                       .unit("s")
                       .with_target(InfluxQL(f'SELECT "value" FROM {KPI} WHERE '
                                             + _where("ack_p90_s", "all") + ' GROUP BY "level"')
                                    .alias("签收 $tag_level 级").ref_id("A"))
                       .with_target(InfluxQL(f'SELECT "value" FROM {KPI} WHERE '
                                             + _where("handle_p90_s", "all")
                                             + ' GROUP BY "level"')
                                    .alias("处置 $tag_level 级").ref_id("B")), 0, 30, 24, 8))
    return d


_ZH = {"site": "场所", "region": "地区", "company": "企业"}
