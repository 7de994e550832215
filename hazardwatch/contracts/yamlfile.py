"""YAML configuration files read into validated msgspec types."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import msgspec
import yaml

# libyaml's loader: the pure-Python one needs ~45 s for a catalog of 700 sites of 40 sensors
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
T = TypeVar("T")


def load_yaml(path: Path, into: type[T], *, strict: bool = True) -> T:
    """The file as `into`; ValueError naming the file and the first problem."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # a safe loader
        return msgspec.convert(data, into, strict=strict)
    except (msgspec.ValidationError, yaml.YAMLError, OSError) as exc:
        raise ValueError(f"{path}: {exc}") from None
