"""Where each value of a YAML document is: path (keys and indexes) → 1-based line."""

from __future__ import annotations

import re

import yaml

from hazardwatch.contracts.yamlfile import Loader

Path_ = tuple[str | int, ...]
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def line_map(text: str) -> dict[Path_, int]:
    """Every mapping value and sequence item by its path."""
    out: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                out[(*path, str(k.value))] = k.start_mark.line + 1
                walk(v, (*path, str(k.value)))
                out[(*path, str(k.value))] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return out
    if root is not None:
        walk(root, ())
    return out


def line_of(lines: dict[Path_, int], path: Path_) -> int:
    """The line of the path, or of its nearest known parent (1 when nothing is known)."""
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def parse_path(dollar: str) -> Path_:
    """msgspec's '$.people[0].channels[1].url' → ('people', 0, 'channels', 1, 'url')."""
    return tuple(int(i) if i else str(k) for k, i in _STEP.findall(dollar.removeprefix("$")))
