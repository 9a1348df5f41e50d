"""Scenario loading: relative times, platform-shaped ids, located errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.sandbox.scenario import (
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    parse_offset,
    parse_scenario,
    resolve_time,
)
from tests.sandbox.conftest import NOW, SMALL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2h", timedelta(hours=-2)),
        ("-3d", timedelta(days=-3)),
        ("-1d2h", timedelta(days=-1, hours=-2)),
        ("+30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("now", timedelta(0)),
        ("-1w", timedelta(weeks=-1)),
    ],
)
def test_relative_offsets(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["two hours ago", "-2x", "", "--2h"])
def test_bad_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(text)


def test_absolute_and_relative_times() -> None:
    assert resolve_time("-2h", NOW) == NOW - timedelta(hours=2)
    assert resolve_time("2026-03-01T10:00:00Z", NOW).isoformat() == "2026-03-01T10:00:00+00:00"
    assert resolve_time("2026-03-01T10:00:00", NOW).tzinfo is not None  # naive means UTC


def test_times_are_relative_to_loading() -> None:
    world = parse_scenario(SMALL, now=NOW)
    account = world.account("acme-x")
    assert [p.at for p in account.posts][:2] == [NOW - timedelta(hours=1), NOW - timedelta(hours=2)]
    mention = account.message(world.find_ref(account, "m1"))
    assert mention is not None and mention.reply is not None
    assert mention.reply.at - mention.at == timedelta(minutes=10)


def test_ids_are_platform_shaped_and_deterministic() -> None:
    first, second = parse_scenario(SMALL, now=NOW), parse_scenario(SMALL, now=NOW)
    x_ids = [p.id for p in first.account("acme-x").posts]
    assert x_ids == [p.id for p in second.account("acme-x").posts]
    assert all(i.isdigit() for i in x_ids)
    assert x_ids == sorted(x_ids, key=int, reverse=True)  # snowflakes grow with time: since_id works
    fb = first.account("acme-fb")
    assert all(p.id.startswith("104000000000099_") for p in fb.posts)
    comment = fb.message(first.find_ref(fb, "c1"))
    assert comment is not None and comment.id.split("_")[0] == comment.on.split("_")[1]  # <post>_<comment>
    yt = first.account("acme-yt")
    assert all(len(p.id) == 11 for p in yt.posts)
    assert yt.uploads_playlist == "UU" + yt.native_id[2:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('platform: x\n    id: "1000000000000000001"', 'platform: myspace\n    id: "1"'), "is not one of"),
        (("post: p2", "post: nope"), "nothing with ref or id 'nope'"),
        (('at: -1h, text: "Newest', 'at: yesterday, text: "Newest'), "is not a time"),
        (("channel: mention", "channel: letter"), "is not one of comment, reply, mention, dm"),
        (("{ref: c2, channel: reply, parent: c1,", "{ref: c2, channel: reply,"), "a reply needs the ref"),
        (("{ref: d1, channel: dm,", "{ref: d1, channel: dm, hidden: true,"), "only Facebook and Instagram"),
        (
            ("{ref: c2, channel: reply,", "{ref: c2, channel: reply, hidden: yes please,"),
            "is not true or false",
        ),
    ],
)
def test_errors_name_the_place(change: tuple[str, str], message: str) -> None:
    text = SMALL.replace(*change, 1)
    assert text != SMALL
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "small.yaml", now=NOW)
    assert message in str(caught.value)
    assert str(caught.value).startswith("small.yaml: accounts[")


def test_unknown_file_names_the_built_in_scenarios(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError, match="built in: demo"):
        load_scenario(str(tmp_path / "missing.yaml"))


def test_demo_scenario_is_built_in_and_loads() -> None:
    assert "demo" in builtin_scenarios()
    world = load_scenario("demo", now=NOW)
    assert {a.platform for a in world.accounts.values()} == {"x", "facebook", "instagram", "youtube"}
    assert world.account("chwaraeon-x").failure is not None


def test_due_scheduled_posts_are_published_with_their_id() -> None:
    world = parse_scenario(SMALL, now=NOW)
    fb = world.account("acme-fb")
    item = fb.scheduled[0]
    world.publish_due(NOW + timedelta(hours=3))
    assert not fb.scheduled
    assert fb.post(item.id) is not None


def test_a_comment_can_be_hidden_in_the_scenario() -> None:
    text = SMALL.replace("{ref: c2, channel: reply,", "{ref: c2, channel: reply, hidden: true,", 1)
    fb = parse_scenario(text, "small.yaml", now=NOW).account("acme-fb")
    hidden = {m.ref: m.hidden for m in fb.inbox}
    assert hidden["c2"] is True and hidden["c1"] is False
