"""The dashboard's Flask application: sessions, identity, CSRF, security headers, language.

`create_app(config, store)` builds it from the config's `web:` section; `monitor.web.server`
serves it with waitress. Server-rendered Jinja2 pages, no JavaScript: every action is a form.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2.bccache import Bucket, BytecodeCache

from monitor.config import Config
from monitor.web import auth, i18n

SESSION_LIFETIME = timedelta(hours=12)
KEY_FILE = "web-session.key"
# No inline script or style anywhere; forms post only to us; never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
OPEN_ENDPOINTS = {"web.login", "static", "web.language"}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebContext:
    """What the request handlers need, kept on `app.extensions["socialmon"]`."""

    config: Config
    store: Any
    web: Any
    clock: Callable[[], datetime]
    limiter: auth.LoginLimiter

    @property
    def mode(self) -> str:
        return str(getattr(self.web.auth, "mode", "proxy"))


class _SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions, marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))


def session_key(config: Config) -> bytes:
    """The key that signs sessions: $SOCIALMON_WEB_SECRET_KEY, else a random one kept in the data directory.

    Kept in a file (mode 0600) so that sessions survive a restart and `socialmon run` and
    `socialmon web` on the same host accept each other's.
    """
    from_env = os.environ.get("SOCIALMON_WEB_SECRET_KEY", "").strip()
    if from_env:
        return from_env.encode()
    path = Path(config.data_dir()) / KEY_FILE
    try:
        return path.read_bytes().strip() or _new_key(path)
    except FileNotFoundError:
        return _new_key(path)


def _new_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def create_app(
    config: Config,
    store: Any,
    *,
    web: Any = None,
    clock: Callable[[], datetime] = utcnow,
    secret_key: bytes | None = None,
) -> Flask:
    web = web if web is not None else getattr(config, "web", None)
    if web is None:
        raise ValueError("the config has no web: section")
    app = Flask("monitor.web", template_folder="templates", static_folder="static")
    app.session_interface = _SessionInterface()
    public_url = str(getattr(web, "public_url", None) or "")
    app.config.update(
        SECRET_KEY=secret_key or session_key(config),
        SESSION_COOKIE_NAME="socialmon_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=urlsplit(public_url).scheme == "https",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
        MAX_CONTENT_LENGTH=64 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.extensions["socialmon"] = WebContext(config, store, web, clock, auth.LoginLimiter())
    CSRFProtect(app)
    _install_jinja(app)
    from monitor.web.pages import pages

    app.register_blueprint(pages)
    app.before_request(_before)
    app.after_request(_security_headers)
    _install_errors(app)
    return app


def context() -> WebContext:
    from flask import current_app

    found: WebContext = current_app.extensions["socialmon"]
    return found


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the process: every app this process makes configures Jinja the
    same way, so a second app (the test suite makes hundreds) reuses the first one's compiled code
    instead of compiling each page again (~20 ms a template)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


def _install_jinja(app: Flask) -> None:
    from monitor.web import filters

    env = app.jinja_env
    env.bytecode_cache = _TEMPLATE_CODE
    env.add_extension("jinja2.ext.i18n")
    # Looked up per call, so each request gets its own language on a shared environment.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n._current().gettext(message),
        lambda singular, plural, n: i18n._current().ngettext(singular, plural, n),
        newstyle=True,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
    filters.install(env)


def _before() -> Any:
    ctx = context()
    lang = session.get("lang")
    g.lang = lang if lang in i18n.LANGUAGES else i18n.default_language(ctx.config)
    g.translations = i18n.translations(g.lang)
    g.html_lang = i18n.html_lang(g.lang)
    g.user = _current_user(ctx)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if g.user is not None:
        return None
    if ctx.mode == "local" and session.get("name") is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return _forbidden()


def _current_user(ctx: WebContext) -> auth.User | None:
    if ctx.mode == "local":
        name = session.get("name")
        g.identity = name
    else:
        name = auth.proxy_identity(ctx.web.auth, request.headers, request.remote_addr)
        g.identity = name
        if name and session.get("name") != name:  # a new person behind the proxy: a fresh session
            lang = session.get("lang")
            session.clear()
            session["name"] = name
            if lang:
                session["lang"] = lang
    if not name:
        return None
    role = auth.role_of(ctx.web, name)
    return auth.User(name, role) if role else None


def _forbidden() -> Response:
    response = Response(render_template("error.html", status=403, reason=_refusal()), status=403)
    return response


def _refusal() -> str:
    from monitor.web.i18n import _

    identity = g.get("identity")
    if not identity:
        return _("This page needs a signed-in person, and this request has none.")
    return _("%(name)s has no role on this dashboard. Ask an administrator to add one.", name=identity)


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def _install_errors(app: Flask) -> None:
    from monitor.web.i18n import _

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        reason = _("The form had expired or did not come from this dashboard. Go back, reload and try again.")
        return render_template("error.html", status=400, reason=reason), 400

    @app.errorhandler(403)
    def forbidden(_error: Any) -> tuple[str, int]:
        return render_template("error.html", status=403, reason=_("Your role may not do this.")), 403

    @app.errorhandler(404)
    def not_found(_error: Any) -> tuple[str, int]:
        return render_template("error.html", status=404, reason=_("There is no such page.")), 404

    @app.errorhandler(429)
    def too_many(_error: Any) -> tuple[str, int]:
        reason = _("Too many sign-in attempts. Wait a minute and try again.")
        return render_template("error.html", status=429, reason=reason), 429

    @app.errorhandler(500)
    def server_error(_error: Any) -> tuple[str, int]:
        reason = _("The dashboard could not answer. Try again in a minute, then tell whoever runs it.")
        try:
            return render_template("error.html", status=500, reason=reason), 500
        except Exception:  # the page's own look-ups failed too (the database is down): without them
            g.user = None
            return render_template("error.html", status=500, reason=reason), 500
