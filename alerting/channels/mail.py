"""E-mail over SMTP (STARTTLS when configured)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from hazardwatch.alerting.channels.base import Message, Permanent, Retryable
from hazardwatch.alerting.config import Channel, Gateways


def send_email(gw: Gateways, ch: Channel, m: Message) -> None:
    """One UTF-8 e-mail; a refused recipient is permanent, a lost connection retryable."""
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = m.title, gw.smtp_sender, str(ch.to)
    msg["X-HW-Delivery"] = m.delivery_id
    msg.set_content(m.text)
    try:
        with smtplib.SMTP(gw.smtp_host, gw.smtp_port, timeout=10) as s:
            if gw.smtp_starttls:
                s.starttls(context=ssl.create_default_context())
            if gw.smtp_user:
                s.login(gw.smtp_user, gw.smtp_password or "")
            s.send_message(msg)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
            smtplib.SMTPAuthenticationError) as exc:
        raise Permanent(f"smtp: {exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise Retryable(f"smtp: {exc.__class__.__name__}: {exc}") from None
