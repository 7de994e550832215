"""The built wheel and a fresh virtual environment with it installed, outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deployfiles import copy_sources, dockerfile_stages

ROOT = Path(__file__).resolve().parents[2]


def _source_files() -> list[str]:
    """What the Dockerfile's build stage copies from a fresh clone (plus uncommitted work)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    wanted = copy_sources(dockerfile_stages()[0])
    return [p for p in out.decode().split("\0")
            if p and any(p == w or p.startswith(w + "/") for w in wanted)]


def _copy_sources(dest: Path) -> None:
    """Copy the source files, keeping links (hazardwatch/ingest → ../ingest …) as links."""
    for rel in _source_files():
        src, dst = ROOT / rel, dest / rel
        if not src.is_symlink() and not src.exists():
            continue  # deleted in the work tree, not yet in the index
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built once per session from the files the image's build stage gets."""
    base = tmp_path_factory.mktemp("wheel")
    src, out = base / "src", base / "dist"
    _copy_sources(src)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                          str(out), str(src)], capture_output=True, text=True, timeout=600,
                         check=False)
    assert res.returncode == 0, f"building the wheel failed:\n{res.stdout}\n{res.stderr}"
    (built,) = out.glob("hazardwatch-*.whl")
    return built


@dataclass(frozen=True)
class Installed:
    """A virtual environment outside the checkout with the wheel and its dependencies."""

    venv: Path
    cwd: Path  # an empty folder outside the checkout to run commands from
    env: dict[str, str]

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a program of the environment (`hazardwatch`, `python`) from `cwd`."""
        exe = self.venv / "bin" / argv[0]
        return subprocess.run([str(exe), *argv[1:]], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`python -m venv`, `pip install WHEEL` (dependencies from the index, as an operator does)."""
    base = tmp_path_factory.mktemp("installed")
    assert ROOT not in base.parents, "the environment must live outside the checkout"
    venv, cwd = base / "venv", base / "cwd"
    cwd.mkdir()
    python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    res = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
                         capture_output=True, text=True, timeout=900, check=False)
    assert res.returncode == 0, f"installing the wheel failed:\n{res.stdout}\n{res.stderr}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HW_", "PYTHON", "VIRTUAL_ENV"))}  # nothing points back here
    env.update(PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
               HW_RUN_DIR=str(base / "run"))
    return Installed(venv, cwd, env)
