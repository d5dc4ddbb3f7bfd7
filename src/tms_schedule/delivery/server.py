"""A small feed server for clinics without their own: ``tms-schedule serve``.

:class:`FeedApp` is a plain WSGI application (PEP 3333; no web framework) that answers
``GET`` and ``HEAD`` for ``/feeds/<token>.ics`` from a :class:`~tms_schedule.delivery.sources.FeedSource`,
and :func:`serve` runs it on `waitress <https://docs.pylonsproject.org/projects/waitress/>`_,
a production WSGI server with no dependencies of its own, installed by the ``serve`` extra
(``pip install '.[serve]'`` in a checkout). Clinic software with its own web stack mounts the
WSGI application there instead, or calls :mod:`tms_schedule.delivery.feed` itself.

What it answers:

* ``200`` with the feed (``Content-Type: text/calendar; charset=utf-8``, a strong ETag,
  Last-Modified, ``Cache-Control: private, no-cache``), or ``304`` when the client's
  ``If-None-Match`` or ``If-Modified-Since`` shows its copy is current; ``HEAD`` gets the
  same headers without the body;
* ``404`` for everything else under any path: an unknown, wrong or revoked token, the root,
  any other path. There is no listing of feeds, and every token that is not current takes
  the same steps (see :class:`~tms_schedule.delivery.feed.TokenIndex`), so the time of a
  404 says nothing about the token;
* ``405`` (``Allow: GET, HEAD``) for other methods;
* ``500`` when a feed is over its size limit; the server's log names the feed and the
  limit, the client learns nothing.

Errors carry ``Cache-Control: no-store``: no cache keeps a 404 that a new feed would turn
into a 200. The server logs no token: a token is a patient's key to their appointments.
It binds to 127.0.0.1 by default; put it behind a reverse proxy that speaks HTTPS (see the
delivery page of the documentation) rather than exposing it.

>>> import datetime as dt, tempfile, pathlib
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> from tms_schedule.delivery.feed import FeedKey
>>> from tms_schedule.delivery.sources import FolderSource
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1")).save(folder / "c-1.json")
>>> key = FeedKey(b"0123456789abcdef0123456789abcdef")
>>> app = FeedApp(FolderSource(folder), key, clock=lambda: dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
>>> def start_response(status, headers):
...     print(status, dict(headers)["Content-Type"])
>>> body = app({"REQUEST_METHOD": "GET", "PATH_INFO": f"/feeds/{key.token('c-1', 1)}.ics"}, start_response)
200 OK text/calendar; charset=utf-8
>>> body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/feeds/"}, start_response)
404 Not Found text/plain; charset=utf-8
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tms_schedule.delivery.feed import FeedCache, FeedKey, FeedResponse, TokenIndex
from tms_schedule.delivery.sources import FeedSource
from tms_schedule.errors import FeedError, TmsScheduleError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "PREFIX", "FeedApp", "serve"]

#: Where feeds are served: ``/feeds/<token>.ics`` (``.ics`` may be left out).
PREFIX = "/feeds/"
#: Only this machine can reach the server unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_log = logging.getLogger("tms_schedule.feeds")
_ERROR_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]
_NOT_FOUND = b"Not found\n"
_STATUS = {
    200: "200 OK",
    304: "304 Not Modified",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    500: "500 Internal Server Error",
}
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class FeedApp:
    """The WSGI application of a feed server (see the module).

    Args:
        store: where the feeds' courses are (:class:`~tms_schedule.delivery.sources.FolderSource`,
            or the clinic's own :class:`~tms_schedule.delivery.sources.FeedSource`).
        key: the clinic's feed secret.
        clock: the current time (timezone-aware); the library reads no clock, so the caller
            passes one: ``lambda: datetime.datetime.now(datetime.UTC)``.
        cache: the feeds already written (default: a new :class:`FeedCache`).
    """

    def __init__(
        self,
        store: FeedSource,
        key: FeedKey,
        *,
        clock: Callable[[], dt.datetime],
        cache: FeedCache | None = None,
    ) -> None:
        if not isinstance(key, FeedKey):
            raise FeedError(f"key: must be a FeedKey, got {type(key).__name__}")
        if not callable(clock):
            raise FeedError(f"clock: must be a function giving the current time, got {clock!r}")
        self.store = store
        self.key = key
        self.clock = clock
        self.cache = cache or FeedCache()
        self._lock = threading.Lock()
        self._versions: Mapping[str, int] | None = None
        self._index = TokenIndex(key, {})

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response(_STATUS[405], [*_ERROR_HEADERS, ("Allow", "GET, HEAD")])
            return [b"Only GET and HEAD\n"] if method != "HEAD" else []
        try:
            response = self._response(environ)
        except _ServerError:
            start_response(_STATUS[500], list(_ERROR_HEADERS))
            return [b"The feed cannot be served; the clinic has been told\n"]
        if response is None:
            headers = [*_ERROR_HEADERS, ("Content-Length", str(len(_NOT_FOUND)))]
            start_response(_STATUS[404], headers)
            return [] if method == "HEAD" else [_NOT_FOUND]
        start_response(_STATUS[response.status], response.headers)
        return [] if method == "HEAD" or response.status == 304 else [response.body]

    def _response(self, environ: dict[str, Any]) -> FeedResponse | None:
        path = environ.get("PATH_INFO", "")
        token = path[len(PREFIX) :].removesuffix(".ics") if path.startswith(PREFIX) else ""
        feed_id = self._tokens().find(token)
        if feed_id is None:
            return None
        feed = self.store.feed(feed_id)
        if feed is None or not self.key.verify(token, feed.feed_id, feed.version):
            return None  # removed or revoked since the index was made
        try:
            return self.cache.respond(
                feed,
                now=self.clock(),
                if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                if_modified_since=environ.get("HTTP_IF_MODIFIED_SINCE"),
            )
        except TmsScheduleError as error:
            _log.error("feeds: %s", error)
            raise _ServerError from None

    def _tokens(self) -> TokenIndex:
        versions = self.store.versions()
        with self._lock:
            if versions is not self._versions:
                self._index = TokenIndex(self.key, versions)
                self._versions = versions
            return self._index


class _ServerError(Exception):
    """A feed that cannot be served (over its size limit): 500, said in the log only."""


def serve(
    app: FeedApp,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    threads: int = 4,
    ready: Callable[[str, int], None] | None = None,
) -> None:
    """Serve ``app`` with waitress until interrupted (Ctrl-C, SIGINT).

    Args:
        app: the feed application.
        host: the address to bind; 127.0.0.1 (this machine only) by default.
        port: the TCP port; 0 picks a free one (``ready`` is told which).
        threads: requests served at once.
        ready: called with the host and port once the server listens.

    Raises:
        FeedError: waitress is not installed (the ``serve`` extra), or the address cannot
            be bound.
    """
    try:
        import waitress.server
    except ImportError:
        raise FeedError(
            "serve: the feed server needs waitress: install tms_schedule with the 'serve'"
            " extra (pip install '.[serve]' in a checkout)"
        ) from None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise FeedError(f"port: must be from 0 to 65535, got {port!r}")
    try:
        server = waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="",  # no Server header: nothing to fingerprint
            expose_tracebacks=False,
            # Behind a reverse proxy: the proxy's X-Forwarded-* are not needed (the
            # response does not depend on them) and are dropped rather than trusted.
            clear_untrusted_proxy_headers=True,
        )
    except OSError as error:
        raise FeedError(
            f"host: cannot listen on {host} port {port} ({error.strerror or error})"
        ) from None
    effective = getattr(server, "effective_port", port)
    if ready is not None:
        ready(host, int(effective))
    server.run()
