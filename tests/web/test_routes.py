"""Every page and every action of the dashboard, through Flask's test client over a real store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from monitor.db import EmergencyRow, FindingRow
from tests.web.web_support import (
    FB_TOKEN,
    NOW,
    PASSWORD,
    ROLE_USERS,
    TEAMS_SECRET,
    csrf_token,
    password_hash,
    post_form,
    sign_in,
)

PAGES = [
    "/",
    "/findings",
    "/findings/{high}",
    "/accounts/central-x",
    "/accounts/music-fb",
    "/emergency",
    "/operations",
]


def pages(app: Any) -> list[str]:
    return [p.format(**app.config["ids"]) for p in PAGES]


def signed_in(app: Any, role: str = "viewer") -> Any:
    client = app.test_client()
    name = next(n for n, r in ROLE_USERS.items() if r == role)
    response = sign_in(client, name)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def test_every_page_renders_without_secrets(local_app: Any) -> None:
    client = signed_in(local_app)
    for path in pages(local_app):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        for secret in (TEAMS_SECRET, "SECRET-WEBHOOK", FB_TOKEN, PASSWORD, password_hash()):
            assert secret not in html, (path, secret)
        assert "<script>" not in html and "javascript:" not in html, path
        assert 'lang="en"' in html and "Skip to the main content" in html


def test_overview_shows_accounts_findings_balance_and_health(local_app: Any) -> None:
    html = signed_in(local_app).get("/").get_data(as_text=True)
    assert "Aberwen University" in html and "Prifysgol Aberwen" in html and "Music" in html
    assert "paired (en, with central-cy-x)" in html and "bilingual" in html
    assert "100%" in html  # central-cy-x posted in Welsh only this week
    assert "failing: auth_expired" in html  # music-fb's last poll
    assert "Communications" in html and "central" in html


def test_overview_last_post_of_an_account_quiet_this_week(local_app: Any) -> None:
    from datetime import timedelta

    from monitor.db import PostRow

    store = local_app.extensions["socialmon"].store
    with store.session() as s:
        s.query(PostRow).filter(PostRow.account_id == "music-fb").delete()
        old = NOW - timedelta(days=20)
        s.add(
            PostRow(platform="facebook", native_id="old", account_id="music-fb", created_at=old,
                    text="Old news", url="", language="en", first_seen_at=NOW, updated_at=NOW)
        )  # fmt: skip
    html = signed_in(local_app).get("/").get_data(as_text=True)
    assert "Tue 10 Nov 2026 12:00 GMT" in html  # its newest post, from before this week
    assert "no posts" in html  # and no Welsh share this week


def test_overview_puts_trouble_first_and_pages_a_hundred_accounts(local_app: Any, tmp_path: Any) -> None:
    from monitor.web.app import create_app
    from tests.web.web_support import config_text

    html = signed_in(local_app).get("/").get_data(as_text=True)
    # Music has the high finding: first; then Aberwen University (a warning); then the clean account.
    assert (
        html.index("/accounts/music-fb")
        < html.index("/accounts/central-x")
        < html.index("/accounts/central-cy-x")
    )
    assert "Page 1 of" not in html
    many = "".join(
        f"  - {{id: extra-{i}, platform: youtube, native_id: UC{i:05d}, name: Extra {i:03d}, unit: Arts,"
        " language: {mode: bilingual}}\n"
        for i in range(120)
    )
    text = config_text(tmp_path / "unused.db").replace("alerts:", many + "alerts:", 1)
    assert "extra-119" in text
    from monitor.config import parse_config
    from tests.web.web_support import FB_TOKEN, NOW

    config = parse_config(text, env={"TEAMS_URL": TEAMS_SECRET, "FB_TOKEN": FB_TOKEN})
    app = create_app(config, local_app.extensions["socialmon"].store, clock=lambda: NOW, secret_key=b"k" * 32)
    client = signed_in(app)
    first = client.get("/").get_data(as_text=True)
    assert "123 accounts" in first and "Page 1 of 2" in first and first.count('<th scope="row"') == 100
    second = client.get("/?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and second.count('<th scope="row"') == 23
    everything = client.get("/?show=all").get_data(as_text=True)
    assert everything.count('<th scope="row"') == 123 and "Page 1 of" not in everything
    arts = client.get("/?unit=Arts&page=2").get_data(as_text=True)
    assert "121 accounts" in arts and "unit=Arts" in arts  # the filter is kept across pages


def test_overview_filters(local_app: Any) -> None:
    client = signed_in(local_app)
    arts = client.get("/?unit=Arts").get_data(as_text=True)
    assert "Music" in arts and "Prifysgol Aberwen" not in arts
    x_only = client.get("/?platform=x").get_data(as_text=True)
    assert "Prifysgol Aberwen" in x_only and "/accounts/music-fb" not in x_only
    high = client.get("/?severity=high").get_data(as_text=True)
    assert "/accounts/music-fb" in high and "/accounts/central-cy-x" not in high


def test_findings_list_filters_and_pages(local_app: Any) -> None:
    client = signed_in(local_app)
    ids = local_app.config["ids"]
    default = client.get("/findings").get_data(as_text=True)
    assert f"/findings/{ids['high']}" in default and f'/findings/{ids["resolved"]}"' not in default
    everything = client.get("/findings?status=all").get_data(as_text=True)
    assert f'/findings/{ids["resolved"]}"' in everything
    by_check = client.get("/findings?check=welsh-counterpart").get_data(as_text=True)
    assert f'/findings/{ids["counterpart"]}"' in by_check and f'/findings/{ids["high"]}"' not in by_check
    by_severity = client.get("/findings?severity=high").get_data(as_text=True)
    assert f'/findings/{ids["high"]}"' in by_severity and f'/findings/{ids["warning"]}"' not in by_severity
    by_account = client.get("/findings?account=central-x").get_data(as_text=True)
    assert f'/findings/{ids["counterpart"]}"' in by_account and f'/findings/{ids["high"]}"' not in by_account
    assert "Next page" not in default
    assert "3 findings" in default and "Page 1 of 1" in default
    assert client.get("/findings?page=2").status_code == 200


def test_findings_list_pages_past_fifty(local_app: Any) -> None:
    from tests.web.web_support import finding

    store = local_app.extensions["socialmon"].store
    with store.session() as s:
        s.add_all([finding(100 + i) for i in range(60)])
    client = signed_in(local_app)
    first = client.get("/findings").get_data(as_text=True)
    assert "Next page" in first and "Previous page" not in first
    second = client.get("/findings?page=2").get_data(as_text=True)
    assert "Previous page" in second and "Next page" not in second
    assert "63 findings" in second and "Page 2 of 2" in second
    assert "Page 2 of 2" in client.get("/findings?page=99").get_data(as_text=True)  # past the end: the last


def test_finding_page_says_what_why_who_where(local_app: Any) -> None:
    html = signed_in(local_app).get(f"/findings/{local_app.config['ids']['high']}").get_data(as_text=True)
    assert "The last post was 3 days ago" in html  # what
    assert "4.2 Accounts must post at least every 48 hours." in html  # why
    assert "music.head@example.ac.uk" in html  # who
    assert 'href="https://www.facebook.com/1001/posts/1"' in html  # where
    assert "opened" in html  # history


def test_account_page(local_app: Any) -> None:
    html = signed_in(local_app).get("/accounts/central-x").get_data(as_text=True)
    assert "Aberwen FREE CRYPTO" in html and "Changes" in html  # profile as last seen, and its change
    assert "Mon-Fri 09:00-17:00" in html and "head@example.ac.uk" in html and "pat@example.ac.uk" in html
    assert "Welsh" in html and "English" in html  # language labels
    assert "Prifysgol Aberwen" in html and "waiting for its counterpart" in html
    assert "answered after 1 h 0 min" in html  # reply time
    assert "&lt;script&gt;" in html


def test_unknown_pages_are_404(local_app: Any) -> None:
    client = signed_in(local_app)
    assert client.get("/accounts/nope").status_code == 404
    assert client.get("/findings/999999").status_code == 404


def test_operations_page_redacts_errors(local_app: Any) -> None:
    html = signed_in(local_app).get("/operations").get_data(as_text=True)
    assert "host:1:abc" in html and "auth_expired" in html
    assert "GET /2/users/:id/tweets" in html and "850 / 900" in html
    assert "Music: no post" in html  # a failed delivery
    assert TEAMS_SECRET not in html and FB_TOKEN not in html


# --- who may do what ----------------------------------------------------------------------------------

ACTIONS = {
    "acknowledge": ("comms", "oncall", "admin"),
    "snooze": ("comms", "oncall", "admin"),
    "dismiss": ("comms", "oncall", "admin"),
    "reopen": ("comms", "oncall", "admin"),
    "declare": ("oncall", "admin"),
    "stop": ("oncall", "admin"),
}


SAID = {
    "acknowledge": "Acknowledged",
    "snooze": "Snoozed",
    "dismiss": "Dismissed",
    "reopen": "Reopened",
    "declare": "Emergency declared.",
    "stop": "Emergency stopped.",
}


def _state(app: Any, finding_id: int) -> str:
    with app.extensions["socialmon"].store.session() as s:
        return str(s.get(FindingRow, finding_id).state)


def _emergencies(app: Any) -> list[EmergencyRow]:
    with app.extensions["socialmon"].store.session() as s:
        return list(s.scalars(select(EmergencyRow)))


def _do(app: Any, client: Any, action: str) -> Any:
    fid = app.config["ids"]["high"]
    page = f"/findings/{fid}"
    if action == "acknowledge":
        return post_form(client, page, f"{page}/acknowledge", {"note": "on it"})
    if action == "snooze":
        return post_form(client, page, f"{page}/snooze", {"for": "4h", "note": "after the weekend"})
    if action == "dismiss":
        return post_form(client, page, f"{page}/dismiss", {"reason": "false alarm", "note": "test post"})
    if action == "reopen":
        from monitor import triage

        triage.acknowledge(app.extensions["socialmon"].store, fid, by="someone", note=None, now=NOW)
        return post_form(client, page, f"{page}/reopen", {})
    if action == "declare":
        return post_form(client, "/emergency", "/emergency/declare", {"reason": "Campus lockdown"})
    from monitor.emergency import start_emergency

    start_emergency(app.extensions["socialmon"].store, "Drill", "someone", now=NOW)
    return post_form(client, "/emergency", "/emergency/stop", {})


def _effect(app: Any, action: str) -> bool:
    fid = app.config["ids"]["high"]
    if action in ("acknowledge", "snooze", "dismiss"):
        return (
            _state(app, fid)
            == {"acknowledge": "acknowledged", "snooze": "snoozed", "dismiss": "dismissed"}[action]
        )
    if action == "reopen":
        return _state(app, fid) == "none"
    rows = _emergencies(app)
    if action == "declare":
        return len(rows) == 1 and rows[0].reason == "Campus lockdown"
    return len(rows) == 1 and rows[0].ended_at is not None


def _role_does(app: Any, role: str, action: str) -> None:
    client = signed_in(app, role)
    response = _do(app, client, action)
    if role in ACTIONS[action]:
        assert response.status_code == 303, response.get_data(as_text=True)
        assert _effect(app, action), (role, action)
        follow = client.get(response.headers["Location"]).get_data(as_text=True)
        assert SAID[action] in follow
    else:
        assert response.status_code == 403
        assert not _effect(app, action), (role, action)


@pytest.mark.parametrize("role", ["viewer", "comms", "oncall", "admin"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_role_against_every_action(sqlite_app: Any, role: str, action: str) -> None:
    _role_does(sqlite_app, role, action)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_on_both_databases(local_app: Any, action: str) -> None:
    # A role is refused before the database is touched, so the role matrix runs on SQLite; each
    # action's write (by the first role allowed it) is proven on both databases.
    _role_does(local_app, ACTIONS[action][0], action)


def test_actions_are_recorded_with_who_and_note(local_app: Any) -> None:
    client = signed_in(local_app, "comms")
    fid = local_app.config["ids"]["warning"]
    post_form(client, f"/findings/{fid}", f"/findings/{fid}/acknowledge", {"note": "Rhian is on it"})
    html = client.get(f"/findings/{fid}").get_data(as_text=True)
    assert "acknowledged" in html and "comms@example.ac.uk" in html and "Rhian is on it" in html


def test_snooze_until_a_local_time_and_refusals(local_app: Any) -> None:
    client = signed_in(local_app, "comms")
    fid = local_app.config["ids"]["warning"]
    page = f"/findings/{fid}"
    past = post_form(client, page, f"{page}/snooze", {"until": "2020-01-01T09:00"})
    assert past.status_code == 303 and _state(local_app, fid) == "none"
    assert "a time in the future" in client.get(page).get_data(as_text=True)
    ok = post_form(client, page, f"{page}/snooze", {"until": "2026-12-07T09:00"})
    assert ok.status_code == 303 and _state(local_app, fid) == "snoozed"
    with local_app.extensions["socialmon"].store.session() as s:
        until = s.get(FindingRow, fid).state_until
    assert until is not None and until.isoformat().startswith(
        "2026-12-07T09:00"
    )  # Europe/London is UTC in December
    no_reason = post_form(client, page, f"{page}/dismiss", {"reason": ""})
    assert no_reason.status_code == 303 and _state(local_app, fid) == "snoozed"
    assert "Choose why" in client.get(page).get_data(as_text=True)


def test_resolved_finding_cannot_be_acknowledged(local_app: Any) -> None:
    client = signed_in(local_app, "admin")
    fid = local_app.config["ids"]["resolved"]
    page = f"/findings/{fid}"
    assert "Answer it" not in client.get(page).get_data(as_text=True)
    response = post_form(client, page, f"{page}/acknowledge", {})
    assert response.status_code == 303 and "is resolved" in client.get(page).get_data(as_text=True)


def test_declaring_twice_is_refused_with_a_message(local_app: Any) -> None:
    client = signed_in(local_app, "oncall")
    post_form(client, "/emergency", "/emergency/declare", {"reason": "First"})
    html = client.get("/emergency").get_data(as_text=True)
    assert "Emergency declared" in html and "First" in html and "Stop the emergency" in html
    assert "Concert tonight" in html  # a queued scheduled post on a non-central account
    banner = client.get("/").get_data(as_text=True)
    assert 'class="banner"' in banner and "First" in banner
    token = csrf_token(html)
    again = client.post("/emergency/declare", data={"reason": "Second", "csrf_token": token})
    assert again.status_code == 303 and len(_emergencies(local_app)) == 1
    empty = post_form(client, "/emergency", "/emergency/stop", {})
    assert empty.status_code == 303
    assert "No emergency is declared" in client.get("/emergency").get_data(as_text=True)
    no_reason = post_form(client, "/emergency", "/emergency/declare", {"reason": "  "})
    assert no_reason.status_code == 303 and len(_emergencies(local_app)) == 1


# --- identity ----------------------------------------------------------------------------------------


def test_local_mode_needs_sign_in(local_app: Any) -> None:
    client = local_app.test_client()
    for path in pages(local_app):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    wrong = sign_in(client, "viewer@example.ac.uk", "wrong password")
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    unknown = sign_in(client, "nobody@example.ac.uk")
    assert unknown.status_code == 401
    assert client.get("/").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(local_app: Any) -> None:
    client = local_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"name": "viewer@example.ac.uk", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data={**data, "next": "/operations"})
    assert response.headers["Location"].endswith("/operations")
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = local_app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={**data, "csrf_token": token, "next": evil})
        assert response.headers["Location"] == "/", evil


def test_sign_out(local_app: Any) -> None:
    client = signed_in(local_app)
    response = post_form(client, "/", "/logout", {})
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_login_attempts_are_rate_limited(local_app: Any) -> None:
    client = local_app.test_client()
    codes = [sign_in(client, "viewer@example.ac.uk", "guess").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # Even the right password is refused while the limit holds.
    assert sign_in(client, "viewer@example.ac.uk").status_code == 429


def test_forms_need_a_csrf_token(local_app: Any) -> None:
    client = signed_in(local_app, "admin")
    fid = local_app.config["ids"]["high"]
    response = client.post(f"/findings/{fid}/acknowledge", data={"note": "x"})
    assert response.status_code == 400
    assert _state(local_app, fid) == "none"
    assert client.post("/emergency/declare", data={"reason": "x", "csrf_token": "forged"}).status_code == 400
    assert not _emergencies(local_app)
    login = local_app.test_client().post("/login", data={"name": "admin@example.ac.uk", "password": PASSWORD})
    assert login.status_code == 400


def test_session_cookie_flags(local_app: Any) -> None:
    client = local_app.test_client()
    response = sign_in(client, "viewer@example.ac.uk")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = local_app.test_client()
    page = secure.get("/login", base_url="https://dash.example")
    token = csrf_token(page.get_data(as_text=True))
    response = secure.post(
        "/login",
        data={"name": "viewer@example.ac.uk", "password": PASSWORD, "csrf_token": token},
        base_url="https://dash.example",
        headers={"Referer": "https://dash.example/login"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_security_headers(local_app: Any) -> None:
    response = signed_in(local_app).get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True) and "style=" not in response.get_data(
        as_text=True
    )


def test_proxy_mode_believes_only_trusted_proxies(proxy_app: Any) -> None:
    header = {"X-Forwarded-Email": "comms@example.ac.uk"}
    trusted = proxy_app.test_client()
    for path in pages(proxy_app):
        assert trusted.get(path, headers=header, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    from_network = proxy_app.test_client().get("/", headers=header, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert from_network.status_code == 200
    untrusted = proxy_app.test_client().get("/", headers=header, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert untrusted.status_code == 403 and "has none" in untrusted.get_data(as_text=True)
    nobody = proxy_app.test_client().get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert nobody.status_code == 403
    stranger = proxy_app.test_client().get(
        "/", headers={"X-Forwarded-Email": "stranger@example.com"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert stranger.status_code == 403 and "has no role" in stranger.get_data(as_text=True)
    assert proxy_app.test_client().get("/login").status_code == 404


def test_proxy_mode_actions_follow_the_role(proxy_app: Any) -> None:
    fid = proxy_app.config["ids"]["high"]
    env = {"REMOTE_ADDR": "127.0.0.1"}
    viewer = proxy_app.test_client()
    kw: dict[str, Any] = {"headers": {"X-Forwarded-Email": "viewer@example.ac.uk"}, "environ_base": env}
    assert post_form(viewer, f"/findings/{fid}", f"/findings/{fid}/acknowledge", {}, **kw).status_code == 403
    comms = proxy_app.test_client()
    kw["headers"] = {"X-Forwarded-Email": "Comms@Example.ac.uk"}  # addresses compare case-insensitively
    assert post_form(comms, f"/findings/{fid}", f"/findings/{fid}/acknowledge", {}, **kw).status_code == 303
    assert _state(proxy_app, fid) == "acknowledged"
    # The session follows the person behind the proxy: a different header is a different person.
    kw["headers"] = {"X-Forwarded-Email": "viewer@example.ac.uk"}
    assert post_form(comms, f"/findings/{fid}", f"/findings/{fid}/reopen", {}, **kw).status_code == 403


def test_language_choice_is_kept_in_the_session(local_app: Any) -> None:
    client = signed_in(local_app)
    html = client.get("/").get_data(as_text=True)
    assert '<option value="en" lang="en" selected>' in html
    response = post_form(client, "/", "/language", {"lang": "cy+en", "next": "/operations"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/operations")
    assert '<option value="cy+en" lang="cy" selected>' in client.get("/").get_data(as_text=True)
    post_form(client, "/", "/language", {"lang": "fr"})
    assert '<option value="cy+en" lang="cy" selected>' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "comms", "oncall", "admin", None])
def test_every_role_reads_every_page_and_no_role_reads_none(proxy_app: Any, role: str | None) -> None:
    name = next((n for n, r in ROLE_USERS.items() if r == role), "stranger@example.ac.uk")
    client = proxy_app.test_client()
    for path in pages(proxy_app):
        response = client.get(path, headers={"X-Forwarded-Email": name})
        assert response.status_code == (200 if role else 403), (role, path)
        html = response.get_data(as_text=True)
        if role:  # the forms a role may not use are not shown
            assert ("/acknowledge" in html) == (role != "viewer" and path.startswith("/findings/")), (
                role,
                path,
            )
            declare = "/emergency/declare" in html
            assert declare == (role in ("oncall", "admin") and path == "/emergency"), (role, path)
