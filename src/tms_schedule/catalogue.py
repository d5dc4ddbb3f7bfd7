"""The built-in protocols, each citing its sources, and a loader for a clinic's own.

The numbers come from ``reference/protocols.md`` of the design notes; where the sources
disagree or a number is unverified, the protocol's ``notes`` say which value was chosen
and why (the same text appears in the protocol reference of the documentation).

>>> from tms_schedule import get_protocol, protocol_ids
>>> protocol_ids()[:3]
['standard-10hz', 'dash-10hz', 'itbs']
>>> get_protocol("snt").total_sessions
50
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from tms_schedule.errors import ConfigError, InvalidProtocolError, UnknownProtocolError
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.protocol import Protocol, Stimulation

if TYPE_CHECKING:
    from pathlib import Path

    from tms_schedule._toml import TomlTable

__all__ = [
    "BUILTIN_PROTOCOLS",
    "CLEARANCES",
    "Catalogue",
    "Clearance",
    "clearances",
    "get_protocol",
    "load_protocols",
    "protocol_ids",
]

#: How a source that could not be fully checked against a retrieved page says so. Every
#: citation was checked in December 2026 (the protocol reference lists what was found);
#: the parts no retrieved page confirmed carry this mark, naming what is unconfirmed.
UNVERIFIED = "unverified"

_O_REARDON = (
    "O'Reardon JP et al. (2007) Efficacy and safety of transcranial magnetic stimulation in the"
    " acute treatment of major depression: a multisite randomized controlled trial. Biol"
    " Psychiatry 62:1208-16, doi:10.1016/j.biopsych.2007.01.018 (5 sessions a week, 3000"
    " pulses, 4-6 weeks) [unverified: the volume, pages and DOI]"
)
_NEUROSTAR = (
    "FDA 510(k) K083538 (16 December 2008), NeuroStar TMS Therapy System: major depressive"
    " disorder in adult patients"
)
_NEUROSTAR_NOTE = (
    "NeuroStar's clearance: K083538 (16 December 2008) is the record found. Earlier versions"
    " cited K061053 for its first clearance in October 2008; no record confirms that number,"
    " and it is no longer cited. The October 2008 authorization appears as De Novo DEN070003"
    " only in data derived from openFDA [unverified]."
)
_TAPER = (
    "New Directions Behavioral Health / BCBSM TMS clinical criteria: 30 sessions (5 a week for"
    " 6 weeks), then a 3-week taper of 3, 2 and 1 sessions a week (36 in all)"
)
_CTMSS = (
    "Perera T et al. (2016) The Clinical TMS Society consensus review and treatment"
    " recommendations for TMS therapy for major depressive disorder. Brain Stimul 9:336-46,"
    " doi:10.1016/j.brs.2016.03.010 (daily over 4-6 weeks, 20-30 sessions)"
)
_FIRST_VISIT_NOTE = (
    "No source gives the length of the first (mapping and motor-threshold) visit for this"
    " protocol; 60 minutes is the library's default. Tune it with first_session."
)

_STANDARD = Protocol(
    id="standard-10hz",
    name="Standard 10 Hz rTMS (left DLPFC) with taper",
    phases=(Daily(30), Taper((3, 2, 1))),
    session=40,
    first_session=90,
    requires=("figure-8",),
    stimulation=Stimulation(
        target="left DLPFC",
        pattern="10 Hz, 4 s trains, 26 s inter-train interval, 75 trains, 120% MT",
        pulses=3000,
        minutes=37.5,
    ),
    sources=(_O_REARDON, _NEUROSTAR, _TAPER, _CTMSS),
    notes=(
        "Stimulation time: 37.5 min (75 trains of 30 s; also THREE-D's figure). The Carpenter"
        " 2021 registry paper quotes 38.5 min and clinic FAQs 37 min; 37.5 is used, inside a"
        " 40-minute appointment.",
        "First visit: up to about 1.5 h for mapping and motor threshold (clinic guidance),"
        " so 90 minutes.",
        "Acute sessions: 20 to 30 (consensus: 4-6 weeks); the default is 30 as in the"
        " insurer criteria that define the 3-2-1 taper. The taper can be turned off.",
        _NEUROSTAR_NOTE,
    ),
    acute_range=(20, 30),
    optional_phases=("taper",),
)

_DASH = attrs.evolve(
    _STANDARD,
    id="dash-10hz",
    name="10 Hz rTMS, Dash (short inter-train interval), with taper",
    session=25,
    stimulation=Stimulation(
        target="left DLPFC",
        pattern="10 Hz, 4 s trains, 11 s inter-train interval, 75 trains, 120% MT",
        pulses=3000,
        minutes=18.75,
    ),
    sources=(
        "Carpenter L et al. (2021) Comparison of clinical outcomes with two TMS treatment protocols"
        " for major depressive disorder. Brain Stimul 14:173-80, doi:10.1016/j.brs.2020.12.003"
        " (18.75 min, outcomes not different from Standard) [unverified: the volume, pages and"
        " DOI; the archive gives an online date of 17 December 2020]",
        _O_REARDON,
        _NEUROSTAR,
        _TAPER,
    ),
    notes=(
        "Stimulation time: the registry paper gives 18.75 min, a protocol summary 18 min 26 s;"
        " 18.75 is used, inside a 25-minute appointment (the appointment length is the"
        " library's default; no source gives one).",
        "Course: the same 30 sessions and 3-2-1 taper as standard-10hz; first visit 90 min.",
        _NEUROSTAR_NOTE,
    ),
)

_ITBS = Protocol(
    id="itbs",
    name="Intermittent theta-burst stimulation (iTBS), left DLPFC",
    phases=(Daily(30),),
    session=15,
    first_session=60,
    requires=("figure-8",),
    stimulation=Stimulation(
        target="left DLPFC",
        pattern="iTBS: 3-pulse 50 Hz bursts at 5 Hz, 2 s on, 8 s off, 120% MT",
        pulses=600,
        minutes=3.15,
    ),
    sources=(
        "Blumberger DM et al. (2018) Effectiveness of theta burst versus high-frequency rTMS in"
        " patients with depression (THREE-D): a randomised non-inferiority trial. Lancet"
        " 391:1683-92, doi:10.1016/S0140-6736(18)30295-2 (600 pulses, about 3 min, 4-6 weeks)"
        " [unverified: the DOI]",
        "FDA 510(k) K173620 (August 2018), MagVenture TMS Therapy: the 3-minute iTBS protocol"
        " [unverified: the date, and that this clearance is the iTBS one; a 3-minute TBS"
        " clearance was announced on 22 August 2018]",
    ),
    notes=(
        "Five sessions a week is implied by THREE-D's 4-6 weeks (20-30 sessions) but was not"
        " confirmed in the trial text; one news report says 2-4 weeks. The library uses"
        " 4-6 weeks: 20 to 30 acute sessions, default 30, no taper.",
        "Stimulation about 3 min 9 s (20 trains, derived); the 15-minute appointment is the"
        " library's default.",
        _FIRST_VISIT_NOTE,
    ),
    acute_range=(20, 30),
)

_DEEP_H1 = Protocol(
    id="deep-tms-h1",
    name="Deep TMS, H1 coil (BrainsWay), depression",
    phases=(Daily(20), Weekly(per_week=2, weeks=12)),
    session=30,
    first_session=60,
    requires=("h1",),
    stimulation=Stimulation(
        target="left DLPFC (H1 coil)",
        pattern="18 Hz, 2 s trains (36 pulses), 20 s inter-train interval, 55 trains, 120% MT",
        pulses=1980,
        minutes=19.8,
    ),
    sources=(
        "Levkovitz Y et al. (2015) Efficacy and safety of deep TMS for major depression: a"
        " prospective multicenter randomized controlled trial. World Psychiatry 14:64-73,"
        " doi:10.1002/wps.20199 (20 sessions over 4 weeks, then twice a week for 12 weeks)",
        "FDA 510(k) K122288 (7 January 2013), Brainsway Deep TMS System: depressive episodes in"
        " adult patients; 5 a week for 4 weeks, optional maintenance twice a week (the 12 weeks"
        " are the trial's)",
    ),
    notes=(
        "Continuation: 2 sessions a week for 12 weeks (trial and labelling), optional; one"
        " clinic describes 8 weeks. Turn it off with continuation=False.",
        "Acute sessions: 20 in the trial; clinics that follow the 30-session insurance"
        " pattern may tune up to 30.",
        "Appointment 30 min (20-30 min in the patient manual). " + _FIRST_VISIT_NOTE,
    ),
    acute_range=(20, 30),
    optional_phases=("continuation",),
)

_SNT = Protocol(
    id="snt",
    name="Stanford neuromodulation therapy (SNT/SAINT), accelerated iTBS",
    phases=(Accelerated(per_day=10, days=5, interval=50),),
    session=10,
    first_session=10,
    follow_up_weeks=(1, 4),
    requires=("figure-8",),
    stimulation=Stimulation(
        target="left DLPFC (functional-connectivity guided)",
        pattern="iTBS, 90% rMT (depth-adjusted)",
        pulses=1800,
        minutes=10,
    ),
    sources=(
        "Cole EJ et al. (2020) Stanford Accelerated Intelligent Neuromodulation Therapy for"
        " treatment-resistant depression. Am J Psychiatry 177:716-26,"
        " doi:10.1176/appi.ajp.2019.19070720 (10 sessions a day, 50-minute intersession"
        " interval, 5 consecutive days, 1800 pulses) [unverified: the volume and pages]",
        "Cole EJ et al. (2022) Stanford Neuromodulation Therapy (SNT): a double-blind randomized"
        " controlled trial. Am J Psychiatry 179:132-41, doi:10.1176/appi.ajp.2021.20101429"
        " (ten 10-minute sessions separated by 50-minute breaks) [unverified: the volume and"
        " pages]",
        "FDA 510(k) K220177 (2022), Magnus Neuromodulation System with SAINT: major depressive"
        " disorder [unverified: the year]",
    ),
    notes=(
        "The 50-minute interval is the break between the end of one 10-minute session and"
        " the start of the next, so sessions start hourly and every block day lasts 9 h 10"
        " min: from 08:00 it ends at 17:10, inside an 08:00-18:00 clinic.",
        "The trials ran Monday to Friday; the five days must be consecutive open days, and a"
        " plan refuses a start whose five days a closed day would split.",
        "First session 10 min, like the others: the functional-connectivity targeting and the"
        " motor threshold are done at a visit before the block (booked separately), so the"
        " block's first day holds ten equal sessions. A clinic that maps on day 1 tunes"
        " first_session (30 minutes moves that day's later starts to 20 past the hour).",
    ),
)

_ONE_HZ = Protocol(
    id="1hz-right",
    name="Low-frequency 1 Hz rTMS, right DLPFC",
    phases=(Daily(10),),
    session=30,
    first_session=60,
    requires=("figure-8",),
    stimulation=Stimulation(target="right DLPFC", pattern="1 Hz"),
    sources=(
        "Fitzgerald PB et al. (2006) A randomized trial of low-frequency right-prefrontal-cortex"
        " transcranial magnetic stimulation as augmentation in treatment-resistant major"
        " depression. Int J Neuropsychopharmacol 9:655-66, doi:10.1017/S1461145706007176"
        " (10 sessions over 2 weeks; responders continued 2 more weeks)",
    ),
    notes=(
        "Acute sessions: 10 over 2 weeks, extended to 20 for responders; tune up to 20.",
        "Pulses per session are not given by the retrieved source and are left unset;"
        " the 30-minute appointment is the library's default. " + _FIRST_VISIT_NOTE,
    ),
    acute_range=(10, 20),
)

_MAINTENANCE = Protocol(
    id="maintenance",
    name="Maintenance (booster) sessions, tapering frequency",
    phases=(
        Periodic(every_weeks=1, occurrences=4, name="weekly"),
        Periodic(every_weeks=2, occurrences=4, name="every-2-weeks"),
        Periodic(every_weeks=4, occurrences=3, name="every-4-weeks"),
    ),
    session=40,
    first_session=60,
    sources=(
        "O'Reardon JP, Clinical TMS Society talk (2019), reported in the CTMSS newsletter"
        " 'Relapse, taper, rescue and maintenance TMS': weekly for 1 month, every 2 weeks for"
        " 2 months, monthly for 3 months",
    ),
    notes=(
        "'Monthly' is taken as every 4 weeks, so boosters stay on the same weekday; 3 months"
        " of monthly sessions are 3 sessions, 2 months every 2 weeks are 4.",
        "Stimulation as in the patient's acute course. First booster 60 min to re-determine"
        " the motor threshold (the library's default).",
        "Payers (Aetna, Medicare articles) treat maintenance as not covered; check the"
        " authorization.",
    ),
)

_CLUSTER = Protocol(
    id="cluster-maintenance",
    name="Clustered maintenance: 5 sessions over 2 days every 4 weeks",
    phases=(
        Periodic(every_weeks=4, occurrences=6, cluster_sessions=5, cluster_days=2, interval=50),
    ),
    session=40,
    first_session=60,
    sources=(
        "Fitzgerald PB et al. (2013) An open label trial of clustered maintenance rTMS for"
        " patients with refractory depression. Brain Stimul 6:292-7,"
        " doi:10.1016/j.brs.2012.05.003 (monthly, 5 treatments over a two-day period)"
        " [unverified: the volume and DOI]",
    ),
    notes=(
        "Five sessions over two consecutive open days: 3 on the first, 2 on the second.",
        "Every 4 weeks stands for 'monthly'. The number of clusters is not fixed by the"
        " source; 6 (about the 5 months in which relapse risk is highest, per a systematic"
        " review) is the library's default. Tune it with occurrences.",
        "The same-day interval is not given; 50 minutes (the SNT interval) is the library's"
        " default. Stimulation as in the patient's acute course.",
    ),
)

_H7 = Protocol(
    id="deep-tms-h7-ocd",
    name="Deep TMS, H7 coil (BrainsWay), obsessive-compulsive disorder",
    phases=(Daily(29),),
    session=45,
    first_session=90,
    requires=("h7",),
    stimulation=Stimulation(
        target="medial prefrontal and anterior cingulate cortex (H7 coil)",
        pattern="20 Hz, 2 s trains, 20 s inter-train interval, 50 trains, 100% leg MT,"
        " after individualized symptom provocation",
        pulses=2000,
        minutes=18.3,
    ),
    sources=(
        "Carmi L et al. (2019) Efficacy and safety of deep TMS for OCD: a prospective"
        " multicenter randomized double-blind placebo-controlled trial. Am J Psychiatry"
        " 176:931-8, doi:10.1176/appi.ajp.2019.18101180 (daily for 6 weeks, 20 Hz)",
        "FDA De Novo DEN170078 (August 2018), Brainsway Deep TMS System: 29 sessions over 6"
        " weeks, 20 Hz, 2000 pulses [unverified: the 2000 pulses]",
        "Roth Y et al. (2021) Real-world efficacy of deep TMS for obsessive-compulsive"
        " disorder: post-marketing data collected from twenty-two clinical sites. J Psychiatr"
        " Res 137:667-72, doi:10.1016/j.jpsychires.2020.11.009 (endpoint after 29 sessions)"
        " [unverified: the DOI]",
    ),
    notes=(
        "Session count: 29 over 6 weeks (5 a week for 5 weeks, 4 in the sixth), the cleared"
        " protocol and the real-world endpoint. A 2025 protocol paper says 30 and one payer"
        " covers 5 a week for 6 weeks, up to 36: tune from 29 to 36.",
        "Appointment 45 min (about 18 min of stimulation after symptom provocation) and first"
        " visit 90 min are the library's defaults.",
    ),
    acute_range=(29, 36),
)

_H4 = Protocol(
    id="deep-tms-h4-smoking",
    name="Deep TMS, H4 coil (BrainsWay), smoking cessation",
    phases=(Daily(15), Weekly(per_week=1, weeks=3)),
    session=30,
    first_session=60,
    requires=("h4",),
    stimulation=Stimulation(
        target="lateral prefrontal and insular cortex (H4 coil)",
        pattern="10 Hz, 120% RMT, after cue-induced craving",
        pulses=1800,
    ),
    sources=(
        "Zangen A et al. (2021) Repetitive TMS for smoking cessation: a pivotal multicenter"
        " double-blind randomized controlled trial. World Psychiatry 20:397-404,"
        " doi:10.1002/wps.20905 (3 weeks of daily sessions, then once a week for 3 weeks)",
        "FDA 510(k) K200957 (August 2020), BrainsWay Deep TMS System: aid in short-term"
        " smoking cessation [unverified: the number; the August 2020 clearance was announced on"
        " 24 August 2020, and K203616 (16 April 2021) is a later one]",
        "BrainsWay smoking-addiction patient manual (5 a week for 3 weeks, then 1 a week for"
        " 3 weeks; 20-30 minutes)",
    ),
    notes=(
        "Second phase: once a week for 3 weeks (trial and manual); a nursing news item says"
        " 3 days a week, which is not used.",
        "1800 pulses comes from a secondary source. " + _FIRST_VISIT_NOTE,
    ),
    acute_range=(15, 15),
)

_BILATERAL = Protocol(
    id="sequential-bilateral",
    name="Sequential bilateral rTMS: 1 Hz right, then 10 Hz left DLPFC",
    phases=(Daily(30),),
    session=45,
    first_session=90,
    requires=("figure-8",),
    stimulation=Stimulation(
        target="right DLPFC, then left DLPFC (MRI-targeted)",
        pattern="600 pulses at 1 Hz right, followed by 1500 pulses at 10 Hz left, 120% of the"
        " coil-to-cortex adjusted MT",
        pulses=2100,
    ),
    sources=(
        "Blumberger DM et al. (2016) Unilateral and bilateral MRI-targeted repetitive"
        " transcranial magnetic stimulation for treatment-resistant depression: a randomized"
        " controlled study. J Psychiatry Neurosci 41(4):E58, https://www.jpn.ca/content/41/4/E58"
        " (600 pulses at 1 Hz followed by 1500 pulses at 10 Hz, 3 or 6 weeks depending on"
        " response) [unverified: the DOI, not found]",
    ),
    notes=(
        "Course: 3 or 6 weeks by response in the trial; the default is 6 weeks (30 sessions),"
        " tune down to 15 for 3 weeks. Five sessions a week is the library's reading of"
        " '3 or 6 weeks' [unverified: the retrieved abstract does not say].",
        "Pulses: 600 + 1500 = 2100 a session (derived). The 45-minute appointment (about 10"
        " min of 1 Hz, then the 10 Hz trains and the coil moved between them) is the"
        " library's default; no source gives one. First visit 90 min, as standard-10hz.",
    ),
    acute_range=(15, 30),
)

_ITBS_TWICE_DAILY = Protocol(
    id="itbs-twice-daily",
    name="iTBS twice a day (CARTBIND), left DLPFC",
    phases=(Accelerated(per_day=2, days=30, interval=54, consecutive=False),),
    session=15,
    first_session=60,
    requires=("figure-8",),
    stimulation=Stimulation(
        target="left DLPFC",
        pattern="iTBS: 3-pulse 50 Hz bursts at 5 Hz, 2 s on, 8 s off",
        pulses=600,
        minutes=3.15,
    ),
    sources=(
        "Blumberger DM et al. (2021) A randomized sham controlled comparison of once vs"
        " twice-daily intermittent theta burst stimulation in depression: a Canadian rTMS"
        " treatment and biomarker network in depression (CARTBIND) study. Brain Stimul"
        " 14:1447-55, doi:10.1016/j.brs.2021.09.003 (600 pulses twice a day, 54 minutes between"
        " treatments, outcomes at 10 and 30 days of treatment)",
    ),
    notes=(
        "Two sessions a day on 30 open days (60 sessions). The trial found twice-daily iTBS"
        " did not speed up response compared with once a day; clinics ask for it to fit"
        " their chairs and patients' days.",
        "The 54 minutes are taken as the break from the end of one session to the start of"
        " the next (the trial's wording, 'between treatments', does not say which).",
        "Appointment 15 min and first visit 60 min, as itbs (the library's defaults).",
    ),
)

_MEDICARE = Protocol(
    id="medicare-20-5",
    name="Standard 10 Hz rTMS, Medicare's 20 sessions and a 5-session taper",
    phases=(Daily(20), Taper((2, 2, 1))),
    session=40,
    first_session=90,
    requires=("figure-8",),
    stimulation=_STANDARD.stimulation,
    sources=(
        "Medicare billing and coding article A57692 (LCD L37086): up to 20 visits over 4 weeks"
        " plus 5 tapering visits; with at least 25% improvement, 10 more visits and 6 tapering"
        " visits",
        _O_REARDON,
        _NEUROSTAR,
    ),
    notes=(
        "The article gives the taper's count (5), not its weeks; 2, 2 and 1 a week over three"
        " weeks, like the 3-2-1 taper's three weeks, is the library's choice.",
        "The decision after session 20 (remission: the 5-session taper; at least 25%"
        " improvement: 10 more sessions and a 6-session taper; otherwise stop) is a staged"
        " authorization: MEDICARE_A57692 in tms_schedule.course.authorization. The 5-session"
        " taper 'for those in remission' is worded so in one copy of a billing article that"
        " refers to LCD DL37088 [unverified for L37086].",
        "Maintenance is not covered by Medicare's articles.",
    ),
    acute_range=(20, 30),
    optional_phases=("taper",),
)

#: The built-in protocols by id, in the order the catalogue lists them.
BUILTIN_PROTOCOLS: Mapping[str, Protocol] = {
    p.id: p
    for p in (
        _STANDARD,
        _DASH,
        _ITBS,
        _DEEP_H1,
        _SNT,
        _ONE_HZ,
        _MAINTENANCE,
        _CLUSTER,
        _H7,
        _H4,
        _BILATERAL,
        _ITBS_TWICE_DAILY,
        _MEDICARE,
    )
}


@attrs.frozen
class Clearance:
    """What a regulator cleared a device for: the device, the record's number and date,
    and the population, where the record states one.

    The library shows a clearance; it never checks a patient against it (age and
    indication stay in the clinic's own system).

    Attributes:
        device: the device as the record names it.
        number: the 510(k) or De Novo number.
        cleared: the decision date, when a retrieved record gives it.
        indication: what it is cleared for.
        population: the patients it is cleared for (``None``: the record found says no
            more than ``indication``).
        unverified: what of it no retrieved record confirmed (``None``: all of it).
    """

    device: str
    number: str
    cleared: dt.date | None
    indication: str
    population: str | None = None
    unverified: str | None = None

    def __str__(self) -> str:
        """One line: ``NeuroStar ...: adolescents 15-21, ... (K231926, 22 March 2024)``."""
        when = f", {self.cleared.day} {self.cleared:%B %Y}" if self.cleared else ""
        who = f"{self.population}, " if self.population else ""
        mark = f" [{UNVERIFIED}: {self.unverified}]" if self.unverified else ""
        return f"{self.device}: {who}{self.indication} ({self.number}{when}){mark}"


_NEUROSTAR_ADULTS = Clearance(
    "NeuroStar TMS Therapy System",
    "K083538",
    dt.date(2008, 12, 16),
    "major depressive disorder",
    "adults",
)
_NEUROSTAR_ADOLESCENTS = Clearance(
    "NeuroStar Advanced Therapy System",
    "K231926",
    dt.date(2024, 3, 22),
    "as an adjunct for the treatment of major depressive disorder",
    "adolescents aged 15 to 21",
)
_MAGVENTURE_ADOLESCENTS = Clearance(
    "MagVenture TMS Therapy System",
    "K251125",
    dt.date(2025, 8, 11),
    "as an adjunct for the treatment of major depressive disorder",
    "adolescents aged 15 to 21",
    unverified="which of the system's protocols the summary covers",
)

#: The clearances the catalogue states, by built-in protocol id (the device the protocol's
#: sources name). A protocol not listed has none stated here.
CLEARANCES: Mapping[str, tuple[Clearance, ...]] = {
    "standard-10hz": (_NEUROSTAR_ADULTS, _NEUROSTAR_ADOLESCENTS),
    "dash-10hz": (_NEUROSTAR_ADULTS, _NEUROSTAR_ADOLESCENTS),
    "medicare-20-5": (_NEUROSTAR_ADULTS, _NEUROSTAR_ADOLESCENTS),
    "itbs": (_MAGVENTURE_ADOLESCENTS,),
    "deep-tms-h1": (
        Clearance(
            "Brainsway Deep TMS System",
            "K122288",
            dt.date(2013, 1, 7),
            "depressive episodes",
            "adults",
        ),
    ),
}


def clearances(protocol: Protocol | str) -> tuple[Clearance, ...]:
    """The clearances the catalogue states for a built-in protocol (by id); a clinic's own
    protocol, tuned under a new id, has none stated.

    >>> for clearance in clearances("standard-10hz"):
    ...     print(clearance)
    NeuroStar TMS Therapy System: adults, major depressive disorder (K083538, 16 December 2008)
    NeuroStar Advanced Therapy System: adolescents aged 15 to 21, as an adjunct for the treatment of major depressive disorder (K231926, 22 March 2024)
    """
    protocol_id = protocol.id if isinstance(protocol, Protocol) else protocol
    return CLEARANCES.get(protocol_id, ())


@attrs.frozen
class Catalogue:
    """A set of protocols by id: the built-in ones plus any a clinic loads.

    >>> Catalogue().get("itbs").name
    'Intermittent theta-burst stimulation (iTBS), left DLPFC'
    """

    protocols: Mapping[str, Protocol] = attrs.field(factory=lambda: dict(BUILTIN_PROTOCOLS))

    def get(self, protocol_id: str) -> Protocol:
        """The protocol with this id; :class:`UnknownProtocolError` lists the known ids."""
        try:
            return self.protocols[protocol_id]
        except (KeyError, TypeError):
            raise UnknownProtocolError(str(protocol_id), list(self.protocols)) from None

    def ids(self) -> list[str]:
        """The ids in catalogue order."""
        return list(self.protocols)

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self.protocols.values())

    def __len__(self) -> int:
        return len(self.protocols)

    def __contains__(self, protocol_id: object) -> bool:
        return protocol_id in self.protocols

    def with_protocols(self, protocols: Iterable[Protocol]) -> Catalogue:
        """A catalogue with these protocols added; an id already present is replaced."""
        merged = dict(self.protocols)
        for protocol in protocols:
            merged[protocol.id] = protocol
        return Catalogue(merged)

    def load(self, path: str | Path) -> Catalogue:
        """A catalogue with the ``[[protocol]]`` tables of a TOML file added."""
        return self.with_protocols(load_protocols(path, base=self))


def get_protocol(protocol_id: str) -> Protocol:
    """The built-in protocol with this id.

    >>> get_protocol("standard-10hz").total_sessions
    36
    """
    return Catalogue().get(protocol_id)


def protocol_ids() -> list[str]:
    """The built-in protocol ids, in catalogue order."""
    return list(BUILTIN_PROTOCOLS)


# -- loading a clinic's own protocols ----------------------------------------------------------

_TUNING_KEYS: dict[str, str] = {
    "acute_sessions": "int",
    "taper": "bool",
    "continuation": "bool",
    "session_minutes": "number",
    "first_session_minutes": "number",
    "interval_minutes": "number",
    "per_day": "int",
    "occurrences": "int",
}
_PROTOCOL_KEYS = {
    "id",
    "name",
    "base",
    "phases",
    "sources",
    "notes",
    "acute_range",
    "optional_phases",
    "stimulation",
    "requires",
    *_TUNING_KEYS,
}

_PHASE_TYPES: dict[str, tuple[type[Phase], dict[str, str]]] = {
    "daily": (Daily, {"sessions": "int", "name": "str"}),
    "taper": (Taper, {"per_week": "int-list", "name": "str"}),
    "weekly": (Weekly, {"per_week": "int", "weeks": "int", "name": "str"}),
    "accelerated": (
        Accelerated,
        {
            "per_day": "int",
            "days": "int",
            "interval_minutes": "number",
            "consecutive": "bool",
            "name": "str",
        },
    ),
    "periodic": (
        Periodic,
        {
            "every_weeks": "int",
            "occurrences": "int",
            "cluster_sessions": "int",
            "cluster_days": "int",
            "interval_minutes": "number",
            "name": "str",
        },
    ),
}


def load_protocols(path: str | Path, base: Catalogue | None = None) -> list[Protocol]:
    """Read the ``[[protocol]]`` tables of a TOML file.

    A table either tunes a built-in protocol (``base = "standard-10hz"`` plus
    ``acute_sessions``, ``taper``, ``continuation``, ``session_minutes``,
    ``first_session_minutes``, ``interval_minutes``, ``per_day``, ``occurrences``) or defines
    a protocol with ``[[protocol.phases]]`` tables (``type`` = daily, taper, weekly,
    accelerated or periodic). Every error names the file, the key and what is allowed.
    """
    from tms_schedule._toml import load_toml  # on first use: plans need no TOML reader

    table = load_toml(path)
    return protocols_from_table(table, base or Catalogue())


def protocols_from_table(table: TomlTable, base: Catalogue) -> list[Protocol]:
    """The protocols of an already-read TOML document (used by the clinic loader too)."""
    entries = table.get("protocol", [])
    where = table.where("protocol")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{where}: must be an array of tables written [[protocol]]")
    result: list[Protocol] = []
    seen: set[str] = set()
    for i, raw in enumerate(entries):
        entry = table.child(f"protocol[{i}]", raw)
        protocol = _protocol_from(entry, base)
        if protocol.id in seen:
            raise ConfigError(f"{entry.where('id')}: {protocol.id!r} is defined twice")
        seen.add(protocol.id)
        result.append(protocol)
    return result


def _protocol_from(entry: TomlTable, base: Catalogue) -> Protocol:
    entry.check_keys(_PROTOCOL_KEYS)
    protocol_id = entry.require("id", str)
    try:
        if "base" in entry:
            return _tuned(entry, base, protocol_id)
        return _defined(entry, protocol_id)
    except InvalidProtocolError as error:
        raise ConfigError(f"{entry.where()} ({protocol_id!r}): {error}") from None


def _tuned(entry: TomlTable, base: Catalogue, protocol_id: str) -> Protocol:
    for key in ("phases", "stimulation", "acute_range", "optional_phases"):
        if key in entry:
            raise ConfigError(
                f"{entry.where(key)}: not allowed with 'base'; a tuned protocol keeps the base"
                f" protocol's {key}. Tuning keys: {', '.join(_TUNING_KEYS)}"
            )
    base_id = entry.require("base", str)
    if base_id not in base:
        raise ConfigError(
            f"{entry.where('base')}: unknown protocol {base_id!r}; known: {', '.join(base.ids())}"
        )
    kwargs: dict[str, Any] = {}
    for key, kind in _TUNING_KEYS.items():
        if key in entry:
            value = entry.typed(key, kind)
            kwargs[key.removesuffix("_minutes")] = (
                dt.timedelta(minutes=value) if key.endswith("_minutes") else value
            )
    protocol = base.get(base_id).tune(**kwargs, id=protocol_id)
    changes: dict[str, Any] = {}
    if "name" in entry:
        changes["name"] = entry.require("name", str)
    if "sources" in entry:
        changes["sources"] = protocol.sources + tuple(entry.typed("sources", "str-list"))
    if "notes" in entry:
        changes["notes"] = protocol.notes + tuple(entry.typed("notes", "str-list"))
    if "requires" in entry:
        changes["requires"] = frozenset(entry.typed("requires", "str-list"))
    return attrs.evolve(protocol, **changes) if changes else protocol


def _defined(entry: TomlTable, protocol_id: str) -> Protocol:
    for key in _TUNING_KEYS:
        if key in entry and key not in ("session_minutes", "first_session_minutes"):
            raise ConfigError(
                f"{entry.where(key)}: only allowed with 'base' (tuning a built-in protocol);"
                " in a protocol of your own set it on the phase"
            )
    raw_phases = entry.require("phases", list)
    phases = [_phase_from(entry.child(f"phases[{i}]", raw)) for i, raw in enumerate(raw_phases)]
    session = entry.typed("session_minutes", "number", required=True)
    first = (
        entry.typed("first_session_minutes", "number")
        if "first_session_minutes" in entry
        else session
    )
    stimulation = None
    if "stimulation" in entry:
        stim = entry.child("stimulation", entry.require("stimulation", dict))
        stim.check_keys({"target", "pattern", "pulses", "minutes"})
        stimulation = Stimulation(
            target=stim.require("target", str),
            pattern=stim.require("pattern", str),
            pulses=stim.typed("pulses", "int") if "pulses" in stim else None,
            minutes=stim.typed("minutes", "number") if "minutes" in stim else None,
        )
    return Protocol(
        id=protocol_id,
        name=entry.require("name", str),
        phases=tuple(phases),
        session=dt.timedelta(minutes=session),
        first_session=dt.timedelta(minutes=first),
        stimulation=stimulation,
        sources=tuple(entry.typed("sources", "str-list")) if "sources" in entry else (),
        notes=tuple(entry.typed("notes", "str-list")) if "notes" in entry else (),
        acute_range=tuple(entry.typed("acute_range", "int-list"))
        if "acute_range" in entry
        else None,
        optional_phases=(
            frozenset(entry.typed("optional_phases", "str-list"))
            if "optional_phases" in entry
            else frozenset()
        ),
        requires=frozenset(entry.typed("requires", "str-list")) if "requires" in entry else (),
    )


def _phase_from(entry: TomlTable) -> Phase:
    kind = entry.require("type", str)
    if kind not in _PHASE_TYPES:
        raise ConfigError(
            f"{entry.where('type')}: must be one of {', '.join(_PHASE_TYPES)}, got {kind!r}"
        )
    cls, keys = _PHASE_TYPES[kind]
    entry.check_keys({"type", *keys})
    kwargs: dict[str, Any] = {}
    for key, value_kind in keys.items():
        if key in entry:
            value = entry.typed(key, value_kind)
            if key == "interval_minutes":
                kwargs["interval"] = dt.timedelta(minutes=value)
            elif value_kind == "int-list":
                kwargs[key] = tuple(value)
            else:
                kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError:
        required = [a.name for a in attrs.fields(cls) if a.default is attrs.NOTHING]
        missing = [k for k in required if k not in kwargs]
        raise ConfigError(
            f"{entry.where()}: a {kind} phase needs {', '.join(required)}; missing: {', '.join(missing)}"
        ) from None
    except InvalidProtocolError as error:
        raise ConfigError(f"{entry.where()}: {error}") from None
