"""Files shipped inside the package: rule packs, alerting config, scenarios, catalog, Kafka pom.

In the checkout `hazardwatch/data` is a link to `deploy/`, the one place an operator reads and
edits them; the wheel carries a copy of the same files. A path given on the command line or in
the environment always wins over these defaults.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def packaged(*parts: str) -> Path:
    """The path of a file shipped under `hazardwatch/data` (the checkout's `deploy/`)."""
    path = files("hazardwatch").joinpath("data", *parts)
    if not isinstance(path, Path):  # a zip import: every installer unpacks wheels, we rely on it
        raise RuntimeError(f"hazardwatch must be installed unpacked to read {'/'.join(parts)}")
    return path
