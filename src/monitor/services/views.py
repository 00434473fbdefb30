"""Read models handed to the UI and CLI: plain frozen data, never ORM objects (no lazy loads, no stale
sessions in widgets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    is_workstation_default: bool
    # Set after an administrator's reset or for a new account: the next screen must be a password change.
    must_change_password: bool = False
    # Until when too many failed sign-ins lock the account (None: not locked).
    locked_until: datetime | None = None
    has_password: bool = False


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
    changed_after_sign_off: bool = False

    @property
    def entered_in_error(self) -> bool:
        return self.voided_at is not None

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def status(self) -> str:
        after = " after sign-off" if self.changed_after_sign_off else ""
        if self.entered_in_error:
            return f"Entered in error{after}"
        if not self.is_current:
            return "Replaced by amendment"
        return f"Amended{after}" if self.version > 1 else "Original"


@dataclass(frozen=True)
class AssessmentColumns:
    """The current version of each assessment of an episode as plain columns, oldest first: index i of
    every column is one assessment. For the long lists (the bedside table, the trend): a view object per
    assessment costs more than the read itself on a 20,000-assessment stay. Rare details (why voided or
    amended) are kept by assessment id. Item scores are read apart (AssessmentItemColumns)."""

    episode_id: int
    ids: tuple[int, ...] = ()
    taken_at: tuple[float, ...] = ()  # epoch seconds (UTC)
    scales: tuple[str, ...] = ()
    totals: tuple[int, ...] = ()
    band_keys: tuple[str, ...] = ()
    band_labels: tuple[str, ...] = ()
    versions: tuple[int, ...] = ()
    entered_in_error: tuple[bool, ...] = ()
    authors: tuple[int, ...] = ()  # index into users
    notes: tuple[str, ...] = ()
    users: tuple[tuple[str, str], ...] = ()  # (username, display name)
    void_reasons: dict[int, str] = field(default_factory=dict)  # by assessment id
    amend_reasons: dict[int, str] = field(default_factory=dict)  # by assessment id, amended ones only
    changed_after_sign_off: frozenset[int] = frozenset()  # assessment ids

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_views(cls, episode_id: int, views: Sequence[AssessmentView]) -> AssessmentColumns:
        """The same columns from view objects (current versions, oldest first), e.g. a stub's."""
        users: dict[tuple[str, str], int] = {}
        for v in views:
            users.setdefault((v.recorded_by, v.recorded_by_name), len(users))
        return cls(
            episode_id=episode_id,
            ids=tuple(v.id for v in views),
            taken_at=tuple(v.taken_at.timestamp() for v in views),
            scales=tuple(v.scale for v in views),
            totals=tuple(v.total for v in views),
            band_keys=tuple(v.band_key for v in views),
            band_labels=tuple(v.band_label for v in views),
            versions=tuple(v.version for v in views),
            entered_in_error=tuple(v.entered_in_error for v in views),
            authors=tuple(users[(v.recorded_by, v.recorded_by_name)] for v in views),
            notes=tuple(v.note for v in views),
            users=tuple(users),
            void_reasons={v.id: v.void_reason for v in views if v.entered_in_error},
            amend_reasons={v.id: v.amend_reason for v in views if v.version > 1 and v.amend_reason},
            changed_after_sign_off=frozenset(v.id for v in views if v.changed_after_sign_off),
        )

    def row(self, i: int) -> AssessmentRow:
        return AssessmentRow(
            id=self.ids[i],
            taken_at=self.taken_at_utc(i),
            total=self.totals[i],
            entered_in_error=self.entered_in_error[i],
        )

    def taken_at_utc(self, i: int) -> datetime:
        return datetime.fromtimestamp(self.taken_at[i], UTC)

    def recorded_by(self, i: int) -> str:
        return self.users[self.authors[i]][0]

    def recorded_by_name(self, i: int) -> str:
        return self.users[self.authors[i]][1]

    def status(self, i: int) -> str:
        """As AssessmentView.status (every row here is a current version)."""
        after = " after sign-off" if self.ids[i] in self.changed_after_sign_off else ""
        if self.entered_in_error[i]:
            return f"Entered in error{after}"
        return f"Amended{after}" if self.versions[i] > 1 else "Original"


@dataclass(frozen=True)
class AssessmentRow:
    """One row of AssessmentColumns: what acting on a chosen assessment needs (history, amend, void)."""

    id: int
    taken_at: datetime
    total: int
    entered_in_error: bool


@dataclass(frozen=True)
class AssessmentItemColumns:
    """The item scores of an episode's assessments, one entry per item row, ordered by assessment (as
    taken) then item key. May hold superseded versions' items too: match them by assessment id."""

    assessment_ids: tuple[int, ...] = ()
    item_keys: tuple[str, ...] = ()
    values: tuple[int, ...] = ()


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


@dataclass(frozen=True)
class DoseInput:
    """What the dose form submits. warning_reason: why the dose is given despite the rules' warnings."""

    drug: str
    form: str
    dose_mg: float
    given_at: datetime
    note: str = ""
    warning_reason: str = ""
    late_reason: str = ""


@dataclass(frozen=True)
class DoseView:
    id: int
    episode_id: int
    drug: str
    drug_label: str
    role: str  # "antagonist", "agonist" or "comfort"
    form: str
    dose_mg: float
    description: str  # e.g. "naltrexone 25 mg PO"
    given_at: datetime
    recorded_at: datetime
    recorded_by: str
    note: str
    warning_reason: str
    warnings: tuple[str, ...]  # what the rules said before it was saved
    late_reason: str = ""
    void_reason: str = ""
    voided_by: str = ""
    voided_at: datetime | None = None

    @property
    def entered_in_error(self) -> bool:
        return self.voided_at is not None


@dataclass(frozen=True)
class VitalsInput:
    taken_at: datetime
    pulse_bpm: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    resp_rate: int | None = None
    spo2: int | None = None
    temp_c: float | None = None
    note: str = ""
    late_reason: str = ""


@dataclass(frozen=True)
class VitalsView:
    id: int
    episode_id: int
    taken_at: datetime
    recorded_at: datetime
    recorded_by: str
    pulse_bpm: int | None
    systolic: int | None
    diastolic: int | None
    resp_rate: int | None
    spo2: int | None
    temp_c: float | None
    note: str
    void_reason: str = ""
    voided_at: datetime | None = None

    @property
    def entered_in_error(self) -> bool:
        return self.voided_at is not None


@dataclass(frozen=True)
class ReadinessRow:
    """Days since the last use of one opioid against its opioid-free interval before naltrexone."""

    substance: str
    label: str
    source: str  # "reported use" or "dose given here"
    last_use_at: datetime
    elapsed: timedelta
    interval_days: int
    clear_at: datetime

    @property
    def ready(self) -> bool:
        return self.elapsed >= timedelta(days=self.interval_days)


@dataclass(frozen=True)
class WarningView:
    """What a rule will say about a dose before it is saved."""

    rule: str
    priority: str
    message: str


@dataclass(frozen=True)
class AlertView:
    id: int
    key: str
    episode_id: int
    mrn: str
    patient: str
    bed: str
    rule: str
    title: str
    priority: str  # "high", "medium", "low"
    priority_rank: int  # 3, 2, 1: for sorting
    raised_at: datetime
    shown_at: datetime
    message: str
    evidence: dict[str, object]
    state: str  # active, acknowledged, snoozed, escalated, resolved
    resolved_at: datetime | None
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    acknowledge_reason: str = ""
    snoozed_until: datetime | None = None
    escalated_at: datetime | None = None
    silenced: bool = False
    sound: bool = False

    @property
    def needs_action(self) -> bool:
        return self.state in ("active", "escalated")

    @property
    def for_physician(self) -> bool:
        return self.escalated_at is not None


@dataclass(frozen=True)
class SettingView:
    key: str
    label: str
    unit: str
    value: float
    default: float
    minimum: float
    maximum: float
    source: str
    changed_by: str = ""
    changed_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class WardRow:
    """One open episode on the ward board."""

    episode_id: int
    bed: str
    patient: str
    mrn: str
    latest_total: int | None
    latest_band: str
    latest_at: datetime | None
    change: int | None  # since the COWS before the latest
    next_due_at: datetime | None
    next_due_reason: str  # "routine" or "post-dose +30 min" ...
    alerts_high: int
    alerts_medium: int
    alerts_low: int
    top_alert: str
    last_antagonist: str  # "naltrexone 25 mg PO"
    last_antagonist_at: datetime | None
    sparkline: tuple[tuple[datetime, int], ...]  # COWS of the last 24 h

    @property
    def worst_priority(self) -> int:
        return 3 if self.alerts_high else 2 if self.alerts_medium else 1 if self.alerts_low else 0


@dataclass(frozen=True)
class SignOffView:
    id: int
    episode_id: int
    period_start: datetime
    period_end: datetime
    signed_at: datetime
    signed_by: str
    comment: str


@dataclass(frozen=True)
class ReviewItem:
    """Something waiting for the physician."""

    kind: str  # "escalated alert", "precipitated withdrawal", "not reviewed for 24 h"
    episode_id: int
    patient: str
    bed: str
    mrn: str
    detail: str
    since: datetime
    alert_id: int | None = None
