"""Messages and SMTP delivery, against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ssl
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from briefgen.distribute.mail import (
    Outcome,
    RetryPolicy,
    SmtpSettings,
    SmtpTransport,
    build_message,
    parse_sender,
    render_body,
)
from briefgen.distribute.mailbody import BriefSummary
from briefgen.errors import DistributionError
from tests.test_distribute_support import LoopbackController, Mailbox, body_text, no_warnings  # noqa: F401

SENDER = parse_sender("Mining desk <desk@bank.example.com>")
WHEN = dt.datetime(2026, 1, 15, 7, 30, tzinfo=dt.UTC)
FAST = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)


def message(to_email: str = "ana@acme.example.com", mid: str = "<briefgen.1.a@bank.example.com>"):
    return build_message(
        sender=SENDER,
        to_name="Ana Łukasiewicz",
        to_email=to_email,
        subject="Mid-January update",
        body="Dear Ana,\n",
        message_id=mid,
        attachment=b"%PDF-1.7 copy",
        filename="brief.pdf",
        date=WHEN,
    )


def test_a_message_has_the_headers_the_body_and_the_pdf():
    parsed = email.message_from_bytes(message(), policy=email.policy.default)
    assert parsed["From"] == "Mining desk <desk@bank.example.com>"
    assert parsed["To"].addresses[0].display_name == "Ana Łukasiewicz"
    assert parsed["Subject"] == "Mid-January update"
    assert parsed["Message-ID"] == "<briefgen.1.a@bank.example.com>"
    assert parsed["Date"] == "Thu, 15 Jan 2026 07:30:00 +0000"
    assert body_text(parsed, "plain") == "Dear Ana,\r\n"  # on the wire every line ends in CRLF
    (pdf,) = parsed.iter_attachments()
    assert (pdf.get_content_type(), pdf.get_filename(), pdf.get_content()) == (
        "application/pdf",
        "brief.pdf",
        b"%PDF-1.7 copy",
    )
    assert "MIME-Version" not in pdf


def test_headers_refuse_line_breaks_even_if_validation_were_bypassed():
    with pytest.raises(ValueError):
        build_message(
            sender=SENDER,
            to_name="Bob\r\nBcc: all@example.com",
            to_email="bob@example.com",
            subject="S",
            body="",
            message_id="<m@x>",
            attachment=b"",
            filename="b.pdf",
            date=WHEN,
        )
    folded = build_message(
        sender=SENDER,
        to_name="Bob",
        to_email="bob@example.com",
        subject="Brief\r\nBcc: all@x.com",
        body="",
        message_id="<m@x>",
        attachment=b"",
        filename="b.pdf",
        date=WHEN,
    )
    parsed = email.message_from_bytes(folded, policy=email.policy.default)
    assert parsed["Subject"] == "Brief Bcc: all@x.com" and "Bcc" not in parsed


@pytest.mark.parametrize(
    "text",
    [
        "desk@bank.example.com, eve@example.com",
        "desk\r\nBcc: eve@example.com",
        "not an address",
        "Desk <desk@localhost>",
    ],
)
def test_a_bad_sender_is_refused(text):
    with pytest.raises(DistributionError):
        parse_sender(text)


def test_the_body_template_mentions_the_password_only_for_protected_copies(tmp_path):
    context = {
        "name": "Ana",
        "recipient": "Ana, Acme",
        "firm": "Acme",
        "tier": "",
        "title": "Mid-January update",
        "date": "15 Jan 2026",
        "filename": "brief.pdf",
        "protected": False,
        "sender_name": "Mining desk",
        "summary": BriefSummary("Mid-January update", "Mid-January update"),
    }
    plain = render_body(context)
    assert plain.startswith('Dear Ana,\n\nPlease find attached our latest note, "Mid-January update" (brief.pdf).')
    assert "password" not in plain
    assert "protected with the password agreed with you" in render_body({**context, "protected": True})
    (tmp_path / "brief.txt").write_text("Dear {{ nmae }}")
    with pytest.raises(DistributionError) as caught:
        render_body(context, templates_dir=tmp_path)
    assert str(caught.value) == "email template brief.txt: 'nmae' is undefined"


def settings_for(controller: LoopbackController, **extra) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", controller.port, tls="none", connect_timeout=5, **extra)


def test_a_message_is_delivered_and_the_connection_reused(smtp_server):
    mailbox = Mailbox()
    transport = SmtpTransport(settings_for(smtp_server(mailbox)), FAST)
    first = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    connection = transport._smtp
    second = transport.deliver(message("bob@example.com", "<b@x>"), SENDER.addr_spec, "bob@example.com", "bob")
    transport.close()
    assert (first.outcome, second.outcome) == (Outcome.SENT, Outcome.SENT)
    assert connection is not None and transport._smtp is None
    assert [r.rcpt_tos for r in mailbox.received] == [["ana@acme.example.com"], ["bob@example.com"]]
    assert mailbox.received[0].mail_from == "desk@bank.example.com"


def test_a_permanent_refusal_is_reported_and_the_next_message_still_goes(smtp_server):
    mailbox = Mailbox(refuse={"gone@example.com": "550 5.1.1 <gone@example.com>: mailbox unavailable"})
    sleeps: list[float] = []
    transport = SmtpTransport(settings_for(smtp_server(mailbox)), FAST, sleep=sleeps.append)
    refused = transport.deliver(message("gone@example.com"), SENDER.addr_spec, "gone@example.com", "gone")
    sent = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    transport.close()
    assert (refused.outcome, refused.detail) == (Outcome.REFUSED, "550 5.1.1 <gone@example.com>: mailbox unavailable")
    assert sent.outcome is Outcome.SENT and sleeps == []  # a refusal is not retried


def test_temporary_failures_are_retried_with_doubling_delays(smtp_server):
    mailbox = Mailbox(temporary={"ana@acme.example.com": 2})
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=4, first_delay=0.5, max_delay=0.8)
    transport = SmtpTransport(settings_for(smtp_server(mailbox)), policy, sleep=sleeps.append)
    result = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    transport.close()
    assert result.outcome is Outcome.SENT
    assert sleeps == [0.5, 0.8]
    assert len(mailbox.received) == 1


def test_retries_used_up_leave_the_message_deferred(smtp_server):
    mailbox = Mailbox(temporary={"ana@acme.example.com": 10})
    transport = SmtpTransport(settings_for(smtp_server(mailbox)), FAST, sleep=lambda s: None)
    result = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    transport.close()
    assert (result.outcome, result.detail, result.maybe_delivered) == (
        Outcome.DEFERRED,
        "451 4.7.1 greylisted, try again later",
        False,
    )


def test_no_server_means_unreachable(smtp_server):
    controller = smtp_server(Mailbox())
    port = controller.port
    controller.stop()
    sleeps: list[float] = []
    transport = SmtpTransport(SmtpSettings("127.0.0.1", port, tls="none", connect_timeout=2), FAST, sleep=sleeps.append)
    result = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    assert result.outcome is Outcome.UNREACHABLE
    assert result.detail.startswith(f"cannot reach 127.0.0.1:{port}: ")
    assert sleeps == [0.01]  # connect_attempts=2: an absent server is not waited on five times


def test_a_line_dropped_after_the_message_was_sent_leaves_it_in_doubt_and_sent_once(smtp_server):
    """The server stored the message and its reply was lost: retrying now could deliver it twice."""

    def drop_first(mailbox: Mailbox, server) -> None:
        if len(mailbox.received) == 1:
            server.transport.close()

    mailbox = Mailbox(on_data=drop_first)
    sleeps: list[float] = []
    transport = SmtpTransport(settings_for(smtp_server(mailbox)), FAST, sleep=sleeps.append)
    result = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    after = transport.deliver(message("bob@example.com", "<b@x>"), SENDER.addr_spec, "bob@example.com", "bob")
    transport.close()
    assert (result.outcome, result.maybe_delivered) == (Outcome.UNKNOWN, True)
    assert "in doubt" in result.detail and sleeps == []
    assert [r.message["Message-ID"] for r in mailbox.received] == ["<briefgen.1.a@bank.example.com>", "<b@x>"]
    assert after.outcome is Outcome.SENT  # a fresh connection for the next client


def test_the_password_comes_from_the_environment_only(monkeypatch):
    monkeypatch.delenv("BRIEFGEN_SMTP_PASSWORD", raising=False)
    with pytest.raises(DistributionError) as caught:
        SmtpSettings.from_env("smtp.example.com", None, "starttls", "desk")
    assert str(caught.value) == "--smtp-user is set but BRIEFGEN_SMTP_PASSWORD is empty; export the password there"
    monkeypatch.setenv("BRIEFGEN_SMTP_PASSWORD", "pw")
    settings = SmtpSettings.from_env("smtp.example.com", None, "starttls", "desk")
    assert (settings.password, settings.effective_port) == ("pw", 587)
    assert "pw" not in repr(settings)
    with pytest.raises(DistributionError):
        SmtpSettings.from_env("smtp.example.com", None, "none", "desk")  # no password in clear text


def _self_signed() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting only it."""
    import ipaddress
    import tempfile

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
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = f"{folder}/cert.pem", f"{folder}/key.pem"
        Path(cert_file).write_bytes(pem)
        Path(key_file).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


def test_starttls_and_login(smtp_server):
    server_tls, client_tls = _self_signed()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"desk", b"s3cret")
        return AuthResult(success=ok, handled=False)

    mailbox = Mailbox()
    controller = LoopbackController(
        mailbox, tls_context=server_tls, require_starttls=True, auth_required=True, authenticator=authenticator
    )
    controller.start()
    try:
        settings = SmtpSettings(
            "127.0.0.1",
            controller.port,
            tls="starttls",
            user="desk",
            password="s3cret",
            connect_timeout=5,
            ssl_context=client_tls,
        )
        transport = SmtpTransport(settings, FAST)
        assert transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana").outcome is Outcome.SENT
        transport.close()
        wrong = SmtpTransport(
            SmtpSettings(
                "127.0.0.1",
                controller.port,
                tls="starttls",
                user="desk",
                password="no",
                connect_timeout=5,
                ssl_context=client_tls,
            ),
            FAST,
        )
        with pytest.raises(DistributionError) as caught:
            wrong.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
        untrusted = SmtpTransport(SmtpSettings("127.0.0.1", controller.port, tls="starttls", connect_timeout=5), FAST)
        with pytest.raises(DistributionError) as not_trusted:
            untrusted.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    finally:
        controller.stop()
    assert len(mailbox.received) == 1
    assert str(caught.value).startswith("127.0.0.1 refused the login for desk: 535")
    assert str(not_trusted.value).startswith("127.0.0.1: TLS certificate not trusted")


def test_implicit_tls(smtp_server):
    server_tls, client_tls = _self_signed()
    mailbox = Mailbox()
    controller = LoopbackController(mailbox, ssl_context=server_tls)
    controller.start()
    try:
        transport = SmtpTransport(
            SmtpSettings("127.0.0.1", controller.port, tls="ssl", connect_timeout=5, ssl_context=client_tls), FAST
        )
        assert transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana").outcome is Outcome.SENT
        transport.close()
    finally:
        controller.stop()
    assert len(mailbox.received) == 1


def test_a_message_refused_after_its_content_is_reported_or_retried(smtp_server):
    replies = iter(["554 5.7.1 rejected as spam", "452 4.3.1 insufficient storage", None])
    mailbox = Mailbox(on_data=lambda box, server: next(replies))
    sleeps: list[float] = []
    transport = SmtpTransport(settings_for(smtp_server(mailbox)), FAST, sleep=sleeps.append)
    refused = transport.deliver(message(), SENDER.addr_spec, "ana@acme.example.com", "ana")
    retried = transport.deliver(message("bob@example.com", "<b@x>"), SENDER.addr_spec, "bob@example.com", "bob")
    transport.close()
    assert (refused.outcome, refused.detail) == (Outcome.REFUSED, "554 5.7.1 rejected as spam")
    assert retried.outcome is Outcome.SENT and sleeps == [0.01]
