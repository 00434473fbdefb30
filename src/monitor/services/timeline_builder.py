"""Reading an episode's record into the domain's Timeline, and the clinic's current protocol.

Only current, valid records reach the rules: amended versions are replaced by their successor and
entered-in-error records are left out. One query per record kind (no N+1).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, bindparam, func, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from monitor.domain.medications import DRUGS, DrugRole
from monitor.domain.protocol import Protocol
from monitor.domain.timeline import DoseRecord, LastUse, ScoredAssessment, Timeline, VitalsRecord
from monitor.store.models import (
    Assessment,
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


def _current_and_valid(assessment: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """An assessment row (of Assessment or an alias of it) that is its newest version and not entered
    in error: what the rules, the ward board and the trend count."""
    successor = aliased(Assessment)
    return (
        ~select(successor.id).where(successor.replaces_id == assessment.id).exists(),
        ~select(AssessmentVoid.assessment_id).where(AssessmentVoid.assessment_id == assessment.id).exists(),
    )


def valid_dose() -> ColumnElement[bool]:
    """A dose not entered in error."""
    return ~select(DoseVoid.dose_id).where(DoseVoid.dose_id == Dose.id).exists()


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
    return _ordered_uses(reported)


def _ordered_uses(reported: set[tuple[str, datetime | None]]) -> list[LastUse]:
    known = sorted((when, key) for key, when in reported if when is not None)
    unknown = sorted(key for key, when in reported if when is None and not any(k == key for _, k in known))
    return [LastUse(key, when) for when, key in known] + [LastUse(key, None) for key in unknown]


@dataclass(frozen=True)
class EpisodeFacts:
    """What the rules and the writes need of an episode: read as plain columns, with the patient's
    name (the alerts' messages name the patient)."""

    id: int
    patient_id: int
    patient_name: str
    bed: str
    admitted_at: datetime
    discharged_at: datetime | None
    tz_name: str

    @classmethod
    def of(cls, episode: Episode, patient: Patient) -> EpisodeFacts:
        return cls(
            id=episode.id,
            patient_id=patient.id,
            patient_name=patient.name,
            bed=episode.bed,
            admitted_at=episode.admitted_at,
            discharged_at=episode.discharged_at,
            tz_name=episode.tz_name,
        )


_EPISODE_FACTS = select(
    Episode.id,
    Episode.patient_id,
    Patient.name,
    Episode.bed,
    Episode.admitted_at,
    Episode.discharged_at,
    Episode.tz_name,
).join(Patient, Patient.id == Episode.patient_id)
# Built once (statements cost more to build than to run on the write path); executed with {"episode_ids"}.
_FACTS_OF = _EPISODE_FACTS.where(Episode.id.in_(bindparam("episode_ids", expanding=True))).order_by(
    Episode.id
)
_FACTS_OF_OPEN = _EPISODE_FACTS.where(Episode.discharged_at.is_(None)).order_by(Episode.id)


def episode_facts(session: Session, episode_ids: Sequence[int]) -> dict[int, EpisodeFacts]:
    """By episode id, those of episode_ids that exist."""
    if not episode_ids:
        return {}
    return {
        row[0]: EpisodeFacts(*row)
        for row in plain_rows(session, _FACTS_OF, {"episode_ids": list(episode_ids)})
    }


def open_episode_facts(session: Session) -> dict[int, EpisodeFacts]:
    """Every open episode, by id."""
    return {row[0]: EpisodeFacts(*row) for row in plain_rows(session, _FACTS_OF_OPEN)}


def plain_rows(session: Session, statement: Any, values: Mapping[str, Any] | None = None) -> Sequence[Any]:
    """The rows of a read of plain columns, on the session's connection: the ORM's part of
    Session.execute (about 60 µs a statement) is not needed for them. Flushed first, as Session.execute
    would (autoflush). Fetched all at once: iterating a result fetches row by row, a quarter slower."""
    session.flush()
    return session.connection().execute(statement, values).all()


def build_timeline(session: Session, episode: EpisodeFacts) -> Timeline:
    return build_timelines(session, [episode])[episode.id]


# The statements of build_timelines, built once (building them cost more than running them: the
# timeline is read in every clinical write). Executed with {"episode_ids": [...]}.
_EPISODE_IDS: BindParameter[list[int]] = bindparam("episode_ids", expanding=True)
# The measurements of a set of vital signs, in VitalsRecord's and VitalsView's order.
VITAL_MEASUREMENTS = (
    Vitals.pulse_bpm,
    Vitals.systolic,
    Vitals.diastolic,
    Vitals.resp_rate,
    Vitals.spo2,
    Vitals.temp_c,
)
_COWS_COLUMNS = (
    Assessment.id,
    Assessment.episode_id,
    Assessment.taken_at,
    Assessment.total,
    Assessment.root_id,
)
_TIMELINE_ASSESSMENTS = (
    select(*_COWS_COLUMNS)
    .where(Assessment.episode_id.in_(_EPISODE_IDS), Assessment.scale == "COWS")
    .where(*_current_and_valid(Assessment))
    .order_by(Assessment.episode_id, Assessment.taken_at, Assessment.id)
)
_TIMELINE_DOSES = (
    select(Dose.id, Dose.episode_id, Dose.drug, Dose.form, Dose.dose_mg, Dose.given_at)
    .where(Dose.episode_id.in_(_EPISODE_IDS), valid_dose())
    .order_by(Dose.episode_id, Dose.given_at, Dose.id)
)
_TIMELINE_VITALS = (
    select(Vitals.id, Vitals.episode_id, Vitals.taken_at, *VITAL_MEASUREMENTS)
    .where(Vitals.episode_id.in_(_EPISODE_IDS))
    .where(~select(VitalsVoid.vitals_id).where(VitalsVoid.vitals_id == Vitals.id).exists())
    .order_by(Vitals.episode_id, Vitals.taken_at, Vitals.id)
)
# Reported at admission and reported later, in one statement.
_TIMELINE_USES = union_all(
    *(
        select(table.episode_id, table.substance, table.last_use_at).where(table.episode_id.in_(_EPISODE_IDS))
        for table in (SubstanceUse, SubstanceUpdate)
    )
)


def _newest_first_cows(column: Any) -> Select[Any]:
    """One column of an episode's current, valid COWS, newest first (correlated to Episode): from the
    newest end of the (episode, taken_at) index, so a long stay costs what a short one does."""
    newest = aliased(Assessment)
    return (
        select(column(newest))
        .where(newest.episode_id == Episode.id, newest.scale == "COWS", *_current_and_valid(newest))
        .order_by(newest.taken_at.desc(), newest.id.desc())
    )


# Built once, as the timeline's statements: built per call (a new alias each time), they were compiled
# again on every ward board refresh, ten times the cost of running them. Executed with {"episode_ids"}.
_NEWEST_TIMES = _newest_first_cows(lambda a: a.taken_at)
_SECOND_NEWEST_COWS_TIMES = select(
    Episode.id,
    _NEWEST_TIMES.limit(1).offset(1).scalar_subquery(),
    _NEWEST_TIMES.limit(1).scalar_subquery(),
).where(Episode.id.in_(_EPISODE_IDS))
_NEWEST_COWS = (
    select(*_COWS_COLUMNS)
    .select_from(Episode)
    .join(Assessment, Assessment.id == _newest_first_cows(lambda a: a.id).limit(1).scalar_subquery())
    .where(Episode.id.in_(_EPISODE_IDS))
)


def second_newest_cows_times(session: Session, episode_ids: Sequence[int]) -> dict[int, datetime]:
    """When each episode's second-newest current COWS was taken (its newest when it has one only; no
    entry without any)."""
    found: dict[int, datetime] = {}
    for episode_id, second, first in plain_rows(
        session, _SECOND_NEWEST_COWS_TIMES, {"episode_ids": list(episode_ids)}
    ):
        if first is not None:
            found[episode_id] = second if second is not None else first
    return found


def newest_cows(session: Session, episode_ids: Sequence[int]) -> dict[int, ScoredAssessment]:
    """Each episode's newest current, valid COWS (none for an episode without any)."""
    return {
        episode_id: ScoredAssessment(id=assessment_id, taken_at=taken_at, total=total, root_id=root_id)
        for assessment_id, episode_id, taken_at, total, root_id in plain_rows(
            session, _NEWEST_COWS, {"episode_ids": list(episode_ids)}
        )
    }


def current_cows(
    session: Session, episode_ids: Sequence[int], since: Mapping[int, datetime] | None = None
) -> dict[int, list[ScoredAssessment]]:
    """Each episode's current, valid COWS, oldest first. since, for views of the recent past (the ward
    board): an episode named in it from that moment on, read as one index range of its own."""
    ids = list(episode_ids)
    wanted = set(ids)
    bounds = [(i, moment) for i, moment in (since or {}).items() if i in wanted]
    bounded = {i for i, _moment in bounds}
    assessments: dict[int, list[ScoredAssessment]] = {i: [] for i in ids}
    reads: list[tuple[Any, dict[str, Any]]] = []
    whole = [i for i in ids if i not in bounded]
    if whole:
        reads.append((_TIMELINE_ASSESSMENTS, {"episode_ids": whole}))
    for start in range(0, len(bounds), _RANGES_PER_STATEMENT):
        chunk = bounds[start : start + _RANGES_PER_STATEMENT]
        values: dict[str, Any] = {}
        for k, (i, moment) in enumerate(chunk):
            values[f"episode_{k}"], values[f"since_{k}"] = i, moment
        reads.append((_cows_ranges(len(chunk)), values))
    for statement, values in reads:
        for assessment_id, episode_id, taken_at, total, root_id in plain_rows(session, statement, values):
            assessments[episode_id].append(
                ScoredAssessment(id=assessment_id, taken_at=taken_at, total=total, root_id=root_id)
            )
    return assessments


# SQLite allows at most 500 SELECTs in one compound statement.
_RANGES_PER_STATEMENT = 200


@functools.cache
def _cows_ranges(count: int) -> CompoundSelect[int, int, datetime, int, int | None]:
    """The current, valid COWS of `count` episodes, each from its own moment on (binds episode_K and
    since_K), as a UNION ALL of index ranges on (episode_id, taken_at). Written as one WHERE with an OR
    of the ranges, SQLite read each episode whole and filtered: all 20,000 rows of a long stay."""
    ranges = [
        select(*_COWS_COLUMNS)
        .where(
            Assessment.episode_id == bindparam(f"episode_{k}"),
            Assessment.taken_at >= bindparam(f"since_{k}", type_=Assessment.taken_at.type),
            Assessment.scale == "COWS",
        )
        .where(*_current_and_valid(Assessment))
        for k in range(count)
    ]
    compound = union_all(*ranges)
    columns = compound.selected_columns
    return compound.order_by(columns.episode_id, columns.taken_at, columns.id)


_LAST_ANTAGONIST_DOSES = (
    select(Dose.id, Dose.episode_id, Dose.drug, Dose.form, Dose.dose_mg, Dose.given_at)
    .where(
        Dose.episode_id.in_(_EPISODE_IDS),
        Dose.drug.in_([d.key for d in DRUGS if d.role is DrugRole.ANTAGONIST]),
        valid_dose(),
    )
    .order_by(Dose.episode_id, Dose.given_at, Dose.id)
)


def last_antagonist_doses(session: Session, episode_ids: Sequence[int]) -> dict[int, DoseRecord]:
    """Each episode's newest valid antagonist dose (naltrexone, naloxone), in one query."""
    return {  # oldest first: the newest of each episode is the one kept
        episode_id: DoseRecord(id=dose_id, drug=drug, form=form, dose_mg=dose_mg, given_at=given_at)
        for dose_id, episode_id, drug, form, dose_mg, given_at in plain_rows(
            session, _LAST_ANTAGONIST_DOSES, {"episode_ids": list(episode_ids)}
        )
    }


def build_timelines(session: Session, episodes: Sequence[EpisodeFacts]) -> dict[int, Timeline]:
    """The rules' view of several episodes, by episode id: one query per record kind for all of them
    (no N+1), reading plain columns rather than ORM objects (a long stay has tens of thousands of rows).

    Assessment items are not read: the rules work on totals (the trend and the forms read items through
    their own queries)."""
    if not episodes:
        return {}
    ids = [e.id for e in episodes]
    of_episodes = {"episode_ids": ids}
    assessments = current_cows(session, ids)
    doses: dict[int, list[DoseRecord]] = {i: [] for i in ids}
    for dose_id, episode_id, drug, form, dose_mg, given_at in plain_rows(
        session, _TIMELINE_DOSES, of_episodes
    ):
        doses[episode_id].append(
            DoseRecord(id=dose_id, drug=drug, form=form, dose_mg=dose_mg, given_at=given_at)
        )
    vitals: dict[int, list[VitalsRecord]] = {i: [] for i in ids}
    for vitals_id, episode_id, taken_at, *measured in plain_rows(session, _TIMELINE_VITALS, of_episodes):
        vitals[episode_id].append(VitalsRecord(vitals_id, taken_at, *measured))
    reported: dict[int, set[tuple[str, datetime | None]]] = {i: set() for i in ids}
    for episode_id, key, when in plain_rows(session, _TIMELINE_USES, of_episodes):
        reported[episode_id].add((key, when))
    return {
        e.id: Timeline(
            episode_id=e.id,
            admitted_at=e.admitted_at,
            discharged_at=e.discharged_at,
            tz_name=e.tz_name,
            assessments=tuple(assessments[e.id]),
            doses=tuple(doses[e.id]),
            vitals=tuple(vitals[e.id]),
            substances=tuple(_ordered_uses(reported[e.id])),
            patient_label=f"{e.patient_name} ({e.bed})",
        )
        for e in episodes
    }


def current_setting_rows(session: Session) -> dict[str, ProtocolSetting]:
    """The newest stored change of each protocol setting."""
    newest = select(func.max(ProtocolSetting.id)).group_by(ProtocolSetting.key)
    return {
        row.key: row for row in session.scalars(select(ProtocolSetting).where(ProtocolSetting.id.in_(newest)))
    }


_CURRENT_SETTINGS = select(ProtocolSetting.key, ProtocolSetting.value).where(
    ProtocolSetting.id.in_(select(func.max(ProtocolSetting.id)).group_by(ProtocolSetting.key))
)


def load_protocol(session: Session) -> Protocol:
    """Defaults declared in the domain, overridden by the clinic's stored settings (read in every
    clinical write: plain columns, the statement built once)."""
    return Protocol.from_values(dict(plain_rows(session, _CURRENT_SETTINGS)))
