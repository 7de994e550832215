"""The administrative chain of a GB/T 2260 region code: county → city → province."""

from __future__ import annotations

ADMIN_ZH = {"enterprise": "企业", "county": "县级", "city": "市级", "province": "省级"}
ORDER = ("enterprise", "county", "city", "province")


def duty_of(region: str, admin: str) -> str:
    """The region code of the duty at an administrative level for a site in `region`."""
    if admin == "county":
        return region
    if admin == "city":
        return region[:4] + "00"
    if admin == "province":
        return region[:2] + "0000"
    return region


def next_admin(admin: str) -> str | None:
    """The level above (None above the province)."""
    i = ORDER.index(admin)
    return ORDER[i + 1] if i + 1 < len(ORDER) else None
