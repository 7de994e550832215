"""`hazardwatch jt808 decode`: a file or stdin of hex lines → one JSON line per frame."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hazardwatch.cli import main


def test_decode_prints_one_line_per_frame_and_exits_1_on_a_rejection(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "frames.txt"
    src.write_text("# a capture\n"
                   "7E 00 02 00 00 01 23 45 67 89 00 00 0A 81 7E\n"
                   "00020000012345678900000A81\n"          # no flags
                   "7e000200000123456789000 00A827e\n"     # check code off by one
                   "zz\n", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["jt808", "decode", str(src)])
    assert done.value.code == 1
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [ln.get("rejected") for ln in lines] == [None, None, "bad_check", "not_hex"]
    assert lines[0]["phone"] == lines[1]["phone"] == "012345678900"


def test_decode_reads_stdin(monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("7e0002000004304832546500b7ca7e\n"))
    with pytest.raises(SystemExit) as done:
        main(["jt808", "decode"])
    assert done.value.code == 0
    assert json.loads(capsys.readouterr().out)["serial"] == 183


def test_simulate_writes_a_valid_fleet_catalog(tmp_path: Path) -> None:
    from hazardwatch.contracts.catalog import load_catalog

    out = tmp_path / "fleet.yaml"
    with pytest.raises(SystemExit) as done:
        main(["jt808", "simulate", "--terminals", "5", "--catalog-out", str(out)])
    assert done.value.code == 0
    cat = load_catalog(out)
    assert len(cat.terminals) == 5 and cat.terminals["14700000004"] == "jt-00004"
