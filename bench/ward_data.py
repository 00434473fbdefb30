"""The benchmark's own realistic data (issue 9), built through the app's services.

A ward of 60 open episodes admitted about 7 days ago, each with a COWS every 2-4 h, the flowsheet's
reassessments around every antagonist dose (at the dose, +30 min, +2 h), a rapid low-dose naltrexone
ladder (1 -> 50 mg PO over 6 days, Sullivan 2017) or a naloxone challenge (0.8 mg SC), comfort medicines
(clonidine, ondansetron, loperamide, ibuprofen, trazodone) and vital signs every 6 h; patients on
methadone or buprenorphine get no antagonist (14-day interval). Some patients react to a ladder step with
precipitated withdrawal (COWS +10 or more), a few within the last hours, so alerts are live; older alerts
are acknowledged with a reason, as a ward would have done. Plus one long stay, the 61st open episode: a
COWS every 15 min, 20,000 of them (about 208 days), a comfort medicine every 12 h, naltrexone every 10
days and vital signs every 4 h.

Invented patients only ("Bench Patient 01", MRN B-0001; "Bench Long Stay", MRN B-LONG). Times end at the
real current time, so the ward looks current when the GUI opens it. The records go in through the
episode importer (one audited transaction per import, alerts evaluated by the services), the accounts
through the administrator's use cases; nothing is written around the services.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitor.domain.scales import COWS, resting_pulse_value
from monitor.io.episode_json import (
    AssessmentRecord,
    DoseRecordIn,
    EpisodeRecord,
    PatientRecord,
    SubstanceRecord,
    VitalsRecordIn,
)
from monitor.services import locations
from monitor.services.clinical import ClinicalService

# Every bench account signs in with this (bench databases only, never a clinic's).
BENCH_PASSWORD = "bench-password-9"
BENCH_ADMIN = "bench.admin"
BENCH_NURSE = "bench.nurse"
BENCH_NURSE_2 = "bench.nurse2"
BENCH_DOCTOR = "bench.doctor"

WARD_EPISODES = 60
WARD_DAYS = 7
LONG_STAY_ASSESSMENTS = 20_000
LONG_STAY_EVERY = timedelta(minutes=15)

# Rapid low-dose naltrexone induction (domain.md section 3): rising oral doses from about 1 mg.
NALTREXONE_LADDER_MG = (1.0, 3.0, 6.0, 12.0, 25.0, 50.0)
# (key, route, long acting) of the ward's opioid histories; long-acting ones get no antagonist here.
SUBSTANCES = (
    ("heroin", "intravenous", False),
    ("fentanyl", "smoked", False),
    ("oxycodone", "oral", False),
    ("kratom", "oral", False),
    ("methadone", "oral", True),
    ("buprenorphine", "sublingual", True),
)
SEXES = ("female", "male", "male", "female", "other")
ACK_REASON = "Rapid induction agreed with the physician; patient consents and is watched"


class _Clock:
    """The services' clock while seeding: fixed at the build's `now`."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass(frozen=True)
class WardData:
    """What build_ward made: ids, accounts and counts (the groups' measure() read it via ctx.ward)."""

    path: Path
    built_at: datetime
    ward_episode_ids: tuple[int, ...]
    long_stay_episode_id: int
    nurse_username: str
    physician_username: str
    password: str
    counts: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0

    def summary(self) -> str:
        c = self.counts
        return (
            f"{len(self.ward_episode_ids)} open ward episodes ({c.get('ward_assessments', 0):,} COWS, "
            f"{c.get('ward_doses', 0):,} doses, {c.get('ward_vitals', 0):,} vital sign sets) and the long "
            f"stay as the 61st open episode (id {self.long_stay_episode_id}, "
            f"{c.get('long_stay_assessments', 0):,} COWS); {c.get('live_alerts', 0)} live alerts, "
            f"{c.get('acknowledged_alerts', 0)} acknowledged; accounts {self.nurse_username} and "
            f"{self.physician_username} (password BENCH_PASSWORD); built in {self.build_seconds:.1f} s"
        )


# --- scores -----------------------------------------------------------------------------------------

_OTHER_ITEMS = [item for item in COWS.items if item.key != "resting_pulse"]


def cows_items(total: int, rng: random.Random) -> tuple[dict[str, int], int]:
    """Item values adding up to about `total` (the scale's values skip numbers) and a matching pulse."""
    bpm = max(52, min(150, int(66 + total * 1.6 + rng.gauss(0, 5))))
    pulse_value = resting_pulse_value(bpm)
    values = {item.key: 0 for item in _OTHER_ITEMS}
    remaining = max(0, total - pulse_value)
    while remaining > 0:
        steps = []
        for item in _OTHER_ITEMS:
            higher = [v for v in item.allowed_values if v > values[item.key]]
            if higher and higher[0] - values[item.key] <= remaining:
                steps.append((item.key, higher[0]))
        if not steps:
            break
        key, value = rng.choice(steps)
        remaining -= value - values[key]
        values[key] = value
    return {"resting_pulse": pulse_value, **values}, bpm


def _withdrawal_level(hours_since_use: float, long_acting: bool, peak: float) -> float:
    """A withdrawal course: rises to a peak (about 36 h after a short-acting opioid, 80 h after a
    long-acting one) and settles over the week."""
    centre, width = (80.0, 50.0) if long_acting else (36.0, 30.0)
    return 3.0 + peak * math.exp(-(((hours_since_use - centre) / width) ** 2))


# --- one ward patient -------------------------------------------------------------------------------


def _ward_record(number: int, now: datetime, rng: random.Random) -> EpisodeRecord:
    substance, route, long_acting = SUBSTANCES[number % len(SUBSTANCES)]
    admitted = now - timedelta(days=WARD_DAYS) + timedelta(minutes=rng.randint(0, 240))
    last_use = admitted - timedelta(hours=rng.uniform(6, 30))
    peak = rng.uniform(8, 14) if substance == "kratom" else rng.uniform(10, 19)
    nurses = (BENCH_NURSE, BENCH_NURSE_2)

    # Antagonists, counted back from now so some patients had their last dose in the last hours.
    antagonists: list[tuple[datetime, str, str, float]] = []
    reaction_at: datetime | None = None
    if not long_acting:
        last_dose = now - timedelta(hours=1.5 + (number % 8) * 2.5)
        if number % 4 == 3:  # a naloxone challenge on day 3 instead of the ladder
            given = admitted + timedelta(days=3, hours=1)
            antagonists.append((given, "naloxone", "sc", 0.8))
        else:
            for step, mg in enumerate(NALTREXONE_LADDER_MG):
                given = last_dose - timedelta(days=len(NALTREXONE_LADDER_MG) - 1 - step)
                if given > admitted + timedelta(hours=20):
                    antagonists.append((given, "naltrexone", "oral", mg))
        if antagonists and number % 10 == 0:  # reacts to the latest dose: a live alert
            reaction_at = antagonists[-1][0]
        elif antagonists and number % 10 == 5:  # reacted days ago (acknowledged since)
            reaction_at = antagonists[0][0]

    def total_at(moment: datetime) -> int:
        level = _withdrawal_level((moment - last_use).total_seconds() / 3600, long_acting, peak)
        if reaction_at is not None and reaction_at < moment <= reaction_at + timedelta(hours=6):
            hours = (moment - reaction_at).total_seconds() / 3600
            level += 14 - 1.5 * max(0.0, hours - 2)
        return max(0, min(COWS.max_total, round(level + rng.gauss(0, 1.5))))

    # COWS: at each antagonist dose (the baseline), +30 min and +2 h; routine every 2-4 h between.
    flowsheet = []
    for given, _drug, _form, _mg in antagonists:
        for offset in (timedelta(minutes=-10), timedelta(minutes=30), timedelta(hours=2)):
            if given + offset <= now:
                flowsheet.append(given + offset)
    times = list(flowsheet)
    moment = admitted + timedelta(minutes=rng.randint(15, 60))
    while moment <= now:
        if all(abs(moment - t) > timedelta(minutes=40) for t in flowsheet):
            times.append(moment)
        moment += timedelta(minutes=rng.randint(120, 235))
    assessments = []
    for count, taken in enumerate(sorted(times)):
        items, bpm = cows_items(total_at(taken), rng)
        assessments.append(AssessmentRecord("COWS", taken, nurses[count % 2], items, bpm))

    doses = [DoseRecordIn(d, f, mg, given, nurses[i % 2]) for i, (given, d, f, mg) in enumerate(antagonists)]
    day = 0
    while admitted + timedelta(days=day) < now:
        start = admitted + timedelta(days=day, hours=1)
        if day < 4:  # clonidine through the worst days, BP checked first
            doses += [
                DoseRecordIn("clonidine", "oral", 0.1, start + timedelta(hours=h), nurses[day % 2])
                for h in (0, 6, 12, 18)
            ]
        if day < 3 and number % 3 == 0:
            doses.append(DoseRecordIn("ondansetron", "oral", 4.0, start + timedelta(hours=3), nurses[0]))
        if day in (1, 2) and number % 4 == 1:
            doses.append(DoseRecordIn("loperamide", "oral", 4.0, start + timedelta(hours=5), nurses[1]))
        doses.append(DoseRecordIn("ibuprofen", "oral", 400.0, start + timedelta(hours=8), nurses[0]))
        doses.append(DoseRecordIn("trazodone", "oral", 50.0, start + timedelta(hours=14), nurses[1]))
        day += 1
    doses = [d for d in doses if d.given_at <= now]

    vitals: list[VitalsRecordIn] = []
    moment = admitted + timedelta(minutes=30)
    while moment <= now:
        low_bp = number % 12 == 7 and moment - admitted < timedelta(days=2) and len(vitals) == 3
        vitals.append(
            VitalsRecordIn(
                taken_at=moment,
                by=nurses[len(vitals) % 2],
                pulse_bpm=rng.randint(64, 104),
                systolic=86 if low_bp else rng.randint(104, 142),
                diastolic=56 if low_bp else rng.randint(64, 90),
                resp_rate=rng.randint(12, 20),
                spo2=rng.randint(94, 99),
                temp_c=round(rng.uniform(36.3, 37.6), 1),
            )
        )
        moment += timedelta(hours=6)

    return EpisodeRecord(
        where="episode",
        patient=PatientRecord(
            mrn=f"B-{number + 1:04d}",
            name=f"Bench Patient {number + 1:02d}",
            birth_date=date(1958 + number % 45, 1 + number % 12, 1 + number % 28),
            sex=SEXES[number % len(SEXES)],
        ),
        admitted_at=admitted,
        discharged_at=None,
        bed=f"{'ABCDEF'[number // 10]}{number % 10 + 1}",
        substances=(
            SubstanceRecord(substance, last_use, rng.choice(("daily", "several times a day")), route),
        ),
        assessments=tuple(assessments),
        doses=tuple(sorted(doses, key=lambda d: d.given_at)),
        vitals=tuple(vitals),
    )


def ward_records(now: datetime, count: int = WARD_EPISODES, seed: int = 9) -> list[EpisodeRecord]:
    rng = random.Random(seed)
    return [_ward_record(number, now, rng) for number in range(count)]


def _long_stay_record(now: datetime, rng: random.Random) -> EpisodeRecord:
    admitted = now - LONG_STAY_EVERY * LONG_STAY_ASSESSMENTS
    nurses = (BENCH_NURSE, BENCH_NURSE_2)
    antagonist_times = [admitted + timedelta(days=10 * k, hours=10) for k in range(1, 21)]
    antagonist_times = [t for t in antagonist_times if t <= now]
    reactive = set(antagonist_times[::5])

    def total_at(moment: datetime) -> int:
        level = 4.0 + 2.0 * math.sin((moment - admitted).total_seconds() / 86_400)
        for given in reactive:
            if given < moment <= given + timedelta(hours=4):
                level += 11
        return max(0, min(COWS.max_total, round(level + rng.gauss(0, 1.2))))

    assessments = []
    for k in range(LONG_STAY_ASSESSMENTS):
        taken = admitted + LONG_STAY_EVERY * (k + 1) - timedelta(minutes=2)
        items, bpm = cows_items(total_at(taken), rng)
        assessments.append(AssessmentRecord("COWS", taken, nurses[k % 2], items, bpm))
    doses = [DoseRecordIn("naltrexone", "oral", 50.0, t, nurses[0]) for t in antagonist_times]
    moment = admitted + timedelta(hours=1)
    while moment <= now:
        doses.append(DoseRecordIn("clonidine", "oral", 0.1, moment, nurses[1]))
        moment += timedelta(hours=12)
    vitals: list[VitalsRecordIn] = []
    moment = admitted + timedelta(minutes=20)
    while moment <= now:
        vitals.append(
            VitalsRecordIn(
                taken_at=moment,
                by=nurses[len(vitals) % 2],
                pulse_bpm=rng.randint(62, 96),
                systolic=rng.randint(104, 138),
                diastolic=rng.randint(64, 88),
                resp_rate=rng.randint(12, 18),
                spo2=rng.randint(95, 99),
                temp_c=round(rng.uniform(36.4, 37.3), 1),
            )
        )
        moment += timedelta(hours=4)
    return EpisodeRecord(
        where="episode",
        patient=PatientRecord("B-LONG", "Bench Long Stay", date(1971, 6, 3), "female"),
        admitted_at=admitted,
        discharged_at=None,
        bed="Z1",
        substances=(SubstanceRecord("oxycodone", admitted - timedelta(days=2), "daily", "oral"),),
        assessments=tuple(assessments),
        doses=tuple(sorted(doses, key=lambda d: d.given_at)),
        vitals=tuple(vitals),
    )


def _accounts(service: ClinicalService) -> None:
    """As an administrator would: the first administrator, then each account with its own password
    (changed from the temporary one, so none must change it at sign-in)."""
    service.create_first_administrator(BENCH_ADMIN, "Bench Administrator", BENCH_PASSWORD)
    temporary = "temporary-bench-password"
    for username, full_name, role in (
        (BENCH_NURSE, "Bench Nurse", "nurse"),
        (BENCH_NURSE_2, "Bench Nurse Two", "nurse"),
        (BENCH_DOCTOR, "Bench Doctor", "physician"),
    ):
        service.create_user(BENCH_ADMIN, username, full_name, role, temporary)
        service.change_password(username, temporary, BENCH_PASSWORD)


def _remove(path: Path) -> Iterator[Path]:
    for suffix in ("", "-wal", "-shm"):
        yield Path(f"{path}{suffix}")


def build_ward(path: Path, now: datetime | None = None) -> WardData:
    """Build the benchmark ward in a new SQLite file at `path` (an existing one is replaced)."""
    started = time.perf_counter()
    for leftover in _remove(path):
        leftover.unlink(missing_ok=True)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    clock = _Clock(now)
    service = locations.connect(path=path, clock=clock)
    try:
        _accounts(service)
        ward = ward_records(now)
        service.import_episodes(BENCH_NURSE, ward, source="bench ward")
        service.import_episodes(
            BENCH_NURSE, [_long_stay_record(now, random.Random(61))], source="bench long stay"
        )
        ids = {row.mrn: row.id for row in service.open_episodes()}
        ward_ids = tuple(ids[record.patient.mrn] for record in ward)
        long_id = ids["B-LONG"]
        # A ward's older alerts were seen and acknowledged; the last 12 hours' are still live.
        acknowledged = 0
        for alert in service.refresh_alerts():
            if alert.raised_at < now - timedelta(hours=12):
                service.acknowledge_alert(BENCH_DOCTOR, alert.id, ACK_REASON)
                acknowledged += 1
        live = len(service.alerts())
    finally:
        service.db.dispose()
    counts = {
        "ward_assessments": sum(len(r.assessments) for r in ward),
        "ward_doses": sum(len(r.doses) for r in ward),
        "ward_vitals": sum(len(r.vitals) for r in ward),
        "long_stay_assessments": LONG_STAY_ASSESSMENTS,
        "live_alerts": live,
        "acknowledged_alerts": acknowledged,
    }
    return WardData(
        path=path,
        built_at=now,
        ward_episode_ids=ward_ids,
        long_stay_episode_id=long_id,
        nurse_username=BENCH_NURSE,
        physician_username=BENCH_DOCTOR,
        password=BENCH_PASSWORD,
        counts=counts,
        build_seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    import sys
    import tempfile

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "ward.sqlite"
    print(build_ward(target).summary(), "->", target)
