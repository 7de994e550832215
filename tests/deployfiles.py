"""Readers for the deployment files CI cannot run: Dockerfile, compose, systemd units, env file."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\{\$([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Stage:
    """One stage of a Dockerfile: its name and its instructions as (keyword, argument)."""

    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        """The arguments of every instruction with this keyword."""
        return [arg for kw, arg in self.instructions if kw == keyword]


def dockerfile_stages(path: Path = DEPLOY / "Dockerfile") -> list[Stage]:
    """The stages in order (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kw, _, arg = line.partition(" ")
        kw = kw.upper()
        if kw == "FROM":
            parts = arg.split()
            stages.append(Stage(parts[2] if len(parts) == 3 and parts[1].upper() == "AS"
                                else None))
        stages[-1].instructions.append((kw, arg.strip()))
    return stages


def copy_sources(stage: Stage) -> list[str]:
    """Context paths a stage copies (`COPY src… dest`), not those `--from` another stage."""
    out: list[str] = []
    for arg in stage.all("COPY"):
        parts = arg.split()
        if any(p.startswith("--from") for p in parts):
            continue
        out += [p.rstrip("/") for p in parts[:-1] if not p.startswith("--")]
    return out


def env_example(path: Path = DEPLOY / ".env.example") -> dict[str, str]:
    """Every variable .env.example documents (set or commented out) and its example value."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(\S*)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def variables(text: str) -> set[str]:
    """Names used as `${NAME}`, `${NAME:-default}` (compose, configs) or `{$NAME}` (Caddy)."""
    return {m.group(1) or m.group(3) for m in VAR.finditer(text)}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style substitution: the value, else the default, else empty."""
    return VAR.sub(lambda m: env.get(m.group(1) or m.group(3) or "") or m.group(2) or "", text)


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml with variables substituted from .env.example (merge keys applied)."""
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(interpolate(text, env or env_example()))
    return doc


def compose_argv(service: dict[str, Any]) -> list[str]:
    """The `hazardwatch` arguments of a service built from our image (entrypoint hazardwatch)."""
    return [str(x) for x in service["command"]]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → host path (`./…` relative to deploy/, or a named volume)."""
    out = {}
    for vol in service.get("volumes", []):
        src, dst = str(vol).split(":")[:2]
        out[dst] = src
    return out


@dataclass(frozen=True)
class Unit:
    """A systemd unit's [Service] settings that matter here."""

    name: str
    settings: dict[str, list[str]]

    def one(self, key: str) -> str:
        """The single value of a setting."""
        (value,) = self.settings[key]
        return value

    def argv(self) -> list[str]:
        """ExecStart split like systemd does, specifiers filled in (%H: the host name)."""
        return shlex.split(self.one("ExecStart").replace("%H", "host"))

    def environment(self) -> dict[str, str]:
        """The `Environment=` assignments."""
        pairs = [p.split("=", 1) for v in self.settings.get("Environment", [])
                 for p in shlex.split(v)]
        return {k: v for k, v in pairs}


def units() -> list[Unit]:
    """Every unit in deploy/systemd/."""
    out = []
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        settings: dict[str, list[str]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                key, value = line.split("=", 1)
                settings.setdefault(key.strip(), []).append(value.strip())
        out.append(Unit(path.stem, settings))
    return out


def dump(x: object) -> str:
    """Readable form for assertion messages."""
    return json.dumps(x, ensure_ascii=False, default=str)
