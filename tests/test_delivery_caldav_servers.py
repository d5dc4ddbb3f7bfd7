"""CalDAV writes only what changed, on two servers: Radicale and Xandikos (each started on
127.0.0.1 by the test).

A re-plan that changes three sessions of a 36-session course rewrites three calendar
objects, not every one after the first change: SEQUENCE rises only when what the calendar
shows changes (the place in the course shows only in numbered titles).
"""

from __future__ import annotations

import datetime as dt
import io
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tms_schedule import ClinicCalendar, Closure, Course, Plan
from tms_schedule.delivery.caldav import push
from tms_schedule.export.options import CalendarOptions

caldav = pytest.importorskip("caldav", reason="the 'caldav' extra is not installed")

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
STAMP = dt.datetime(2026, 11, 10, 16, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 18, 16, tzinfo=dt.UTC)


class _Threads(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def _serve(app: Any) -> tuple[WSGIServer, threading.Thread, str]:
    server = make_server("127.0.0.1", 0, app, _Threads, _Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_address[1]}/"


def _radicale(folder: Path) -> tuple[Any, str, dict[str, str]]:
    radicale_config = pytest.importorskip("radicale.config")
    radicale = pytest.importorskip("radicale")
    configuration = radicale_config.load([])
    configuration.update(
        {
            "storage": {"filesystem_folder": str(folder / "storage")},
            "auth": {"type": "none"},
            "rights": {"type": "owner_only"},
            "logging": {"level": "error"},
        },
        "tests",
        privileged=True,
    )
    return radicale.Application(configuration), "desk/appointments/", {"username": "desk"}


def _xandikos(folder: Path) -> tuple[Any, str, dict[str, str]]:
    web = pytest.importorskip("xandikos.web", reason="Xandikos (a test dependency) is missing")
    backend = web.SingleUserFilesystemBackend(str(folder / "dav"))
    backend._mark_as_principal("/desk/")
    backend.create_principal("/desk/", create_defaults=True)
    app = web.XandikosApp(backend, current_user_principal="/desk/")

    def bounded(environ: dict[str, Any], start_response: Any) -> Any:
        # Xandikos reads a request body to its end; wsgiref's input never ends (it is the
        # socket), so hand it the body the request announced, as production servers do.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        return app(environ, start_response)

    return bounded, "desk/calendars/calendar/", {}


@pytest.fixture(params=["radicale", "xandikos"])
def collection(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """A CalDAV server on 127.0.0.1 with one empty calendar: its URL and credentials."""
    app, path, credentials = (_radicale if request.param == "radicale" else _xandikos)(tmp_path)
    server, thread, base = _serve(app)
    try:
        if request.param == "radicale":
            client = caldav.DAVClient(url=base, password="x", timeout=10, **credentials)
            client.principal().make_calendar(name="Appointments", cal_id="appointments")
            credentials = {**credentials, "password": "x"}
        yield base + path, credentials
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_push_after_a_replan_writes_only_the_sessions_that_changed(
    collection: tuple[str, dict[str, str]],
) -> None:
    url, credentials = collection
    course = Course.start(Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1"))
    first = push(course, url, stamp=STAMP, **credentials)
    assert len(first.created) == 36 and not first.updated
    # Three changes: session 2 missed, the snow day's session 11 moved, one session added.
    snow = CLINIC.with_closure(Closure(dt.date(2026, 12, 1), reason="Snow day"))
    changed = (
        course.missed(2, "patient", now=LATER)
        .with_clinic(snow)
        .replan(dt.datetime(2026, 11, 18, 8, tzinfo=CLINIC.zone))
    )
    assert len(changed.changes_since(0)) == 3
    second = push(changed, url, stamp=LATER, **credentials)
    assert (len(second.created), len(second.updated), len(second.unchanged)) == (1, 2, 34)
    assert push(changed, url, stamp=LATER, **credentials).changed is False
    # With numbered titles the later sessions' titles change: those are written, with a
    # higher SEQUENCE, since that is what the calendar shows.
    numbered = CalendarOptions(session_numbers=True)
    third = push(changed, url, stamp=LATER, options=numbered, **credentials)
    assert len(third.updated) > 30
