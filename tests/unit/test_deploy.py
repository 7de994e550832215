"""The production files CI cannot run (no Docker engine, no systemd): every command line parses
with the real CLI, every file a command names is mounted and has a template, every variable is
documented in .env.example, and the image holds the installed wheel only."""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from hazardwatch.cli import build_parser
from tests.deployfiles import (
    DEPLOY,
    ROOT,
    compose,
    compose_argv,
    copy_sources,
    dockerfile_stages,
    dump,
    env_example,
    mounts,
    units,
    variables,
)

CONFIG = PurePosixPath("/etc/hazardwatch")  # the operator's config/ folder, in both deployments
# files under config/ and where deploy/README.md has the operator copy them from
CONFIG_SOURCES = {"catalog.yaml": "catalog/demo.yaml", "alerting.yaml": "templates/alerting.yaml",
                  "rules/default.yaml": "rules/default.yaml",
                  "rules/vehicles.yaml": "rules/vehicles.yaml"}
SERVICES = {"bridge", "jt808", "worker", "sink", "alerting"}
GUIDE = (DEPLOY / "README.md").read_text(encoding="utf-8")


def parse(argv: list[str], where: str) -> argparse.Namespace:
    """The real CLI's parser on argv; an unknown option or a bad value fails the test."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: `hazardwatch {' '.join(argv)}` is rejected by the CLI")


def path_options(ns: argparse.Namespace, argv: list[str]) -> dict[str, PurePosixPath]:
    """Path-valued options given on the command line (defaults left out)."""
    return {k: PurePosixPath(str(v)) for k, v in vars(ns).items()
            if isinstance(v, Path) and str(v) in argv and str(v) != "-"}


def check_config_file(path: PurePosixPath, where: str) -> None:
    """A file under /etc/hazardwatch has a template in deploy/ that the guide copies."""
    assert CONFIG in path.parents, f"{where}: {path} is not in {CONFIG} (config/)"
    rel = str(path.relative_to(CONFIG))
    assert rel in CONFIG_SOURCES, f"{where}: no template for config/{rel}"
    src = CONFIG_SOURCES[rel]
    assert (DEPLOY / src).is_file(), src
    assert f"cp {src} config/{rel}" in GUIDE, f"deploy/README.md does not copy config/{rel}"


def ours(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compose services that run the HazardWatch image."""
    return {n: s for n, s in doc["services"].items() if s.get("image") == "hazardwatch:latest"}


def test_the_image_runs_the_installed_wheel_only() -> None:
    stages = dockerfile_stages()
    assert len(stages) == 2, "multi-stage: build the wheel, then install it"
    build, run = stages
    assert any("pip wheel" in r for r in build.all("RUN"))
    for src in copy_sources(build):
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
    assert not copy_sources(run), "the runtime stage copies files from the checkout"
    assert run.all("COPY") == [f"--from={build.name} /dist /tmp/dist"]
    assert any("pip install" in r and ".whl" in r for r in run.all("RUN"))
    assert run.all("ENTRYPOINT") == ['["hazardwatch"]']
    assert run.all("USER") == ["hazardwatch"]
    env = dict(kv.split("=", 1) for e in run.all("ENV") for kv in e.split())
    assert run.all("WORKDIR") == [env["HW_RUN_DIR"]]  # Faust's data dir is under the cwd
    assert env["HW_CATALOG"] == str(CONFIG / "catalog.yaml")


def test_compose_command_lines_parse_with_the_real_cli() -> None:
    doc = compose()
    services = ours(doc)
    assert set(services) == SERVICES | {"mqtt-acl"}
    assert doc["x-hw"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    for name, svc in services.items():
        argv = compose_argv(svc)
        ns = parse(argv, f"compose service {name}")
        assert ns.command == ("mqtt-acl" if name == "mqtt-acl" else name)
        mounted = mounts(svc)
        assert mounted[str(CONFIG)] == "./config" and mounted["/var/lib/hazardwatch"] == "./state"
        for opt, path in path_options(ns, argv).items():
            check_config_file(path, f"compose {name} --{opt}")


def test_every_service_names_its_catalog_and_config_explicitly() -> None:
    for name, svc in ours(compose()).items():
        argv = compose_argv(svc)
        given = set(path_options(parse(argv, name), argv))
        assert "catalog" in given, f"compose {name}: no --catalog"
        if name == "worker":
            assert {"rules", "vehicle_rules"} <= given  # the operator's edited copies
        if name == "alerting":
            assert "config" in given


def test_compose_mounts_exist_or_are_the_operators_documented_folders() -> None:
    doc = compose()
    for name, svc in doc["services"].items():
        for dst, src in mounts(svc).items():
            if not src.startswith("./"):
                assert src in doc["volumes"], f"{name}: volume {src} is not declared"
            elif src.startswith(("./config", "./state")):
                assert src.removeprefix("./") in GUIDE, f"{name}: {src} not in deploy/README.md"
            else:
                assert (DEPLOY / src).exists(), f"{name}: mounts {src} → {dst}, missing"
    for name, secret in doc["secrets"].items():
        rel = secret["file"].removeprefix("./")
        assert rel.startswith("config/secrets/"), f"secret {name}: {rel} is not in config/secrets/"
        assert re.search(rf"^  {Path(rel).name} ", GUIDE, re.M), f"{rel}: not in the guide's list"


def test_systemd_units_parse_with_the_real_cli_and_match_compose() -> None:
    found = units()
    assert {u.name for u in found} == {f"hazardwatch-{s}" for s in SERVICES}
    from_compose = {n: parse(compose_argv(s), n) for n, s in ours(compose()).items()}
    for unit in found:
        exe, *argv = unit.argv()
        assert exe == "/opt/hazardwatch/venv/bin/hazardwatch", unit.name
        ns = parse(argv, unit.name)
        for opt, path in path_options(ns, argv).items():
            check_config_file(path, f"{unit.name} --{opt}")
        same = {k: v for k, v in vars(ns).items() if k not in ("client_id", "func")}
        twin = {k: v for k, v in vars(from_compose[ns.command]).items()
                if k not in ("client_id", "func")}
        assert same == twin, f"{unit.name} differs from compose: {dump(same)} {dump(twin)}"
        assert unit.one("EnvironmentFile") == str(CONFIG / "hazardwatch.env")
        env = unit.environment()
        assert env["HW_CATALOG"] == str(CONFIG / "catalog.yaml")
        assert unit.one("WorkingDirectory") == env["HW_RUN_DIR"]
        assert env["HW_RUN_DIR"] in unit.one("ReadWritePaths").split()


def test_every_variable_the_deployment_files_use_is_documented_in_env_example() -> None:
    documented = env_example()
    texts = {p: p.read_text(encoding="utf-8") for p in [
        DEPLOY / "docker-compose.yml", DEPLOY / "Caddyfile", DEPLOY / "templates/alerting.yaml",
        *(DEPLOY / "grafana/provisioning").rglob("*.yaml")]}
    used = {(v, p.name) for p, t in texts.items() for v in variables(t)}
    used |= {(k, u.name) for u in units() for k in u.environment()}
    missing = sorted({f"{v} ({where})" for v, where in used if v not in documented})
    assert not missing, f"not documented in deploy/.env.example: {missing}"
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "hazardwatch").rglob("*.py"))
    for name in documented:  # a documented HW_ variable is one the code reads, or a template's
        if name.startswith("HW_") and name not in {v for v, _ in used}:
            assert name in code or name.removeprefix("HW_").lower() in code, name


def test_env_example_holds_no_secret_values() -> None:
    for name, value in env_example().items():
        if re.search(r"TOKEN|KEY|PASSWORD|SECRET|HOOK", name):
            assert value == "", f"{name} has a value in .env.example"


def test_the_guides_commands_parse_with_the_real_cli() -> None:
    runs = re.findall(r"^docker compose run --rm (?:-T )?(\S+) ?(.*)$", GUIDE, re.M)
    services = ours(compose())
    assert len(runs) >= 4
    for service, rest in runs:
        assert service in services, f"deploy/README.md runs unknown service {service}"
        if rest.split("#")[0].strip():
            argv = shlex.split(rest.split("#")[0].split("<")[0])
            for opt, path in path_options(parse(argv, f"deploy/README.md: {rest}"), argv).items():
                check_config_file(path, f"deploy/README.md --{opt}")


def test_the_guide_says_what_is_not_exercised_and_nothing_stale() -> None:
    assert "no Docker engine" in GUIDE
    assert "not yet safe" not in GUIDE and "run one" not in GUIDE  # hand-over is tested
    for line in ("HW_ALERTING_HOST", "Caddyfile", ".env.example", "templates/alerting.yaml",
                 "catalog/README.md"):
        assert line in GUIDE, line


def test_no_link_leaves_the_repository() -> None:
    outside = "../" + "shared/"
    hits = []
    for top in ("docs", "deploy", "hazardwatch", "ingest", "streams", "alerting", "simulators",
                "bench", "tests"):
        for p in (ROOT / top).rglob("*"):
            if p.suffix in (".md", ".py", ".yaml", ".yml", ".sh", ".service", ".toml") \
                    and p.is_file() and outside in p.read_text(encoding="utf-8", errors="replace"):
                hits.append(str(p.relative_to(ROOT)))
    assert not hits, f"links to files outside the repository: {hits}"


def _filled_config(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """config/ as the guide has the operator make it: the template, secret files, .env values."""
    cfg = tmp_path / "config"
    (cfg / "secrets").mkdir(parents=True)
    shutil.copy(DEPLOY / "templates/alerting.yaml", cfg / "alerting.yaml")
    text = (cfg / "alerting.yaml").read_text(encoding="utf-8")
    for name in re.findall(r"_file: secrets/(\w+)", text):
        (cfg / "secrets" / name).write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    env = {k: (v or secrets.token_hex(16)) for k, v in env_example().items()}
    env.update(HW_DRILL_DESK_HOST="drill.yjj.gov.cn", HW_SMTP_HOST="smtp.yjj.gov.cn",
               HW_SMTP_USER="hazardwatch", HW_SMTP_SENDER="hazardwatch@yjj.gov.cn",
               HW_SMS_GATEWAY_HOST="sms.yjj.gov.cn")
    return cfg / "alerting.yaml", env


def _check(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazardwatch", "alerting", "--check", "--config",
                           str(config), "--catalog", str(DEPLOY / "catalog/demo.yaml")],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **env})


def test_the_alerting_template_passes_check_with_secrets_from_env_and_files(
        tmp_path: Path) -> None:
    config, env = _filled_config(tmp_path)
    res = _check(config, env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "is valid" in res.stdout
    assert not any(v in res.stdout + res.stderr for k, v in env.items() if "TOKEN" in k)


def test_the_alerting_template_refuses_a_placeholder_or_a_missing_secret(
        tmp_path: Path) -> None:
    config, env = _filled_config(tmp_path)
    res = _check(config, {**env, "HW_API_TOKEN_DUTY": "change-me-please-now"})
    assert res.returncode == 1 and "placeholder" in res.stderr, res.stdout + res.stderr
    (config.parent / "secrets/link_secret").unlink()
    res = _check(config, env)
    assert res.returncode == 1 and "link_secret" in res.stderr, res.stdout + res.stderr


def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is not installed (deploy/setup.sh installs systemd)"
    here = shutil.which("hazardwatch") or str(Path(sys.executable).parent / "hazardwatch")
    for unit in (DEPLOY / "systemd").glob("*.service"):  # the installed binary stands in
        text = unit.read_text(encoding="utf-8")
        (tmp_path / unit.name).write_text(
            text.replace("/opt/hazardwatch/venv/bin/hazardwatch", here), encoding="utf-8")
    units_ = sorted(str(p) for p in tmp_path.glob("*.service"))
    res = subprocess.run([tool, "verify", *units_], capture_output=True, text=True, timeout=120,
                         check=False)
    assert len(units_) == len(SERVICES)
    assert res.returncode == 0 and not res.stderr.strip(), res.stdout + res.stderr
