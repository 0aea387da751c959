"""Outgoing e-mail through the SMTP settings (SMTP_HOST, ...): scheduled reports
now, alerts later; one place that knows how to talk to the mail server."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from data.errors import ServiceUnavailable


@dataclass(frozen=True)
class Attachment:
    """One attached file."""

    filename: str
    content: bytes
    mimetype: str = "application/pdf"


def build_message(
    settings, recipients: list[str], subject: str, text: str, attachments=()
) -> EmailMessage:
    """The message as it will be sent: plain text, attachments after it."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(text)
    for attachment in attachments:
        main, _, sub = attachment.mimetype.partition("/")
        message.add_attachment(
            attachment.content, maintype=main, subtype=sub, filename=attachment.filename
        )
    return message


def _connect(settings) -> smtplib.SMTP:
    host, port = settings.smtp_host, settings.smtp_port
    timeout = settings.smtp_timeout_s
    if settings.smtp_security == "ssl":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    connection = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_security == "starttls":
        connection.starttls(context=ssl.create_default_context())
    return connection


def send_mail(settings, message: EmailMessage) -> None:
    """Deliver one message; ServiceUnavailable when no server is set or it fails."""
    if not settings.smtp_host:
        raise ServiceUnavailable("No mail server is configured (SMTP_HOST).")
    try:
        with _connect(settings) as connection:
            if settings.smtp_username:
                connection.login(settings.smtp_username, settings.smtp_password or "")
            connection.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise ServiceUnavailable(
            f"The mail server refused the message: {error}"
        ) from error
