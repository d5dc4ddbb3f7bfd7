"""One process serves the clinic: the desk, and the patients' feeds under ``/feeds/``.

:class:`Dispatcher` sends requests under the feed prefix to the feed server's application
(:class:`~tms_schedule.delivery.server.FeedApp`, unchanged) and everything else to the
desk; :func:`serve_desk` runs both on waitress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tms_schedule.delivery.server import PREFIX, serve

__all__ = ["Dispatcher", "serve_desk"]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Wsgi = Callable[..., Iterable[bytes]]


class Dispatcher:
    """Requests under ``/feeds/`` to ``feeds`` (when given), the others to ``desk``."""

    def __init__(self, desk: Wsgi, feeds: Wsgi | None = None) -> None:
        self.desk = desk
        self.feeds = feeds

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.feeds is not None and environ.get("PATH_INFO", "").startswith(PREFIX):
            return self.feeds(environ, start_response)
        return self.desk(environ, start_response)


def serve_desk(
    app: Wsgi,
    *,
    host: str,
    port: int,
    threads: int = 4,
    ready: Callable[[str, int], None] | None = None,
) -> None:
    """Serve ``app`` (a :class:`Dispatcher`) with waitress until interrupted; ``ready`` is
    told the address actually bound (``port`` 0 takes a free one)."""
    serve(app, host=host, port=port, threads=threads, ready=ready)  # type: ignore[arg-type]
