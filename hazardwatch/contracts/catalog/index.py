"""Fast look-ups over a validated catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

from hazardwatch.contracts.catalog.model import Company, Device, Sensor, Site, Vehicle


@dataclass
class Catalog:
    """Sites, devices, sensors, companies and vehicles with indexes by id."""

    sites: dict[str, Site] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    devices: dict[tuple[str, str], Device] = field(default_factory=dict)
    sensors: dict[tuple[str, str], tuple[Device, Sensor]] = field(default_factory=dict)
    terminals: dict[str, str] = field(default_factory=dict)  # JT/T 808 phone key → vehicle id

    def add_site(self, site: Site) -> None:
        """Index a site with its devices and sensors (sensor ids are unique per site)."""
        self.sites[site.id] = site
        for dev in site.devices:
            self.devices[(site.id, dev.id)] = dev
            for sensor in dev.sensors:
                self.sensors[(site.id, sensor.id)] = (dev, sensor)
