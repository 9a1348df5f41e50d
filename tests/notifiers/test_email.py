"""E-mail: the message itself, and delivery to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from notifier_support import make_alert

from monitor.config import EmailChannel
from monitor.notifiers import DeliveryError
from monitor.notifiers.email import EmailNotifier, payload
from monitor.receivers import SmtpSink, free_port

PASSWORD = "Corr3ct-h0rse-battery"


def channel(port: int = 25, security: str = "none", **extra: object) -> EmailChannel:
    data = {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "from": "socialmon@uni.ac.uk",
        "to": ["comms@uni.ac.uk", "oncall@uni.ac.uk"],
        "timeout": "5s",
        **extra,
    }
    return EmailChannel.model_validate(data)


def test_message_is_multipart_with_a_clear_subject_and_threading_headers() -> None:
    first = payload(make_alert("first"), channel())
    assert first["Subject"] == "[CRITICAL] emergency-posting · Physics (facebook:111) · Posted"
    assert first["From"] == "socialmon <socialmon@uni.ac.uk>"
    assert first["To"] == "comms@uni.ac.uk, oncall@uni.ac.uk"
    assert first["Message-ID"] == "<socialmon.0123456789abcdef0123456789abcdef.1741176000@uni.ac.uk>"
    assert first["In-Reply-To"] is None and first["Auto-Submitted"] == "auto-generated"
    assert first.get_content_type() == "multipart/alternative"
    plain, html = (part.get_content_type() for part in first.iter_parts())
    assert (plain, html) == ("text/plain", "text/html")
    text = first.get_body(("plain",)).get_content()
    assert "Non-central account posted during an emergency" in text
    assert "Open the post: https://www.facebook.com/111/posts/1" in text
    resolved = payload(make_alert("resolved", alert_id=9), channel())
    assert resolved["In-Reply-To"] == first["Message-ID"] == resolved["References"]
    assert (
        resolved["Message-ID"]
        == "<socialmon.0123456789abcdef0123456789abcdef.1741176000.resolved.9@uni.ac.uk>"
    )
    assert resolved.get_body(("plain",)).get_content().startswith("RESOLVED")


def test_html_part_escapes_what_came_from_a_platform() -> None:
    hostile = '<script>alert(1)</script><a href="https://evil.example">x</a> **bold** ' + "L" * 500
    message = payload(make_alert(title=hostile, text=hostile, url="javascript:alert(1)"), channel())
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://evil.example"' not in html and "javascript:" not in html
    assert "L" * 61 not in html.split("<body", 1)[1]  # the very long line has break opportunities
    text = message.get_body(("plain",)).get_content()
    assert all(len(line) <= 100 for line in text.splitlines())


def test_recipient_override_for_a_manager() -> None:
    message = payload(make_alert(to=["physics.manager@uni.ac.uk"]), channel())
    assert message["To"] == "physics.manager@uni.ac.uk"


def test_plain_smtp_delivery(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink:
        EmailNotifier().send(make_alert(), channel(sink.port))
    [received] = sink.messages
    assert received["Subject"] == "[CRITICAL] emergency-posting · Physics (facebook:111) · Posted"
    assert sink.envelopes == [("socialmon@uni.ac.uk", ["comms@uni.ac.uk", "oncall@uni.ac.uk"])]
    assert b"Message-ID: <socialmon.0123456789abcdef" in (tmp_path / "mail" / "0001.eml").read_bytes()


def test_a_body_line_starting_from_arrives_unmangled(tmp_path: Path) -> None:
    # smtplib.send_message would write ">From " (mbox quoting), and the reader would see it.
    text = "From Monday the library opens at 8.\nDiolch — ŵyl, tŷ, â"
    with SmtpSink(tmp_path / "mail") as sink:
        EmailNotifier().send(make_alert(text=text), channel(sink.port))
    [received] = sink.messages
    plain = received.get_body(("plain",)).get_content()
    assert "\nFrom Monday the library opens at 8." in plain and ">From" not in plain
    assert "Diolch — ŵyl, tŷ, â" in plain
    assert sink.envelopes == [("socialmon@uni.ac.uk", ["comms@uni.ac.uk", "oncall@uni.ac.uk"])]


def test_starttls_with_login_to_a_self_signed_server(tmp_path: Path, self_signed) -> None:
    sink = SmtpSink(
        tmp_path / "mail",
        tls_context=self_signed.server_context(),
        require_starttls=True,
        credentials={"socialmon": PASSWORD},
    )
    with sink:
        config = channel(
            sink.port, "starttls", username="socialmon", password=PASSWORD, ca_file=str(self_signed.cert)
        )
        EmailNotifier().send(make_alert(), config)
    assert len(sink.messages) == 1 and sink.logins == ["socialmon"]


def test_implicit_tls_with_login(tmp_path: Path, self_signed) -> None:
    sink = SmtpSink(
        tmp_path / "mail",
        tls_context=self_signed.server_context(),
        implicit_tls=True,
        credentials={"socialmon": PASSWORD},
    )
    with sink:
        EmailNotifier().send(
            make_alert(),
            channel(sink.port, "tls", username="socialmon", password=PASSWORD, ca_file=str(self_signed.cert)),
        )
    assert len(sink.messages) == 1


def test_untrusted_certificate_is_refused(tmp_path: Path, self_signed) -> None:
    sink = SmtpSink(tmp_path / "mail", tls_context=self_signed.server_context())
    with sink, pytest.raises(DeliveryError) as caught:
        EmailNotifier().send(make_alert(), channel(sink.port, "starttls"))
    assert caught.value.permanent and "certificate not trusted" in caught.value.message
    assert sink.messages == []


def test_server_failing_the_first_attempts_is_transient_then_delivers(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail", responses=["451 4.3.0 Try again later", "421 4.7.0 Busy"]) as sink:
        notifier = EmailNotifier()
        for expected in ("451", "421"):
            with pytest.raises(DeliveryError) as caught:
                notifier.send(make_alert(), channel(sink.port))
            assert not caught.value.permanent and expected in caught.value.message
        notifier.send(make_alert(), channel(sink.port))
    assert len(sink.messages) == 1 and sink.refused == 2


def test_recipient_refused_with_5xx_is_permanent(tmp_path: Path) -> None:
    sink = SmtpSink(tmp_path / "mail", reject_recipients=["comms@uni.ac.uk", "oncall@uni.ac.uk"])
    with sink, pytest.raises(DeliveryError) as caught:
        EmailNotifier().send(make_alert(), channel(sink.port))
    assert caught.value.permanent and "550" in caught.value.message


def test_wrong_password_is_permanent_and_never_shown(tmp_path: Path, self_signed) -> None:
    sink = SmtpSink(
        tmp_path / "mail", tls_context=self_signed.server_context(), credentials={"socialmon": "other"}
    )
    with sink, pytest.raises(DeliveryError) as caught:
        EmailNotifier().send(
            make_alert(),
            channel(
                sink.port, "starttls", username="socialmon", password=PASSWORD, ca_file=str(self_signed.cert)
            ),
        )
    assert caught.value.permanent and "login refused" in caught.value.message
    assert PASSWORD not in caught.value.message


def test_nobody_listening_is_transient() -> None:
    with pytest.raises(DeliveryError) as caught:
        EmailNotifier().send(make_alert(), channel(free_port()))
    assert not caught.value.permanent and "Connection refused" in caught.value.message


def test_server_context_helper_is_really_tls(self_signed) -> None:
    assert self_signed.server_context().protocol == ssl.PROTOCOL_TLS_SERVER
