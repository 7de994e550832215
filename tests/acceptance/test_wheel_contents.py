"""The built wheel: one import name (`hazardwatch`) and every default data file inside."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Files the installed services find through hazardwatch.resources.packaged(…): the checkout's
# deploy/ folder, shipped as hazardwatch/data.
DATA = ["rules/default.yaml", "rules/vehicles.yaml", "alerting/alerting.yaml",
        "catalog/demo.yaml", "kafka/pom.xml", "kafka/log4j.properties",
        *(f"scenarios/{p.name}" for p in sorted((ROOT / "deploy/scenarios").glob("*.yaml"))),
        "scenarios/workflow/drill.yaml",  # the combined drill's deadlines (seconds)
        *(f"grafana/dashboards/{p.name}"
          for p in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")))]


@pytest.fixture(scope="module")
def names(wheel: Path) -> list[str]:
    """Every file path in the wheel."""
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _dist_info(names: list[str]) -> str:
    (info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    return info


def test_only_hazardwatch_at_the_top_level(wheel: Path, names: list[str]) -> None:
    info = _dist_info(names)
    tops = {PurePosixPath(n).parts[0] for n in names} - {info}
    assert tops == {"hazardwatch"}, f"top-level names other than hazardwatch: {tops}"
    with zipfile.ZipFile(wheel) as z:
        top_level = z.read(f"{info}/top_level.txt").decode().split()
    assert top_level == ["hazardwatch"]


def test_subpackages_are_copies_not_links(names: list[str]) -> None:
    for pkg in ("ingest", "streams", "alerting", "simulators", "contracts", "dashboards"):
        assert f"hazardwatch/{pkg}/__init__.py" in names, pkg
    assert "hazardwatch/streams/worker/app.py" in names
    assert not any(n.startswith(("tests/", "bench/", "deploy/", "docs/")) for n in names)


def test_every_default_data_file_is_inside(names: list[str]) -> None:
    assert len(DATA) >= 15  # the globs above found the scenarios and dashboards
    missing = [d for d in DATA if f"hazardwatch/data/{d}" not in names]
    assert not missing, f"not shipped (add a pattern to [tool.setuptools.package-data]): {missing}"


def test_typed_markers_ship(names: list[str]) -> None:
    assert "hazardwatch/py.typed" in names  # mypy follows the installed package, strict


def test_the_duty_console_ships_its_page_and_vendored_assets(names: list[str]) -> None:
    for f in ("index.html", "console.js", "console.css", "vendor/leaflet/leaflet.js",
              "vendor/leaflet/leaflet.css", "vendor/leaflet/LICENSE",
              "vendor/leaflet/images/marker-icon.png"):
        assert f"hazardwatch/alerting/web/static/{f}" in names, f


def test_the_jt808_fast_path_ships_compiled_with_its_types(wheel: Path, names: list[str]) -> None:
    assert [n for n in names if n.startswith("hazardwatch/ingest/jt808/_fast.cpython-")], names
    assert "hazardwatch/ingest/jt808/_fast.pyi" in names
    assert "-cp311-" in wheel.name and not wheel.name.endswith("-any.whl"), wheel.name
