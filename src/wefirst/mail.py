"""Outgoing e-mail behind a small Protocol: a real SMTP client (smtplib) for deployments and
an in-memory fake for development and tests, chosen by `settings.mail_backend`.

Cases use it for co-sign confirmation links and brand alerts; the web pages reuse it for
magic links. Sending is synchronous on purpose: callers decide whether to send inside a
request (and tell the person it failed) or from a background job."""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from wefirst.settings import Settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class MailError(RuntimeError):
    """The message could not be handed to the mail server; nothing was sent."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Hand `mail` over for delivery or raise `MailError`."""


def build_message(mail: Mail, sender: str) -> EmailMessage:
    if any(ch in mail.to + mail.subject for ch in "\r\n"):
        # Header injection: a line break in a header would let text add recipients.
        raise MailError("line breaks are not allowed in recipients or subjects")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    for name, value in mail.headers.items():
        msg[name] = value
    msg.set_content(mail.body)
    return msg


class SmtpMailer:
    """One connection per message: alerts and confirmations are rare enough that a pooled
    connection would only add a failure mode (servers close idle connections)."""

    def __init__(self, settings: Settings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.starttls = settings.smtp_starttls
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.timeout = settings.smtp_timeout_seconds
        self.sender = settings.mail_from
        self.ssl_context = ssl_context

    def send(self, mail: Mail) -> None:
        msg = build_message(mail, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"could not send mail through {self.host}:{self.port}: {exc}") from exc


@dataclass
class MemoryMailer:
    """Keeps what would have been sent; `fail` makes the next sends raise, to test the
    callers' failure paths."""

    sender: str = "wefirst <no-reply@wefirst.invalid>"
    sent: list[EmailMessage] = field(default_factory=list)
    fail: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, mail: Mail) -> None:
        msg = build_message(mail, self.sender)
        if self.fail:
            raise MailError("memory mailer set to fail")
        with self._lock:
            self.sent.append(msg)


def make_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        return SmtpMailer(settings)
    return MemoryMailer(sender=settings.mail_from)
