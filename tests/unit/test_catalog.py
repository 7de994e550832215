"""Catalog loading: the demo is valid; a bad catalog reports every problem with its place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import CatalogError, load_catalog

BAD = """\
version: 1
companies:
  - {id: c1, name: 公司, region: "150102"}
sites:
  - id: s1
    name: 储罐区
    kind: tank_farm
    grade: 7
    region: "150102"
    location: {lat: 40, lon: 111}
    people: {principal: {name: 张三}}
  - id: s2
    name: 储罐区2
    kind: oil_rig
    region: "15"
    location: {lat: 40, lon: 111}
    people: {principal: {name: 李四}}
  - id: s3
    name: 储罐区3
    kind: tank_farm
    grade: 2
    region: "150102"
    location: {lat: 40, lon: 111}
    people: {principal: {name: 王五}}
    units: [{id: T1, name: 1号罐, kind: tank}]
    devices:
      - id: gw
        sensors:
          - {id: A, metric: level, unit: m, plant_unit: T9}
          - {id: A, metric: level, unit: m, thresholds: {h: 10, hh: 5}}
vehicles:
  - {id: v1, plate: 蒙A1, class: hazmat, company: nobody}
  - {id: v1, plate: 蒙A2, class: coach, company: c1}
  - {id: v3, plate: 蒙A3, class: rocket, company: c1}
"""


def test_demo_catalog_has_every_source_kind_and_vehicle_class() -> None:
    cat = load_catalog("deploy/catalog/demo.yaml")
    assert {s.kind for s in cat.sites.values()} == {"tank_farm", "coal_mine", "tailings_dam"}
    assert {v.vehicle_class for v in cat.vehicles.values()} == {"hazmat", "coach", "tour_bus"}


def test_every_problem_is_reported_with_file_line_and_entry(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(BAD, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(f)
    problems = err.value.problems
    text = "\n".join(problems)
    assert f"{f}:5: sites[0] (id s1): Expected `int` <= 4 - at `$.grade`" in text
    assert f"{f}:12: sites[1] (id s2):" in text and "kind" in text
    assert "plant_unit: 'T9' is not in this site's units" in text
    assert "sensors[A]: duplicate sensor id" in text
    assert "h (10.0) must be below hh (5.0)" in text or "h (10) must be below hh (5)" in text
    first, second = (i + 1 for i, line in enumerate(BAD.splitlines()) if "{id: v1," in line)
    assert f"{f}:{second}: vehicles[1] (id v1): duplicate id, first defined at {f}:{first}" in text
    assert "vehicles[2] (id v3)" in text and "class" in text
    assert "company 'nobody' is not defined" in text
    assert len(problems) == 8


def test_validate_config_command_exits_nonzero_and_lists_problems(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(BAD, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hazardwatch", "validate-config", "--catalog",
                          str(f)], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "8 problem(s)" in out.stdout
    ok = subprocess.run([sys.executable, "-m", "hazardwatch", "validate-config"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "3 sites" in ok.stdout


def test_folder_of_files_is_merged_and_unknown_fields_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        'version: 1\ncompanies: [{id: c1, name: X, region: "150102"}]\n', encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "version: 1\nvehicles: [{id: v1, plate: P, class: coach, company: c1, colour: red}]\n",
        encoding="utf-8")
    with pytest.raises(CatalogError, match="unknown field `colour`"):
        load_catalog(tmp_path)


def test_terminal_phones_are_indexed_by_key_and_duplicates_are_an_error(tmp_path: Path) -> None:
    head = ('version: 1\ncompanies:\n  - {id: c1, name: 公司, region: "150102"}\nvehicles:\n'
            '  - {id: v1, plate: 蒙A1, class: coach, company: c1, '
            'terminal: {phone: "013800000001", terminal_id: T1}}\n')
    ok = tmp_path / "ok.yaml"
    ok.write_text(head, encoding="utf-8")
    assert load_catalog(ok).terminals == {"13800000001": "v1"}
    dup = tmp_path / "dup.yaml"
    dup.write_text(head + '  - {id: v2, plate: 蒙A2, class: coach, company: c1, '
                   'terminal: {phone: "13800000001"}}\n', encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(dup)
    assert any("terminal phone 13800000001 is also vehicle v1's" in p for p in err.value.problems)
