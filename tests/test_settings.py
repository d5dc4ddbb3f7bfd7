"""The clinic settings file: every key, and errors that name the file and the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tms_schedule import ConfigError, OpeningHours, Plan, load_clinic

FULL = """
timezone = "America/Denver"
open_weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = "08:00-18:00"

[weekday_hours]
Fri = "08:00-13:00"

[holidays]
country = "US"
subdivision = "CO"
open_on = ["Frances Xavier Cabrini Day", "Veterans Day"]
observed = true

[[closures]]
date = 2026-12-24
reason = "Staff training"

[[closures]]
from = 2026-12-28
to = 2026-12-31
reason = "Winter break"

[[extra_open_days]]
date = 2026-12-05
hours = "09:00-13:00"
reason = "Makeup Saturday"

[[protocol]]
id = "clinic-10hz"
base = "standard-10hz"
acute_sessions = 24
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    return path


def test_a_full_clinic_file(tmp_path: Path) -> None:
    settings = load_clinic(write(tmp_path, FULL))
    clinic = settings.calendar
    assert clinic.timezone == "America/Denver"
    assert clinic.hours_on(dt.date(2026, 11, 27)) == OpeningHours.parse("08:00-13:00")
    assert clinic.is_open(dt.date(2026, 11, 11))  # Veterans Day: open
    assert clinic.closure_reason(dt.date(2026, 12, 24)) == "Staff training: clinic closed"
    assert clinic.closure_reason(dt.date(2026, 12, 30)) == "Winter break: clinic closed"
    assert clinic.hours_on(dt.date(2026, 12, 5)) == OpeningHours.parse("09:00-13:00")
    schedule = Plan(
        settings.catalogue.get("clinic-10hz"), clinic, "2026-11-16", "09:00", "c-1"
    ).expand()
    assert len(schedule) == 30
    assert dt.date(2026, 12, 5) in {s.date for s in schedule}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"timezone: required"),
        ("timezone = 'Moon/Base'\n", r"timezone: unknown IANA timezone 'Moon/Base'"),
        (
            "timezone = 'UTC'\nopen_days = 'Mon-Fri'\n",
            r"open_days: unknown key; allowed here: .*open_weekdays",
        ),
        ("timezone = 'UTC'\nopen_weekdays = 5\n", r"open_weekdays: must be a list of weekdays"),
        (
            "timezone = 'UTC'\n[holidays]\ncountry = 'US'\nclose_on = ['Festivus']\n",
            r"holidays.close_on: 'Festivus' is not a US holiday",
        ),
        (
            "timezone = 'UTC'\n[holidays]\ncountry = 'US'\nclose_on = ['Labor Day']\nopen_on = ['Labor Day']\n",
            r"holidays.close_on: give close_on .* or open_on",
        ),
        (
            "timezone = 'UTC'\n[holidays]\ncountry = 'US-CO'\nsubdivision = 'CO'\n",
            r"holidays.subdivision: give the subdivision",
        ),
        (
            "timezone = 'UTC'\n[holidays]\ncountry = 'US'\nobserved = 'yes'\n",
            r"holidays.observed: must be true or false",
        ),
        (
            "timezone = 'UTC'\n[[closures]]\ndate = '2026-12-24'\n",
            r"closures\[0\].date: must be a TOML date, written without quotes \(date = 2026-12-24\), got the text .2026-12-24.",
        ),
        ("timezone = 'UTC'\n[[closures]]\nfrom = 2026-12-24\n", r"closures\[0\].to: required"),
        (
            "timezone = 'UTC'\n[[closures]]\nfrom = 2026-12-24\nto = 2026-12-20\n",
            r"closures\[0\]: closure end: must be on or after start",
        ),
        (
            "timezone = 'UTC'\n[[extra_open_days]]\ndate = 2026-12-05\nhours = '13-9'\n",
            r"extra_open_days\[0\]: hours: must be a time",
        ),
        ("timezone = 'UTC'\nclosures = 'christmas'\n", r"closures: must be an array of tables"),
        (
            "timezone = 'UTC'\n[weekday_hours]\nSat = '09:00-12:00'\n",
            r"weekday_hours: Sat is not an open weekday",
        ),
    ],
)
def test_bad_clinic_files_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_clinic(path)
    assert str(caught.value).startswith(str(path))


def test_calendar_table_sets_the_feed_refresh(tmp_path: Path) -> None:
    settings = load_clinic(
        write(tmp_path, 'timezone = "UTC"\n[calendar]\nrefresh_hours = 12\nclinic_name = "X"\n')
    )
    assert settings.calendar_options.refresh == dt.timedelta(hours=12)
    with pytest.raises(ConfigError, match=r"calendar\.colour: unknown key"):
        load_clinic(write(tmp_path, 'timezone = "UTC"\n[calendar]\ncolour = "red"\n'))


def test_a_byte_order_mark_at_the_start_is_accepted(tmp_path: Path) -> None:
    """Some Windows editors start a UTF-8 file with one; the file is still the clinic's."""
    path = tmp_path / "clinic.toml"
    path.write_bytes(b"\xef\xbb\xbf" + FULL.encode("utf-8"))
    assert load_clinic(path).calendar == load_clinic(write(tmp_path / "..", FULL)).calendar


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'timezone = "UTC"\nhours = "08:00-18:00\xff"\n',
            r"clinic.toml: is not UTF-8 text \(line 2\)",
        ),
        (b'timezone = "UTC"\n\xef\xbb\xbf', r"clinic.toml: not valid TOML"),
        (
            b"a = " + b"[" * 100_000 + b"]" * 100_000,
            r"clinic.toml: not valid TOML: nested too deeply",
        ),
    ],
)
def test_a_file_that_is_not_toml_text_is_a_config_error(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "clinic.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=message):
        load_clinic(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[closures]]\ndate = 9999-12-31\n", r"closures\[0\]: closure start: must be a date from"),
        (
            "[[closures]]\nfrom = 2026-12-24\nto = 9999-12-31\n",
            r"closures\[0\]: closure end: must be a date from 1900-01-01 to 2399-12-31",
        ),
        ("[[extra_open_days]]\ndate = 0001-01-01\n", r"extra_open_days\[0\]: extra open day date"),
        ("[holidays]\ncountry = 'US-'\n", r"holidays: 'US-' has an empty subdivision"),
        ('[calendar]\nurl = "https://clinic.example/\\n"\n', r"calendar: url: must be an http"),
        ('[calendar]\norganizer = "desk@clinic.example\\n"\n', r"calendar: organizer: must be"),
        ("[calendar]\nreminders = ['999999999w']\n", r"calendar: reminders: each lead time"),
    ],
)
def test_values_out_of_range_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, 'timezone = "UTC"\n' + text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_clinic(path)
    assert str(caught.value).startswith(str(path))


def test_chairs_and_staff_limits_come_from_the_clinic_file(tmp_path: Path) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(
        'timezone = "America/Denver"\n'
        '[[chairs]]\nid = "c1"\nlabel = "Chair 1"\n'
        '[[chairs]]\nid = "deep"\nruns = ["h1", "h7"]\nturnover_minutes = 10\n'
        '[[chairs.closures]]\ndate = 2026-12-07\nreason = "Coil service"\n'
        '[[staff_limits]]\nsessions = 2\nhours = "07:00-09:00"\nweekdays = "Mon-Fri"\n',
        encoding="utf-8",
    )
    settings = load_clinic(path)
    first, deep = settings.chairs
    assert (first.id, first.name, sorted(first.runs)) == ("c1", "Chair 1", ["figure-8"])
    assert deep.turnover == dt.timedelta(minutes=10) and deep.runs == {"h1", "h7"}
    assert deep.closed_on(dt.date(2026, 12, 7)) == "Coil service"
    (limit,) = settings.staff_limits
    assert (limit.sessions, str(limit.hours), limit.weekdays) == (2, "07:00-09:00", (0, 1, 2, 3, 4))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[chairs]]\nid = "c 1"\n', r"chairs\[0\]: id: a chair id is letters"),
        (
            '[[chairs]]\nid = "c1"\nruns = ["Figure 8"]\n',
            r"chairs\[0\]: runs: must be equipment tags",
        ),
        (
            '[[chairs]]\nid = "c1"\n[[chairs]]\nid = "c1"\n',
            "chairs: each chair id once; given twice: c1",
        ),
        (
            '[[chairs]]\nid = "c1"\nturnover_minutes = 500\n',
            r"chairs\[0\].turnover_minutes: must be from 0 to 120 minutes, got 500",
        ),
        ('[[chairs]]\nid = "c1"\nseats = 2\n', r"chairs\[0\].seats: unknown key"),
        (
            "[[staff_limits]]\nsessions = 0\n",
            r"staff_limits\[0\]: sessions: the limit of sessions at once",
        ),
        ('[[staff_limits]]\nhours = "07:00-09:00"\n', r"staff_limits\[0\].sessions: required"),
    ],
)
def test_bad_chairs_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text('timezone = "UTC"\n' + text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_clinic(path)
