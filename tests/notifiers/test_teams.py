"""Teams: the exact payload (validated against the Adaptive Card 1.5 schema), size limit, statuses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import responses
from notifier_support import make_alert

from monitor.config import TeamsChannel
from monitor.logs import redact
from monitor.notifiers import DeliveryError
from monitor.notifiers.teams import MAX_BYTES, TeamsNotifier, payload
from monitor.receivers import TeamsReceiver, free_port

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "alerts" / "adaptive-card-1.5.json").read_text()
)


def channel(
    url: str = "https://example.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRET",
    fmt: str = "workflows",
) -> TeamsChannel:
    return TeamsChannel.model_validate({"type": "teams", "url": url, "format": fmt, "timeout": "5s"})


def validate_card(body: dict[str, Any]) -> dict[str, Any]:
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = copy.deepcopy(attachment["content"])
    assert card.pop("msteams") == {"width": "Full"}  # Teams' extension, not in the schema (see README)
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator_class(SCHEMA).validate(card)
    return attachment["content"]


def texts(card: dict[str, Any]) -> list[str]:
    return [block["text"] for block in card["body"] if block["type"] == "TextBlock"]


def test_workflows_card_is_exact_and_valid() -> None:
    body = payload(make_alert(), channel())
    card = validate_card(body)
    assert card["version"] == "1.5"
    assert texts(card) == [
        "Non-central account posted during an emergency",
        "CRITICAL · emergency-posting · Physics (facebook:111)",
        "Physics posted: 'Open day tomorrow!'",
        "Policy: Social media in an emergency: only central accounts post",  # why, after the facts
    ]
    assert card["body"][0]["color"] == "Attention"
    assert card["body"][3] == {
        "type": "FactSet",
        "facts": [
            {"title": "Account", "value": "Physics (facebook:111)"},
            {"title": "Check", "value": "emergency-posting"},
        ],
    }
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the post", "url": "https://www.facebook.com/111/posts/1"}
    ]


def test_the_schema_really_rejects_a_broken_card() -> None:
    card = copy.deepcopy(payload(make_alert(), channel())["attachments"][0]["content"])
    card.pop("msteams")
    card["body"][0]["type"] = "TextBlok"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(card)


def test_platform_text_cannot_inject_markdown_links_or_urls() -> None:
    hostile = "**URGENT** [click here](https://evil.example/phish) <img src=x> _x_ `code`\n- item"
    alert = make_alert(title=hostile, text=hostile, url="javascript:alert(1)")
    card = validate_card(payload(alert, channel()))
    body_text = texts(card)[2]
    assert "\\*\\*URGENT\\*\\*" in body_text and "\\[click here\\]" in body_text and "\\<img" in body_text
    assert "\n\\- item" in body_text
    assert "actions" not in card  # a javascript: link never becomes a button


def test_resolved_and_repeat_are_labelled() -> None:
    resolved = validate_card(payload(make_alert("resolved"), channel()))
    assert texts(resolved)[1].startswith("RESOLVED") and resolved["body"][0]["color"] == "Good"
    repeat = validate_card(payload(make_alert("repeat"), channel()))
    assert texts(repeat)[1].startswith("CRITICAL · reminder")


def test_long_lists_are_cut_to_fit_and_say_so() -> None:
    items = [f"Scheduled post {i}: " + "w" * 280 for i in range(400)]
    body = payload(make_alert(items=items, text="t" * 20_000), channel())
    size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    assert size <= MAX_BYTES
    card = validate_card(body)
    shown = [t for t in texts(card) if t.startswith("• Scheduled post")]
    assert 0 < len(shown) < 400
    assert (
        texts(card)[-1] == f"… and {400 - len(shown)} more not shown (cut to fit Teams' message size limit)."
    )


def test_legacy_format_is_a_message_card() -> None:
    body = payload(make_alert(items=["one", "two"]), channel(fmt="legacy"))
    assert body["@type"] == "MessageCard" and body["@context"] == "https://schema.org/extensions"
    assert body["themeColor"] == "D13438"
    assert body["title"] == "Non-central account posted during an emergency"
    section = body["sections"][0]
    assert section["facts"][0] == {"name": "Account", "value": "Physics (facebook:111)"}
    assert section["text"] == (
        "Physics posted: 'Open day tomorrow!'\n\n"
        "_Policy: Social media in an emergency: only central accounts post_\n\n• one\n\n• two"
    )
    assert body["potentialAction"][0]["targets"] == [
        {"os": "default", "uri": "https://www.facebook.com/111/posts/1"}
    ]


# --- against a local receiver ------------------------------------------------------------------


@pytest.fixture
def receiver(tmp_path: Path):
    with TeamsReceiver(tmp_path / "teams") as r:
        yield r


def test_202_delivers_the_exact_payload(receiver: TeamsReceiver) -> None:
    alert = make_alert()
    TeamsNotifier().send(alert, channel(receiver.url))
    [request] = receiver.requests
    assert request.status == 202
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.body == payload(alert, channel(receiver.url))
    validate_card(request.body)
    assert json.loads((receiver.dir / "0001.json").read_text()) == request.body


@pytest.mark.parametrize(
    ("answer", "permanent", "retry_after"),
    [
        ((400, {}, "Bad Request"), True, None),
        ((401, {}, ""), True, None),
        ((404, {}, ""), True, None),
        ((413, {}, ""), True, None),
        ((429, {"Retry-After": "17"}), False, 17.0),
        ((429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), False, 0.0),  # a date in the past
        ((500, {}, "oops"), False, None),
        ((503, {}, ""), False, None),
    ],
)
def test_statuses_become_classified_errors(
    receiver: TeamsReceiver, answer: tuple, permanent: bool, retry_after: float | None
) -> None:
    receiver.script(answer)
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier().send(make_alert(), channel(receiver.url))
    error = caught.value
    assert error.permanent is permanent and error.retry_after == retry_after
    assert f"HTTP {answer[0]}" in error.message
    assert receiver.secret not in error.message and "/webhookb2/" not in error.message
    assert receiver.messages == []


def test_connection_refused_is_transient_and_hides_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/webhookb2/TOPSECRET/IncomingWebhook"
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier().send(make_alert(), channel(url))
    assert caught.value.permanent is False
    assert "TOPSECRET" not in caught.value.message and "cannot connect" in caught.value.message


@responses.activate
def test_an_unreachable_workflows_url_reads_well_after_log_redaction() -> None:
    # the outbox and the log redact every message: the host must survive it, and the punctuation too
    url = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SIG9"
    responses.post(url, body=requests.ConnectionError("Name or service not known"))
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier().send(make_alert(), channel(url))
    shown = redact(caught.value.message)
    assert "SIG9" not in shown and "/workflows/" not in shown
    assert shown.startswith(
        "Teams channel 'on-call' (host prod-01.westeurope.logic.azure.com): cannot connect (Name or service"
    )


def test_legacy_throttling_reported_in_a_200_is_retried(receiver: TeamsReceiver) -> None:
    receiver.script((200, {}, "Microsoft Teams endpoint returned HTTP error 429 with ContextId abc"))
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier().send(make_alert(), channel(receiver.url, fmt="legacy"))
    assert caught.value.permanent is False and caught.value.retry_after == 60.0
