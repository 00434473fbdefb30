"""Import of episode files (shared/formats/episode-v1.md): all-or-nothing and idempotent.

Every record of every episode is written in one transaction; the first problem rolls everything back
with a message naming the record and the field. Records already present (same patient, same admission,
same clinical time and content) are skipped, so importing the same file twice adds nothing; the same
time with different content is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.domain import charting, scales
from monitor.io.episode_json import EpisodeRecord
from monitor.services.base import ServiceBase
from monitor.services.errors import ServiceError, ValidationError
from monitor.services.timeline_builder import current_assessments
from monitor.store import audit
from monitor.store.models import (
    Assessment,
    AssessmentItem,
    Dose,
    Episode,
    Patient,
    SubstanceUse,
    User,
    Vitals,
)

IMPORT_NOTE = "imported from an episode file"


class ImportRefused(ValidationError):
    """One record of the file cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    episodes_created: int = 0
    episodes_matched: int = 0
    assessments: int = 0
    doses: int = 0
    vitals: int = 0
    skipped: int = 0
    users_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.episodes_created} new episode(s), {self.episodes_matched} already known; "
            f"added {self.assessments} assessment(s), {self.doses} dose(s), {self.vitals} vital sign set(s); "
            f"{self.skipped} record(s) already present"
            + (f"; new inactive user(s): {', '.join(self.users_created)}" if self.users_created else "")
        )


class ImportingMixin(ServiceBase):
    def import_episodes(
        self,
        actor: str,
        records: Sequence[EpisodeRecord],
        *,
        create_unknown_users: bool = True,
        source: str = "",
    ) -> ImportReport:
        now = self.clock.now()
        report = ImportReport()
        with self.db.write() as session:
            user = self._actor(session, actor)
            touched: list[Episode] = []
            for record in records:
                episode = self._import_one(session, user, record, now, report, create_unknown_users)
                touched.append(episode)
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="episode.import",
                entity="import",
                entity_id=None,
                after={"source": source, "episodes": [e.id for e in touched], "summary": report.summary()},
            )
            session.flush()
            for episode in touched:
                self._after_write(session, episode.id, now)
        return report

    def _author(
        self, session: Session, name: str, where: str, now: datetime, report: ImportReport, create: bool
    ) -> User:
        user = session.scalar(select(User).where(User.username == name))
        if user is not None:
            return user
        if not create:
            raise ImportRefused(where, f"{where}: unknown user {name!r} (import without creating users)")
        # Unknown authors become inactive accounts so the history keeps its author (format rule).
        user = User(
            username=name,
            display_name=name,
            role="nurse",
            active=False,
            is_workstation_default=False,
            created_at=now,
        )
        session.add(user)
        session.flush()
        report.users_created.append(name)
        return user

    def _import_one(
        self,
        session: Session,
        actor: User,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> Episode:
        where = _prefix(record)
        self._not_future(record.admitted_at, f"{where}episode.admitted_at", now)
        patient = session.scalar(select(Patient).where(Patient.mrn == record.patient.mrn))
        if patient is None:
            patient = Patient(
                mrn=record.patient.mrn,
                name=record.patient.name,
                birth_date=record.patient.birth_date,
                sex=record.patient.sex,
                created_at=now,
                created_by_id=actor.id,
            )
            session.add(patient)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="patient.create",
                entity="patient",
                entity_id=patient.id,
                patient_id=patient.id,
                reason=IMPORT_NOTE,
                after={"mrn": patient.mrn, "name": patient.name},
            )
        elif patient.name.casefold() != record.patient.name.casefold():
            raise ImportRefused(
                "patient.name",
                f"{where}patient.name: MRN {patient.mrn} belongs to {patient.name}, "
                f"not {record.patient.name}",
            )
        episode = session.scalar(
            select(Episode).where(Episode.patient_id == patient.id, Episode.admitted_at == record.admitted_at)
        )
        if episode is None:
            if record.discharged_at is None:
                open_one = session.scalar(
                    select(Episode).where(Episode.patient_id == patient.id, Episode.discharged_at.is_(None))
                )
                if open_one is not None:
                    raise ImportRefused(
                        "episode.admitted_at",
                        f"{where}episode.admitted_at: {patient.name} already has an open episode admitted at "
                        f"{open_one.admitted_at:%Y-%m-%d %H:%M} UTC",
                    )
            episode = Episode(
                patient_id=patient.id,
                admitted_at=record.admitted_at,
                bed=record.bed,
                recorded_at=now,
                admitted_by_id=actor.id,
                tz_name=self.zone_name,
                discharged_at=None,
                discharge_note="",
            )
            session.add(episode)
            session.flush()
            for use in record.substances:
                session.add(
                    SubstanceUse(
                        episode_id=episode.id,
                        substance=use.substance,
                        last_use_at=use.last_use_at,
                        amount=use.amount,
                        route=use.route,
                    )
                )
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="episode.admit",
                entity="episode",
                entity_id=episode.id,
                patient_id=patient.id,
                reason=IMPORT_NOTE,
                after={
                    "admitted_at": record.admitted_at,
                    "bed": record.bed,
                    "substances": [u.substance for u in record.substances],
                },
            )
            report.episodes_created += 1
        else:
            report.episodes_matched += 1
        self._import_assessments(session, episode, record, now, report, create_users)
        self._import_doses(session, episode, record, now, report, create_users)
        self._import_vitals(session, episode, record, now, report, create_users)
        if record.discharged_at is not None and episode.discharged_at is None:
            self._not_future(record.discharged_at, f"{where}episode.discharged_at", now)
            episode.discharged_at = record.discharged_at
            episode.discharged_by_id = actor.id
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="episode.discharge",
                entity="episode",
                entity_id=episode.id,
                patient_id=patient.id,
                reason=IMPORT_NOTE,
                before={"discharged_at": None},
                after={"discharged_at": record.discharged_at},
            )
        session.flush()
        return episode

    def _not_future(self, when: datetime, where: str, now: datetime) -> None:
        if charting.check_clinical_time(when, now) is charting.TimeVerdict.IN_FUTURE:
            raise ImportRefused(where, f"{where}: more than 5 minutes in the future")

    def _import_assessments(
        self,
        session: Session,
        episode: Episode,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> None:
        existing: dict[tuple[str, datetime], Assessment] = {
            (a.scale, a.taken_at): a for a in current_assessments(session, episode.id)
        }
        items_of: dict[int, dict[str, int]] = {}
        if existing:
            ids = [a.id for a in existing.values()]
            for item in session.scalars(select(AssessmentItem).where(AssessmentItem.assessment_id.in_(ids))):
                items_of.setdefault(item.assessment_id, {})[item.item_key] = item.value
        for number, a in enumerate(record.assessments):
            where = f"{_prefix(record)}assessments[{number}]"
            self._not_future(a.taken_at, f"{where}.taken_at", now)
            known = existing.get((a.scale, a.taken_at))
            if known is not None:
                if items_of.get(known.id) == dict(a.items) and known.pulse_bpm == a.pulse_bpm:
                    report.skipped += 1
                    continue
                raise ImportRefused(
                    "taken_at", f"{where}.taken_at: a different {a.scale} at this time is already recorded"
                )
            author = self._author(session, a.by, f"{where}.by", now, report, create_users)
            result = scales.score(scales.SCALES[a.scale], a.items)
            if result.total is None:  # the parser already requires every item; this guards the invariant
                raise ServiceError(f"{where}: incomplete assessment")
            row = Assessment(
                episode_id=episode.id,
                scale=a.scale,
                taken_at=a.taken_at,
                recorded_at=now,
                recorded_by_id=author.id,
                tz_name=episode.tz_name,
                total=result.total,
                pulse_bpm=a.pulse_bpm,
                note=a.note,
                late_reason=IMPORT_NOTE,
                root_id=None,
                version=1,
                replaces_id=None,
                amend_reason="",
            )
            session.add(row)
            session.flush()
            for key, value in result.answers.items():
                session.add(AssessmentItem(assessment_id=row.id, item_key=key, value=value))
            existing[(a.scale, a.taken_at)] = row
            items_of[row.id] = dict(result.answers)
            report.assessments += 1

    def _import_doses(
        self,
        session: Session,
        episode: Episode,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> None:
        existing = {
            (d.drug, d.form, d.given_at): d
            for d in session.scalars(select(Dose).where(Dose.episode_id == episode.id))
        }
        for number, d in enumerate(record.doses):
            where = f"{_prefix(record)}doses[{number}]"
            self._not_future(d.given_at, f"{where}.given_at", now)
            known = existing.get((d.drug, d.form, d.given_at))
            if known is not None:
                if abs(known.dose_mg - d.dose_mg) < 1e-9:
                    report.skipped += 1
                    continue
                raise ImportRefused(
                    "dose_mg", f"{where}.dose_mg: {known.dose_mg:g} mg is already recorded at this time"
                )
            author = self._author(session, d.by, f"{where}.by", now, report, create_users)
            row = Dose(
                episode_id=episode.id,
                drug=d.drug,
                form=d.form,
                dose_mg=d.dose_mg,
                given_at=d.given_at,
                recorded_at=now,
                recorded_by_id=author.id,
                tz_name=episode.tz_name,
                note="",
                late_reason=IMPORT_NOTE,
                warnings_json="[]",
                warning_reason="",
            )
            session.add(row)
            session.flush()
            existing[(d.drug, d.form, d.given_at)] = row
            report.doses += 1

    def _import_vitals(
        self,
        session: Session,
        episode: Episode,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> None:
        existing = {
            v.taken_at: v for v in session.scalars(select(Vitals).where(Vitals.episode_id == episode.id))
        }
        for number, v in enumerate(record.vitals):
            where = f"{_prefix(record)}vitals[{number}]"
            self._not_future(v.taken_at, f"{where}.taken_at", now)
            values = (v.pulse_bpm, v.systolic, v.diastolic, v.resp_rate, v.spo2, v.temp_c)
            known = existing.get(v.taken_at)
            if known is not None:
                if (
                    known.pulse_bpm,
                    known.systolic,
                    known.diastolic,
                    known.resp_rate,
                    known.spo2,
                    known.temp_c,
                ) == values:
                    report.skipped += 1
                    continue
                raise ImportRefused(
                    "taken_at", f"{where}.taken_at: different vital signs at this time are recorded"
                )
            author = self._author(session, v.by, f"{where}.by", now, report, create_users)
            row = Vitals(
                episode_id=episode.id,
                taken_at=v.taken_at,
                recorded_at=now,
                recorded_by_id=author.id,
                tz_name=episode.tz_name,
                pulse_bpm=v.pulse_bpm,
                systolic=v.systolic,
                diastolic=v.diastolic,
                resp_rate=v.resp_rate,
                spo2=v.spo2,
                temp_c=v.temp_c,
                note="",
                late_reason=IMPORT_NOTE,
            )
            session.add(row)
            session.flush()
            existing[v.taken_at] = row
            report.vitals += 1


def _prefix(record: EpisodeRecord) -> str:
    return "" if record.where == "episode" else f"{record.where}."
