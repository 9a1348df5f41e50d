"""The check registry: each catalogue id registered once, every module registered, attributes complete."""

from __future__ import annotations

import importlib
import pkgutil

import checks
from checks import REGISTRY, all_checks, get_check
from checks.base import Check
from connectors.specs import PLATFORM_NAMES

CATALOGUE = [
    "cadence", "welsh-unanswered", "welsh-reply-language", "welsh-counterpart", "profile-hours",
    "emergency-posting", "video-captions", "response-time", "profile-changed", "registry", "connector-health",
    "post-anomaly", "personal-data", "clickable", "access-review",
    "coverage", "credential-expiry",
]  # fmt: skip
SEVERITIES = {"info", "low", "warning", "high", "critical"}


def test_registry_ids_equal_the_catalogue_exactly_once() -> None:
    assert sorted(REGISTRY) == sorted(CATALOGUE)
    ids = [check.id for check in all_checks()]
    assert len(ids) == len(set(ids)) == len(CATALOGUE)


def test_every_check_module_is_registered_once() -> None:
    modules = {
        info.name
        for info in pkgutil.iter_modules(checks.__path__)
        if info.name != "base" and not info.name.startswith("_")
    }
    registered = [target.split(":")[0].removeprefix("checks.") for target in REGISTRY.values()]
    assert sorted(registered) == sorted(modules)
    for name in modules:  # one Check class per module
        module = importlib.import_module(f"checks.{name}")
        classes = [
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, Check) and v is not Check
        ]
        assert len(classes) == 1, name


def test_each_check_declares_what_the_catalogue_needs() -> None:
    for check in all_checks():
        assert check.title and check.policy_section and check.severity in SEVERITIES
        assert check.platforms is None or (check.platforms and set(check.platforms) <= set(PLATFORM_NAMES))
        assert check.immediate == (check.route is not None), check.id  # routing reads both
    immediate = {c.id: c.route for c in all_checks() if c.immediate}
    assert immediate == {
        "emergency-posting": "emergency",
        "profile-changed": "security",
        "connector-health": "operations",
        "post-anomaly": "security",
        "coverage": "operations",
        "credential-expiry": "operations",
    }
    assert get_check("emergency-posting").severity == "critical"
    assert get_check("profile-changed").severity == "high"
    assert get_check("connector-health").severity == "high"


def test_lookup_is_lazy_and_cached() -> None:
    assert get_check("cadence") is get_check("cadence")
