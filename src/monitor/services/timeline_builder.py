"""Reading an episode's record into the domain's Timeline, and the clinic's current protocol.

Only current, valid records reach the rules: amended versions are replaced by their successor and
entered-in-error records are left out. One query per record kind (no N+1).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from monitor.domain.protocol import Protocol
from monitor.domain.timeline import DoseRecord, LastUse, ScoredAssessment, Timeline, VitalsRecord
from monitor.store.models import (
    Assessment,
    AssessmentItem,
    AssessmentVoid,
    Dose,
    DoseVoid,
    Episode,
    Patient,
    ProtocolSetting,
    SubstanceUpdate,
    SubstanceUse,
    Vitals,
    VitalsVoid,
)


def current_assessments(session: Session, episode_id: int, scale: str = "COWS") -> Sequence[Assessment]:
    """Current, valid assessments of one scale (the rules read COWS totals; another scale must not mix in)."""
    successor = aliased(Assessment)
    return session.scalars(
        select(Assessment)
        .where(Assessment.episode_id == episode_id, Assessment.scale == scale)
        .where(~select(successor.id).where(successor.replaces_id == Assessment.id).exists())
        .where(
            ~select(AssessmentVoid.assessment_id)
            .where(AssessmentVoid.assessment_id == Assessment.id)
            .exists()
        )
        .order_by(Assessment.taken_at, Assessment.id)
    ).all()


def valid_doses(session: Session, episode_id: int) -> Sequence[Dose]:
    return session.scalars(
        select(Dose)
        .where(Dose.episode_id == episode_id)
        .where(~select(DoseVoid.dose_id).where(DoseVoid.dose_id == Dose.id).exists())
        .order_by(Dose.given_at, Dose.id)
    ).all()


def valid_vitals(session: Session, episode_id: int) -> Sequence[Vitals]:
    return session.scalars(
        select(Vitals)
        .where(Vitals.episode_id == episode_id)
        .where(~select(VitalsVoid.vitals_id).where(VitalsVoid.vitals_id == Vitals.id).exists())
        .order_by(Vitals.taken_at, Vitals.id)
    ).all()


def last_uses(session: Session, episode_id: int) -> list[LastUse]:
    """Every reported use (admission history and later reports), oldest first.

    All of them, not only the newest per substance: the too-soon rule needs the latest use BEFORE each
    dose, and a use reported after a dose must not hide the one that came before it.
    """
    reported = {
        (u.substance, u.last_use_at)
        for u in session.scalars(select(SubstanceUse).where(SubstanceUse.episode_id == episode_id))
    } | {
        (u.substance, u.last_use_at)
        for u in session.scalars(select(SubstanceUpdate).where(SubstanceUpdate.episode_id == episode_id))
    }
    known = sorted((when, key) for key, when in reported if when is not None)
    unknown = sorted(key for key, when in reported if when is None and not any(k == key for _, k in known))
    return [LastUse(key, when) for when, key in known] + [LastUse(key, None) for key in unknown]


def build_timeline(session: Session, episode: Episode) -> Timeline:
    assessments = current_assessments(session, episode.id)
    items: dict[int, dict[str, int]] = {a.id: {} for a in assessments}
    if items:
        for item in session.scalars(select(AssessmentItem).where(AssessmentItem.assessment_id.in_(items))):
            items[item.assessment_id][item.item_key] = item.value
    patient = session.get(Patient, episode.patient_id)
    return Timeline(
        episode_id=episode.id,
        admitted_at=episode.admitted_at,
        discharged_at=episode.discharged_at,
        tz_name=episode.tz_name,
        assessments=tuple(
            ScoredAssessment(
                id=a.id, taken_at=a.taken_at, total=a.total, items=items[a.id], root_id=a.root_id
            )
            for a in assessments
        ),
        doses=tuple(
            DoseRecord(id=d.id, drug=d.drug, form=d.form, dose_mg=d.dose_mg, given_at=d.given_at)
            for d in valid_doses(session, episode.id)
        ),
        vitals=tuple(
            VitalsRecord(
                id=v.id,
                taken_at=v.taken_at,
                pulse_bpm=v.pulse_bpm,
                systolic=v.systolic,
                diastolic=v.diastolic,
                resp_rate=v.resp_rate,
                spo2=v.spo2,
                temp_c=v.temp_c,
            )
            for v in valid_vitals(session, episode.id)
        ),
        substances=tuple(last_uses(session, episode.id)),
        patient_label=f"{patient.name} ({episode.bed})" if patient else "",
    )


def current_setting_rows(session: Session) -> dict[str, ProtocolSetting]:
    """The newest stored change of each protocol setting."""
    newest = select(func.max(ProtocolSetting.id)).group_by(ProtocolSetting.key)
    return {
        row.key: row for row in session.scalars(select(ProtocolSetting).where(ProtocolSetting.id.in_(newest)))
    }


def load_protocol(session: Session) -> Protocol:
    """Defaults declared in the domain, overridden by the clinic's stored settings."""
    values = {key: row.value for key, row in current_setting_rows(session).items()}
    return Protocol.from_values(values)
