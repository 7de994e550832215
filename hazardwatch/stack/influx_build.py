"""Which `influxd` runs: 1.8.x built once from the Go module proxy into a user cache, or 1.6.

InfluxDB 1.8 is not packaged by Debian, so `go install …/cmd/influxd@v1.8.x` builds it (3 to 7
minutes the first time on 2 cores, seconds once the Go caches are warm) into
`~/.cache/hazardwatch/influxdb-1.8.x/bin/influxd`, outside the checkout, so that a fresh clone
on the same machine reuses it. `1.6` selects the Debian package's `/usr/bin/influxd`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from hazardwatch.stack.errors import StackError

DEFAULT_VERSION = "1.8.3"
DEBIAN_VERSION = "1.6"
DEBIAN_BINARY = Path("/usr/bin/influxd")
MODULE = "github.com/influxdata/influxdb/cmd/influxd"
_SUPPORTED = re.compile(r"1\.8\.\d{1,2}")


def check_version(version: str) -> None:
    """Accept `1.6` (Debian) or a 1.8 release such as `1.8.3`; anything else is refused."""
    if version != DEBIAN_VERSION and not _SUPPORTED.fullmatch(version):
        raise StackError(f"influxdb: HW_INFLUX_VERSION={version!r} is not supported; use "
                         f"{DEFAULT_VERSION} (built from the Go module proxy, the default) or "
                         f"{DEBIAN_VERSION} (the Debian package)")


def cache_dir(env: dict[str, str] | None = None) -> Path:
    """`HW_CACHE_DIR`, else `$XDG_CACHE_HOME/hazardwatch`, else `~/.cache/hazardwatch`."""
    env = dict(os.environ) if env is None else env
    if env.get("HW_CACHE_DIR"):
        return Path(env["HW_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hazardwatch"


def binary(version: str) -> Path:
    """Where the influxd of this version is (or will be after `build`)."""
    check_version(version)
    if version == DEBIAN_VERSION:
        return DEBIAN_BINARY
    return cache_dir() / f"influxdb-{version}" / "bin" / "influxd"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(version: str, say: Callable[[str], None] = print) -> Path:
    """The influxd of this version, built with `go install` unless it is there; idempotent.

    A file lock lets two `stack up` or setup runs share one build; the binary appears
    atomically, so an interrupted build leaves nothing half-written behind.
    """
    target = binary(version)
    if version == DEBIAN_VERSION or target.is_file():
        return target
    go = shutil.which("go") or next((g for g in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")
                                     if Path(g).is_file()), None)
    if go is None:
        raise StackError(f"influxdb: InfluxDB {version} is built from the Go module proxy and "
                         "needs Go: install the Debian package 'golang-go' (`make setup` does "
                         f"it), or choose HW_INFLUX_VERSION={DEBIAN_VERSION}")
    with _locked(target.parent.parent / ".lock"):
        if target.is_file():
            return target
        say(f"influxdb: building InfluxDB {version} with `go install {MODULE}@v{version}` "
            f"into {target.parent} (first time only: about 3 minutes on 2 cores, cold caches)")
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(dir=target.parent.parent) as tmp:
            env = {**os.environ, "GOBIN": tmp}
            argv = [go, "install", f"-ldflags=-X main.version={version}", f"{MODULE}@v{version}"]
            proc = subprocess.run(argv, env=env,
                                  capture_output=True, text=True, check=False)
            built = Path(tmp) / "influxd"
            if proc.returncode != 0 or not built.is_file():
                raise StackError(f"influxdb: building InfluxDB {version} failed (exit "
                                 f"{proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(built, target)
        say(f"influxdb: built InfluxDB {version} in {time.monotonic() - t0:.0f} s")
    return target
