"""deploy/docker-compose.yml loaded by compose-go, the loader `docker compose` itself uses: the
schema holds, variables resolve from .env (made from .env.example as the guide says), anchors
merge, and the resolved command of every HazardWatch service parses with the real CLI.

There is no Docker engine or compose plugin here; `tests/composecheck` (Go, built from the Go
module proxy on first use, then from the module cache) prints what `docker compose config`
would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hazardwatch.cli import build_parser
from tests.deployfiles import DEPLOY, ROOT, env_example

SOURCE = ROOT / "tests/composecheck"


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists()
                                else None)
    assert go, "Go is not installed (deploy/setup.sh installs it)"
    return go


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The resolved compose project (JSON), from a copy of deploy/ with .env from the example."""
    tmp = tmp_path_factory.mktemp("compose")
    exe = tmp / "composecheck"
    res = subprocess.run([_go(), "build", "-o", str(exe), "."], cwd=SOURCE, capture_output=True,
                         text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    work = tmp / "deploy"
    work.mkdir()
    shutil.copy(DEPLOY / "docker-compose.yml", work)
    shutil.copy(DEPLOY / ".env.example", work / ".env")  # the guide's first step
    res = subprocess.run([str(exe), "docker-compose.yml", ".env"], cwd=work,
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, f"compose rejects the file:\n{res.stderr}"
    doc: dict[str, Any] = json.loads(res.stdout)
    doc["_dir"] = str(work)
    return doc


def test_the_resolved_commands_parse_with_the_real_cli(project: dict[str, Any]) -> None:
    ours = {n: s for n, s in project["services"].items() if s.get("image") == "hazardwatch:latest"}
    assert set(ours) == {"bridge", "jt808", "worker", "sink", "alerting", "mqtt-acl"}
    parser = build_parser()
    for name, svc in ours.items():
        assert svc.get("entrypoint") is None  # the image's ENTRYPOINT ["hazardwatch"]
        try:
            parser.parse_args(svc["command"])
        except SystemExit:
            pytest.fail(f"compose service {name}: `hazardwatch {' '.join(svc['command'])}`")
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        targets = {v["target"]: v for v in svc["volumes"]}
        assert targets["/etc/hazardwatch"]["read_only"] is True
        assert targets["/var/lib/hazardwatch"]["source"].endswith("/deploy/state")
        assert svc["environment"]["HW_ALERTING_HOST"] == "127.0.0.1"  # from .env


def test_every_service_is_on_the_host_network_and_variables_resolve(
        project: dict[str, Any]) -> None:
    env = env_example()
    for name, svc in project["services"].items():
        assert svc["network_mode"] == "host", name
        assert not svc.get("ports"), f"{name}: ports are meaningless on the host network"
    kafka = project["services"]["kafka"]["environment"]
    assert kafka["KAFKA_LISTENERS"] == (f"PLAINTEXT://127.0.0.1:{env['HW_KAFKA_PORT']},"
                                        f"CONTROLLER://127.0.0.1:{env['HW_KAFKA_CONTROLLER_PORT']}")
    grafana = project["services"]["grafana"]["environment"]
    assert grafana["GF_SERVER_ROOT_URL"] == f"https://{env['HW_PUBLIC_HOST']}/"
    assert project["services"]["proxy"]["environment"]["HW_PUBLIC_HOST"] == env["HW_PUBLIC_HOST"]
    assert project["services"]["mqtt-acl"]["profiles"] == ["setup"]


def test_bind_mounts_point_into_deploy(project: dict[str, Any]) -> None:
    work = Path(project["_dir"])
    for name, svc in project["services"].items():
        for vol in svc.get("volumes", []):
            if vol["type"] != "bind":
                continue
            rel = Path(vol["source"]).relative_to(work)
            assert rel.parts[0] in ("config", "state") or (DEPLOY / rel).exists(), (name, rel)
    for name, secret in project["secrets"].items():
        assert Path(secret["file"]).relative_to(work).parts[:2] == ("config", "secrets"), name
