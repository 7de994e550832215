"""No function in streams/ above cyclomatic complexity 15 (radon; issue 20): a rule is read
and changed in small pieces. Also run by `make lint`."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

LIMIT = 15
STREAMS = Path(__file__).resolve().parents[2] / "streams"


def offenders(root: Path = STREAMS, limit: int = LIMIT) -> list[str]:
    """'file:line name (complexity)' of every function above the limit."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            for b in [block, *getattr(block, "methods", [])]:
                if b.complexity > limit:
                    out.append(f"{path.relative_to(root.parent)}:{b.lineno} {b.fullname} "
                               f"({b.complexity})")
    return out


def test_no_function_in_streams_is_above_complexity_15() -> None:
    assert offenders() == []


def test_the_check_finds_a_complex_function(tmp_path: Path) -> None:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(16))
    (tmp_path / "m.py").write_text(f"def f(x):\n{branches}\n    return -1\n")
    assert offenders(tmp_path) == [f"{tmp_path.name}/m.py:1 f (17)"]
