"""The platform registry: every connector registered once, each spec complete, and the config,
budget and poll built from the specs (no other list of platforms)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import connectors
from connectors import REGISTRY, connector_class, get_connector
from connectors.base import BaseConnector
from connectors.specs import CREDENTIAL_FIELDS, PLATFORM_NAMES, SPECS, platform_spec
from monitor.config import Account, AccountCredentials, Cadence, ConfigError, Platforms, parse_config
from monitor.poll import quota_day

PLATFORMS = ["x", "facebook", "instagram", "youtube"]
SDKS = ("tweepy", "facebook", "googleapiclient", "httplib2")


def test_the_registry_holds_each_platform_once() -> None:
    assert list(SPECS) == list(PLATFORM_NAMES) == PLATFORMS
    assert dict(REGISTRY) == {name: spec.connector for name, spec in SPECS.items()}


def test_every_connector_module_is_registered_and_declares_its_spec() -> None:
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(connectors.__path__):
        module = importlib.import_module(f"connectors.{info.name}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseConnector)
                and value is not BaseConnector
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__}:{value.__name__}"] = value
    assert sorted(found) == sorted(REGISTRY.values())
    for name, spec in SPECS.items():
        cls = connector_class(name)
        assert cls.spec is spec and cls.platform == name


@pytest.mark.parametrize("name", PLATFORMS)
def test_each_spec_is_complete(name: str) -> None:
    spec = platform_spec(name)
    assert spec.credential in spec.settings.model_fields
    assert all(field in Account.model_fields for field in spec.required_ids)
    assert spec.budget in {"windows", "usage_percent", "daily_units", "none"}
    if spec.budget == "windows":
        assert spec.rate_buckets and all(
            b.limit > 0 and b.window.total_seconds() > 0 for b in spec.rate_buckets
        )
        source = inspect.getsource(importlib.import_module(spec.connector.split(":")[0]))
        assert all(f'"{b.name}"' in source for b in spec.rate_buckets)  # the connector's bucket names
    if spec.budget == "daily_units":
        assert "daily_quota" in spec.settings.model_fields and spec.quota_units_per_poll > 0
    ZoneInfo(spec.quota_zone)
    # every feature `accounts verify` reports is either read (with its permissions) or said not to be
    from monitor.coverage import FEATURES

    assert spec.permissions
    assert set(spec.permissions) | set(spec.not_read) == set(FEATURES)
    assert not set(spec.permissions) & set(spec.not_read)


def test_the_config_schema_is_built_from_the_specs() -> None:
    assert list(Platforms.model_fields) == PLATFORMS
    assert list(Cadence.model_fields) == ["default", *PLATFORMS]
    assert (
        tuple(AccountCredentials.model_fields)
        == CREDENTIAL_FIELDS
        == ("bearer_token", "access_token", "api_key")
    )
    config = parse_config(_config("youtube"), env={})
    for name, spec in SPECS.items():
        assert isinstance(config.platforms.settings_for(name), spec.settings)
        assert isinstance(get_connector(name, config).settings, spec.settings)  # type: ignore[attr-defined]
    assert config.policy.cadence.for_platform("x").total_seconds() == 48 * 3600


def test_an_unknown_platform_is_named_with_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_config("myspace"), env={})
    assert "platform: must be one of x, facebook, instagram, youtube" in str(caught.value)
    with pytest.raises(ValueError, match="known: x, facebook, instagram, youtube"):
        platform_spec("myspace")


def test_a_credential_of_another_platform_is_named() -> None:
    text = _config("youtube") + "    credentials: {bearer_token: abcdef}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={})
    assert "accounts[0].credentials.bearer_token: not used on youtube (it uses api_key)" in str(caught.value)


def test_the_quota_day_comes_from_the_spec() -> None:
    late_evening_pacific = datetime(2026, 3, 10, 6, 59, tzinfo=UTC)  # 23:59 PDT on the 9th
    assert quota_day("youtube", late_evening_pacific) == "2026-03-09"
    assert quota_day("x", late_evening_pacific) == "2026-03-10"


def test_specs_and_config_import_no_platform_sdk() -> None:
    code = (
        "import sys, connectors.specs, monitor.config, monitor.budget, monitor.poll\n"
        f"print(','.join(m for m in {SDKS!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def _config(platform: str) -> str:
    return (
        "accounts:\n"
        f"  - id: main\n    platform: {platform}\n    handle: main\n    native_id: '1'\n"
        "    name: Main\n    role: central\n    language: {mode: bilingual}\n"
    )
