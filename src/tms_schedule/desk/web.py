"""What the desk's pages share: the desk they serve, rendering a page, and refusing a
request the signed-in role has no right to (see :mod:`tms_schedule.desk.auth`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
from flask import Response, abort, g
from flask import render_template as _render

from tms_schedule.desk.auth import Throttle, may
from tms_schedule.desk.port import DeskBook, User

__all__ = ["Desk", "desk", "render", "require"]


@attrs.frozen
class Desk:
    """What the desk's pages share: the book, the clock, and how it was started.

    Attributes:
        book: the book (:class:`~tms_schedule.desk.port.DeskBook`).
        clock: the current time (timezone-aware); the library reads no clock, so the desk
            is handed one (tests hand it a fixed one).
        hosts: the ``Host`` headers accepted, in lower case (``127.0.0.1:8080``,
            ``desk.clinic.example``); the command line fills it once the port is bound.
        idle: sign out after this long without a request.
        poll: seconds between a page's checks for changes.
        feeds: where patients reach the feeds (``None``: the desk's own address).
        feed_token: the token of a feed (id, version); ``None`` when no feeds are served.
    """

    book: DeskBook
    clock: Callable[[], dt.datetime]
    hosts: frozenset[str] | set[str]
    idle: dt.timedelta = dt.timedelta(minutes=15)
    poll: int = 5
    feeds: str | None = None
    feed_token: Callable[[str, int], str] | None = None
    throttle: Throttle = attrs.field(factory=Throttle)

    def now(self) -> dt.datetime:
        return self.clock()


def desk() -> Desk:
    """The desk of the application handling the request."""
    found: Desk = g.desk
    return found


def render(template: str, **context: Any) -> str:
    """A page from the desk's templates."""
    return _render(template, **context)


def require(right: str) -> None:
    """Refuse the request (403, nothing done) unless the signed-in role has ``right``."""
    user: User | None = g.user
    if user is None or not may(user.role, right):
        role = user.role if user else "nobody"
        abort(
            Response(
                render(
                    "message.html",
                    title="Not allowed",
                    message=f"A {role} user may not do this. Nothing was changed.",
                ),
                403,
                mimetype="text/html",
            )
        )
