"""Microsoft Teams: the Workflows webhook (an Adaptive Card 1.5 in a `message`) or, for
organisations that still have one, the older incoming webhook (`format: legacy`, a MessageCard).

Teams renders Markdown in card text, so everything from a finding (which quotes posts) is
Markdown-escaped. A Teams message must stay under about 28 KB: long lists are cut, and the card
says so. Workflows answers 202 when it has queued the message; 429 carries Retry-After.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import requests

from monitor.config import TeamsChannel
from monitor.i18n import bilingual, translator
from monitor.notifiers import DeliveryError, OutgoingAlert
from monitor.notifiers.http import post_json
from monitor.notifiers.text import markdown_escape, one_line, safe_link, truncate

MAX_BYTES = 27 * 1024  # Teams refuses messages over ~28 KB; keep a margin for its own envelope
MAX_ITEMS = 50
ITEM_CHARS = 300
TEXT_CHARS = 4000
FACT_CHARS = 500
MAX_FACTS = 30

_COLOURS = {"critical": "Attention", "high": "Attention", "warning": "Warning"}
_THEME = {"critical": "D13438", "high": "D13438", "warning": "F7A600", "resolved": "2E8B57"}


def _content(alert: OutgoingAlert, p: Mapping[str, Any] | None = None, locale: str = "en") -> dict[str, Any]:
    p = cast(Mapping[str, Any], alert.payload) if p is None else p
    t = translator(locale)
    facts = [(one_line(k, 80), one_line(v, FACT_CHARS)) for k, v in (p.get("facts") or [])][:MAX_FACTS]
    return {
        "title": one_line(p.get("title") or alert.subject, 250),
        "subtitle": one_line(_subtitle(alert, p, locale), 250),
        "text": str(p.get("text") or ""),
        "facts": facts,
        "items": [one_line(item, ITEM_CHARS) for item in (p.get("items") or [])],
        "url": safe_link(p.get("url")),
        "url_title": one_line(p.get("url_title") or t.gettext("Open the post"), 40),
        "finding_url": safe_link(p.get("finding_url")),  # its page on the dashboard (web.public_url)
        "finding_link_title": t.gettext("Acknowledge or snooze"),
        "policy": one_line(p.get("policy_section") or "", FACT_CHARS),
        "policy_label": t.gettext("Policy:"),
        "locale": locale,
    }


def _subtitle(alert: OutgoingAlert, p: Mapping[str, Any], locale: str = "en") -> str:
    from monitor.texts import SEVERITIES

    t = translator(locale)
    parts = [t.known(SEVERITIES.get(alert.severity, alert.severity.upper()))]
    if alert.reason == "resolved":
        parts = [t.gettext("RESOLVED")]
    elif alert.reason == "repeat":
        parts.append(t.gettext("reminder"))
    elif alert.reason == "test":
        parts = [t.gettext("TEST")]
    parts += [str(p[k]) for k in ("check", "account_label") if p.get(k)]
    return " · ".join(parts)


def _colour(alert: OutgoingAlert) -> str:
    return "Good" if alert.reason == "resolved" else _COLOURS.get(alert.severity, "Default")


def _size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def payload(alert: OutgoingAlert, channel: TeamsChannel) -> dict[str, Any]:
    """The JSON body to POST, cut to fit Teams' size limit (pure: no I/O)."""
    contents = [_content(alert, p, locale) for locale, p in alert.versions()]
    build = _legacy if channel.format == "legacy" else _workflows
    shown, text_limit = min(max(len(c["items"]) for c in contents), MAX_ITEMS), TEXT_CHARS
    while True:
        body = build(alert, contents, shown, text_limit)
        if _size(body) <= MAX_BYTES:
            return body
        if shown > 0:
            shown //= 2
        elif text_limit > 200:
            text_limit //= 2
        else:  # facts alone are too big: keep the first few
            for content in contents:
                content["facts"] = content["facts"][: max(len(content["facts"]) // 2, 0)]
            if not any(content["facts"] for content in contents):
                return body


def _cut_note(total: int, shown: int, locale: str = "en") -> str | None:
    if shown >= total:
        return None
    return translator(locale).gettext(
        "… and %(n)s more not shown (cut to fit Teams' message size limit).", n=total - shown
    )


def _workflows(
    alert: OutgoingAlert, contents: list[dict[str, Any]], shown: int, text_limit: int
) -> dict[str, Any]:
    """An Adaptive Card: each version's blocks in turn (Welsh first), a line between them."""
    body: list[dict[str, Any]] = []
    for index, c in enumerate(contents):
        blocks = _workflow_blocks(alert, c, shown, text_limit)
        if index:
            blocks[0] = {**blocks[0], "separator": True, "spacing": "ExtraLarge"}
        body += blocks
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }
    actions = [{"type": "Action.OpenUrl", "title": title, "url": url} for title, url in _links(contents)]
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _links(contents: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(button title, address): the post, then the finding's page on the dashboard; titles in every
    version's language, Welsh first."""
    first = contents[0]
    links = [(bilingual([c["url_title"] for c in contents], 80), first["url"])] if first["url"] else []
    if first["finding_url"]:
        links.append((bilingual([c["finding_link_title"] for c in contents], 80), first["finding_url"]))
    return links


def _workflow_blocks(
    alert: OutgoingAlert, c: dict[str, Any], shown: int, text_limit: int
) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": markdown_escape(c["title"]),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": _colour(alert),
        },
        {
            "type": "TextBlock",
            "text": markdown_escape(c["subtitle"]),
            "isSubtle": True,
            "wrap": True,
            "spacing": "None",
        },
    ]
    if c["text"]:
        body.append(
            {"type": "TextBlock", "text": markdown_escape(truncate(c["text"], text_limit)), "wrap": True}
        )
    if c["facts"]:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": markdown_escape(k), "value": markdown_escape(v) or "-"} for k, v in c["facts"]
                ],
            }
        )
    if c["policy"]:  # why, for whoever has to justify the action to the account's owner
        body.append(
            {
                "type": "TextBlock",
                "text": c["policy_label"] + " " + markdown_escape(c["policy"]),
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            }
        )
    for item in c["items"][:shown]:
        body.append(
            {"type": "TextBlock", "text": "• " + markdown_escape(item), "wrap": True, "spacing": "Small"}
        )
    note = _cut_note(len(c["items"]), shown, c["locale"])
    if note:
        body.append({"type": "TextBlock", "text": markdown_escape(note), "isSubtle": True, "wrap": True})
    return body


def _legacy(
    alert: OutgoingAlert, contents: list[dict[str, Any]], shown: int, text_limit: int
) -> dict[str, Any]:
    """A MessageCard: one section per version, Welsh first."""
    first = contents[0]
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": one_line(alert.subject or first["title"], 120),
        "themeColor": _THEME.get("resolved" if alert.reason == "resolved" else alert.severity, "0078D7"),
        "title": markdown_escape(bilingual([c["title"] for c in contents], 250)),
        "sections": [_legacy_section(c, shown, text_limit, len(contents) > 1) for c in contents],
    }
    links = _links(contents)
    if links:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": name, "targets": [{"os": "default", "uri": uri}]}
            for name, uri in links
        ]
    return card


def _legacy_section(c: dict[str, Any], shown: int, text_limit: int, titled: bool) -> dict[str, Any]:
    lines = [markdown_escape(truncate(c["text"], text_limit))] if c["text"] else []
    if c["policy"]:
        lines.append("_" + c["policy_label"] + " " + markdown_escape(c["policy"]) + "_")
    lines += ["• " + markdown_escape(item) for item in c["items"][:shown]]
    note = _cut_note(len(c["items"]), shown, c["locale"])
    if note:
        lines.append("_" + markdown_escape(note) + "_")
    subtitle = (c["title"] + " · " if titled else "") + c["subtitle"]
    section: dict[str, Any] = {"activityTitle": markdown_escape(subtitle), "markdown": True}
    if lines:
        section["text"] = "\n\n".join(lines)
    if c["facts"]:
        section["facts"] = [
            {"name": markdown_escape(k), "value": markdown_escape(v) or "-"} for k, v in c["facts"]
        ]
    return section


class TeamsNotifier:
    type = "teams"

    def __init__(self) -> None:
        self._session = requests.Session()  # keep-alive across a batch of sends

    def payload(self, alert: OutgoingAlert, channel: TeamsChannel) -> dict[str, Any]:
        return payload(alert, channel)

    def send(self, alert: OutgoingAlert, channel: TeamsChannel) -> None:
        """POST the card; raises DeliveryError (429 with retry_after; 401/403/404 permanent)."""
        response = post_json(
            channel.url.get_secret_value(),
            payload(alert, channel),
            timeout=channel.timeout.total_seconds(),
            label=f"Teams channel {alert.channel!r}",
            session=self._session,
        )
        # Workflows: 202 = queued. Legacy connectors answer 200 "1", but report throttling as a 200
        # whose text mentions the 429 it got from Teams: that one must be retried, not counted as sent.
        if channel.format == "legacy" and "429" in response.text and response.text.strip() != "1":
            raise DeliveryError(
                f"Teams channel {alert.channel!r}: throttled (legacy webhook reported 429)", retry_after=60.0
            )

    def close(self) -> None:
        self._session.close()
