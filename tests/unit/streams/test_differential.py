"""Differential replay (issue 20): the engines may change shape, never their output.

Every generated input (tests/fixtures/differential/generate.py: each built-in scenario's
offline replay, every bad input, 40,000 mixed lines of sites and vehicles) and every replay
fixture gives the committed golden stdout and stderr, byte for byte. The goldens come from
the code before a change; regenerate them from main when main's behaviour changes on purpose.
"""

from __future__ import annotations

import gzip
import json

import pytest

from tests.fixtures.differential.generate import (
    GOLDEN,
    bad_lines,
    input_files,
    player_lines,
    replay_file,
)

FILES = input_files()


def test_every_input_has_a_golden_and_the_mixed_input_is_40000_lines() -> None:
    assert {"mixed", "bad-inputs", "fixture-tank_leak", "scenario-combined"} <= set(FILES)
    assert sorted(p.stem for p in GOLDEN.glob("*.out")) == sorted(FILES)
    err = (GOLDEN / "mixed.err").read_text(encoding="utf-8")
    assert "replay: 40000 lines" in err


@pytest.mark.parametrize("name", sorted(FILES))
def test_replay_output_is_byte_identical_to_its_golden(name: str) -> None:
    out, err, code = replay_file(FILES[name])
    assert out == (GOLDEN / f"{name}.out").read_text(encoding="utf-8"), f"{name}: stdout differs"
    assert err == (GOLDEN / f"{name}.err").read_text(encoding="utf-8"), f"{name}: stderr differs"
    assert code == json.loads((GOLDEN / "exit-codes.json").read_text())[name]


def test_the_inputs_are_seeded() -> None:
    """The generator makes committed inputs again (the drill's traffic is seeded)."""
    for name, lines in (("scenario-tank_farm", player_lines("tank_farm")),
                        ("bad-inputs", bad_lines())):
        committed = gzip.decompress(FILES[name].read_bytes()).decode()
        assert committed == "\n".join(lines) + "\n"
