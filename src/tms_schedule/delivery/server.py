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
  limit, the client learns nothing;
* ``503`` (``Retry-After: 600``) for every request while the feeds' source cannot be read
  (a damaged or removed ``feeds.toml``, a book that cannot be opened): serving without it
  could answer a revoked address. The log says why, once.

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
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from tms_schedule._validate import int_in_range
from tms_schedule.delivery.feed import FeedCache, FeedKey, FeedResponse, TokenIndex
from tms_schedule.delivery.sources import FeedSource
from tms_schedule.errors import FeedError, TmsScheduleError

__all__ = [
    "CHANNEL_TIMEOUT",
    "CONNECTION_LIMIT",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "PREFIX",
    "FeedApp",
    "Listening",
    "make_server",
    "serve",
]

#: Where feeds are served: ``/feeds/<token>.ics`` (``.ics`` may be left out).
PREFIX = "/feeds/"
#: Only this machine can reach the server unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: Connections the server keeps open at once; more wait until one closes.
CONNECTION_LIMIT = 500
#: Seconds a connection may stay silent before the server closes it.
CHANNEL_TIMEOUT = 15
_MAX_HEADER_BYTES = 16 * 1024
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
    503: "503 Service Unavailable",
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
        self._down: str | None = None

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
        except _Unavailable:
            start_response(_STATUS[503], [*_ERROR_HEADERS, ("Retry-After", "600")])
            return [b"Feeds cannot be served now; the clinic has been told\n"]
        if response is None:
            headers = [*_ERROR_HEADERS, ("Content-Length", str(len(_NOT_FOUND)))]
            start_response(_STATUS[404], headers)
            return [] if method == "HEAD" else [_NOT_FOUND]
        start_response(_STATUS[response.status], response.headers)
        return [] if method == "HEAD" or response.status == 304 else [response.body]

    def _response(self, environ: dict[str, Any]) -> FeedResponse | None:
        path = environ.get("PATH_INFO", "")
        token = path[len(PREFIX) :].removesuffix(".ics") if path.startswith(PREFIX) else ""
        try:
            feed_id = self._tokens().find(token)
            feed = None if feed_id is None else self.store.feed(feed_id)
        except TmsScheduleError as error:
            self._unavailable(str(error))
            raise _Unavailable from None
        if feed_id is None:
            return None
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

    def _unavailable(self, why: str) -> None:
        """Say in the log, once while it lasts, why no feed is served."""
        with self._lock:
            if why == self._down:
                return
            self._down = why
        _log.error("feeds: not serving any feed (503) until this is mended: %s", why)

    def _tokens(self) -> TokenIndex:
        versions = self.store.versions()
        with self._lock:
            self._down = None
            if versions is not self._versions:
                self._index = TokenIndex(self.key, versions)
                self._versions = versions
            return self._index


def _check_host(host: object, port: int) -> None:
    """An IP address or a name that resolves, as the server will bind it."""
    if not isinstance(host, str) or not host.strip() or len(host) > 253:
        raise FeedError(
            f"host: must be an IP address (127.0.0.1, ::1, 0.0.0.0) or this machine's name,"
            f" got {host!r}"
        )
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as error:
        why = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise FeedError(
            f"host: {host!r} is neither an IP address nor a name this machine resolves ({why})"
        ) from None


class _ServerError(Exception):
    """A feed that cannot be served (over its size limit): 500, said in the log only."""


class _Unavailable(Exception):
    """The source cannot be read (a damaged ``feeds.toml``): 503 for every feed until it
    is mended, rather than a revoked address served again."""


def serve(
    app: FeedApp,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    threads: int = 4,
    ready: Callable[[str, int], None] | None = None,
    connection_limit: int = CONNECTION_LIMIT,
    channel_timeout: int = CHANNEL_TIMEOUT,
) -> None:
    """Serve ``app`` with waitress until interrupted (Ctrl-C, SIGINT).

    Args:
        app: the feed application.
        host: the address to bind; 127.0.0.1 (this machine only) by default.
        port: the TCP port; 0 picks a free one (``ready`` is told which).
        threads: requests served at once.
        ready: called with the host and port once the server listens.
        connection_limit, channel_timeout: see :func:`make_server`.

    Raises:
        FeedError: waitress is not installed (the ``serve`` extra), or the address cannot
            be bound.
    """
    server = make_server(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=connection_limit,
        channel_timeout=channel_timeout,
    )
    if ready is not None:
        ready(host, server.port)
    server.run()


class Listening(Protocol):
    """A server made by :func:`make_server`, listening but not yet serving."""

    port: int

    def run(self) -> None:
        """Serve until :meth:`close` (or an interrupt)."""

    def close(self) -> None:
        """Stop listening and close every connection."""


def make_server(
    app: FeedApp,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    threads: int = 4,
    connection_limit: int = CONNECTION_LIMIT,
    channel_timeout: int = CHANNEL_TIMEOUT,
) -> Listening:
    """A waitress server for ``app``, listening on ``host`` and ``port`` (see :func:`serve`).

    A phone that polls a feed opens a connection, asks once and goes; so the server keeps
    up to ``connection_limit`` connections open at once (waitress' own default, 100, is
    used up by as many idle clients, and new requests then wait) and closes a connection
    with nothing sent or received for ``channel_timeout`` seconds (waitress' default keeps
    one for two minutes). A client that sends a byte now and then keeps its connection:
    the reverse proxy in front limits how long a request may take to arrive and how many
    connections one address may hold (see the delivery page of the documentation).
    """
    try:
        import waitress.server
    except ImportError:
        raise FeedError(
            "serve: the feed server needs waitress: install tms_schedule with the 'serve'"
            " extra (pip install '.[serve]' in a checkout)"
        ) from None
    int_in_range(port, "port", 0, 65535, FeedError)
    for name, value, high in (
        ("connection_limit", connection_limit, 10_000),
        ("channel_timeout", channel_timeout, 3600),
    ):
        int_in_range(value, name, 1, high, FeedError)
    _check_host(host, port)
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
            connection_limit=connection_limit,
            channel_timeout=channel_timeout,
            # Idle connections are looked for this often (waitress: every 30 s).
            cleanup_interval=max(1, min(5, channel_timeout)),
            # select() watches at most 1024 descriptors; poll() has no such limit.
            asyncore_use_poll=True,
            # A feed request is a path and a few headers: 16 KiB is plenty.
            max_request_header_size=_MAX_HEADER_BYTES,
        )
    except OSError as error:
        raise FeedError(
            f"address: cannot listen on {host} port {port} ({error.strerror or error})"
        ) from None
    except ValueError:  # waitress found no address for it after all
        raise FeedError(f"host: {host!r} is not an address this machine can listen on") from None
    return _Listening(server, int(getattr(server, "effective_port", port)))


class _Listening:
    def __init__(self, server: Any, port: int) -> None:
        self._server = server
        self.port = port

    def run(self) -> None:
        self._server.run()

    def close(self) -> None:
        self._server.close()
