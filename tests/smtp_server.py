"""A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, collecting what it receives,
so mail code is tested through smtplib and the network stack instead of a mock.

Use `SmtpSink.running()` as a context manager, or the `smtp_sink` fixture factory below from
a conftest: `smtp_sink = smtp_sink_fixture()`. `tls=True` serves STARTTLS with a throw-away
self-signed certificate for 127.0.0.1 and exposes `client_context` that trusts it;
`credentials=(user, password)` requires SMTP AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from live_server import free_port
from waiting import PATIENCE, wait_until


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def links(self) -> list[str]:
        return re.findall(r"https?://\S+", self.body)


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


class SmtpSink:
    def __init__(self, host: str, port: int, handler: _Handler) -> None:
        self.host = host
        self.port = port
        self._handler = handler
        self.client_context: ssl.SSLContext | None = None
        self.auth_attempts: list[str] = []

    @property
    def messages(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.messages)

    def wait_for(self, count: int, timeout: float = PATIENCE) -> list[Received]:
        """Messages once at least `count` arrived (delivery finishes after the client's QUIT
        on another thread, so a test must not read too early)."""

        def arrived() -> list[Received] | None:
            got = self.messages
            return got if len(got) >= count else None

        return wait_until(
            arrived,
            timeout=timeout,
            what=lambda: f"{count} messages (got {len(self.messages)})",
        )

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.messages.clear()

    @classmethod
    @contextmanager
    def running(cls, *, tls: bool = False, credentials: tuple[str, str] | None = None) -> Iterator[SmtpSink]:
        handler = _Handler()
        port = free_port()
        kwargs: dict[str, Any] = {}
        with tempfile.TemporaryDirectory() as tmp:
            client_ctx = None
            if tls:
                server_ctx, client_ctx = _self_signed(Path(tmp))
                kwargs.update(tls_context=server_ctx, require_starttls=True)
            sink = cls("127.0.0.1", port, handler)
            sink.client_context = client_ctx
            if credentials:

                def authenticator(
                    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
                ) -> AuthResult:
                    ok = (
                        isinstance(data, LoginPassword)
                        and (
                            data.login.decode(),
                            data.password.decode(),
                        )
                        == credentials
                    )
                    sink.auth_attempts.append("ok" if ok else "refused")
                    return AuthResult(success=ok, handled=False)

                # handled=False above lets aiosmtpd answer 535 itself (the default means
                # "the authenticator already replied" and the client would hang).
                kwargs.update(
                    authenticator=authenticator,
                    auth_required=True,
                    auth_require_tls=tls,
                )
            controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
            controller.start()
            try:
                yield sink
            finally:
                controller.stop()


def smtp_sink_fixture(**options: Any) -> Callable[[], Iterator[SmtpSink]]:
    """Build a pytest fixture serving one `SmtpSink` per test with these options."""

    @pytest.fixture
    def smtp_sink() -> Iterator[SmtpSink]:
        with SmtpSink.running(**options) as sink:
            yield sink

    return smtp_sink
