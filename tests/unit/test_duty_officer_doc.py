"""docs/duty-officer.md quotes the Chinese texts exactly as the code sends them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import msgspec

from hazardwatch.alerting.state import Alert
from hazardwatch.alerting.texts import COLOUR_HEX, HEAD, body, title
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH, WarningRecord, decode_warning

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/duty-officer.md").read_text(encoding="utf-8")
LINK = "https://hw.yjj.gov.cn/ack/d2Y6dGYtaG9o…"


def _warnings() -> list[WarningRecord]:
    out = subprocess.run([sys.executable, "-m", "hazardwatch", "replay",
                          str(ROOT / "tests/fixtures/replay/tank_leak.jsonl")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return [decode_warning(line.encode()) for line in out.splitlines()]


def _alert(w: WarningRecord) -> Alert:
    return Alert(warning=w, route="r", opened_at=w.ts, level=w.level, level_at=w.ts)


def test_levels_kinds_and_colours_are_quoted_as_the_code_has_them() -> None:
    for level, name in LEVEL_NAMES_ZH.items():
        assert f"`{name}`" in DOC and COLOUR_HEX[level] in DOC, name
    for head in HEAD.values():
        assert f"`【{head}】`" in DOC, head


def test_the_sample_notification_and_warning_lines_are_what_the_code_renders() -> None:
    ws = _warnings()
    combo = next(w for w in ws if w.rule == "combo.tank.gas_and_heat")
    sample = body("alert", [_alert(combo)], [LINK], "Asia/Shanghai", markdown=False)
    assert f"```\n{sample}\n```" in DOC
    for w in ws[0], ws[1], ws[6], ws[-1]:  # raised, upgraded, cleared, offline
        assert f"\n{w.message}\n" in DOC, w.message
    drill = msgspec.structs.replace(combo, drill=True)
    assert f"`{title('alert', [_alert(drill)])}`" in DOC


def test_every_ack_page_text_and_api_answer_is_quoted() -> None:
    api = (ROOT / "alerting/web/acklink.py").read_text(encoding="utf-8")
    pages = re.findall(r'_page\(\d+, f?"([^"]+)"', api)
    assert len(pages) >= 7
    for text in pages:
        text = re.sub(r"\{a\.acked_by\}", "<who>", text)
        text = re.sub(r"\{at:[^}]*\}", "<time>", text)
        text = text.replace("{len(rows)}", "<n>")
        assert f"`{text}`" in DOC, text
    assert "确认收到" in api and "`确认收到`" in DOC
    routes = (ROOT / "alerting/web/api_routes.py").read_text(encoding="utf-8")
    (resolve_error,) = re.findall(r'BadRequest\("(处置[^"]+)"\)', routes)
    assert f"`{resolve_error}`" in DOC
    texts = (ROOT / "alerting/texts.py").read_text(encoding="utf-8")
    assert "已由{a.acked_by}确认，尚未反馈处置结果" in texts
    assert "`已由<who>确认，尚未反馈处置结果`" in DOC




def test_the_reader_guides_link_only_to_files_in_the_repository() -> None:
    for doc in ("docs/README.md", "docs/duty-officer.md", "deploy/README.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path = ((ROOT / doc).parent / target).resolve()
            assert ROOT in path.parents, f"{doc}: {target} leaves the repository"
            assert path.exists(), f"{doc}: {target} does not exist"
