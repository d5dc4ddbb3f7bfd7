"""CalDAV: a course pushed to a real CalDAV server (Radicale, on 127.0.0.1 in the tests).

After the first push and after a re-plan's push the collection holds exactly the course's
sessions, one resource per session, no duplicates, changed ones updated with a higher
SEQUENCE; pushing twice changes nothing; updates carry If-Match and do not overwrite a
change made on the server meanwhile.
"""

from __future__ import annotations

import datetime as dt
import socketserver
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from icalendar import Calendar

from independent_parsers import icaljs_read, utc_iso
from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.cli import main
from tms_schedule.delivery.caldav import push, session_objects
from tms_schedule.errors import CalDavPushError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import session_uid

caldav = pytest.importorskip("caldav", reason="the 'caldav' extra is not installed")
radicale_config = pytest.importorskip(
    "radicale.config", reason="Radicale (a test dependency) is missing"
)
radicale = pytest.importorskip("radicale")

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
USER, PASSWORD = "desk", "a front desk password"
STAMP = dt.datetime(2026, 11, 10, 16, tzinfo=dt.UTC)
RECORDED = dt.datetime(2026, 11, 18, 16, tzinfo=dt.UTC)


class _Threads(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[str]:
    """A Radicale server on 127.0.0.1 and a free port, with one empty calendar; its URL."""
    users = tmp_path / "users"
    users.write_text(f"{USER}:{PASSWORD}\n")
    configuration = radicale_config.load([])
    configuration.update(
        {
            "storage": {"filesystem_folder": str(tmp_path / "storage")},
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(users),
                "htpasswd_encryption": "plain",
                "delay": "0",
            },
            "rights": {"type": "owner_only"},
            "logging": {"level": "error"},
        },
        "tests",
        privileged=True,
    )
    server = make_server("127.0.0.1", 0, radicale.Application(configuration), _Threads, _Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        client = caldav.DAVClient(url=base, username=USER, password=PASSWORD, timeout=10)
        client.principal().make_calendar(name="Appointments", cal_id="appointments")
        yield f"{base}{USER}/appointments/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def stored(url: str) -> dict[str, tuple[str, Any]]:
    """Every resource in the collection: its name, with its ETag and single VEVENT."""
    client = caldav.DAVClient(url=url, username=USER, password=PASSWORD, timeout=10)
    found = {}
    for item in client.calendar(url=url).get_events():
        events = Calendar.from_ical(item.data.encode()).walk("VEVENT")
        assert len(events) == 1, item.url
        name = str(item.url).rsplit("/", 1)[-1]
        found[name] = (item.etag, events[0])
    return found


def course() -> Course:
    return Course.start(Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1"))


def test_the_first_push_puts_one_resource_per_session(collection: str) -> None:
    result = push(course(), collection, stamp=STAMP, username=USER, password=PASSWORD)
    assert str(result) == "36 sessions: 36 created, 0 updated, 0 unchanged"
    there = stored(collection)
    uids = [session_uid("c-1", n) for n in range(1, 37)]
    assert sorted(there) == sorted(f"{uid}.ics" for uid in uids)
    for name, (_, event) in there.items():
        assert str(event["UID"]) + ".ics" == name
        assert int(event["SEQUENCE"]) == 0


def test_pushing_twice_changes_nothing(collection: str) -> None:
    push(course(), collection, stamp=STAMP, username=USER, password=PASSWORD)
    before = {name: etag for name, (etag, _) in stored(collection).items()}
    later = STAMP + dt.timedelta(days=2)  # a new DTSTAMP is not a change
    again = push(course(), collection, stamp=later, username=USER, password=PASSWORD)
    assert not again.changed and len(again.unchanged) == 36
    assert {name: etag for name, (etag, _) in stored(collection).items()} == before


def test_after_a_replan_the_server_holds_exactly_the_course_with_higher_sequences(
    collection: str,
) -> None:
    first = course()
    push(first, collection, stamp=STAMP, username=USER, password=PASSWORD)
    replanned = first.missed(2, "clinic", now=RECORDED).replan(RECORDED)
    result = push(replanned, collection, stamp=RECORDED, username=USER, password=PASSWORD)
    assert len(result.created) == 1 and result.updated  # session 37, and what moved
    there = stored(collection)
    assert len(there) == len(replanned.schedule) == 37  # no duplicates
    by_uid = {str(event["UID"]): event for _, event in there.values()}
    for session in replanned.schedule:
        event = by_uid[session_uid("c-1", session.number)]
        assert int(event["SEQUENCE"]) == session.sequence
        assert event.DTSTART.astimezone(dt.UTC) == session.start.astimezone(dt.UTC)
        assert event.DTEND.astimezone(dt.UTC) == session.end.astimezone(dt.UTC)
    missed = by_uid[session_uid("c-1", 2)]
    assert str(missed["STATUS"]) == "CANCELLED" and int(missed["SEQUENCE"]) > 0
    updated_uids = {name.removesuffix(".ics") for name in result.updated}
    assert all(int(by_uid[uid]["SEQUENCE"]) > 0 for uid in updated_uids)


def test_cancelled_sessions_are_kept_as_cancelled_or_removed_when_asked(collection: str) -> None:
    cancelled = course().cancelled(3, now=RECORDED)
    push(cancelled, collection, stamp=STAMP, username=USER, password=PASSWORD)
    name = f"{session_uid('c-1', 3)}.ics"
    assert str(stored(collection)[name][1]["STATUS"]) == "CANCELLED"
    result = push(
        cancelled, collection, stamp=STAMP, username=USER, password=PASSWORD, cancelled="drop"
    )
    assert result.removed == (name,) and str(result).endswith("35 unchanged, 1 removed")
    assert name not in stored(collection) and len(stored(collection)) == 35


def test_updates_carry_if_match_and_do_not_overwrite_a_change_made_meanwhile(
    collection: str,
) -> None:
    first = course()
    push(first, collection, stamp=STAMP, username=USER, password=PASSWORD)
    moved = first.moved(5, dt.datetime(2026, 11, 20, 14, tzinfo=CLINIC.zone), now=RECORDED)
    client = caldav.DAVClient(url=collection, username=USER, password=PASSWORD, timeout=10)
    calendar = client.calendar(url=collection)
    other = caldav.DAVClient(url=collection, username=USER, password=PASSWORD, timeout=10)
    sent: list[dict[str, str]] = []
    real_put = client.put

    def meanwhile(url: str, body: Any, headers: Any = None) -> Any:
        """Someone edits the object on the server between our read and our write."""
        sent.append({k.lower(): v for k, v in (headers or {}).items()})
        other.put(url, bytes(body).replace(b"SUMMARY:", b"SUMMARY:Edited "), {})
        return real_put(url, body, headers)

    client.put = meanwhile  # type: ignore[method-assign]
    with pytest.raises(CalDavPushError, match=r"session 5 of course c-1 .* changed on the server"):
        push(moved, calendar, stamp=RECORDED)
    assert sent and sent[0]["if-match"].startswith('"')


def test_an_event_a_client_filed_under_another_name_is_updated_not_duplicated(
    collection: str,
) -> None:
    (first,) = session_objects(course(), stamp=STAMP)[:1]
    client = caldav.DAVClient(url=collection, username=USER, password=PASSWORD, timeout=10)
    client.put(collection + "filed-by-a-phone.ics", first.data.decode(), {})
    result = push(course(), collection, stamp=STAMP, username=USER, password=PASSWORD)
    there = stored(collection)
    assert len(there) == 36 and "filed-by-a-phone.ics" in there
    assert f"{first.uid}.ics" not in there
    assert len(result.created) == 35


def test_the_objects_are_what_the_courses_file_says(collection: str) -> None:
    options = CalendarOptions(clinic_name="Example Clinic", organizer="desk@clinic.example")
    objects = session_objects(course(), options, stamp=STAMP)
    assert all(b"METHOD" not in o.data and b"ORGANIZER" not in o.data for o in objects)
    parsed = icaljs_read(objects[0].data)
    (event,) = parsed["events"]
    first = course().schedule.first
    assert event["uid"] == session_uid("c-1", 1)
    assert (event["start_utc"], event["end_utc"]) == (utc_iso(first.start), utc_iso(first.end))
    assert event["summary"] == "Appointment — Example Clinic" and len(event["alarms"]) == 2


def test_wrong_credentials_and_no_server_are_said_in_one_line(collection: str) -> None:
    with pytest.raises(CalDavPushError, match="refused the credentials"):
        push(course(), collection, stamp=STAMP, username=USER, password="wrong")
    with pytest.raises(CalDavPushError, match=r"cannot reach .* \(connection refused\)"):
        push(course(), "http://127.0.0.1:9/appointments/", stamp=STAMP)
    with pytest.raises(CalDavPushError, match="^cancelled: must be 'keep' or 'drop'"):
        push(course(), collection, stamp=STAMP, cancelled="hide")  # type: ignore[arg-type]
    with pytest.raises(CalDavPushError, match="^calendar: must be the collection's http"):
        push(course(), "dav.clinic.example", stamp=STAMP)


def test_the_front_desk_pushes_a_patients_courses(
    collection: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = course()
    first.save(tmp_path / "c-1.json")
    first.next_course("maintenance", "c-1-m").save(tmp_path / "c-1-m.json")
    server = tmp_path / "caldav.toml"
    server.write_text(f'url = "{collection}"\nusername = "{USER}"\npassword = "{PASSWORD}"\n')
    argv = ["course", "push", str(tmp_path / "c-1.json"), str(tmp_path / "c-1-m.json")]
    argv += ["--server-file", str(server), "--stamp", "2026-11-10T16:00:00Z"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        f"Pushed c-1, c-1-m to {collection}: 47 sessions: 47 created, 0 updated, 0 unchanged\n"
    )
    assert main(argv) == 0
    assert capsys.readouterr().out.endswith("47 sessions: 0 created, 0 updated, 47 unchanged\n")
    assert len(stored(collection)) == 47


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('username = "x"\n', "url: required"),
        ('url = "dav.clinic.example"\n', "url: must be the collection's https:// address"),
        ('url = "https://dav.clinic.example/"\nusername = "x"\n', "give both username"),
        ('url = "https://dav.clinic.example/"\ntoken = "x"\n', "token: unknown key"),
    ],
)
def test_a_bad_server_file_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    course().save(tmp_path / "c-1.json")
    (tmp_path / "caldav.toml").write_text(text)
    status = main(
        [
            "course",
            "push",
            str(tmp_path / "c-1.json"),
            "--server-file",
            str(tmp_path / "caldav.toml"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert "caldav.toml" in err


def test_without_the_caldav_extra_the_push_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "caldav", None)  # as if it were not installed
    with pytest.raises(CalDavPushError, match="needs the caldav library.*'caldav' extra"):
        push(course(), "https://dav.clinic.example/desk/appointments/", stamp=STAMP)


# -- a hostile server ---------------------------------------------------------------------------

_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + i]), b"&%s;" % bytes([97 + i]) * 10) for i in range(8)
    )
    + b']><d:multistatus xmlns:d="DAV:"><d:response><d:href>&i;</d:href></d:response>'
    b"</d:multistatus>"
)
HOSTILE_ANSWERS = {
    "malformed XML": b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response>',
    "an entity bomb": _BOMB,
    "deep nesting": b'<d:multistatus xmlns:d="DAV:">'
    + b"<d:x>" * 50_000
    + b"</d:x>" * 50_000
    + b"</d:multistatus>",
    "nothing": b"",
    "not XML": b"hello",
}


def _push_to_every_answer(status: str, kind: str, answer: bytes) -> None:
    """Push a course to a server on 127.0.0.1 that answers every request alike."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(status, [("Content-Type", kind)])
        return [answer]

    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        course = Course.start(Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1"))
        url = f"http://127.0.0.1:{server.server_port}/cal/"
        push(course, url, stamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), timeout=5)
    finally:
        server.shutdown()
        thread.join(5)


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS.values(), ids=HOSTILE_ANSWERS.keys())
def test_a_server_answering_what_is_not_caldav_is_one_error(answer: bytes) -> None:
    """Every request gets a 207 with ``answer``: the push says so in one named error."""
    with pytest.raises(CalDavPushError, match=r"^calendar: .* sent an answer that is not"):
        _push_to_every_answer("207 Multi-Status", "application/xml", answer)


@pytest.mark.parametrize("status", ["200 OK", "201 Created"])
def test_a_network_s_sign_in_page_answering_every_request_is_not_a_calendar(status: str) -> None:
    """A captive portal answers every request with its sign-in page and a 2xx: the push
    says so at the first upload, not "30 created"."""
    page = b"<!DOCTYPE html><html><body><form>Sign in to the hotel network</form></body></html>"
    with pytest.raises(
        CalDavPushError, match=r"^calendar: .* with a web page \(HTTP 20[01], text/html\)"
    ):
        _push_to_every_answer(status, "text/html; charset=utf-8", page)
