"""Delivering alert notifications: e-mail (HTML and text) and signed webhooks.

Webhooks follow the Standard Webhooks specification: headers `webhook-id` (the
notification's idempotency key, the same on every retry), `webhook-timestamp` and
`webhook-signature` (v1, HMAC-SHA256 by the `standardwebhooks` package). A failed
POST (connection error, timeout or a non-2xx answer) is retried with exponential
backoff (ALERT_WEBHOOK_RETRIES tries, ALERT_WEBHOOK_BACKOFF_S doubling); after
the last try the notification is kept as a dead letter (status `dead`, its payload
and the last error) in alert_notifications.
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import json
import logging
import socket
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import requests
from standardwebhooks import Webhook

from data import mail

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 10
EVENT_WORDS = {
    "firing": "is firing",
    "resolved": "resolved",
    "repeat": "is still firing",
}


def summary_line(payload: dict) -> str:
    """One line for subjects and chat messages."""
    words = EVENT_WORDS.get(payload["event"], payload["event"])
    return (
        f"[{payload['event'].upper()}] {payload['ruleName']} {words}: "
        f"{payload['measure']} = {_number(payload['value'])} at {payload['bucket']}"
    )


def _number(value) -> str:
    return "no data" if value is None else f"{value:,.6g}"


def email_message(settings, recipients: list[str], payload: dict) -> EmailMessage:
    """The alert e-mail: plain text first, the same as HTML."""
    message = mail.build_message(
        settings, recipients, summary_line(payload), _text_body(payload)
    )
    message.add_alternative(_html_body(payload), subtype="html")
    return message


def _rows(payload: dict) -> list[tuple[str, str]]:
    return [
        ("Rule", payload["ruleName"]),
        ("Measure", payload["measure"]),
        ("State", f"{payload['previous']} → {payload['state']}"),
        ("Bucket", payload["bucket"]),
        ("Value", _number(payload["value"])),
        ("Why", payload["reason"]),
    ]


def _text_body(payload: dict) -> str:
    lines = [summary_line(payload), ""]
    lines += [f"{label}: {value}" for label, value in _rows(payload)]
    return "\n".join(lines) + "\n"


def _html_body(payload: dict) -> str:
    cells = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th>"
        f"<td>{html.escape(str(value))}</td></tr>"
        for label, value in _rows(payload)
    )
    title = html.escape(summary_line(payload))
    return f"<html><body><h1>{title}</h1><table>{cells}</table></body></html>"


def send_email(settings, channel: dict, payload: dict) -> None:
    """Deliver one alert e-mail (ServiceUnavailable when the server fails)."""
    mail.send_mail(settings, email_message(settings, channel["to"], payload))


def webhook_body(channel: dict, payload: dict) -> str:
    """The JSON body: the payload itself, or Slack's {"text", "blocks"}."""
    if channel.get("format") == "slack":
        text = summary_line(payload)
        block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        return json.dumps({"text": text, "blocks": [block]})
    return json.dumps({"type": f"alert.{payload['event']}", "data": payload})


def signed_headers(secret: str, message_id: str, body: str) -> dict:
    """Standard Webhooks headers for one body."""
    moment = dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(message_id, moment, body)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def refuse_private_address(url: str) -> None:
    """Refuse a URL whose host resolves to a loopback, private, link-local or
    otherwise internal address (a rule must not make the server call its own
    network); OSError names the address."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise OSError(
                f"the webhook host resolves to {address}, an internal address "
                "(ALERT_WEBHOOK_ALLOW_PRIVATE allows it)"
            )


def post_webhook(
    channel: dict, message_id: str, payload: dict, allow_private: bool = False
) -> None:
    """One signed POST; raises on a connection error, an internal address (unless
    allowed) or a non-2xx answer."""
    if not allow_private:
        refuse_private_address(channel["url"])
    body = webhook_body(channel, payload)
    headers = signed_headers(channel["secret"], message_id, body)
    response = requests.post(
        channel["url"], data=body.encode(), headers=headers, timeout=WEBHOOK_TIMEOUT_S
    )
    if not 200 <= response.status_code < 300:
        raise OSError(f"the webhook answered {response.status_code}")


def with_retries(send, tries: int, backoff_s: float) -> tuple[int, str | None]:
    """Call `send` up to `tries` times, waiting backoff_s, 2·backoff_s, ... between
    tries: (attempts, None) on success, (attempts, last error) after the last."""
    error = None
    for attempt in range(1, tries + 1):
        try:
            send()
            return attempt, None
        except Exception as failure:  # any failure is retried, then dead-lettered
            error = str(failure)[:500]
            log.warning("alert delivery failed", extra={"attempt": attempt})
        if attempt < tries:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    return tries, error
