"""E-mail over SMTP: STARTTLS or implicit TLS, login, multipart (plain text + HTML).

Threading: the first alert about a finding gets Message-ID `<thread@domain>` where `thread` comes
from the finding's fingerprint and opening time; repeats and the resolution carry `In-Reply-To`
and `References` pointing at it, so mail clients show an alert and its resolution together.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from typing import Any, cast

from monitor.config import EmailChannel
from monitor.i18n import translator
from monitor.logs import get_logger, redact
from monitor.notifiers import DeliveryError, OutgoingAlert
from monitor.notifiers.text import one_line, safe_link
from monitor.templates import join_html, join_text, render_html, render_text

MAX_ITEMS = 200
_BANNER_COLOURS = {"critical": "#b3261e", "high": "#c4314b", "warning": "#b35c00"}

log = get_logger(component="email")


def _domain(channel: EmailChannel) -> str:
    return channel.from_.rsplit("@", 1)[-1].lower()


def message_ids(alert: OutgoingAlert, channel: EmailChannel) -> tuple[str, str | None]:
    """(Message-ID, the thread root it replies to or None)."""
    domain = _domain(channel)
    thread = str(alert.payload.get("thread") or "")
    if not thread:
        return f"<socialmon.alert.{alert.id}@{domain}>", None
    root = f"<{thread}@{domain}>"
    if alert.reason == "first":
        return root, None
    return f"<{thread}.{alert.reason}.{alert.id}@{domain}>", root


def _banner(alert: OutgoingAlert, p: Mapping[str, Any], locale: str = "en") -> str:
    from monitor.texts import SEVERITIES

    t = translator(locale)
    severity = t.known(SEVERITIES.get(alert.severity, alert.severity.upper()))
    label = {"resolved": t.gettext("RESOLVED"), "test": t.gettext("TEST"), "digest": t.gettext("DIGEST")}.get(
        alert.reason, severity
    )
    if alert.reason == "repeat":
        label += " " + t.gettext("(reminder: still open)")
    parts = [label] + [one_line(p[k], 120) for k in ("check", "account_label") if p.get(k)]
    return " · ".join(parts)


def _context(alert: OutgoingAlert, p: Mapping[str, Any] | None = None, locale: str = "en") -> dict[str, Any]:
    p = cast(Mapping[str, Any], alert.payload) if p is None else p
    t = translator(locale)
    return {
        "banner": _banner(alert, p, locale),
        "colour": "#2e7d32" if alert.reason == "resolved" else _BANNER_COLOURS.get(alert.severity, "#0b5cad"),
        "title": p.get("title") or alert.subject,
        "text": p.get("text") or "",
        "facts": [(str(k), str(v)) for k, v in (p.get("facts") or [])],
        "items": [str(i) for i in (p.get("items") or [])],
        "max_items": MAX_ITEMS,
        "url": safe_link(p.get("url")),
        "url_title": one_line(p.get("url_title") or t.gettext("Open the post"), 40),
        "finding_url": safe_link(p.get("finding_url")),  # its page on the dashboard (web.public_url)
        "policy_section": p.get("policy_section") or "",
        "route": alert.route,
        "alert_id": alert.id,
        "footer": t.gettext("Replies to this address are not read."),
    }


def bodies(alert: OutgoingAlert) -> tuple[str, str]:
    """(plain text, HTML) for an alert or a digest; a bilingual one holds both versions, Welsh first."""
    texts, pages = [], []
    for locale, p in alert.versions():
        if alert.kind == "report" and p.get("report_html"):  # the monthly parity report, whole
            context = _context(alert, p, locale)
            texts.append(render_text("alert.txt.j2", locale, **context))
            pages.append(str(p["report_html"]))
            continue
        if alert.kind == "digest":
            from monitor.digest import render_digest_data

            data = p.get("digest") or {}
            texts.append(render_digest_data(data, "text"))
            pages.append(render_digest_data(data, "html"))
            continue
        context = _context(alert, p, locale)
        texts.append(render_text("alert.txt.j2", locale, **context))
        pages.append(render_html("alert.html.j2", locale, **context))
    return join_text(texts), join_html(pages)


def payload(alert: OutgoingAlert, channel: EmailChannel) -> EmailMessage:
    """The message to send (pure: no I/O)."""
    message = EmailMessage()
    message["Subject"] = one_line(alert.subject or alert.payload.get("title") or "socialmon alert", 250)
    message["From"] = formataddr(("socialmon", channel.from_))
    recipients = [str(r) for r in (alert.payload.get("to") or channel.to)]
    message["To"] = ", ".join(recipients)
    if alert.created_at is not None:
        message["Date"] = format_datetime(alert.created_at)
    message_id, root = message_ids(alert, channel)
    message["Message-ID"] = message_id
    if root:
        message["In-Reply-To"] = root
        message["References"] = root
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    message["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange
    message["X-Socialmon-Alert"] = f"{alert.id}; route={alert.route}; reason={alert.reason}"
    text, html = bodies(alert)
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def _tls_context(channel: EmailChannel) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=channel.ca_file)
    if not channel.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class EmailNotifier:
    type = "email"

    def payload(self, alert: OutgoingAlert, channel: EmailChannel) -> EmailMessage:
        return payload(alert, channel)

    def send(self, alert: OutgoingAlert, channel: EmailChannel) -> None:
        message = payload(alert, channel)
        where = f"SMTP {channel.host}:{channel.port} (channel {alert.channel!r})"
        password = channel.password.get_secret_value() if channel.password else ""
        try:
            refused = self._deliver(message, channel)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{where}: login refused ({exc.smtp_code} {_reply(exc.smtp_error, password)})", permanent=True
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            detail = "; ".join(
                f"{addr}: {code} {_reply(text, password)}" for addr, (code, text) in exc.recipients.items()
            )
            raise DeliveryError(
                f"{where}: recipients refused: {detail}", permanent=all(500 <= c < 600 for c in codes)
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where}: {redact(str(exc))} (check `security:`)", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{where}: {exc.smtp_code} {_reply(exc.smtp_error, password)}",
                permanent=500 <= exc.smtp_code < 600,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"{where}: TLS certificate not trusted ({exc.verify_message}); set ca_file for a private CA",
                permanent=True,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts and refusals
            text = _reply(str(exc), password) or type(exc).__name__
            raise DeliveryError(f"{where}: {text}", permanent=False) from None
        if refused:
            # Some recipients took it: the message is out, so it is not retried (that would duplicate).
            log.warning(
                "email_recipients_refused",
                alert_id=alert.id,
                channel=alert.channel,
                refused={addr: code for addr, (code, _) in refused.items()},
            )

    def _deliver(self, message: EmailMessage, channel: EmailChannel) -> dict[str, tuple[int, bytes]]:
        timeout = channel.timeout.total_seconds()
        smtp: smtplib.SMTP
        if channel.security == "tls":
            smtp = smtplib.SMTP_SSL(
                channel.host, channel.port, timeout=timeout, context=_tls_context(channel)
            )
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if channel.security == "starttls":
                smtp.starttls(context=_tls_context(channel))
                smtp.ehlo()
            if channel.username:
                smtp.login(channel.username, channel.password.get_secret_value() if channel.password else "")
            return _send(smtp, message)

    def close(self) -> None:
        return None


def _send(smtp: smtplib.SMTP, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Send without mbox "From " mangling: smtplib.send_message turns a body line starting "From "
    into ">From ", which readers then see. Non-ASCII addresses still go through send_message,
    which negotiates SMTPUTF8."""
    sender = getaddresses([str(message["From"])])[0][1]
    recipients = [address for _, address in getaddresses([str(message["To"])])]
    if not all(address.isascii() for address in [sender, *recipients]):
        return smtp.send_message(message)
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    return smtp.sendmail(sender, recipients, data)


def _reply(text: bytes | str, password: str) -> str:
    value = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    value = " ".join(value.split())[:300]
    if password and len(password) >= 3:
        value = value.replace(password, "[REDACTED]")
    return redact(value)
