"""The channel registry: every notifier registered once, each channel's settings model complete,
and the config's `alerts.channels` and check-config built from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

import pytest

import monitor.notifiers as notifiers
from monitor.cli.config_cmd import render, summarise
from monitor.config import ConfigError, parse_config
from monitor.notifiers import NOTIFIERS, get_notifier
from monitor.notifiers.specs import CHANNELS, ChannelSettings, channel_settings

CONFIG = """
accounts:
  - {id: main, platform: x, handle: main, name: Main, role: central, language: {mode: bilingual}}
alerts:
  channels:
    mail: {type: email, host: smtp.example.ac.uk, from: a@example.ac.uk, to: [b@example.ac.uk],
           username: u, password: sekrit-password}
    chat: {type: teams, url: "https://example.webhook.office.com/webhookb2/sekrit-path"}
"""


def test_every_notifier_module_is_registered_once() -> None:
    found = set()
    for info in pkgutil.iter_modules(notifiers.__path__):
        module = importlib.import_module(f"monitor.notifiers.{info.name}")
        for value in vars(module).values():
            if inspect.isclass(value) and value.__module__ == module.__name__ and hasattr(value, "send"):
                found.add(f"{module.__name__}:{value.__name__}")
    assert sorted(found) == sorted(NOTIFIERS.values())
    assert dict(NOTIFIERS) == {name: model.notifier for name, model in CHANNELS.items()}


@pytest.mark.parametrize("channel_type", ["email", "teams"])
def test_each_channel_declares_its_type_settings_and_summary(channel_type: str) -> None:
    model = channel_settings(channel_type)
    assert issubclass(model, ChannelSettings)
    assert typing.get_args(model.model_fields["type"].annotation) == (channel_type,)
    notifier = get_notifier(channel_type)
    assert notifier.type == channel_type
    for name in ("summary", "describe"):
        assert getattr(model, name) is not getattr(ChannelSettings, name), name


def test_config_and_check_config_read_the_registry() -> None:
    config = parse_config(CONFIG, env={})
    assert {name: type(channel) for name, channel in config.alerts.channels.items()} == {
        "mail": CHANNELS["email"],
        "chat": CHANNELS["teams"],
    }
    summary = summarise(config)
    text = render(summary)
    assert "smtp.example.ac.uk:587 starttls, user u password ****, to b@example.ac.uk" in text
    assert "https://example.webhook.office.com/**** (workflows)" in text
    assert "sekrit" not in text and "sekrit" not in str(summary)


def test_an_unknown_channel_type_lists_the_registered_ones() -> None:
    text = CONFIG.replace("type: teams", "type: slack")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={})
    assert "alerts.channels.chat.type: must be one of email, teams" in str(caught.value)
    with pytest.raises(KeyError, match="no notifier for channel type 'slack'"):
        get_notifier("slack")
