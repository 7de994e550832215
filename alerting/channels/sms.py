"""SMS as Chinese providers send it: a registered template and its parameters (the shape of the
common cloud SMS APIs: PhoneNumbers, SignName, TemplateCode, TemplateParam, OutId), every
parameter within the provider's length limit, a group summarised with the link to the list."""

from __future__ import annotations

import json
from typing import Any

from hazardwatch.alerting.channels.base import Message, Permanent, Retryable, Throttled, post_json
from hazardwatch.alerting.config import Channel, Gateways
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH

PARAM_MAX = 35  # characters per template variable (common provider limit for notices)
THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL", "LimitExceeded", "FailedOperation.PhoneNumberDailyLimit"}
PERMANENT_PREFIXES = ("isv.", "InvalidParameter", "UnauthorizedOperation", "FailedOperation")


def _cut(s: str, n: int = PARAM_MAX) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def template_params(m: Message) -> dict[str, str]:
    """The template variables of a (possibly grouped) notification: kind, level, where and
    what (the most urgent warning), how many, and the link (ack for one, full list for more)."""
    warnings: list[dict[str, Any]] = m.data.get("warnings", [])
    if not warnings:
        return {"kind": _cut(m.title), "level": "", "what": "", "count": "0", "link": ""}
    top = min(warnings, key=lambda w: int(w["level"]))
    links: list[str] = m.data.get("ack_links", [])
    link = links[0] if len(warnings) == 1 and links else str(m.data.get("list_link") or
                                                                 (links[0] if links else ""))
    head = m.title.split("】", 1)[0].lstrip("【").removeprefix("【演练")
    return {"kind": _cut(head), "level": LEVEL_NAMES_ZH.get(int(top["level"]), ""),
            "what": _cut(str(top.get("message", ""))), "count": str(len(warnings)),
            "link": link}


def summary_text(m: Message, limit: int = 500) -> str:
    """A plain SMS text within `limit` characters that never silently loses a warning."""
    p = template_params(m)
    more = f"等{p['count']}条" if p["count"] not in ("0", "1") else ""
    text = f"【{p['kind']}】{p['level']}{more}：{p['what']} 确认/详情：{p['link']}"
    return text if len(text) <= limit else text[: limit - len(p["link"]) - 1] + "…" + p["link"]


def send_sms(gw: Gateways, ch: Channel, m: Message) -> None:
    """Template SMS when `sms_template` is set, else a summary text to a plain HTTP gateway."""
    if m.data.get("drill"):
        raise Permanent("drill traffic never reaches SMS")
    if not gw.sms_url:
        raise Permanent("no SMS gateway configured")
    headers = {"Authorization": f"Bearer {gw.sms_token}"} if gw.sms_token else {}
    if gw.sms_template:
        body: dict[str, Any] = {
            "PhoneNumbers": ch.to, "SignName": gw.sms_sign, "TemplateCode": gw.sms_template,
            "TemplateParam": json.dumps(template_params(m), ensure_ascii=False),
            "OutId": m.delivery_id}
    else:
        body = {"to": ch.to, "text": summary_text(m), "id": m.delivery_id}
    classify(post_json(gw.sms_url, json.dumps(body, ensure_ascii=False).encode(), headers))


def classify(resp: object) -> None:
    """The provider's answer: {"Code": "OK"} (or no code: a plain gateway) is accepted."""
    code = resp.get("Code") if isinstance(resp, dict) else None
    if code in (None, "OK", "Ok"):
        return
    if code in THROTTLED:
        raise Throttled(f"sms provider: {code}")
    if str(code).startswith(PERMANENT_PREFIXES):
        raise Permanent(f"sms provider: {code}")
    raise Retryable(f"sms provider: {code}")
