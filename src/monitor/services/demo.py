"""Invented demo patients, charted through the same services a nurse uses.

Times are relative to now so the demo always looks like a live ward. Every record is charted at the
time it was taken (the seeding clock moves along), so none needs a late-charting reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.domain.scales import COWS, resting_pulse_value
from monitor.services.clinical import ClinicalService
from monitor.services.views import AdmissionRequest, AssessmentInput, DoseInput, SubstanceInput, VitalsInput

# The demo database's accounts all share this password; the sign-in screen of `monitor demo` says so.
# Only ever used for the demo file (locations.demo_database_path), never for a clinic's database.
DEMO_PASSWORD = "demo-password"
# user name, full name, role
DEMO_ACCOUNTS = (
    ("rn.lee", "Robin Lee", "nurse"),
    ("rn.okafor", "Chidi Okafor", "nurse"),
    ("dr.park", "Dr Jamie Park", "physician"),
)
DEMO_ADMINISTRATOR = "admin"
DEMO_SIGN_IN_HINT = (
    f"Demo accounts: {', '.join(name for name, _, _ in DEMO_ACCOUNTS)} and {DEMO_ADMINISTRATOR} "
    f"(users and settings); password {DEMO_PASSWORD}"
)


def _demo_accounts(service: ClinicalService) -> None:
    """The accounts people sign in with, made as an administrator would (then their own password)."""
    admin = service.create_first_administrator(DEMO_ADMINISTRATOR, "Ada Admin", DEMO_PASSWORD).username
    temporary = "temporary-demo-password"
    for username, full_name, role in DEMO_ACCOUNTS:
        service.create_user(admin, username, full_name, role, temporary)
        service.change_password(username, temporary, DEMO_PASSWORD)


class _SeedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass(frozen=True)
class _Chart:
    hours_ago: float
    pulse: int
    # the other ten items in COWS order after resting pulse
    rest: tuple[int, int, int, int, int, int, int, int, int, int]


@dataclass(frozen=True)
class _Dose:
    hours_ago: float
    drug: str
    form: str
    mg: float
    reason: str = ""


@dataclass(frozen=True)
class _Vitals:
    hours_ago: float
    pulse: int
    systolic: int
    diastolic: int
    resp_rate: int
    spo2: int
    temp_c: float


def _items(chart: _Chart) -> dict[str, int | None]:
    values = (resting_pulse_value(chart.pulse), *chart.rest)
    return dict(zip(COWS.keys, values, strict=True))


_Event = _Chart | _Dose | _Vitals
_Patient = tuple[str, str, str, str, str, float, list[tuple[str, float, str, str]], list[_Event]]

_PATIENTS: list[_Patient] = [
    # mrn, name, birth date, sex, bed, admitted hours ago,
    # substances (key, hours since last use, amount, route), charted events (COWS, doses, vital signs)
    (
        "K-1001",
        "Alex Example",
        "1988-03-14",
        "male",
        "3B",
        30,
        [("kratom", 52, "35 g/day", "oral")],
        [
            _Chart(29, 84, (1, 1, 1, 1, 1, 0, 1, 1, 1, 0)),
            _Chart(25, 92, (1, 1, 1, 2, 1, 1, 1, 1, 1, 0)),
            _Chart(21, 98, (2, 1, 1, 2, 2, 2, 1, 2, 1, 0)),
            _Chart(17, 104, (2, 3, 2, 2, 2, 2, 1, 2, 2, 3)),
            _Chart(13, 96, (1, 1, 1, 2, 1, 1, 1, 1, 1, 0)),
            _Chart(9, 88, (1, 1, 1, 1, 1, 0, 1, 1, 1, 0)),
            _Chart(5, 82, (0, 1, 1, 1, 1, 0, 0, 1, 1, 0)),
            _Chart(1, 78, (0, 0, 1, 1, 0, 0, 0, 0, 1, 0)),
            # Rapid naltrexone induction inside the kratom interval, then precipitated withdrawal.
            _Dose(
                0.75,
                "naltrexone",
                "oral",
                25,
                "Rapid induction agreed with the physician; patient consents despite kratom 2 days ago",
            ),
            _Chart(0.2, 112, (2, 3, 2, 2, 2, 2, 2, 2, 2, 0)),
            _Vitals(0.2, 112, 142, 90, 18, 97, 37.4),
        ],
    ),
    (
        "K-1002",
        "Jordan Sample",
        "1979-07-02",
        "female",
        "3C",
        20,
        [("fentanyl", 26, "about 1 g/day", "smoked"), ("benzodiazepine", 40, "alprazolam 2 mg", "oral")],
        [
            _Chart(19, 102, (2, 3, 2, 2, 2, 2, 2, 2, 2, 3)),
            _Vitals(15.2, 118, 150, 94, 18, 98, 37.6),
            _Chart(15, 118, (3, 3, 2, 2, 2, 3, 2, 2, 2, 3)),
            _Dose(14.8, "clonidine", "oral", 0.1),
            _Dose(14.8, "ondansetron", "oral", 4),
            _Chart(11, 110, (2, 3, 2, 2, 2, 2, 1, 2, 2, 3)),
            _Chart(7, 100, (2, 1, 2, 2, 1, 2, 1, 1, 2, 0)),
            _Dose(6.9, "clonidine", "oral", 0.1),
            _Vitals(5, 92, 108, 68, 16, 98, 37.0),
            _Chart(3, 96, (1, 1, 1, 2, 1, 1, 1, 1, 1, 0)),
        ],
    ),
    (
        "K-1003",
        "Sam Placeholder",
        "1992-11-30",
        "male",
        "4A",
        50,
        [("methadone", 74, "60 mg/day", "oral")],
        [
            _Chart(49, 80, (1, 1, 1, 1, 0, 0, 0, 1, 1, 0)),
            _Chart(45, 86, (1, 1, 1, 1, 1, 0, 1, 1, 1, 0)),
            _Chart(41, 90, (1, 1, 1, 1, 1, 1, 1, 1, 1, 0)),
            _Dose(40.5, "loperamide", "oral", 4),
            _Chart(37, 88, (1, 1, 1, 1, 1, 1, 0, 1, 1, 0)),
            _Chart(6, 84, (1, 1, 1, 1, 1, 0, 0, 1, 1, 0)),
            _Chart(2, 82, (0, 1, 1, 1, 0, 0, 0, 1, 1, 0)),
        ],
    ),
    (
        "K-1004",
        "Casey Demo",
        "2001-05-21",
        "other",
        "4B",
        3,
        [("heroin", 14, "0.5 g/day", "intravenous"), ("alcohol", 30, "4 drinks/day", "oral")],
        [_Chart(2.5, 112, (2, 3, 2, 2, 2, 2, 2, 2, 2, 3))],
    ),
]


def seed_demo(service: ClinicalService, now: datetime | None = None) -> list[int]:
    """Fill an empty database with the demo ward; returns the episode ids."""
    real_clock = service.clock
    now = now or datetime.now(UTC)
    clock = _SeedClock(now)
    service.clock = clock
    try:
        clock.current = now - timedelta(days=3)
        _demo_accounts(service)
        nurses = [name for name, _, role in DEMO_ACCOUNTS if role == "nurse"]
        episode_ids = []
        for mrn, name, birth, sex, bed, admitted_h, uses, charts in _PATIENTS:
            admitted = now - timedelta(hours=admitted_h)
            clock.current = admitted + timedelta(minutes=5)
            request = AdmissionRequest(
                mrn=mrn,
                name=name,
                admitted_at=admitted,
                birth_date=datetime.fromisoformat(birth).date(),
                sex=sex,
                bed=bed,
                substances=tuple(
                    SubstanceInput(key, now - timedelta(hours=h), amount, route)
                    for key, h, amount, route in uses
                ),
            )
            episode_id = service.admit(nurses[0], request)
            episode_ids.append(episode_id)
            for number, event in enumerate(charts):
                _chart_event(service, clock, nurses[number % 2], episode_id, event, now)
        _seed_corrections(service, clock, nurses, episode_ids, now)
        clock.current = now
        service.refresh_alerts()
        return episode_ids
    finally:
        service.clock = real_clock


def _chart_event(
    service: ClinicalService,
    clock: _SeedClock,
    nurse: str,
    episode_id: int,
    event: _Chart | _Dose | _Vitals,
    now: datetime,
) -> None:
    """Chart one event a few minutes after it happened, as a nurse at the bedside would."""
    when = now - timedelta(hours=event.hours_ago)
    clock.current = min(when + timedelta(minutes=4), now)
    if isinstance(event, _Chart):
        service.record_assessment(
            nurse, episode_id, AssessmentInput(taken_at=when, items=_items(event), pulse_bpm=event.pulse)
        )
    elif isinstance(event, _Dose):
        service.record_dose(
            nurse, episode_id, DoseInput(event.drug, event.form, event.mg, when, warning_reason=event.reason)
        )
    else:
        service.record_vitals(
            nurse,
            episode_id,
            VitalsInput(
                taken_at=when,
                pulse_bpm=event.pulse,
                systolic=event.systolic,
                diastolic=event.diastolic,
                resp_rate=event.resp_rate,
                spo2=event.spo2,
                temp_c=event.temp_c,
            ),
        )


def _seed_corrections(
    service: ClinicalService, clock: _SeedClock, nurses: list[str], episode_ids: list[int], now: datetime
) -> None:
    """One amended and one entered-in-error assessment, so the history views have something to show."""
    first = service.assessments(episode_ids[0])
    to_amend = first[3]
    clock.current = to_amend.recorded_at + timedelta(minutes=20)
    items: dict[str, int | None] = dict(to_amend.items)
    items["gooseflesh"] = 0
    service.amend_assessment(
        nurses[1],
        to_amend.id,
        AssessmentInput(
            taken_at=to_amend.taken_at,
            items=items,
            pulse_bpm=to_amend.pulse_bpm,
            note="gooseflesh re-checked: skin smooth",
        ),
        "Gooseflesh scored on the wrong row",
    )
    third = service.assessments(episode_ids[2])
    clock.current = third[-2].recorded_at + timedelta(minutes=10)
    service.mark_entered_in_error(nurses[0], third[-2].id, "Charted on the wrong patient")
    clock.current = now
