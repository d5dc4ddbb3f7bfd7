"""The desk's Flask application: signing in, and what every request goes through.

Every request, before anything else:

1. its ``Host`` header must be one the desk was started for (a web page elsewhere that
   points a name of its own at 127.0.0.1 is refused: DNS rebinding);
2. apart from the sign-in page and the static files, it must come from someone signed in,
   whose user still exists (the role is read from the book on each request, so a change
   of role or a removed user counts at once); a session unused for longer than the idle
   time is signed out;
3. a ``POST`` must carry the session's CSRF token (the sign-in form's too, and sign-out is
   a ``POST``);
4. the right the page needs must be the role's (:mod:`tms_schedule.desk.auth`).

Every answer carries a strict Content-Security-Policy: scripts only from the desk's own
files (htmx, vendored), styles from its files or the exact ``<style>`` blocks of a page
(by their hash), no frames, forms only to the desk.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jinja2
from flask import Flask, Response, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as Reply

from tms_schedule.desk import pages
from tms_schedule.desk.auth import Throttle, check_password, may
from tms_schedule.desk.port import DeskBook, User
from tms_schedule.desk.web import Desk, desk, render
from tms_schedule.pages import environment as pages_environment

__all__ = ["COOKIE_KEY", "PUBLIC", "create_app"]

_log = logging.getLogger("tms_schedule.desk")
#: Pages anyone may open (to sign in), and the static files.
PUBLIC = frozenset({"sign_in", "static"})
#: The name of the book's key that signs the desk's cookies (:meth:`BookStore.secret`).
COOKIE_KEY = "desk cookies"
_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(rb'\sstyle="([^"]*)"')


def create_app(
    book: DeskBook,
    *,
    clock: Callable[[], dt.datetime],
    hosts: frozenset[str] | set[str],
    secure: bool = False,
    idle: dt.timedelta = dt.timedelta(minutes=15),
    poll: int = 5,
    feeds: str | None = None,
    feed_token: Callable[[str, int], str] | None = None,
    throttle: Throttle | None = None,
    secret: bytes | None = None,
) -> Flask:
    """The desk's WSGI application over ``book``.

    Args:
        book: the clinic's book.
        clock: gives the current time (aware); read at each request.
        hosts: the ``Host`` header values to accept, in lower case, as ``name:port`` (or a
            name alone, for a proxy on the default port); kept, not copied.
        secure: the desk is reached over HTTPS (a proxy, or its own certificate): cookies
            are sent only over HTTPS.
        idle: sign out after this long without a request.
        poll: seconds between a page's checks for changes.
        feeds: where patients reach the feeds (``https://clinic.example/feeds/``; default
            the desk's own address).
        feed_token: the token of a feed, given its id and version.
        throttle: counts failed sign-ins (default: a new one).
        secret: the key that signs the session cookies (32 bytes or more); default: the
            book's own (``"desk cookies"``, made once in the book), so every desk process
            on the book accepts the others' sign-ins and a restart signs nobody out.
    """
    app = Flask("tms_schedule.desk", static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=secret if secret is not None else book.secret(COOKIE_KEY, now=clock()),
        SESSION_COOKIE_NAME="tms_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        # The cookie is sent only when the session changed: a page's polling, answered
        # while a form is being saved, must not put back the cookie from before it.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    # The desk's own templates first, then the printed pages' (tms_schedule.pages): the
    # desk includes their fragments (a course's month grids) as the handout does.
    printed = pages_environment()
    app.jinja_loader = jinja2.ChoiceLoader(
        [jinja2.PackageLoader("tms_schedule.desk", "templates"), printed.loader]  # type: ignore[list-item]
    )
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = printed.trim_blocks
    app.jinja_env.lstrip_blocks = printed.lstrip_blocks
    app.jinja_env.filters.update(printed.filters)
    app.jinja_env.globals["WEEKDAYS"] = printed.globals["WEEKDAYS"]
    # Every desk page shows patients' labels, phones and treatments: each says, on screen
    # and on paper, that it is for staff, in the words of the printed staff pages.
    app.jinja_env.globals["STAFF_ONLY"] = printed.globals["STAFF_ONLY"]
    context = Desk(
        book,
        clock,
        hosts,
        idle,
        poll,
        feeds,
        feed_token,
        throttle or Throttle(),
    )

    @app.before_request
    def _guard() -> Reply | None:
        g.desk = context
        if request.host.lower() not in context.hosts:
            _log.warning("desk: refused a request for host %r", request.host[:100])
            return Response(
                "This address is not one the desk was started for.\n",
                400,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
        if request.endpoint == "static":
            return None
        now = context.now()
        g.now = now
        g.user = _signed_in(context, now)
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            token = session.get("csrf", "")
            if not token or not hmac.compare_digest(str(sent), str(token)):
                _log.warning("desk: refused a form without its token at %s", request.path)
                return _refuse(
                    400, "This form has expired (or came from elsewhere). Nothing was changed."
                )
        if request.endpoint in PUBLIC:
            return None
        if g.user is None:
            if request.method == "GET" and not request.args.get("since"):
                return redirect(url_for("sign_in", next=request.full_path.rstrip("?")), 303)
            response = _refuse(401, "Sign in first. Nothing was changed.")
            response.headers["HX-Redirect"] = url_for("sign_in")
            return response
        if not request.args.get("since"):  # a page's own polling is not activity
            session["seen"] = now.timestamp()
        return None

    @app.after_request
    def _headers(response: Response) -> Reply:
        styles = ""
        if response.mimetype == "text/html" and not response.direct_passthrough:
            # Exactly the page's own style blocks and style attributes (the printed pages'
            # legends colour their keys so), by their hashes: nothing injected runs.
            body = response.get_data()
            blocks = (
                {_hash(block) for block in _STYLE.findall(body)} if b"<style" in body else set()
            )
            attributes = (
                {
                    _hash(html.unescape(value.decode("utf-8")).encode("utf-8"))
                    for value in _STYLE_ATTRIBUTE.findall(body)
                }
                if b' style="' in body
                else set()
            )
            styles = "".join(f" 'sha256-{h}'" for h in sorted(blocks | attributes))
            if attributes:
                styles = " 'unsafe-hashes'" + styles
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; connect-src 'self';"
            f" style-src 'self'{styles}; img-src 'self' data:; font-src 'self';"
            " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "csrf": _csrf_token(),
            "user": getattr(g, "user", None),
            "may": lambda right: g.user is not None and may(g.user.role, right),
            "clinic_name": book.settings().calendar_options.clinic_name or "The clinic",
            "poll_seconds": context.poll,
        }

    app.add_url_rule("/sign-in", "sign_in", _sign_in, methods=["GET", "POST"])
    app.add_url_rule("/sign-out", "sign_out", _sign_out, methods=["POST"])
    pages.register(app)
    return app


def _hash(text: bytes) -> str:
    return base64.b64encode(hashlib.sha256(text).digest()).decode("ascii")


def _signed_in(context: Desk, now: dt.datetime) -> User | None:
    name = session.get("user")
    if not name:
        return None
    seen = session.get("seen", 0.0)
    if now.timestamp() - float(seen) > context.idle.total_seconds():
        session.clear()
        flash(f"Signed out after {int(context.idle.total_seconds() // 60)} minutes without use.")
        return None
    user = context.book.user(str(name))
    if user is None or session.get("hash") != _fingerprint(user):
        session.clear()  # removed, or the password changed since
        return None
    return user


def _fingerprint(user: User) -> str:
    """Changes with the password: a new password signs every other session out."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def _refuse(status: int, message: str) -> Reply:
    return Response(
        render("message.html", title="Refused", message=message), status, mimetype="text/html"
    )


def _safe_next(target: str | None) -> str:
    """Only a path of this desk (never another site) after signing in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("today")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return url_for("today")
    return target


def _sign_in() -> Reply | str:
    context = desk()
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render("sign_in.html", next=target, error=None, name="")
    name = request.form.get("name", "").strip()[:100]
    password = request.form.get("password", "")
    address = request.remote_addr or "?"
    wait = context.throttle.wait(name, address)
    if wait:
        _log.warning("desk: sign-in for %r from %s refused: too many failures", name, address)
        body = render(
            "sign_in.html",
            next=target,
            name=name,
            error=f"Too many failed sign-ins: wait {wait} seconds, then try again.",
        )
        return Response(body, 429, {"Retry-After": str(wait)})
    user = context.book.user(name)
    if user is None or not check_password(user.password_hash, password[:1000]):
        context.throttle.failed(name, address)
        _log.warning("desk: failed sign-in for %r from %s", name, address)
        body = render("sign_in.html", next=target, name=name, error="Wrong name or password.")
        return Response(body, 401)
    context.throttle.succeeded(name)
    session.clear()  # a new session: nothing from before signing in carries over
    session.permanent = True
    session["user"] = user.name
    session["hash"] = _fingerprint(user)
    session["seen"] = g.now.timestamp()
    session["csrf"] = secrets.token_urlsafe(32)
    _log.info("desk: %s signed in from %s", user.name, address)
    return redirect(target, 303)


def _sign_out() -> Reply:
    session.clear()
    flash("Signed out.")
    return redirect(url_for("sign_in"), 303)
