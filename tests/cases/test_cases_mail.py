"""The mailer against a real SMTP server on loopback: plain, STARTTLS + AUTH, failures."""

from __future__ import annotations

import pytest

from wefirst.mail import Mail, MailError, MemoryMailer, SmtpMailer, make_mailer
from wefirst.settings import Settings

from live_server import free_port
from smtp_server import SmtpSink


def smtp_settings(sink_port: int, **over: object) -> Settings:
    return Settings(
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=sink_port,
        mail_from="wefirst <no-reply@wefirst.test>",
        smtp_timeout_seconds=5,
        **over,  # type: ignore[arg-type]
    )


def test_plain_smtp_delivers_utf8_message(smtp_sink: SmtpSink) -> None:
    mailer = make_mailer(smtp_settings(smtp_sink.port))
    assert isinstance(mailer, SmtpMailer)
    mailer.send(Mail("alice@example.org", "Confirmez votre signature", "Lien : https://x.test/a\n"))
    (got,) = smtp_sink.wait_for(1)
    assert got.rcpt_tos == ["alice@example.org"]
    assert got.mail_from == "no-reply@wefirst.test"
    assert got.message["Subject"] == "Confirmez votre signature"
    assert got.message["Message-ID"]
    assert got.links() == ["https://x.test/a"]
    assert "Lien" in got.body


def test_starttls_and_auth() -> None:
    with SmtpSink.running(tls=True, credentials=("wf", "s3cret")) as sink:
        settings = smtp_settings(sink.port, smtp_starttls=True, smtp_user="wf", smtp_password="s3cret")
        SmtpMailer(settings, ssl_context=sink.client_context).send(Mail("b@example.org", "s", "b"))
        assert len(sink.wait_for(1)) == 1
        assert sink.auth_attempts == ["ok"]

        bad = smtp_settings(sink.port, smtp_starttls=True, smtp_user="wf", smtp_password="nope")
        with pytest.raises(MailError):
            SmtpMailer(bad, ssl_context=sink.client_context).send(Mail("b@example.org", "s", "b"))
        # smtplib tries each offered mechanism (PLAIN, then LOGIN) before giving up.
        assert sink.auth_attempts[0] == "ok"
        assert set(sink.auth_attempts[1:]) == {"refused"}

        # The server insists on STARTTLS: a client that skips it is refused, nothing delivered.
        with pytest.raises(MailError):
            SmtpMailer(smtp_settings(sink.port, smtp_user="wf", smtp_password="s3cret")).send(
                Mail("b@example.org", "s", "b")
            )
        assert len(sink.messages) == 1


def test_untrusted_certificate_is_refused() -> None:
    with SmtpSink.running(tls=True) as sink:
        with pytest.raises(MailError):
            SmtpMailer(smtp_settings(sink.port, smtp_starttls=True)).send(Mail("c@ex.org", "s", "b"))
        assert sink.messages == []


def test_no_server_listening_is_a_mail_error() -> None:
    with pytest.raises(MailError, match="could not send"):
        SmtpMailer(smtp_settings(free_port())).send(Mail("a@example.org", "s", "b"))


@pytest.mark.parametrize(
    "mail",
    [
        Mail("a@example.org\r\nBcc: victim@example.org", "s", "b"),
        Mail("a@example.org", "hello\nBcc: victim@example.org", "b"),
    ],
)
def test_header_injection_is_refused(mail: Mail, smtp_sink: SmtpSink) -> None:
    with pytest.raises(MailError, match="line breaks"):
        SmtpMailer(smtp_settings(smtp_sink.port)).send(mail)
    with pytest.raises(MailError):
        MemoryMailer().send(mail)
    assert smtp_sink.messages == []


def test_memory_mailer_is_the_default_and_can_fail() -> None:
    mailer = make_mailer(Settings())
    assert isinstance(mailer, MemoryMailer)
    mailer.send(Mail("a@example.org", "s", "body"))
    assert mailer.sent[0]["To"] == "a@example.org"
    mailer.fail = True
    with pytest.raises(MailError):
        mailer.send(Mail("a@example.org", "s", "body"))
    assert len(mailer.sent) == 1
