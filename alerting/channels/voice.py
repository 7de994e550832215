"""Voice notification calls through an HTTP voice gateway in the shape of the common Chinese
cloud voice-notification APIs (CalledNumber, CalledShowNumber, TtsCode, TtsParam, PlayTimes,
OutId); the callee acknowledges by pressing 1, reported to POST /voice/callback."""

from __future__ import annotations

import json

from hazardwatch.alerting.channels.base import Message, Permanent, post_json
from hazardwatch.alerting.channels.sms import classify, template_params
from hazardwatch.alerting.config import Channel, Gateways


def send_voice(gw: Gateways, ch: Channel, m: Message) -> None:
    """Place one text-to-speech call (played twice) to the person's phone."""
    if m.data.get("drill"):
        raise Permanent("drill traffic never reaches a voice call")
    if not gw.voice_url:
        raise Permanent("no voice gateway configured")
    p = template_params(m)
    body = {"CalledNumber": ch.to, "CalledShowNumber": gw.voice_show_number,
            "TtsCode": gw.voice_template,
            "TtsParam": json.dumps({k: p[k] for k in ("level", "what", "count")},
                                   ensure_ascii=False),
            "PlayTimes": 2, "OutId": m.delivery_id}
    headers = {"Authorization": f"Bearer {gw.voice_token}"} if gw.voice_token else {}
    classify(post_json(gw.voice_url, json.dumps(body, ensure_ascii=False).encode(), headers))
