"""Receivers → the people on duty now and the channels to reach them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hazardwatch.alerting.config import AlertingConfig, Channel, Receiver
from hazardwatch.clock import LocalClock, in_window, minutes
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import WarningRecord


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person on one channel."""

    receiver: str
    person: str
    channel: Channel

    @property
    def key(self) -> str:
        """Stable ASCII id of this person-channel (delivery ids, dedup, rate limits)."""
        raw = f"{self.receiver}/{self.person}/{self.channel.type}/{self.channel.to or ''}"
        digest = hashlib.sha1(raw.encode()).hexdigest()[:10]
        return f"{self.receiver}.{self.channel.type}.{digest}"


class Directory:
    """Resolves receivers using the config, the catalog and the local time."""

    def __init__(self, cfg: AlertingConfig, catalog: Catalog) -> None:
        self.cfg, self.catalog = cfg, catalog
        self.people = {p.id: p for p in cfg.people}
        self.receivers = {r.id: r for r in cfg.receivers}
        self.clock = LocalClock(cfg.timezone)
        self.names = {p.name for p in cfg.people}
        self.phones = {p.name: ch.to for p in cfg.people for ch in p.channels
                       if ch.type == "sms" and ch.to}
        for site in catalog.sites.values():
            for x in (site.people.principal, site.people.technical, site.people.operator):
                if x is not None:
                    self.names.add(x.name)
                    if x.phone:
                        self.phones.setdefault(x.name, x.phone)
        for company in catalog.companies.values():
            for x in company.monitors:
                self.names.add(x.name)
                if x.phone:
                    self.phones.setdefault(x.name, x.phone)

    def phone(self, person: str) -> str | None:
        """The person's mobile number for SMS and voice fallback, if known."""
        return self.phones.get(person)

    def known(self, person: str) -> bool:
        """Whether a name (as printed in an acknowledgement link) is somebody we notify."""
        return person in self.names

    def recipients(self, receiver_id: str, w: WarningRecord, now: int) -> list[Recipient]:
        """Everyone a receiver stands for at `now`, on each of their channels."""
        r = self.receivers[receiver_id]
        if w.drill and not r.drill:
            return []  # belt and braces: drill traffic never reaches a real recipient
        out = [Recipient(r.id, self.people[p].name, ch) for p in self._people(r, now)
               for ch in self.people[p].channels]
        return out + self._catalog_people(r, w)

    def _people(self, r: Receiver, now: int) -> list[str]:
        ids = list(r.people)
        minute = self.clock.minute_of_day(now)
        for s in r.shifts:
            if in_window(minute, (minutes(s.start), minutes(s.end))):
                ids += s.people
        return ids

    def _catalog_people(self, r: Receiver, w: WarningRecord) -> list[Recipient]:
        people = []
        if r.site_role and w.site_id in self.catalog.sites:
            p = getattr(self.catalog.sites[w.site_id].people, r.site_role)
            if p is not None:
                people.append(p)
        if r.company_monitors and w.vehicle_id in self.catalog.vehicles:
            company = self.catalog.companies[self.catalog.vehicles[w.vehicle_id].company]
            people += company.monitors
        out = []
        for p in people:
            for t in r.role_channels:
                to = p.phone if t == "sms" else p.email if t == "email" else None
                if to:
                    out.append(Recipient(r.id, p.name, Channel(type=t, to=to)))
        return out
