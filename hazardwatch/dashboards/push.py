"""Create the folder, the InfluxDB datasource and the dashboards in Grafana, idempotently."""

from __future__ import annotations

from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from hazardwatch.dashboards.build import DATASOURCE_UID

FOLDER_UID, FOLDER_TITLE = "hazardwatch", "重大危险源监测预警"


def datasource(influx_url: str, database: str) -> dict[str, Any]:
    """Grafana's InfluxDB datasource speaking InfluxQL (also in deploy/grafana/provisioning)."""
    return {"uid": DATASOURCE_UID, "name": "HazardWatch InfluxDB", "type": "influxdb",
            "access": "proxy", "url": influx_url, "database": database,
            "jsonData": {"httpMode": "POST", "version": "InfluxQL", "timeInterval": "10s"},
            "isDefault": True}


def _missing(exc: GrafanaClientError) -> bool:
    return getattr(exc, "status_code", None) == 404


def push(api: GrafanaApi, dashboards: list[dict[str, Any]], influx_url: str,
         database: str) -> list[str]:
    """Upsert folder, datasource and dashboards; returns what was done, one line each."""
    done = []
    try:
        api.folder.get_folder(FOLDER_UID)
        done.append(f"folder {FOLDER_UID}: exists")
    except GrafanaClientError as exc:
        if not _missing(exc):
            raise
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        done.append(f"folder {FOLDER_UID}: created")
    ds = datasource(influx_url, database)
    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        api.datasource.update_datasource_by_uid(DATASOURCE_UID, ds)
        done.append(f"datasource {DATASOURCE_UID}: updated")
    except GrafanaClientError as exc:
        if not _missing(exc):
            raise
        api.datasource.create_datasource(ds)
        done.append(f"datasource {DATASOURCE_UID}: created")
    for d in dashboards:
        api.dashboard.update_dashboard({"dashboard": {**d, "id": None}, "folderUid": FOLDER_UID,
                                        "overwrite": True, "message": "hazardwatch"})
        done.append(f"dashboard {d['uid']}: upserted")
    return done
