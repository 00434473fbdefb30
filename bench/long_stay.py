"""A synthetic 20,000-assessment stay with the service's read models (for the benchmark and the trend
tests): COWS every 15 min for about 208 days, a comfort medicine every 12 h, an antagonist every 10 days,
vital signs every 4 h. Invented data; a stub of the service's read side, so no database is involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from monitor.domain.protocol import DEFAULT_PROTOCOL, Protocol
from monitor.domain.scales import COWS
from monitor.services.views import AlertView, AssessmentView, DoseView, EpisodeDetail, VitalsView

N_ASSESSMENTS = 20_000


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class LongStay:
    """A stub of the service's read side: a 20,000-assessment stay (COWS every 15 min, about 208 days)
    with a comfort medicine every 12 h, an antagonist every 10 days and vital signs every 4 h."""

    def __init__(self, n: int = N_ASSESSMENTS) -> None:
        now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        self.clock = _Clock(now)
        start = now - timedelta(minutes=15 * n)
        rng = np.random.default_rng(9)
        columns = [rng.choice(item.allowed_values, size=n) for item in COWS.items]
        self._episode = EpisodeDetail(
            id=1,
            patient_id=1,
            mrn="B-0001",
            name="Benchmark Long Stay",
            birth_date=None,
            sex=None,
            bed="9Z",
            admitted_at=start,
            admitted_by="bench",
            discharged_at=None,
            discharged_by="",
            discharge_note="",
            tz_name="Europe/Berlin",
        )
        self._assessments = []
        for i in range(n):
            items = {key: int(columns[row][i]) for row, key in enumerate(COWS.keys)}
            total = sum(items.values())
            band = COWS.band_for(total)
            when = start + timedelta(minutes=15 * i)
            self._assessments.append(
                AssessmentView(
                    id=i + 1,
                    root_id=i + 1,
                    version=2 if i % 997 == 0 else 1,
                    episode_id=1,
                    scale="COWS",
                    taken_at=when,
                    recorded_at=when,
                    recorded_by="bench",
                    recorded_by_name="Bench",
                    tz_name="Europe/Berlin",
                    items=items,
                    total=total,
                    band_key=band.key,
                    band_label=band.label,
                    pulse_bpm=None,
                    note="",
                    late_reason="",
                    replaces_id=None,
                    amend_reason="",
                )
            )
        span_hours = int(15 * n / 60)
        self._doses = []
        for number, hour in enumerate(range(6, span_hours, 12)):
            antagonist = hour % 240 == 6
            self._doses.append(
                DoseView(
                    id=number + 1,
                    episode_id=1,
                    drug="naltrexone" if antagonist else "clonidine",
                    drug_label="",
                    role="antagonist" if antagonist else "comfort",
                    form="oral",
                    dose_mg=25 if antagonist else 0.1,
                    description="naltrexone 25 mg PO" if antagonist else "clonidine 0.1 mg PO",
                    given_at=start + timedelta(hours=hour),
                    recorded_at=start + timedelta(hours=hour),
                    recorded_by="bench",
                    note="",
                    warning_reason="",
                    warnings=(),
                )
            )
        self._vitals = [
            VitalsView(
                id=k + 1,
                episode_id=1,
                taken_at=start + timedelta(hours=4 * k),
                recorded_at=start + timedelta(hours=4 * k),
                recorded_by="bench",
                pulse_bpm=int(rng.integers(60, 120)),
                systolic=int(rng.integers(100, 150)),
                diastolic=int(rng.integers(60, 90)),
                resp_rate=int(rng.integers(12, 22)),
                spo2=int(rng.integers(94, 100)),
                temp_c=float(rng.uniform(36.4, 37.8)),
                note="",
            )
            for k in range(span_hours // 4)
        ]

    def episode(self, episode_id: int) -> EpisodeDetail:
        return self._episode

    def assessments(self, episode_id: int) -> list[AssessmentView]:
        return list(self._assessments)

    def doses(self, episode_id: int) -> list[DoseView]:
        return list(self._doses)

    def vitals(self, episode_id: int) -> list[VitalsView]:
        return list(self._vitals)

    def alerts(self, *, include_inactive: bool = False, episode_id: int | None = None) -> list[AlertView]:
        return []

    def protocol(self) -> Protocol:
        return DEFAULT_PROTOCOL
