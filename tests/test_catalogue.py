"""The built-in protocols, tuning them, and loading a clinic's own from TOML."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tms_schedule import (
    BUILTIN_PROTOCOLS,
    Accelerated,
    Catalogue,
    ConfigError,
    Daily,
    InvalidProtocolError,
    Periodic,
    Protocol,
    Taper,
    UnknownProtocolError,
    Weekly,
    get_protocol,
    load_protocols,
    protocol_ids,
)

# The courses reference/protocols.md describes, as (phases by kind and count, total).
EXPECTED = {
    "standard-10hz": 36,
    "dash-10hz": 36,
    "itbs": 30,
    "deep-tms-h1": 44,
    "snt": 50,
    "1hz-right": 10,
    "maintenance": 11,
    "cluster-maintenance": 30,
    "deep-tms-h7-ocd": 29,
    "deep-tms-h4-smoking": 18,
    "sequential-bilateral": 30,
    "itbs-twice-daily": 60,
    "medicare-20-5": 25,
}


def test_catalogue_holds_the_protocols_the_design_names() -> None:
    assert protocol_ids() == list(EXPECTED)
    assert {pid: get_protocol(pid).total_sessions for pid in EXPECTED} == EXPECTED


@pytest.mark.parametrize("protocol", list(BUILTIN_PROTOCOLS.values()), ids=lambda p: p.id)
def test_every_builtin_cites_its_sources_and_states_its_choices(protocol: Protocol) -> None:
    assert protocol.sources, protocol.id
    assert all(len(source) > 40 for source in protocol.sources)
    assert protocol.notes, f"{protocol.id} must say which uncertain numbers it chose"
    assert protocol.first_session >= protocol.session


def test_standard_course_is_thirty_then_three_two_one() -> None:
    protocol = get_protocol("standard-10hz")
    assert protocol.phases == (Daily(30), Taper((3, 2, 1)))
    assert protocol.session == dt.timedelta(minutes=40)
    assert protocol.first_session == dt.timedelta(minutes=90)
    assert protocol.stimulation is not None and protocol.stimulation.pulses == 3000


def test_dash_is_the_same_course_in_shorter_sessions() -> None:
    dash, standard = get_protocol("dash-10hz"), get_protocol("standard-10hz")
    assert dash.phases == standard.phases
    assert dash.session < standard.session


def test_snt_is_ten_a_day_fifty_minutes_apart_on_five_days() -> None:
    assert get_protocol("snt").phases == (Accelerated(per_day=10, days=5, interval=50),)


def test_deep_tms_continuation_is_two_a_week_for_twelve_weeks_and_optional() -> None:
    protocol = get_protocol("deep-tms-h1")
    assert protocol.phases[1] == Weekly(per_week=2, weeks=12)
    assert protocol.tune(continuation=False).total_sessions == 20


def test_maintenance_tapers_weekly_then_every_two_then_every_four_weeks() -> None:
    phases = get_protocol("maintenance").phases
    assert [(p.every_weeks, p.occurrences) for p in phases if isinstance(p, Periodic)] == [
        (1, 4),
        (2, 4),
        (4, 3),
    ]
    cluster = get_protocol("cluster-maintenance").phases[0]
    assert isinstance(cluster, Periodic)
    assert (cluster.cluster_sessions, cluster.cluster_days, cluster.every_weeks) == (5, 2, 4)
    assert cluster.day_counts == (3, 2)


def test_tuning_a_builtin_without_redefining_it() -> None:
    tuned = get_protocol("standard-10hz").tune(
        acute_sessions=24, taper=False, session=45, first_session=75
    )
    assert tuned.phases == (Daily(24),)
    assert (tuned.session, tuned.first_session) == (
        dt.timedelta(minutes=45),
        dt.timedelta(minutes=75),
    )
    assert tuned.id == "standard-10hz"
    snt = get_protocol("snt").tune(per_day=8, interval=dt.timedelta(minutes=40))
    assert snt.phases == (Accelerated(per_day=8, days=5, interval=40),)
    assert get_protocol("cluster-maintenance").tune(occurrences=3).total_sessions == 15


@pytest.mark.parametrize(
    ("protocol_id", "kwargs", "message"),
    [
        (
            "standard-10hz",
            {"acute_sessions": 50},
            "acute_sessions: 'standard-10hz' allows 20 to 30 acute sessions, got 50",
        ),
        ("standard-10hz", {"acute_sessions": True}, "acute_sessions"),
        ("itbs", {"taper": False}, "taper: 'itbs' has no optional taper phase"),
        (
            "standard-10hz",
            {"interval": 30},
            "interval: 'standard-10hz' has no accelerated or cluster phase",
        ),
        ("standard-10hz", {"per_day": 2}, "per_day: 'standard-10hz' has no accelerated phase"),
        (
            "snt",
            {"per_day": 0},
            "accelerated phase per_day: must be a whole number from 1 to 24, got 0",
        ),
        (
            "snt",
            {"interval": -5},
            "accelerated phase interval: must be a duration from 0 min to 720 min",
        ),
        ("itbs", {"session": 0}, "protocol session: must be a duration from 1 min to 600 min"),
        (
            "maintenance",
            {"occurrences": 2},
            "occurrences: 'maintenance' must have exactly one periodic phase",
        ),
    ],
)
def test_bad_tuning_names_the_option_and_the_allowed_values(
    protocol_id: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidProtocolError, match=message):
        get_protocol(protocol_id).tune(**kwargs)  # type: ignore[arg-type]


def test_unknown_protocol_lists_the_known_ids() -> None:
    with pytest.raises(
        UnknownProtocolError, match="unknown protocol 'saint'; known: standard-10hz, dash-10hz"
    ):
        get_protocol("saint")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Daily(0), "daily phase sessions: must be a whole number from 1 to 200, got 0"),
        (lambda: Daily(10_000), "daily phase sessions: must be a whole number from 1 to 200"),
        (
            lambda: Taper((3, 9)),
            "taper phase per_week: must be 1 to 52 weekly counts, each from 1 to 7",
        ),
        (
            lambda: Weekly(per_week=8, weeks=2),
            "weekly phase per_week: must be a whole number from 1 to 7",
        ),
        (
            lambda: Periodic(every_weeks=1, occurrences=2, cluster_sessions=2, cluster_days=3),
            "periodic phase cluster_days: must not exceed cluster_sessions",
        ),
        (
            lambda: Periodic(every_weeks=1, occurrences=2, cluster_sessions=9, cluster_days=7),
            "a cluster must be shorter than its period",
        ),
        (
            lambda: Protocol(
                id="Bad Id", name="x", phases=(Daily(1),), session=10, first_session=10
            ),
            "protocol id: must be 1 to 64 lower-case",
        ),
        (
            lambda: Protocol(id="p", name="x", phases=(), session=10, first_session=10),
            "protocol phases: must hold at least one phase",
        ),
        (
            lambda: Protocol(
                id="p", name="x", phases=(Daily(1), Daily(2)), session=10, first_session=10
            ),
            "phase names must be unique, acute repeats",
        ),
        (
            lambda: Protocol(
                id="p",
                name="x",
                phases=(Daily(200), Daily(200, name="b"), Daily(1, name="c")),
                session=10,
                first_session=10,
            ),
            "at most 400 sessions",
        ),
    ],
)
def test_absurd_protocols_are_refused(build: object, message: str) -> None:
    with pytest.raises(InvalidProtocolError, match=message):
        build()  # type: ignore[operator]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "protocols.toml"
    path.write_text(text)
    return path


def test_loading_tuned_and_new_protocols_from_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[protocol]]
id = "clinic-10hz"
base = "standard-10hz"
name = "Our 10 Hz"
acute_sessions = 24
taper = false
session_minutes = 45

[[protocol]]
id = "twice-a-day-itbs"
name = "Twice-daily iTBS"
session_minutes = 15
first_session_minutes = 60
notes = ["Twice-daily iTBS did not accelerate response in CARTBIND; used for patients who ask."]
[[protocol.phases]]
type = "accelerated"
per_day = 2
days = 10
interval_minutes = 54
consecutive = false
[[protocol.phases]]
type = "taper"
per_week = [2, 1]
""",
    )
    loaded = {p.id: p for p in load_protocols(path)}
    assert loaded["clinic-10hz"].phases == (Daily(24),)
    assert loaded["clinic-10hz"].name == "Our 10 Hz"
    assert loaded["clinic-10hz"].session == dt.timedelta(minutes=45)
    assert loaded["twice-a-day-itbs"].phases == (
        Accelerated(per_day=2, days=10, interval=54, consecutive=False),
        Taper((2, 1)),
    )
    catalogue = Catalogue().load(path)
    assert "clinic-10hz" in catalogue and "snt" in catalogue


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[protocol]]\nid = 'x'\nbase = 'nope'\n",
            r"protocol\[0\].base: unknown protocol 'nope'; known: standard-10hz",
        ),
        (
            "[[protocol]]\nid = 'x'\nbase = 'itbs'\nacute_sessions = 99\n",
            r"protocol\[0\] \('x'\): acute_sessions: 'itbs' allows 20 to 30",
        ),
        (
            "[[protocol]]\nid = 'x'\nbase = 'itbs'\nacute_sesions = 25\n",
            r"protocol\[0\].acute_sesions: unknown key; allowed here: .*acute_sessions",
        ),
        (
            "[[protocol]]\nid = 'x'\nbase = 'itbs'\ntaper = 'no'\n",
            r"protocol\[0\].taper: must be true or false, got 'no'",
        ),
        ("[[protocol]]\nname = 'x'\n", r"protocol\[0\].id: required"),
        (
            "[[protocol]]\nid = 'x'\nname = 'X'\nsession_minutes = 30\n",
            r"protocol\[0\].phases: required",
        ),
        (
            "[[protocol]]\nid = 'x'\nname = 'X'\nsession_minutes = 30\n[[protocol.phases]]\ntype = 'monthly'\n",
            r"protocol\[0\].phases\[0\].type: must be one of daily, taper, weekly, accelerated, periodic",
        ),
        (
            "[[protocol]]\nid = 'x'\nname = 'X'\nsession_minutes = 30\n[[protocol.phases]]\ntype = 'weekly'\nper_week = 2\n",
            r"a weekly phase needs per_week, weeks; missing: weeks",
        ),
        (
            "[[protocol]]\nid = 'x'\nname = 'X'\nsession_minutes = 30\n[[protocol.phases]]\ntype = 'daily'\nsessions = 0\n",
            r"phases\[0\]: daily phase sessions: must be a whole number from 1 to 200",
        ),
        (
            "[[protocol]]\nid = 'x'\nbase = 'itbs'\n[[protocol]]\nid = 'x'\nbase = 'snt'\n",
            r"'x' is defined twice",
        ),
        ("protocol = 3\n", r"protocol: must be an array of tables"),
        ("this is not toml", r"not valid TOML"),
    ],
)
def test_bad_protocol_files_name_file_key_and_allowed_values(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_protocols(path)
    assert str(caught.value).startswith(str(path))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_protocols(tmp_path / "missing.toml")


def test_describe_says_whether_accelerated_days_are_consecutive() -> None:
    from tms_schedule.protocol import describe_phase

    assert (
        describe_phase(Accelerated(2, 10, 54, consecutive=False))
        == "2 a day, 54 min apart, on 10 days (accelerated)"
    )
    with pytest.raises(InvalidProtocolError, match="only a protocol with a daily"):
        Protocol(
            id="p",
            name="P",
            phases=(Taper((2, 1)),),
            session=10,
            first_session=10,
            acute_range=(1, 3),
        )
    with pytest.raises(
        InvalidProtocolError, match="interval: 'maintenance' has no accelerated or cluster phase"
    ):
        get_protocol("maintenance").tune(interval=30)


@pytest.mark.parametrize("value", ["nan", "inf", "1e308"])
def test_protocol_file_numbers_must_be_finite_and_sane(tmp_path: Path, value: str) -> None:
    path = write(
        tmp_path, f"[[protocol]]\nid = 'y'\nbase = 'standard-10hz'\nsession_minutes = {value}\n"
    )
    with pytest.raises(
        ConfigError, match="session_minutes: must be a number from -1000000 to 1000000"
    ):
        load_protocols(path)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('id = "itbs-evening\\n"\nbase = "itbs"\n', r"protocol id: must be 1 to 64 lower-case"),
        (
            'id = "itbs-evening"\nbase = "itbs"\nname = "Evening \\u001b[31miTBS"\n',
            r"protocol\[0\] \('itbs-evening'\): protocol name: must be one line of text without"
            r" control characters",
        ),
        (
            'id = "itbs-evening"\nbase = "itbs"\nname = "Evening\\niTBS"\n',
            r"protocol name: must be one line of text",
        ),
        (
            'id = "own"\nname = "\\u009b2J"\nsession_minutes = 20\n'
            '[[protocol.phases]]\ntype = "daily"\nsessions = 10\n',
            r"protocol name: must be one line of text",
        ),
        (
            'id = "itbs-evening"\nbase = "itbs"\nname = "  "\n',
            r"protocol name: must be a non-empty",
        ),
    ],
)
def test_protocol_ids_and_names_hold_no_control_characters(
    tmp_path: Path, table: str, message: str
) -> None:
    """Names reach the terminal (``tms-schedule protocols``), handouts and files: an escape
    code in a clinic's file must not repaint the front desk's screen."""
    with pytest.raises(ConfigError, match=message):
        load_protocols(write(tmp_path, "[[protocol]]\n" + table))


_DOI = re.compile(r"doi:10\.\d{4,9}/\S+[^\s,.;)]|https://\S+[^\s,.;)]")
_ARTICLE = re.compile(r"^[A-Z][\w'-]+ [A-Z]+ et al\. \((19|20)\d\d\) ")


def test_every_article_cited_gives_its_doi_and_every_clearance_its_number() -> None:
    """A clinic checking a number goes to the paper (its DOI, or the page it was read on)
    or the FDA record in one step."""
    articles = clearances = 0
    for protocol in BUILTIN_PROTOCOLS.values():
        for source in protocol.sources:
            if _ARTICLE.match(source):
                articles += 1
                assert _DOI.search(source), f"{protocol.id}: no DOI in {source!r}"
            if source.startswith("FDA"):
                clearances += 1
                assert re.match(r"FDA (510\(k\) K|De Novo DEN)\d{6} \(", source), source
    assert articles >= 10 and clearances >= 5


def test_the_clinical_corrections_hold() -> None:
    h7 = get_protocol("deep-tms-h7-ocd")
    assert (h7.total_sessions, h7.acute_range) == (29, (29, 36))  # the cleared protocol
    assert h7.tune(acute_sessions=30).total_sessions == 30
    one_hz = " ".join(get_protocol("1hz-right").sources)
    assert "Int J Neuropsychopharmacol 9:655-66" in one_hz and "Nat Clin Pract" not in one_hz
    everything = " ".join(s for p in BUILTIN_PROTOCOLS.values() for s in p.sources)
    assert "Perera T et al. (2016)" in everything and "McClintock" not in everything
    snt = get_protocol("snt")
    assert snt.first_session == snt.session  # mapping is done at a visit before the block


def test_no_citation_rests_on_the_number_no_record_confirms() -> None:
    """K061053 matched no FDA record: NeuroStar's 2008 clearance is K083538, which did."""
    everything = " ".join(s for p in BUILTIN_PROTOCOLS.values() for s in (*p.sources, *p.notes))
    assert "K083538 (16 December 2008)" in get_protocol("standard-10hz").sources[1]
    assert not any("K061053" in source for p in BUILTIN_PROTOCOLS.values() for source in p.sources)
    assert "K061053" in everything  # named once, in a note, as the number no longer cited


# What the December 2026 check could not confirm, by protocol: each must say so in its source.
UNVERIFIED_PARTS = {
    "standard-10hz": ["the volume, pages and DOI"],
    "dash-10hz": ["the volume, pages and DOI", "the volume, pages and DOI"],
    "itbs": ["the DOI", "the date, and that this clearance is the iTBS one"],
    "snt": ["the volume and pages", "the volume and pages", "the year"],
    "cluster-maintenance": ["the volume and DOI"],
    "deep-tms-h7-ocd": ["the 2000 pulses", "the DOI"],
    "deep-tms-h4-smoking": ["the number"],
}


@pytest.mark.parametrize("protocol_id", list(UNVERIFIED_PARTS))
def test_every_part_no_retrieved_source_confirmed_is_marked_unverified(protocol_id: str) -> None:
    marks = re.findall(r"\[unverified: ([^;\]]+)", " ".join(get_protocol(protocol_id).sources))
    assert marks == UNVERIFIED_PARTS[protocol_id]


def test_the_catalogue_states_the_cleared_populations() -> None:
    from tms_schedule.catalogue import Clearance, clearances

    (adults, adolescents) = clearances("standard-10hz")
    assert (adolescents.number, adolescents.cleared) == ("K231926", dt.date(2024, 3, 22))
    assert adolescents.population == "adolescents aged 15 to 21"
    assert "as an adjunct" in adolescents.indication and adults.population == "adults"
    (magventure,) = clearances(get_protocol("itbs"))
    assert (magventure.number, magventure.cleared) == ("K251125", dt.date(2025, 8, 11))
    assert "adjunct" in str(magventure) and magventure.population == adolescents.population
    assert clearances("snt") == () and clearances("clinic-own") == ()
    assert all(isinstance(c, Clearance) for p in BUILTIN_PROTOCOLS for c in clearances(p))


def test_the_presets_clinics_ask_for() -> None:
    bilateral = get_protocol("sequential-bilateral")
    assert bilateral.tune(acute_sessions=15).total_sessions == 15  # 3 weeks for early response
    assert bilateral.stimulation is not None and bilateral.stimulation.pulses == 600 + 1500
    twice = get_protocol("itbs-twice-daily")
    assert twice.phases == (Accelerated(per_day=2, days=30, interval=54, consecutive=False),)
    medicare = get_protocol("medicare-20-5")
    assert medicare.phases == (Daily(20), Taper((2, 2, 1)))
    assert medicare.tune(taper=False).total_sessions == 20
