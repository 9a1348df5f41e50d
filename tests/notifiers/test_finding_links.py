"""With `web.public_url`, alerts link to the finding's page: an e-mail link and a Teams card button."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
from notifier_support import make_alert

from monitor.config import TeamsChannel
from monitor.notifiers.email import bodies
from monitor.notifiers.teams import payload

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "alerts" / "adaptive-card-1.5.json").read_text()
)
PAGE = "https://socialmon.example.ac.uk/findings/42"


def teams(fmt: str) -> TeamsChannel:
    url = "https://example.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRET"
    return TeamsChannel.model_validate({"type": "teams", "url": url, "format": fmt, "timeout": "5s"})


def test_teams_card_has_a_button_to_the_finding_page_and_still_validates() -> None:
    card = payload(make_alert(finding_url=PAGE), teams("workflows"))["attachments"][0]["content"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the post", "url": "https://www.facebook.com/111/posts/1"},
        {"type": "Action.OpenUrl", "title": "Acknowledge or snooze", "url": PAGE},
    ]
    checked = copy.deepcopy(card)
    checked.pop("msteams")
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(checked)


def test_teams_card_without_a_post_link_still_gets_the_page_button() -> None:
    card = payload(make_alert(url="", finding_url=PAGE), teams("workflows"))["attachments"][0]["content"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Acknowledge or snooze", "url": PAGE}]


def test_legacy_card_has_both_links() -> None:
    card = payload(make_alert(finding_url=PAGE), teams("legacy"))
    assert [a["targets"][0]["uri"] for a in card["potentialAction"]] == [
        "https://www.facebook.com/111/posts/1",
        PAGE,
    ]


def test_email_links_to_the_finding_page_in_both_parts() -> None:
    text, html = bodies(make_alert(finding_url=PAGE))
    assert f"Acknowledge, snooze or dismiss: {PAGE}" in text
    assert f'<a href="{PAGE}"' in html and "Acknowledge, snooze or dismiss this finding" in html


def test_no_page_link_without_public_url_and_never_a_non_http_one() -> None:
    text, html = bodies(make_alert())
    assert "Acknowledge" not in text and "Acknowledge" not in html
    card = payload(make_alert(finding_url="javascript:alert(1)"), teams("workflows"))
    assert len(card["attachments"][0]["content"]["actions"]) == 1
