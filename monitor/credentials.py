"""The store side of credentials and coverage: credential facts, coverage gaps, discovered
accounts (issue 15). Plain reads and writes; no platform calls here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.coverage import (
    FEATURE_LABELS,
    FEATURES,
    CoverageGap,
    CredentialFacts,
    CredentialState,
    DiscoveredAccount,
)
from monitor.db import CoverageGapRow, CredentialFactRow, DiscoveredAccountRow, OAuthTokenRow
from monitor.i18n import Translator, translator


def save_credential_facts(session: Session, account_id: str, facts: CredentialFacts, now: datetime) -> None:
    row = session.get(CredentialFactRow, account_id) or CredentialFactRow(account_id=account_id)
    row.checked_at = now
    row.valid = facts.valid
    row.expires_at = facts.expires_at
    row.data_access_expires_at = facts.data_access_expires_at
    row.scopes = list(facts.scopes)
    row.problem = facts.problem or None
    session.add(row)


def replace_coverage_gaps(
    session: Session, account_id: str, gaps: Iterable[tuple[str, str, str]], now: datetime
) -> None:
    """The account's gaps are now exactly `gaps` ((feature, reason, fix)); `since` is kept."""
    wanted = {feature: (reason, fix) for feature, reason, fix in gaps}
    existing = {
        row.feature: row
        for row in session.scalars(select(CoverageGapRow).where(CoverageGapRow.account_id == account_id))
    }
    for feature, row in existing.items():
        if feature not in wanted:
            session.delete(row)
    for feature, (reason, fix) in wanted.items():
        row = existing.get(feature) or CoverageGapRow(account_id=account_id, feature=feature, since=now)
        row.reason, row.fix, row.seen_at = reason, fix, now
        session.add(row)


def coverage_gaps(session: Session, account_ids: Sequence[str] | None = None) -> list[CoverageGap]:
    stmt = select(CoverageGapRow).order_by(CoverageGapRow.account_id, CoverageGapRow.feature)
    if account_ids is not None:
        stmt = stmt.where(CoverageGapRow.account_id.in_(list(account_ids)))
    return [
        CoverageGap(row.account_id, row.feature, row.reason, row.fix, row.since)
        for row in session.scalars(stmt)
    ]


def credential_states(session: Session, account_ids: Sequence[str]) -> dict[str, CredentialState]:
    states: dict[str, CredentialState] = {}
    ids = list(account_ids)
    for fact in session.scalars(select(CredentialFactRow).where(CredentialFactRow.account_id.in_(ids))):
        states[fact.account_id] = CredentialState(
            account_id=fact.account_id,
            checked_at=fact.checked_at,
            valid=fact.valid,
            expires_at=fact.expires_at,
            data_access_expires_at=fact.data_access_expires_at,
            problem=fact.problem or "",
        )
    failed = select(OAuthTokenRow).where(
        OAuthTokenRow.account_id.in_(ids), OAuthTokenRow.refresh_failed.is_not(None)
    )
    for token in session.scalars(failed):
        known = states.get(token.account_id)
        states[token.account_id] = CredentialState(
            account_id=token.account_id,
            checked_at=known.checked_at if known else token.updated_at,
            valid=known.valid if known else False,
            expires_at=known.expires_at if known else None,
            data_access_expires_at=known.data_access_expires_at if known else None,
            problem=known.problem if known else "",
            refresh_failed=token.refresh_failed or "",
        )
    return states


def save_discovered(session: Session, found: Iterable[DiscoveredAccount], now: datetime) -> None:
    """What the credentials see now replaces what they saw before, per platform asked."""
    found = list(found)
    for platform in {item.platform for item in found}:
        session.execute(delete(DiscoveredAccountRow).where(DiscoveredAccountRow.platform == platform))
    for item in found:
        session.merge(
            DiscoveredAccountRow(
                platform=item.platform,
                native_id=item.native_id,
                name=item.name,
                handle=item.handle,
                seen_at=now,
            )
        )


def discovered_accounts(session: Session) -> list[DiscoveredAccount]:
    stmt = select(DiscoveredAccountRow).order_by(
        DiscoveredAccountRow.platform, DiscoveredAccountRow.native_id
    )
    return [DiscoveredAccount(r.platform, r.native_id, r.name, r.handle) for r in session.scalars(stmt)]


def cannot_see(
    session: Session, config: Config, account_ids: Sequence[str] | None = None, t: Translator | None = None
) -> list[str]:
    """What socialmon cannot see, one line per feature: "queued posts unknown for: Sport Facebook,
    Library Facebook" (coverage gaps of the latest polls, and credentials known to be invalid), in
    `t`'s language (English without one)."""
    t = t or translator("en")
    names = {a.id: a.name for a in config.accounts if a.enabled}
    wanted = [i for i in (account_ids if account_ids is not None else list(names)) if i in names]
    by_feature: dict[str, list[str]] = {}
    for gap in coverage_gaps(session, wanted):
        by_feature.setdefault(gap.feature, []).append(names[gap.account_id])
    lines = [
        t.gettext(
            "%(feature)s unknown for: %(accounts)s",
            feature=t.known(FEATURE_LABELS.get(feature, feature)),
            accounts=", ".join(sorted(set(who))),
        )
        for feature, who in sorted(
            by_feature.items(), key=lambda item: FEATURES.index(item[0]) if item[0] in FEATURES else 99
        )
    ]
    invalid = select(CredentialFactRow.account_id).where(
        CredentialFactRow.account_id.in_(wanted), CredentialFactRow.valid.is_(False)
    )
    blind = sorted(names[i] for i in session.scalars(invalid))
    if blind:
        lines.append(
            t.gettext("nothing readable (credential not valid) for: %(accounts)s", accounts=", ".join(blind))
        )
    return lines
