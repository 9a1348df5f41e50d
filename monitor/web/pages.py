"""The dashboard's pages and the actions on them (every action a POST form with a CSRF token)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from monitor.web import auth, i18n, queries
from monitor.web.app import context
from monitor.web.i18n import _

pages = Blueprint("web", __name__)

PAGE_SIZE = 50
ACCOUNTS_PER_PAGE = 100  # the overview, worst first; `?show=all` lists every account on one page
SNOOZE_CHOICES = ("1h", "4h", "1d", "3d", "7d")
DISMISS_REASONS = ("false alarm", "accepted exception", "handled elsewhere")
STATES = ("none", "acknowledged", "snoozed", "dismissed")


def _require(action: str) -> auth.User:
    user: auth.User | None = g.get("user")
    if user is None or not user.may(action):
        abort(403)
    return user


@pages.app_context_processor
def _globals() -> dict[str, Any]:
    from monitor.emergency import active_emergency

    ctx = context()
    banner = None
    if g.get("user") is not None:
        with ctx.store.session() as db:
            banner = active_emergency(db)
    return {
        "user": g.get("user"),
        "lang": i18n.current_language(),
        "html_lang": g.get("html_lang") or i18n.html_lang(i18n.current_language()),
        "languages": i18n.LANGUAGES,
        "language_names": i18n.LANGUAGE_NAMES,
        "emergency_banner": banner,
        "local_mode": ctx.mode == "local",
    }


# --- signing in, language -------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//evil`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("web.overview")
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else url_for("web.overview")


@pages.route("/login", methods=["GET", "POST"])
def login() -> Any:
    ctx = context()
    if ctx.mode != "local":
        abort(404)
    error = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "")[:254]
        password = request.form.get("password", "")[:1024]
        if not ctx.limiter.allow(request.remote_addr or "?", name):
            abort(429)
        user_name = auth.check_login(ctx.web.auth, name, password) if name and password else None
        if user_name is not None:
            lang = session.get("lang")
            session.clear()  # no fixation: a new session for the signed-in person
            session.permanent = True
            session["name"] = user_name
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.form.get("next")), code=303)
        error = _("The name or password is not right.")
        status = 401
    return render_template("login.html", error=error, next=request.values.get("next", "")), status


@pages.route("/logout", methods=["POST"])
def logout() -> Response:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login") if context().mode == "local" else url_for("web.overview"), code=303)


@pages.route("/language", methods=["POST"])
def language() -> Response:
    chosen = request.form.get("lang", "")
    if chosen in i18n.LANGUAGES:
        session["lang"] = chosen
    return redirect(_safe_next(request.form.get("next")), code=303)


# --- overview -------------------------------------------------------------------------------------


@pages.route("/")
def overview() -> str:
    _require("view")
    ctx = context()
    unit = request.args.get("unit", "")
    platform = request.args.get("platform", "")
    severity = request.args.get("severity", "")
    now = ctx.clock()
    with ctx.store.session() as db:
        rows = queries.overview(db, ctx.config, now, unit=unit, platform=platform, severity=severity)
        totals = queries.open_counts_by_severity(db)
    show_all = request.args.get("show") == "all"
    pages_count = 1 if show_all else max(1, -(-len(rows) // ACCOUNTS_PER_PAGE))
    page = min(_page_number(), pages_count)
    shown = rows if show_all else rows[(page - 1) * ACCOUNTS_PER_PAGE : page * ACCOUNTS_PER_PAGE]
    return render_template(
        "overview.html",
        rows=shown,
        total=len(rows),
        page=page,
        pages_count=pages_count,
        show_all=show_all,
        totals=totals,
        severities=queries.SEVERITIES,
        units=queries.units(ctx.config),
        platforms=("x", "facebook", "instagram", "youtube"),
        chosen={"unit": unit, "platform": platform, "severity": severity},
        query={k: v for k, v in {"unit": unit, "platform": platform, "severity": severity}.items() if v},
    )


# --- findings -------------------------------------------------------------------------------------


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@pages.route("/findings")
def findings() -> str:
    from checks import REGISTRY
    from monitor import triage

    _require("view")
    ctx = context()
    chosen = {k: request.args.get(k, "") for k in ("status", "state", "check", "account", "severity")}
    if "status" not in request.args:
        chosen["status"] = "open"
    page = _page_number()
    filters: dict[str, Any] = {
        "status": chosen["status"] if chosen["status"] in ("open", "resolved") else None,
        "check": chosen["check"] or None,
        "account": chosen["account"] or None,
        "state": chosen["state"] if chosen["state"] in STATES else None,
        "severity": chosen["severity"] if chosen["severity"] in queries.SEVERITIES else None,
    }
    now = ctx.clock()
    total = triage.count_findings(ctx.store, **filters, now=now)
    pages_count = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages_count)
    rows = triage.list_findings(ctx.store, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, now=now)
    more = page < pages_count
    return render_template(
        "findings.html",
        rows=rows,
        page=page,
        pages_count=pages_count,
        total=total,
        more=more,
        chosen=chosen,
        checks=sorted(REGISTRY),
        accounts=ctx.config.accounts,
        severities=queries.SEVERITIES,
        states=STATES,
        labels=_account_labels(),
    )


def _account_labels() -> dict[str, str]:
    return {a.id: a.name for a in context().config.accounts}


@pages.route("/findings/<int:finding_id>")
def finding(finding_id: int) -> str:
    from monitor import triage

    _require("view")
    ctx = context()
    try:
        detail = triage.get_finding(ctx.store, finding_id, now=ctx.clock())
    except triage.TriageError:
        abort(404)
    try:
        account = ctx.config.account(detail.account)
    except KeyError:
        account = None
    return render_template(
        "finding.html",
        f=detail,
        account=account,
        snooze_choices=SNOOZE_CHOICES,
        dismiss_reasons=DISMISS_REASONS,
    )


def _back(finding_id: int) -> Response:
    return redirect(url_for("web.finding", finding_id=finding_id), code=303)


def _act(finding_id: int, action: str, call: Any, done: str) -> Response:
    """Do one triage action for the signed-in person; say what happened on the finding's page."""
    from monitor import triage

    user = _require(action)
    try:
        call(user)
    except triage.TriageError as exc:
        flash(_refusal(exc), "error")
    else:
        flash(done, "ok")
    return _back(finding_id)


def _refusal(exc: Any) -> str:
    """Why a triage action was refused, in the page's language (a race with someone else's action)."""
    if exc.kind == "already-acknowledged":
        return _("Already acknowledged by %(who)s.", who=exc.who)
    if exc.kind == "not-triaged":
        return _("Nothing to reopen: the finding is not acknowledged, snoozed or dismissed.")
    if exc.kind == "resolved":
        return _("The finding is resolved: a new breach opens a new finding.")
    return _("That could not be done: %(why)s", why=str(exc))


def _note() -> str:
    return request.form.get("note", "").strip()[:2000]


@pages.route("/findings/<int:finding_id>/acknowledge", methods=["POST"])
def acknowledge(finding_id: int) -> Response:
    from monitor import triage

    ctx = context()
    return _act(
        finding_id,
        "acknowledge",
        lambda user: triage.acknowledge(ctx.store, finding_id, by=user.name, note=_note(), now=ctx.clock()),
        _("Acknowledged: repeat alerts stop."),
    )


def _snooze_until(now: datetime) -> datetime | None:
    """The form's until (a local date-time) or its `for` choice; None when neither makes sense."""
    from monitor.durations import parse_duration

    until_text = request.form.get("until", "").strip()
    if until_text:
        try:
            local = datetime.fromisoformat(until_text)
        except ValueError:
            return None
        return local.replace(tzinfo=context().config.tz) if local.tzinfo is None else local
    choice = request.form.get("for", "")
    if choice in SNOOZE_CHOICES:
        delta: timedelta = parse_duration(choice)
        return now + delta
    return None


@pages.route("/findings/<int:finding_id>/snooze", methods=["POST"])
def snooze(finding_id: int) -> Response:
    from monitor import triage

    ctx = context()
    user = _require("snooze")
    now = ctx.clock()
    until = _snooze_until(now)
    if until is None or until <= now:
        flash(_("Choose how long to snooze for, or a time in the future."), "error")
        return _back(finding_id)
    return _act(
        finding_id,
        "snooze",
        lambda _user: triage.snooze(ctx.store, finding_id, until=until, by=user.name, note=_note(), now=now),
        _("Snoozed: no alerts, and out of the digest's to-do, until then."),
    )


@pages.route("/findings/<int:finding_id>/dismiss", methods=["POST"])
def dismiss(finding_id: int) -> Response:
    from monitor import triage

    ctx = context()
    user = _require("dismiss")
    reason = request.form.get("reason", "").strip()
    detail = _note()
    if reason not in DISMISS_REASONS:
        flash(_("Choose why the finding is dismissed."), "error")
        return _back(finding_id)
    text = f"{reason}: {detail}" if detail else reason
    now = ctx.clock()
    until = None
    if request.form.get("until", "").strip():
        until = _snooze_until(now)
        if until is None or until <= now:
            flash(_("The expiry must be a time in the future."), "error")
            return _back(finding_id)
    return _act(
        finding_id,
        "dismiss",
        lambda _user: triage.dismiss(ctx.store, finding_id, reason=text, by=user.name, until=until, now=now),
        _("Dismissed."),
    )


@pages.route("/findings/<int:finding_id>/reopen", methods=["POST"])
def reopen(finding_id: int) -> Response:
    from monitor import triage

    ctx = context()
    return _act(
        finding_id,
        "reopen",
        lambda user: triage.reopen(ctx.store, finding_id, by=user.name, now=ctx.clock()),
        _("Reopened: it alerts and nags again."),
    )


# --- account --------------------------------------------------------------------------------------


@pages.route("/accounts/<account_id>")
def account(account_id: str) -> str:
    _require("view")
    ctx = context()
    try:
        chosen = ctx.config.account(account_id)
    except KeyError:
        abort(404)
    with ctx.store.session() as db:
        data = queries.account_page(db, ctx.config, chosen, ctx.clock())
        db.expunge_all()
    return render_template("account.html", a=data, labels=_account_labels())


# --- emergency ------------------------------------------------------------------------------------


@pages.route("/emergency")
def emergency() -> str:
    from monitor.emergency import active_emergency, latest_emergency, queued_posts

    _require("view")
    ctx = context()
    with ctx.store.session() as db:
        active = active_emergency(db)
        last = active or latest_emergency(db)
        queued = queued_posts(db, ctx.config)
        arriving = queries.emergency_findings(db, active.started_at) if active else []
        db.expunge_all()
    return render_template(
        "emergency.html", active=active, last=last, queued=queued, arriving=arriving, labels=_account_labels()
    )


@pages.route("/emergency/declare", methods=["POST"])
def declare_emergency() -> Response:
    from monitor.emergency import EmergencyError, active_emergency, start_emergency

    user = _require("declare-emergency")
    ctx = context()
    reason = request.form.get("reason", "").strip()[:2000]
    if not reason:
        flash(_("Not declared: give the reason for the emergency."), "error")
        return redirect(url_for("web.emergency"), code=303)
    try:
        start_emergency(ctx.store, reason, user.name, now=ctx.clock())
    except EmergencyError as exc:
        with ctx.store.session() as db:
            already = active_emergency(db) is not None
        why = _("an emergency is already declared; stop it first.") if already else str(exc)
        flash(_("Not declared: %(why)s", why=why), "error")
    else:
        flash(_("Emergency declared. The daemon takes it up within seconds."), "ok")
    return redirect(url_for("web.emergency"), code=303)


@pages.route("/emergency/stop", methods=["POST"])
def stop_emergency() -> Response:
    from monitor.emergency import stop_emergency as stop

    user = _require("stop-emergency")
    ctx = context()
    row = stop(ctx.store, user.name, now=ctx.clock())
    if row is None:
        flash(_("No emergency was active."), "error")
    else:
        flash(_("Emergency stopped. The daemon sends on-call the summary."), "ok")
    return redirect(url_for("web.emergency"), code=303)


# --- operations -----------------------------------------------------------------------------------


@pages.route("/operations")
def operations() -> str:
    _require("view")
    ctx = context()
    with ctx.store.session() as db:
        data = queries.operations(db, ctx.config, ctx.clock())
        db.expunge_all()
    return render_template("operations.html", o=data)
