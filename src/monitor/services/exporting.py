"""Exports (issue 6): one episode as an EpisodeReport, then written as PDF, CSV, episode JSON or FHIR.

Reading what leaves the app is a right of the clinical roles and of the audit's reviewers; every export
is audited (who, which patient, which format, how many records) in its own transaction after the file
is complete. The writers live in monitor.io and only format the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import __version__
from monitor.io.report_model import (
    EpisodeReport,
    ReportAlert,
    ReportAlertEvent,
    ReportAssessment,
    ReportDose,
    ReportSignOff,
    ReportSubstance,
    ReportVitals,
)
from monitor.services.alerting import _events_by_alert
from monitor.services.base import ServiceBase, clean
from monitor.services.errors import NotFound, ValidationError
from monitor.services.files import atomic_file
from monitor.services.views import (
    AlertView,
    AssessmentView,
    DoseView,
    EpisodeDetail,
    SignOffView,
    VitalsView,
)
from monitor.store import audit
from monitor.store.models import Assessment, Episode, Patient

#: Progress callback of a long export: (done, total) steps; the GUI shows it as a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str  # what the export dialog lists
    suffix: str  # the file name's ending the save dialog proposes
    unit: str  # what the writer counts: "pages", "entries", "records", "rows"
    one_episode: bool  # a PDF report and a FHIR bundle are about one patient's episode
    write: Callable[[list[EpisodeReport], Path, datetime | None, datetime | None], int]


# The writers are imported when used: reportlab and fhir.resources (pydantic) take longer to import
# than the rest of the app's start together, and the others are not needed to start either (issue 9,
# bench/process_figures.py).
def _pdf(reports: list[EpisodeReport], path: Path, _since: datetime | None, _until: datetime | None) -> int:
    from monitor.io import pdf_report

    return pdf_report.write_episode_pdf(reports[0], path)


def _fhir(reports: list[EpisodeReport], path: Path, _since: datetime | None, _until: datetime | None) -> int:
    from monitor.io import fhir_bundle

    return fhir_bundle.write_fhir_bundle(reports[0], path)


def _json(reports: list[EpisodeReport], path: Path, _since: datetime | None, _until: datetime | None) -> int:
    from monitor.io import episode_json_export

    return episode_json_export.write_episode_json(reports, path)


def _csv(table: str) -> Callable[[list[EpisodeReport], Path, datetime | None, datetime | None], int]:
    """The writer of one CSV table (assessments, doses, alerts): csv_tables.write_<table>_csv."""

    def write(
        reports: list[EpisodeReport], path: Path, since: datetime | None, until: datetime | None
    ) -> int:
        from monitor.io import csv_tables

        writer: Callable[..., int] = getattr(csv_tables, f"write_{table}_csv")
        return writer(reports, path, since=since, until=until)

    return write


FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("pdf", "PDF episode report (chart, referral)", ".pdf", "pages", True, _pdf),
        ExportFormat("fhir", "FHIR R4 bundle (JSON)", ".fhir.json", "entries", True, _fhir),
        ExportFormat("json", "Episode file (withdrawal-monitor/episode@1)", ".json", "records", False, _json),
        ExportFormat(
            "csv-assessments",
            "CSV: assessments, one row each with all items",
            ".csv",
            "rows",
            False,
            _csv("assessments"),
        ),
        ExportFormat(
            "csv-doses",
            "CSV: doses",
            ".csv",
            "rows",
            False,
            _csv("doses"),
        ),
        ExportFormat(
            "csv-alerts",
            "CSV: alerts",
            ".csv",
            "rows",
            False,
            _csv("alerts"),
        ),
    )
}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    fmt: str
    episodes: int
    written: int  # in the format's unit

    def summary(self) -> str:
        unit = FORMATS[self.fmt].unit
        episodes = "1 episode" if self.episodes == 1 else f"{self.episodes} episodes"
        return f"Exported {episodes} to {self.path} ({self.written} {unit})."


def _no_progress(_done: int, _total: int) -> None:
    return None


class ExportingMixin(ServiceBase):
    """Builds EpisodeReports and audits exports; the formats are written by monitor.io writers."""

    def export(
        self,
        actor: str,
        fmt: str,
        target: Path | str,
        *,
        episode_ids: Sequence[int],
        since: datetime | None = None,
        until: datetime | None = None,
        progress: Progress = _no_progress,
        replace: bool = False,
    ) -> ExportResult:
        """Write the episodes in one format to `target` (complete or not at all), audited. `replace`: an
        existing file may be written over (a save dialog asked); never the database or its backups.

        `since`/`until` narrow a CSV to records whose clinical time falls inside (the episodes were
        chosen by the caller, e.g. with episodes_between). Safe to call from a worker thread: it only
        reads the database through its own sessions and calls `progress` after each step.
        """
        spec = FORMATS.get(fmt)
        if spec is None:
            raise ValidationError("Format", f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
        if not episode_ids:
            raise ValidationError("Episodes", "No episode matches: nothing to export.")
        if spec.one_episode and len(episode_ids) != 1:
            raise ValidationError(
                "Format", f"A {spec.label.split(' (')[0]} covers one episode: choose a patient."
            )
        if since is not None and until is not None and since > until:
            raise ValidationError("From", "The start of the period is after its end.")
        steps = len(episode_ids) + 1  # each episode read, then the file written
        reports = []
        for done, episode_id in enumerate(episode_ids, start=1):
            reports.append(self.episode_report(actor, episode_id))
            progress(done, steps)
        with atomic_file(target, "File", replace=replace, database=self.db.path) as temp:
            try:
                written = spec.write(reports, temp, since, until)
            except ValueError as exc:  # a writer's own check (e.g. an episode file it would not re-import)
                raise ValidationError("Format", f"Not exported: {exc}") from exc
            # Audited before the file appears: an export the audit trail could not record (a busy
            # database) leaves no file with patient data behind.
            self.record_export(actor, reports, fmt, target, written)
        progress(steps, steps)
        return ExportResult(Path(target), fmt, len(reports), written)

    # Provided by the other mixins of ClinicalService; declared here for the type checker.
    def episode(self, episode_id: int) -> EpisodeDetail:
        raise NotImplementedError

    def doses(self, episode_id: int) -> list[DoseView]:
        raise NotImplementedError

    def vitals(self, episode_id: int) -> list[VitalsView]:
        raise NotImplementedError

    def sign_offs(self, episode_id: int) -> list[SignOffView]:
        raise NotImplementedError

    def alerts(self, *, include_inactive: bool = False, episode_id: int | None = None) -> list[AlertView]:
        raise NotImplementedError

    def _assessment_views(self, session: Session, rows: Sequence[Assessment]) -> list[AssessmentView]:
        raise NotImplementedError

    def episode_report(self, actor: str, episode_id: int) -> EpisodeReport:
        """Everything about one episode, as plain data for the writers (read rights checked)."""
        now = self.clock.now()
        with self.db.read() as session:
            user = self._actor(session, actor, "export")
            exported_by_name = user.display_name
        detail = self.episode(episode_id)
        return EpisodeReport(
            episode_id=detail.id,
            mrn=detail.mrn,
            name=detail.name,
            birth_date=detail.birth_date,
            sex=detail.sex,
            bed=detail.bed,
            admitted_at=detail.admitted_at,
            admitted_by=detail.admitted_by,
            discharged_at=detail.discharged_at,
            discharged_by=detail.discharged_by,
            discharge_note=detail.discharge_note,
            zone_name=detail.tz_name or self.zone_name,
            exported_at=now,
            exported_by=actor,
            exported_by_name=exported_by_name,
            substances=tuple(
                ReportSubstance(s.substance, s.label, s.is_opioid, s.last_use_at, s.amount, s.route)
                for s in detail.substances
            ),
            assessments=tuple(_assessment(v) for v in self._all_assessment_versions(episode_id)),
            doses=tuple(
                ReportDose(
                    id=d.id,
                    drug=d.drug,
                    drug_label=d.drug_label,
                    role=d.role,
                    form=d.form,
                    dose_mg=d.dose_mg,
                    description=d.description,
                    given_at=d.given_at,
                    recorded_at=d.recorded_at,
                    recorded_by=d.recorded_by,
                    note=d.note,
                    warnings=d.warnings,
                    warning_reason=d.warning_reason,
                    void_reason=d.void_reason,
                    voided_at=d.voided_at,
                )
                for d in self.doses(episode_id)
            ),
            vitals=tuple(
                ReportVitals(
                    id=v.id,
                    taken_at=v.taken_at,
                    recorded_by=v.recorded_by,
                    pulse_bpm=v.pulse_bpm,
                    systolic=v.systolic,
                    diastolic=v.diastolic,
                    resp_rate=v.resp_rate,
                    spo2=v.spo2,
                    temp_c=v.temp_c,
                    note=v.note,
                    void_reason=v.void_reason,
                    voided_at=v.voided_at,
                )
                for v in self.vitals(episode_id)
            ),
            alerts=self._report_alerts(episode_id),
            sign_offs=tuple(
                ReportSignOff(s.id, s.period_start, s.period_end, s.signed_at, s.signed_by, s.comment)
                for s in self.sign_offs(episode_id)
            ),
            app_version=__version__,
        )

    def episode_for_mrn(self, mrn: str) -> int:
        """The patient's newest episode (the open one if there is one)."""
        wanted = clean(mrn)
        with self.db.read() as session:
            patient = session.scalar(select(Patient).where(Patient.mrn == wanted))
            if patient is None:
                raise NotFound(f"No patient has the MRN {wanted!r}.")
            episode = session.scalar(
                select(Episode)
                .where(Episode.patient_id == patient.id)
                .order_by(Episode.discharged_at.is_not(None), Episode.admitted_at.desc())
                .limit(1)
            )
            if episode is None:
                raise NotFound(f"The patient with MRN {wanted!r} has no episode.")
            return episode.id

    def episodes_between(self, since: datetime | None, until: datetime | None) -> list[int]:
        """Episodes that were open at some time in [since, until] (either end may be open)."""
        if since is not None and until is not None and since > until:
            raise ValidationError("From", "The start of the period is after its end.")
        with self.db.read() as session:
            query = select(Episode.id).order_by(Episode.admitted_at, Episode.id)
            if until is not None:
                query = query.where(Episode.admitted_at <= until)
            if since is not None:
                query = query.where((Episode.discharged_at.is_(None)) | (Episode.discharged_at >= since))
            return list(session.scalars(query))

    def record_export(
        self, actor: str, reports: list[EpisodeReport], fmt: str, target: Path | str, written: int
    ) -> None:
        """The audit row of a finished export: who, which patients, which format, how much, where."""
        now = self.clock.now()
        with self.db.write() as session:
            user = self._actor(session, actor, "export")
            patient_ids = {
                report.episode_id: session.scalar(
                    select(Episode.patient_id).where(Episode.id == report.episode_id)
                )
                for report in reports
            }
            single = list(set(patient_ids.values()))
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="episode.export",
                entity="episode",
                entity_id=reports[0].episode_id if len(reports) == 1 else None,
                patient_id=single[0] if len(single) == 1 else None,
                after={
                    "format": fmt,
                    "episodes": sorted(patient_ids),
                    "written": written,
                    "unit": FORMATS[fmt].unit,
                    "file": Path(target).name,  # the name only: folders can name people
                },
            )

    # --- helpers ----------------------------------------------------------------------------------

    def _all_assessment_versions(self, episode_id: int) -> list[AssessmentView]:
        with self.db.read() as session:
            rows = session.scalars(
                select(Assessment)
                .where(Assessment.episode_id == episode_id)
                .order_by(Assessment.taken_at, Assessment.version, Assessment.id)
            ).all()
            return self._assessment_views(session, rows)

    def _report_alerts(self, episode_id: int) -> tuple[ReportAlert, ...]:
        views = sorted(
            self.alerts(include_inactive=True, episode_id=episode_id), key=lambda a: (a.raised_at, a.id)
        )
        with self.db.read() as session:
            events = _events_by_alert(session, [a.id for a in views])
        return tuple(
            ReportAlert(
                id=a.id,
                rule=a.rule,
                title=a.title,
                priority=a.priority,
                raised_at=a.raised_at,
                message=a.message,
                state=a.state,
                resolved_at=a.resolved_at,
                acknowledged_by=a.acknowledged_by,
                acknowledged_at=a.acknowledged_at,
                acknowledge_reason=a.acknowledge_reason,
                escalated_at=a.escalated_at,
                events=tuple(
                    ReportAlertEvent(e.kind.value, e.at, e.by, e.reason, e.until)
                    for e in events.get(a.id, [])
                ),
            )
            for a in views
        )


def _assessment(view: AssessmentView) -> ReportAssessment:
    return ReportAssessment(
        id=view.id,
        root_id=view.root_id,
        version=view.version,
        taken_at=view.taken_at,
        recorded_at=view.recorded_at,
        recorded_by=view.recorded_by,
        items=dict(view.items),
        total=view.total,
        band_key=view.band_key,
        band_label=view.band_label,
        pulse_bpm=view.pulse_bpm,
        note=view.note,
        late_reason=view.late_reason,
        amend_reason=view.amend_reason,
        is_current=view.is_current,
        status=view.status,
        void_reason=view.void_reason,
        voided_by=view.voided_by,
        voided_at=view.voided_at,
    )
