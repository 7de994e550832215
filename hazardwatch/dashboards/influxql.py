"""An InfluxQL query type for grafana-foundation-sdk (the SDK has none for InfluxDB)."""

from __future__ import annotations

from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants

Format = Literal["time_series", "table"]


class InfluxQLQuery(cogvariants.Dataquery):
    """A raw InfluxQL query of Grafana's built-in InfluxDB datasource."""

    def __init__(self, query: str, ref_id: str | None = None, hide: bool | None = None,
                 result_format: Format = "time_series", alias: str | None = None) -> None:
        self.query, self.ref_id, self.hide = query, ref_id, hide
        self.result_format, self.alias = result_format, alias

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it."""
        out: dict[str, object] = {"query": self.query, "rawQuery": True,
                                  "resultFormat": self.result_format}
        if self.ref_id is not None:
            out["refId"] = self.ref_id
        if self.hide is not None:
            out["hide"] = self.hide
        if self.alias is not None:
            out["alias"] = self.alias
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse a stored target."""
        return cls(str(data.get("query", "")), data.get("refId"), data.get("hide"),
                   data.get("resultFormat", "time_series"), data.get("alias"))


class InfluxQL(builder.Builder[cogvariants.Dataquery]):
    """Builder: `InfluxQL('SELECT …').ref_id('A').table()`."""

    def __init__(self, query: str) -> None:
        self._q = InfluxQLQuery(query)

    def ref_id(self, ref_id: str) -> Self:
        """The target's letter."""
        self._q.ref_id = ref_id
        return self

    def table(self) -> Self:
        """Table result format (for tables and the geomap)."""
        self._q.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        """Series alias (may use $tag_x)."""
        self._q.alias = alias
        return self

    def build(self) -> InfluxQLQuery:
        """The query object."""
        return self._q


def register() -> None:
    """Let the SDK parse stored InfluxDB targets back into InfluxQLQuery."""
    cogruntime.register_dataquery_variant(cogruntime.DataqueryConfig(
        identifier="influxdb", from_json_hook=InfluxQLQuery.from_json))
