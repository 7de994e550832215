"""Every rule kind in one table: the site kinds and the vehicle kinds, by the subject they take.

A site kind compiles for a site from the catalog and the rule pack
(streams/rules/kinds/base.py); a vehicle kind is built from the catalog and the vehicle rules
and takes each vehicle's records and ticks (streams/vehicles/kinds/base.py). Adding a kind:
its module and one line in its subject's table (streams/rules/kinds/__init__.py or
streams/vehicles/kinds/__init__.py); it is listed here from there.
"""

from __future__ import annotations

from typing import Literal

from hazardwatch.streams.rules.kinds import KINDS as SITE_KINDS
from hazardwatch.streams.vehicles.kinds import KINDS as VEHICLE_KINDS

Subject = Literal["site", "vehicle"]


def kind_names() -> list[tuple[Subject, str]]:
    """(subject, kind name) of every registered kind, sites first, in evaluation order."""
    sites: list[tuple[Subject, str]] = [
        ("site", getattr(k, "name", getattr(k, "__name__", repr(k)))) for k in SITE_KINDS]
    return sites + [("vehicle", k.name) for k in VEHICLE_KINDS]


__all__ = ["SITE_KINDS", "VEHICLE_KINDS", "Subject", "kind_names"]
