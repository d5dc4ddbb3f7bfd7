"""Hypothesis strategies shared by the property tests: protocols, clinics, plans."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from tms_schedule import (
    Accelerated,
    ClinicCalendar,
    Closure,
    Daily,
    ExtraOpenDay,
    OpeningHours,
    Periodic,
    Plan,
    Protocol,
    Taper,
    Weekly,
)

# DST in both hemispheres, half-hour DST (Lord Howe), and zones without DST.
TIMEZONES = (
    "America/Denver",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Santiago",
    "Pacific/Auckland",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
)
HOLIDAYS = (None, "US-CO", "DE-BY", "AU-NSW", "GB-ENG")

minutes = st.integers(min_value=5, max_value=90).map(lambda m: dt.timedelta(minutes=m))

daily = st.builds(Daily, sessions=st.integers(1, 40))
taper = st.builds(Taper, per_week=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple))
weekly = st.builds(Weekly, per_week=st.integers(1, 4), weeks=st.integers(1, 6))
accelerated = st.builds(
    Accelerated,
    per_day=st.integers(1, 6),
    days=st.integers(1, 5),
    interval=st.integers(0, 60),
)
periodic = st.builds(
    Periodic,
    every_weeks=st.integers(1, 4),
    occurrences=st.integers(1, 4),
    cluster_sessions=st.integers(1, 4),
    cluster_days=st.just(1),
    interval=st.integers(0, 60),
) | st.builds(
    Periodic,
    every_weeks=st.integers(2, 4),
    occurrences=st.integers(1, 3),
    cluster_sessions=st.integers(2, 5),
    cluster_days=st.just(2),
    interval=st.integers(0, 60),
)


@st.composite
def protocols(draw: st.DrawFn) -> Protocol:
    kinds = draw(
        st.lists(
            st.sampled_from([daily, taper, weekly, accelerated, periodic]), min_size=1, max_size=3
        )
    )
    phases = []
    for i, kind in enumerate(kinds):
        phase = draw(kind)
        phases.append(type(phase)(**{**_fields(phase), "name": f"p{i}"}))
    return Protocol(
        id="random",
        name="Random protocol",
        phases=tuple(phases),
        session=draw(st.integers(5, 45)),
        first_session=draw(st.integers(5, 90)),
    )


def _fields(phase: object) -> dict[str, object]:
    import attrs

    return attrs.asdict(phase, recurse=False)  # type: ignore[arg-type]


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    opens = draw(st.integers(6 * 4, 10 * 4)) * 15
    closes = draw(st.integers(15 * 4, 21 * 4)) * 15
    return OpeningHours(
        dt.time(opens // 60, opens % 60), dt.time(min(closes // 60, 23), closes % 60)
    )


start_dates = st.dates(dt.date(2025, 1, 1), dt.date(2030, 12, 31))


@st.composite
def clinics(draw: st.DrawFn, start: dt.date | None = None) -> ClinicCalendar:
    anchor = start or dt.date(2027, 1, 1)
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    hours = draw(opening_hours())
    overrides = draw(
        st.dictionaries(st.sampled_from(sorted(weekdays)), opening_hours(), max_size=2)
    )
    closures = draw(
        st.lists(
            st.builds(
                lambda offset, length: Closure(
                    anchor + dt.timedelta(days=offset),
                    anchor + dt.timedelta(days=offset + length),
                    "Test closure",
                ),
                st.integers(-5, 200),
                st.integers(0, 10),
            ),
            max_size=5,
        )
    )
    extra = draw(
        st.lists(
            st.builds(
                lambda offset: ExtraOpenDay(anchor + dt.timedelta(days=offset)),
                st.integers(0, 120),
            ),
            max_size=3,
            unique_by=lambda e: e.date,
        )
    )
    return ClinicCalendar(
        draw(st.sampled_from(TIMEZONES)),
        open_weekdays=tuple(weekdays),
        hours=hours,
        weekday_hours=overrides,
        holidays=draw(st.sampled_from(HOLIDAYS)),
        observed=draw(st.booleans()),
        closures=tuple(closures),
        extra_open_days=tuple(extra),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    start = draw(start_dates)
    clinic = draw(clinics(start))
    protocol = draw(protocols())
    at_minutes = draw(st.integers(6 * 4, 12 * 4)) * 15
    return Plan(
        protocol,
        clinic,
        start,
        dt.time(at_minutes // 60, at_minutes % 60),
        "course-hypothesis",
        blocks=draw(st.sampled_from(["whole", "split"])),
    )
