"""What the alert rules read: one episode's clinical record as plain, immutable values.

The services build a Timeline from the database (current versions only: an amended assessment appears
once, in its current version; voided records do not appear). Every datetime is timezone-aware; the
records are kept sorted by clinical time (then id) whatever order they are given in.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from monitor.domain.medications import check_form
from monitor.domain.scales import COWS
from monitor.domain.substances import substance

__all__ = [
    "DoseRecord",
    "LastUse",
    "ScoredAssessment",
    "Timeline",
    "VitalsRecord",
]


# The scale's maximum, once (a property that sums the items; checked for every assessment of a stay).
_COWS_MAX_TOTAL = COWS.max_total


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True)
class ScoredAssessment:
    """A current, valid, complete COWS: the total of all 11 items (0-48)."""

    id: int
    taken_at: datetime
    total: int
    items: Mapping[str, int] = field(default_factory=dict, hash=False)
    recorded_by: str = ""
    # The first version's id when this is an amendment: alert keys use it, so correcting an assessment
    # never raises its alerts again under a new identity.
    root_id: int | None = None

    @property
    def identity(self) -> int:
        return self.root_id if self.root_id is not None else self.id

    def __post_init__(self) -> None:
        _require_aware(self.taken_at, "taken_at")
        if isinstance(self.total, bool) or not isinstance(self.total, int):
            raise ValueError(f"COWS total must be a whole number, got {self.total!r}")
        if not 0 <= self.total <= _COWS_MAX_TOTAL:
            raise ValueError(f"COWS total {self.total} is outside 0-{_COWS_MAX_TOTAL}")


@dataclass(frozen=True)
class DoseRecord:
    """A medicine given (drug and form keys of monitor.domain.medications)."""

    id: int
    drug: str
    form: str
    dose_mg: float
    given_at: datetime
    recorded_by: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.given_at, "given_at")
        check_form(self.drug, self.form)
        if (
            isinstance(self.dose_mg, bool)
            or not isinstance(self.dose_mg, int | float)
            or not math.isfinite(self.dose_mg)
            or self.dose_mg <= 0
        ):
            raise ValueError(f"dose must be a positive number of mg, got {self.dose_mg!r}")


@dataclass(frozen=True)
class VitalsRecord:
    """One set of vital signs; any measurement may be missing."""

    id: int
    taken_at: datetime
    pulse_bpm: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    resp_rate: int | None = None
    spo2: int | None = None
    temp_c: float | None = None

    def __post_init__(self) -> None:
        _require_aware(self.taken_at, "taken_at")


@dataclass(frozen=True)
class LastUse:
    """When the patient last used a substance (a key of monitor.domain.substances); None if unknown."""

    substance: str
    last_use_at: datetime | None

    def __post_init__(self) -> None:
        substance(self.substance)  # raises UnknownSubstance
        if self.last_use_at is not None:
            _require_aware(self.last_use_at, "last_use_at")


_R = TypeVar("_R", ScoredAssessment, DoseRecord, VitalsRecord)


def _assessment_order(a: ScoredAssessment) -> tuple[datetime, int]:
    return (a.taken_at, a.id)


def _dose_order(d: DoseRecord) -> tuple[datetime, int]:
    return (d.given_at, d.id)


def _vitals_order(v: VitalsRecord) -> tuple[datetime, int]:
    return (v.taken_at, v.id)


def _clinical_time(record: ScoredAssessment | DoseRecord | VitalsRecord) -> datetime:
    return record.given_at if isinstance(record, DoseRecord) else record.taken_at


def _first_after(records: Sequence[ScoredAssessment | DoseRecord | VitalsRecord], now: datetime) -> int:
    """Where the records after now begin: they are sorted by clinical time (Timeline keeps them so)."""
    return bisect.bisect_right(records, now, key=_clinical_time)


def _until(records: tuple[_R, ...], now: datetime) -> tuple[_R, ...]:
    """The records up to now: a prefix; the same tuple when none is after now."""
    end = _first_after(records, now)
    return records if end == len(records) else records[:end]


@dataclass(frozen=True)
class Timeline:
    """One episode's record: admission, discharge, assessments, doses, vital signs, substance history.

    tz_name is the episode's IANA zone, used only to show times in messages.
    """

    episode_id: int
    admitted_at: datetime
    discharged_at: datetime | None
    tz_name: str
    assessments: tuple[ScoredAssessment, ...] = ()
    doses: tuple[DoseRecord, ...] = ()
    vitals: tuple[VitalsRecord, ...] = ()
    substances: tuple[LastUse, ...] = ()
    patient_label: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.admitted_at, "admitted_at")
        if self.discharged_at is not None:
            _require_aware(self.discharged_at, "discharged_at")
        # Sorted by clinical time, then id, so that every rule walks the same order whatever the caller gave.
        object.__setattr__(self, "assessments", tuple(sorted(self.assessments, key=_assessment_order)))
        object.__setattr__(self, "doses", tuple(sorted(self.doses, key=_dose_order)))
        object.__setattr__(self, "vitals", tuple(sorted(self.vitals, key=_vitals_order)))
        object.__setattr__(self, "substances", tuple(self.substances))

    def as_of(self, now: datetime) -> Timeline:
        """The record as it stood at `now`: records with a clinical time after now, and a discharge after
        now, are dropped (a substance last use after now too)."""
        _require_aware(now, "now")
        discharged = (
            self.discharged_at if self.discharged_at is not None and self.discharged_at <= now else None
        )
        assessments = _until(self.assessments, now)
        doses = _until(self.doses, now)
        vitals = _until(self.vitals, now)
        substances = tuple(u for u in self.substances if u.last_use_at is None or u.last_use_at <= now)
        if (
            discharged == self.discharged_at
            and assessments is self.assessments
            and doses is self.doses
            and vitals is self.vitals
            and len(substances) == len(self.substances)
        ):
            return self  # nothing after now, the usual case: this timeline (it is immutable), not a copy
        return dataclasses.replace(
            self,
            discharged_at=discharged,
            assessments=assessments,
            doses=doses,
            vitals=vitals,
            substances=substances,
        )

    def clinical_times_after(self, now: datetime) -> list[datetime]:
        """The clinical times after now at which as_of lets a record in (records may be timed a few
        minutes ahead; a discharge too), sorted, without duplicates. Found by bisection: the records
        are sorted, and those after now are the few at the end (a long stay has 20,000)."""
        moments: set[datetime] = set()
        for records in (self.assessments, self.doses, self.vitals):
            moments.update(_clinical_time(r) for r in records[_first_after(records, now) :])
        moments.update(u.last_use_at for u in self.substances if u.last_use_at is not None)
        if self.discharged_at is not None:
            moments.add(self.discharged_at)
        return sorted(m for m in moments if m > now)

    def with_dose(self, dose: DoseRecord) -> Timeline:
        """This timeline with one more dose (e.g. one not yet saved, to preview its alerts)."""
        return dataclasses.replace(self, doses=(*self.doses, dose))
