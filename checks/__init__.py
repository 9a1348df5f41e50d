"""The policy checks (DESIGN section 1), one module per check, in one explicit registry.

Nothing registers itself on import: `REGISTRY` maps each catalogue id to "module:Class", and a
check's module is imported only when it is first asked for.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.base import Check

REGISTRY: dict[str, str] = {
    "cadence": "checks.cadence:CadenceCheck",
    "welsh-unanswered": "checks.welsh_unanswered:WelshUnansweredCheck",
    "welsh-reply-language": "checks.welsh_reply_language:WelshReplyLanguageCheck",
    "welsh-counterpart": "checks.welsh_counterpart:WelshCounterpartCheck",
    "profile-hours": "checks.profile_hours:ProfileHoursCheck",
    "emergency-posting": "checks.emergency_posting:EmergencyPostingCheck",
    "video-captions": "checks.video_captions:VideoCaptionsCheck",
    "response-time": "checks.response_time:ResponseTimeCheck",
    "profile-changed": "checks.profile_changed:ProfileChangedCheck",
    "registry": "checks.registry:RegistryCheck",
    "connector-health": "checks.connector_health:ConnectorHealthCheck",
    "post-anomaly": "checks.post_anomaly:PostAnomalyCheck",
    "personal-data": "checks.personal_data:PersonalDataCheck",
    "clickable": "checks.clickable:ClickableCheck",
    "access-review": "checks.access_review:AccessReviewCheck",
    "coverage": "checks.coverage:CoverageCheck",
    "credential-expiry": "checks.credential_expiry:CredentialExpiryCheck",
}


@cache
def get_check(check_id: str) -> Check:
    """The check with this catalogue id; KeyError for an unknown id."""
    module_name, class_name = REGISTRY[check_id].split(":")
    check: Check = getattr(importlib.import_module(module_name), class_name)()
    if check.id != check_id:
        raise RuntimeError(f"{REGISTRY[check_id]} declares id {check.id!r}, registered as {check_id!r}")
    return check


def all_checks() -> list[Check]:
    """Every registered check, in catalogue order."""
    return [get_check(check_id) for check_id in REGISTRY]
