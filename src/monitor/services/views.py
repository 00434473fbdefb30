"""Read models handed to the UI and CLI: plain frozen data, never ORM objects (no lazy loads, no stale
sessions in widgets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    is_workstation_default: bool


@dataclass(frozen=True)
class SubstanceInput:
    substance: str
    last_use_at: datetime | None = None
    amount: str = ""
    route: str = ""


@dataclass(frozen=True)
class SubstanceView:
    substance: str
    label: str
    is_opioid: bool
    last_use_at: datetime | None
    amount: str
    route: str


@dataclass(frozen=True)
class AdmissionRequest:
    mrn: str
    name: str
    admitted_at: datetime
    birth_date: date | None = None
    sex: str | None = None
    bed: str = ""
    substances: tuple[SubstanceInput, ...] = ()


@dataclass(frozen=True)
class AssessmentInput:
    """What the COWS form submits. `items` maps item keys to score values; None means not answered."""

    taken_at: datetime
    items: dict[str, int | None]
    pulse_bpm: int | None = None
    note: str = ""
    late_reason: str = ""
    scale: str = "COWS"


@dataclass(frozen=True)
class AssessmentView:
    id: int
    root_id: int
    version: int
    episode_id: int
    scale: str
    taken_at: datetime
    recorded_at: datetime
    recorded_by: str
    recorded_by_name: str
    tz_name: str
    items: dict[str, int]
    total: int
    band_key: str
    band_label: str
    pulse_bpm: int | None
    note: str
    late_reason: str
    replaces_id: int | None
    amend_reason: str
    superseded_by_id: int | None = None
    void_reason: str = ""
    voided_by: str = ""
    voided_at: datetime | None = None

    @property
    def entered_in_error(self) -> bool:
        return self.voided_at is not None

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def status(self) -> str:
        if self.entered_in_error:
            return "Entered in error"
        if not self.is_current:
            return "Replaced by amendment"
        return "Amended" if self.version > 1 else "Original"


@dataclass(frozen=True)
class EpisodeSummary:
    id: int
    patient_id: int
    mrn: str
    name: str
    bed: str
    admitted_at: datetime
    discharged_at: datetime | None
    latest_total: int | None
    latest_band: str
    latest_taken_at: datetime | None


@dataclass(frozen=True)
class EpisodeDetail:
    id: int
    patient_id: int
    mrn: str
    name: str
    birth_date: date | None
    sex: str | None
    bed: str
    admitted_at: datetime
    admitted_by: str
    discharged_at: datetime | None
    discharged_by: str
    discharge_note: str
    tz_name: str
    substances: tuple[SubstanceView, ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    username: str
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    reason: str
    before_json: str
    after_json: str
