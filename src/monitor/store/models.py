"""Typed ORM models. Clinical rows are append-only: a correction is a new row linked to the old one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python whatever the backend stores.

    SQLite has no time zone type: store naive UTC there and give back aware UTC. A naive datetime
    from the application is a programming error (it would be read as UTC and shift clinical times).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the database; clinical times must carry a zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            # SQLite hands back the stored text: parsed by datetime.fromisoformat (C) rather than by
            # SQLAlchemy's regular expression and then this class (about 6 µs a value, on every read
            # of a timeline, the ward board and the long tables: thousands of values).
            return _sqlite_utc
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_utc(value: str | datetime | None) -> datetime | None:
    """A stored SQLite time ('YYYY-MM-DD HH:MM:SS.ffffff', naive UTC) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            # Parsed with its zone in one step: a fifth of the cost of parsing, then replace().
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            moment = datetime.fromisoformat(value)  # text that carries an offset of its own
    else:
        moment = value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Stable constraint names so Alembic batch migrations on SQLite can find them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy reads it as is)


class User(Base):
    """An account. Deactivated, never deleted, so history keeps its author."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    # The workstation account used until sign-in exists; records say it was this account.
    is_workstation_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # Sign-in (migration 0004). An argon2id hash in PHC format, never the password; NULL for an account
    # that has none (the system account, accounts from before sign-in existed).
    password_hash: Mapped[str | None] = mapped_column(Text)
    # Set by an administrator's reset and for a new account: the user must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Failed sign-ins since the last success; the lockout rule is in monitor.domain.accounts.
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    episodes: Mapped[list[Episode]] = relationship(back_populates="patient")


class Episode(Base):
    """One detox stay, from admission to discharge."""

    __tablename__ = "episodes"
    __table_args__ = (Index("ix_episodes_open", "discharged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    admitted_at: Mapped[datetime]
    bed: Mapped[str] = mapped_column(String(32), default="")
    recorded_at: Mapped[datetime]
    admitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tz_name: Mapped[str] = mapped_column(String(64))
    discharged_at: Mapped[datetime | None]
    discharged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    discharge_note: Mapped[str] = mapped_column(Text, default="")

    patient: Mapped[Patient] = relationship(back_populates="episodes")
    substances: Mapped[list[SubstanceUse]] = relationship(
        back_populates="episode", order_by="SubstanceUse.id"
    )


class SubstanceUse(Base):
    """A substance the patient used before admission, with the time of last use."""

    __tablename__ = "substance_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    substance: Mapped[str] = mapped_column(String(32))
    last_use_at: Mapped[datetime | None]
    amount: Mapped[str] = mapped_column(String(100), default="")
    route: Mapped[str] = mapped_column(String(32), default="")

    episode: Mapped[Episode] = relationship(back_populates="substances")


class Assessment(Base):
    """One version of a scored assessment. Never updated: an amendment inserts a successor row."""

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_episode_taken", "episode_id", "taken_at"),
        # A version is replaced at most once: the history is a line, never a fork.
        UniqueConstraint("replaces_id", name="uq_assessments_replaces_id"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    scale: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tz_name: Mapped[str] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer)
    pulse_bpm: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    late_reason: Mapped[str] = mapped_column(Text, default="")
    # Version chain: root_id is the first version (NULL on the first itself, so no row is ever
    # updated after insert); replaces_id links to the version this one corrects.
    root_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    amend_reason: Mapped[str] = mapped_column(Text, default="")

    items: Mapped[list[AssessmentItem]] = relationship(order_by="AssessmentItem.item_key")


class AssessmentItem(Base):
    __tablename__ = "assessment_items"

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The score value of the chosen option (values skip numbers: never the option's position).
    value: Mapped[int]


class AssessmentVoid(Base):
    """'Entered in error': the assessment stays, marked void with who, when and why."""

    __tablename__ = "assessment_voids"

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    voided_at: Mapped[datetime]
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Append-only, hash-chained log of every write: each row holds the hash of the one before."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    before_json: Mapped[str] = mapped_column(Text, default="null")
    after_json: Mapped[str] = mapped_column(Text, default="null")
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


def table_of(model: type[Base]) -> Table:
    """A model's table, for plain INSERTs on hot paths (typed as the Table it is)."""
    return cast(Table, model.__table__)


def as_dict(obj: Base) -> dict[str, Any]:
    """Column values of a row, for audit before/after values."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


class SubstanceUpdate(Base):
    """A later report of substance use during the episode (the admission list stays as it was)."""

    __tablename__ = "substance_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    substance: Mapped[str] = mapped_column(String(32))
    last_use_at: Mapped[datetime]
    amount: Mapped[str] = mapped_column(String(100), default="")
    route: Mapped[str] = mapped_column(String(32), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Dose(Base):
    """One administered dose. Append-only; an error is voided in DoseVoid, never edited."""

    __tablename__ = "doses"
    __table_args__ = (
        Index("ix_doses_episode_given", "episode_id", "given_at"),
        CheckConstraint("dose_mg > 0", name="dose_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    drug: Mapped[str] = mapped_column(String(32))
    form: Mapped[str] = mapped_column(String(32))
    dose_mg: Mapped[float]
    given_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tz_name: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    late_reason: Mapped[str] = mapped_column(Text, default="")
    # What the rules warned before saving (JSON list of messages) and why it was given anyway.
    warnings_json: Mapped[str] = mapped_column(Text, default="[]")
    warning_reason: Mapped[str] = mapped_column(Text, default="")


class DoseVoid(Base):
    __tablename__ = "dose_voids"

    dose_id: Mapped[int] = mapped_column(ForeignKey("doses.id"), primary_key=True)
    voided_at: Mapped[datetime]
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)


class Vitals(Base):
    """One set of vital signs; any subset may be measured."""

    __tablename__ = "vitals"
    __table_args__ = (Index("ix_vitals_episode_taken", "episode_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    taken_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tz_name: Mapped[str] = mapped_column(String(64))
    pulse_bpm: Mapped[int | None]
    systolic: Mapped[int | None]
    diastolic: Mapped[int | None]
    resp_rate: Mapped[int | None]
    spo2: Mapped[int | None]
    temp_c: Mapped[float | None]
    note: Mapped[str] = mapped_column(Text, default="")
    late_reason: Mapped[str] = mapped_column(Text, default="")


class VitalsVoid(Base):
    __tablename__ = "vitals_voids"

    vitals_id: Mapped[int] = mapped_column(ForeignKey("vitals.id"), primary_key=True)
    voided_at: Mapped[datetime]
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)


class ProtocolSetting(Base):
    """One change of a protocol setting. The current value is the newest row per key; defaults are
    declared in monitor.domain.protocol with their sources."""

    __tablename__ = "protocol_settings"
    __table_args__ = (Index("ix_protocol_settings_key", "key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    set_at: Mapped[datetime]
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)


class WorkstationSetting(Base):
    """One change of a non-clinical setting (the idle lock's minutes). Newest row per key wins."""

    __tablename__ = "workstation_settings"
    __table_args__ = (Index("ix_workstation_settings_key", "key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    set_at: Mapped[datetime]
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)


class Alert(Base):
    """An alert the rules raised, stored once by its stable key. Its content follows the data (the peak
    of a precipitated withdrawal, a resolution); what people did about it lives in AlertEventRow."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_episode", "episode_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    rule: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int]
    raised_at: Mapped[datetime]
    first_seen_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    evidence_json: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    # Set when the data no longer supports the alert (for example its COWS was entered in error).
    withdrawn_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AlertSchedule(Base):
    """When an episode's alerts must next be evaluated (issue 9): not clinical data, and mutable.

    due_at is the moment the rules' findings change with no new data (monitor.domain.rules
    .next_change_at), written in the transaction of every write that re-evaluates the episode; NULL when
    nothing can change without new data. evaluated_at: when that evaluation ran. An open episode
    without a row (a database migrated from 0005) is evaluated on the next tick, which writes one.
    """

    __tablename__ = "alert_schedule"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), primary_key=True)
    due_at: Mapped[datetime | None]
    evaluated_at: Mapped[datetime]


class AlertEventRow(Base):
    """Acknowledge, snooze, escalate, silence: append-only, each with who, when and why."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[datetime | None]


class SignOff(Base):
    """A physician's review of an episode's period, with a comment. Append-only."""

    __tablename__ = "sign_offs"
    __table_args__ = (Index("ix_sign_offs_episode", "episode_id", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    signed_at: Mapped[datetime]
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text)
