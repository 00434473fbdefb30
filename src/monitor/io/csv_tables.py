"""CSV tables for analysis: assessments, doses and alerts of one or several episodes.

Each writer takes EpisodeReports and writes one table, one record a row, with the columns of its
header below. The files open cleanly in a spreadsheet: UTF-8 with a byte-order mark (so the encoding
is detected), rows ending in CRLF, times in ISO 8601 UTC (`2026-11-20T09:00:00Z`), numbers plain (`25`,
`0.4`, never `25.0` or `1e-05`), an empty cell where there is no value, and text that a spreadsheet
would run as a formula guarded with a leading apostrophe (monitor.io.csv_safety).

`since`/`until` (aware datetimes, both ends included) keep only records whose clinical time (taken_at,
given_at, raised_at) falls inside; either may be left open.

Unlike the episode file, the assessment table holds every version of every assessment, so an analysis
sees amendments and what was entered in error; `status` tells them apart and `root_id` ties the
versions of one assessment together. The dose table holds doses entered in error too.

ASSESSMENT_HEADER, one row per assessment version:

    mrn                the patient's medical record number
    episode_id         the episode's number in the database that exported it
    assessment_id      this version's number
    root_id            the number of the assessment's first version (the same for all its versions)
    version            1 for the original, 2 for the first amendment, ...
    status             current | replaced (an amendment replaced it) | entered_in_error
    taken_at           when the patient was assessed (clinical time)
    recorded_at        when this version was charted
    recorded_by        user name of whoever charted this version
    resting_pulse ...  the 11 COWS item scores, in the order of the scale (monitor.domain.scales.COWS)
      gooseflesh
    pulse_bpm          the measured pulse behind item 1, if charted
    total              the COWS total (the sum of the 11 items)
    band               severity band key: below_mild, mild, moderate, moderately_severe, severe
    note               the nurse's note
    amend_reason       why this version replaced the one before (empty for version 1)
    void_reason        why it was marked entered in error (empty otherwise)

DOSE_HEADER, one row per dose:

    mrn, episode_id    as above
    dose_id            the dose's number
    given_at           when it was given (clinical time)
    drug               catalogue key, e.g. naltrexone (monitor.domain.medications)
    form               e.g. oral, extended_release_injection, iv, im, sc, intranasal
    dose_mg            the dose in mg
    role               antagonist | agonist | comfort
    recorded_by        user name of whoever charted it
    warnings           what the rules warned before it was given, joined with " | "
    warning_reason     why it was given despite the warnings
    status             current | entered_in_error
    void_reason        why it was marked entered in error (empty otherwise)

ALERT_HEADER, one row per alert:

    mrn, episode_id    as above
    alert_id           the alert's number
    rule               stable rule key, e.g. precipitated_withdrawal
    priority           high | medium | low
    raised_at          when the rule raised it
    state              active | acknowledged | snoozed | escalated | resolved
    message            the alert's text, with its numbers
    acknowledged_by    user name of whoever acknowledged it (empty if nobody did)
    acknowledged_at    when
    acknowledge_reason what they wrote
    escalated_at       when it was escalated (empty if it was not)
    resolved_at        when it resolved (empty while it is not)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO, TypeVar

from monitor.domain.scales import COWS
from monitor.io.csv_safety import spreadsheet_text
from monitor.io.report_model import EpisodeReport, ReportAlert, ReportAssessment, ReportDose

__all__ = [
    "ALERT_HEADER",
    "ASSESSMENT_HEADER",
    "CURRENT",
    "DOSE_HEADER",
    "ENTERED_IN_ERROR",
    "REPLACED",
    "write_alerts_csv",
    "write_assessments_csv",
    "write_doses_csv",
]

ASSESSMENT_HEADER: tuple[str, ...] = (
    "mrn",
    "episode_id",
    "assessment_id",
    "root_id",
    "version",
    "status",
    "taken_at",
    "recorded_at",
    "recorded_by",
    *COWS.keys,
    "pulse_bpm",
    "total",
    "band",
    "note",
    "amend_reason",
    "void_reason",
)
DOSE_HEADER: tuple[str, ...] = (
    "mrn",
    "episode_id",
    "dose_id",
    "given_at",
    "drug",
    "form",
    "dose_mg",
    "role",
    "recorded_by",
    "warnings",
    "warning_reason",
    "status",
    "void_reason",
)
ALERT_HEADER: tuple[str, ...] = (
    "mrn",
    "episode_id",
    "alert_id",
    "rule",
    "priority",
    "raised_at",
    "state",
    "message",
    "acknowledged_by",
    "acknowledged_at",
    "acknowledge_reason",
    "escalated_at",
    "resolved_at",
)

# Values of the status columns.
CURRENT = "current"
REPLACED = "replaced"
ENTERED_IN_ERROR = "entered_in_error"

Cell = str | int | float | datetime | None
Target = Path | TextIO
_Record = TypeVar("_Record")


def write_assessments_csv(
    reports: Sequence[EpisodeReport],
    target: Target,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Every version of every assessment taken in [since, until]; returns the rows written.

    A path gets the bytes described above; a stream gets the text (open it with encoding="utf-8-sig"
    and newline="" for the same file).
    """
    rows = _rows(
        reports,
        lambda report: sorted(report.assessments, key=lambda a: (a.taken_at, a.root_id, a.version)),
        lambda a: a.taken_at,
        _assessment_row,
        _Window.of(since, until),
    )
    return _write(target, ASSESSMENT_HEADER, rows)


def write_doses_csv(
    reports: Sequence[EpisodeReport],
    target: Target,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Every dose given in [since, until], entered in error ones too; returns the rows written."""
    rows = _rows(
        reports,
        lambda report: sorted(report.doses, key=lambda d: (d.given_at, d.id)),
        lambda d: d.given_at,
        _dose_row,
        _Window.of(since, until),
    )
    return _write(target, DOSE_HEADER, rows)


def write_alerts_csv(
    reports: Sequence[EpisodeReport],
    target: Target,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Every alert raised in [since, until], whatever its state; returns the rows written."""
    rows = _rows(
        reports,
        lambda report: sorted(report.alerts, key=lambda a: (a.raised_at, a.id)),
        lambda a: a.raised_at,
        _alert_row,
        _Window.of(since, until),
    )
    return _write(target, ALERT_HEADER, rows)


# --- rows -------------------------------------------------------------------------------------------


def _assessment_row(report: EpisodeReport, a: ReportAssessment) -> list[Cell]:
    return [
        report.mrn,
        report.episode_id,
        a.id,
        a.root_id,
        a.version,
        _assessment_status(a),
        a.taken_at,
        a.recorded_at,
        a.recorded_by,
        *(a.items.get(key) for key in COWS.keys),
        a.pulse_bpm,
        a.total,
        a.band_key,
        a.note,
        a.amend_reason,
        a.void_reason,
    ]


def _assessment_status(a: ReportAssessment) -> str:
    if a.entered_in_error:
        return ENTERED_IN_ERROR
    return CURRENT if a.is_current else REPLACED


def _dose_row(report: EpisodeReport, d: ReportDose) -> list[Cell]:
    return [
        report.mrn,
        report.episode_id,
        d.id,
        d.given_at,
        d.drug,
        d.form,
        d.dose_mg,
        d.role,
        d.recorded_by,
        " | ".join(d.warnings),
        d.warning_reason,
        ENTERED_IN_ERROR if d.entered_in_error else CURRENT,
        d.void_reason,
    ]


def _alert_row(report: EpisodeReport, a: ReportAlert) -> list[Cell]:
    return [
        report.mrn,
        report.episode_id,
        a.id,
        a.rule,
        a.priority,
        a.raised_at,
        a.state,
        a.message,
        a.acknowledged_by,
        a.acknowledged_at,
        a.acknowledge_reason,
        a.escalated_at,
        a.resolved_at,
    ]


@dataclass(frozen=True)
class _Window:
    """[since, until], both ends included, either open; aware times only (a naive one shifts records)."""

    since: datetime | None
    until: datetime | None

    @classmethod
    def of(cls, since: datetime | None, until: datetime | None) -> _Window:
        for name, value in (("since", since), ("until", until)):
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ValueError(f"{name} must be an aware datetime (with a time zone), not {value!r}")
        if since is not None and until is not None and since > until:
            raise ValueError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
        return cls(since, until)

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or self.since <= moment) and (self.until is None or moment <= self.until)


def _rows(
    reports: Sequence[EpisodeReport],
    records_of: Callable[[EpisodeReport], Iterable[_Record]],
    clinical_time: Callable[[_Record], datetime],
    row_of: Callable[[EpisodeReport, _Record], list[Cell]],
    window: _Window,
) -> list[list[Cell]]:
    return [
        row_of(report, record)
        for report in reports
        for record in records_of(report)
        if window.holds(clinical_time(record))
    ]


# --- cells and files --------------------------------------------------------------------------------


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _iso_utc(value)
    if isinstance(value, bool):  # a bool is an int to Python; no column holds one, so this is a bug
        raise TypeError(f"unexpected bool {value!r} in a CSV row")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _plain_number(value)
    return spreadsheet_text(value)


def _iso_utc(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive time {value!r} in a report: report times must be aware UTC")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain_number(value: float) -> str:
    """25 not 25.0, 0.4 not 0.40000000000000002, 0.00001 not 1e-05: what a spreadsheet reads as a number
    in any locale's import dialog that uses "." for decimals."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _write(target: Target, header: tuple[str, ...], rows: list[list[Cell]]) -> int:
    buffer = io.StringIO(newline="")  # keep csv's CRLF as written
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    if isinstance(target, Path):
        target.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    else:
        target.write(buffer.getvalue())
    return len(rows)
