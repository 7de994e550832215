"""Load and validate catalog YAML files, reporting every problem with file, line and entry."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import msgspec
import yaml

from hazardwatch.contracts.catalog.index import Catalog
from hazardwatch.contracts.catalog.model import Company, Site, Vehicle
from hazardwatch.contracts.yamlfile import Loader

SECTIONS: dict[str, type[msgspec.Struct]] = {"companies": Company, "sites": Site,
                                              "vehicles": Vehicle}


class CatalogError(ValueError):
    """The catalog is invalid; `problems` lists each one as 'file:line: entry: reason'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} catalog problem(s):\n" + "\n".join(problems))
        self.problems = problems


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def _lines(text: str) -> dict[str, list[int]]:
    """1-based line of each entry of each top-level section."""
    node = yaml.compose(text, Loader=Loader)
    out: dict[str, list[int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode):
                out[str(key.value)] = [item.start_mark.line + 1 for item in value.value]
    return out


def load_catalog(path: str | Path) -> Catalog:
    """Load a catalog file or folder; raise CatalogError naming every problem."""
    path = Path(path)
    problems: list[str] = []
    cat = Catalog()
    where: dict[tuple[str, str], str] = {}
    if not path.exists():
        raise CatalogError([f"{path}: no such file or folder"])
    files = _files(path)
    if not files:
        raise CatalogError([f"{path}: folder holds no .yaml file"])
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            doc = yaml.load(text, Loader=Loader)  # a safe loader
            lines = _lines(text)
        except yaml.YAMLError as exc:
            problems.append(f"{file}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{file}: top level must be a mapping with version and sections")
            continue
        if doc.get("version") != 1:
            problems.append(f"{file}: version must be 1, got {doc.get('version')!r}")
        for key in doc:
            if key != "version" and key not in SECTIONS:
                problems.append(f"{file}: unknown section {key!r} (known: {', '.join(SECTIONS)})")
        for section, model in SECTIONS.items():
            entries = doc.get(section) or []
            if not isinstance(entries, list):
                problems.append(f"{file}: {section} must be a list")
                continue
            for i, raw in enumerate(entries):
                line = lines.get(section, [])[i] if i < len(lines.get(section, [])) else 0
                label = _label(section, i, raw)
                loc = f"{file}:{line}: {label}"
                try:
                    entry = msgspec.convert(raw, type=model, strict=False)
                except msgspec.ValidationError as exc:
                    problems.append(f"{loc}: {exc}")
                    continue
                key = (section, entry.id)  # type: ignore[attr-defined]
                if key in where:
                    problems.append(f"{loc}: duplicate id, first defined at {where[key]}")
                    continue
                where[key] = loc
                problems += [f"{loc}: {p}" for p in _check(entry)]
                _add(cat, entry)
    phones: dict[str, str] = {}
    for vid, vehicle in cat.vehicles.items():
        if vehicle.terminal is not None:
            key = vehicle.terminal.phone.lstrip("0") or "0"  # the JT/T 808 look-up key
            if key in phones:
                problems.append(f"{where[('vehicles', vid)]}: terminal phone "
                                f"{vehicle.terminal.phone} is also vehicle {phones[key]}'s")
            phones[key] = vid
            cat.terminals.setdefault(key, vid)
        if vehicle.company not in cat.companies:
            problems.append(f"{where[('vehicles', vid)]}: company {vehicle.company!r} is not "
                            "defined in companies")
    if problems:
        raise CatalogError(problems)
    return cat


def _label(section: str, i: int, raw: Any) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"{section}[{i}]" + (f" (id {ident})" if ident else "")


def _add(cat: Catalog, entry: msgspec.Struct) -> None:
    if isinstance(entry, Site):
        cat.add_site(entry)
    elif isinstance(entry, Company):
        cat.companies[entry.id] = entry
    elif isinstance(entry, Vehicle):
        cat.vehicles[entry.id] = entry


def _check(entry: msgspec.Struct) -> list[str]:
    """Cross-field checks inside one entry."""
    if not isinstance(entry, Site):
        return []
    problems = []
    units = {u.id for u in entry.units}
    devices: set[str] = set()
    sensors: set[str] = set()
    if entry.gas_class is not None and entry.kind != "coal_mine":
        problems.append("gas_class is only for coal mines")
    for dev in entry.devices:
        if dev.id in devices:
            problems.append(f"devices: duplicate device id {dev.id!r}")
        devices.add(dev.id)
        if dev.kind == "camera" and dev.sensors:
            problems.append(f"devices[{dev.id}]: a camera has no sensors")
        for s in dev.sensors:
            at = f"devices[{dev.id}].sensors[{s.id}]"
            if s.id in sensors:
                problems.append(f"{at}: duplicate sensor id in this site")
            sensors.add(s.id)
            if s.plant_unit is not None and s.plant_unit not in units:
                problems.append(f"{at}.plant_unit: {s.plant_unit!r} is not in this site's units")
            if s.range is not None and not s.range[0] < s.range[1]:
                problems.append(f"{at}.range: minimum must be below maximum")
            if s.thresholds is not None:
                problems += [f"{at}.thresholds: {p}" for p in _check_thresholds(s.thresholds)]
    return problems


def _check_thresholds(t: Any) -> list[str]:
    order = [(n, getattr(t, n)) for n in ("ll", "l", "h", "hh") if getattr(t, n) is not None]
    out = []
    for (a, va), (b, vb) in itertools.pairwise(order):
        if not va < vb:
            out.append(f"{a} ({va}) must be below {b} ({vb})")
    if t.restore_h is not None and t.h is not None and not t.restore_h <= t.h:
        out.append(f"restore_h ({t.restore_h}) must not exceed h ({t.h})")
    if t.restore_l is not None and t.l is not None and not t.restore_l >= t.l:
        out.append(f"restore_l ({t.restore_l}) must not be below l ({t.l})")
    return out
