"""What an export carries: one episode, complete, as plain frozen data (issue 6).

The services fill it from the database (monitor.services.exporting); the writers in this package (PDF,
CSV, FHIR, episode JSON) only format it. Keeping the writers on plain data keeps them free of the
database and of Qt, and lets the tests build a report by hand.

Times are aware UTC datetimes; `zone_name` says in which time zone people read them (the PDF prints
local times with the zone named; CSV and FHIR carry ISO 8601 with an offset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class ReportSubstance:
    substance: str  # catalogue key, e.g. "kratom"
    label: str  # "Kratom (mitragynine)"
    is_opioid: bool
    last_use_at: datetime | None
    amount: str = ""
    route: str = ""


@dataclass(frozen=True)
class ReportAssessment:
    """One version of one COWS. `root_id` ties the versions of one assessment together; the current
    version has `is_current`; an entered-in-error one has `void_reason` and `voided_at`."""

    id: int
    root_id: int
    version: int
    taken_at: datetime
    recorded_at: datetime
    recorded_by: str
    items: dict[str, int]  # the 11 COWS keys of monitor.domain.scales.COWS, in its order
    total: int
    band_key: str  # e.g. "moderate"
    band_label: str  # e.g. "Moderate"
    pulse_bpm: int | None
    note: str
    late_reason: str
    amend_reason: str  # why this version replaced the one before ("" for version 1)
    is_current: bool
    status: str  # "Original", "Amended", "Replaced by amendment", "Entered in error", "... after sign-off"
    void_reason: str = ""
    voided_by: str = ""
    voided_at: datetime | None = None

    @property
    def entered_in_error(self) -> bool:
        return self.voided_at is not None


@dataclass(frozen=True)
class ReportDose:
    id: int
    drug: str  # catalogue key, e.g. "naltrexone"
    drug_label: str  # "Naltrexone"
    role: str  # "antagonist", "agonist", "comfort"
    form: str  # e.g. "oral", "extended_release_injection", "iv"
    dose_mg: float
    description: str  # "naltrexone 25 mg PO"
    given_at: datetime
    recorded_at: datetime
    recorded_by: str
    note: str
    warnings: tuple[str, ...]  # what the rules said before it was given
    warning_reason: str  # why it was given anyway
    void_reason: str = ""
    voided_at: datetime | None = None

    @property
    def entered_in_error(self) -> bool:
        return self.voided_at is not None


@dataclass(frozen=True)
class ReportVitals:
    id: int
    taken_at: datetime
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
class ReportAlertEvent:
    """Something a person (or the app: user "system") did about an alert."""

    kind: str  # "acknowledge", "snooze", "silence", "escalate", "raise_priority", ...
    at: datetime
    by: str
    reason: str
    until: datetime | None = None


@dataclass(frozen=True)
class ReportAlert:
    id: int
    rule: str  # stable rule key, e.g. "precipitated_withdrawal"
    title: str  # "Possible precipitated withdrawal"
    priority: str  # "high", "medium", "low"
    raised_at: datetime
    message: str  # with the numbers: "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 09:05"
    state: str  # active, acknowledged, snoozed, escalated, resolved
    resolved_at: datetime | None
    acknowledged_by: str
    acknowledged_at: datetime | None
    acknowledge_reason: str
    escalated_at: datetime | None
    events: tuple[ReportAlertEvent, ...] = ()


@dataclass(frozen=True)
class ReportSignOff:
    id: int
    period_start: datetime
    period_end: datetime
    signed_at: datetime
    signed_by: str
    comment: str


@dataclass(frozen=True)
class EpisodeReport:
    """Everything about one episode that leaves the app, and who took it out when."""

    episode_id: int
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
    zone_name: str  # e.g. "Europe/Berlin": how the clinic reads the times
    exported_at: datetime
    exported_by: str  # user name
    exported_by_name: str  # display name, printed on the PDF
    substances: tuple[ReportSubstance, ...] = ()
    # Every version of every assessment, oldest first by time taken then version.
    assessments: tuple[ReportAssessment, ...] = ()
    doses: tuple[ReportDose, ...] = ()
    vitals: tuple[ReportVitals, ...] = ()
    alerts: tuple[ReportAlert, ...] = ()
    sign_offs: tuple[ReportSignOff, ...] = ()
    # The app's version, printed in the PDF footer and in the FHIR bundle's meta.
    app_version: str = field(default="")

    def current_assessments(self) -> list[ReportAssessment]:
        """The assessments as they stand: the current version of each, entered in error left out."""
        return [a for a in self.assessments if a.is_current and not a.entered_in_error]
