"""What every use case shares: the database, the clock, the acting user, clinical time checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from monitor.domain import accounts, charting
from monitor.domain.text import NOTE_MAX, text_problem
from monitor.services.clock import Clock, SystemClock, workstation_zone_name
from monitor.services.errors import Conflict, NotFound, NotPermitted, ServiceError, ValidationError
from monitor.services.timeline_builder import EpisodeFacts, episode_facts
from monitor.store import audit
from monitor.store.database import Database
from monitor.store.models import Base, Episode, User, WorkstationSetting

MAX_REASON = NOTE_MAX
SYSTEM_USERNAME = "system"
SYSTEM_DISPLAY_NAME = "Withdrawal monitor (automatic)"
# The command line's account when no user is named: a nurse with no password (it cannot sign in).
WORKSTATION_USERNAME = "workstation"
WORKSTATION_DISPLAY_NAME = "Workstation default user (no sign-in yet)"


def clean(text: str | None) -> str:
    return (text or "").strip()


def checked_text(field: str, text: str | None, max_len: int = NOTE_MAX) -> str:
    """clean(text), refused in words when no record may keep it: too long, or a character nobody types
    (a control character, a lone surrogate). Stored, such text was refused by the episode export, and
    a lone surrogate failed the write with an encoding error."""
    cleaned = clean(text)
    problem = text_problem(cleaned, max_len)
    if problem:
        raise ValidationError(field, f"{field} {problem}.")
    return cleaned


def require_reason(field: str, reason: str | None, what: str) -> str:
    cleaned = clean(reason)
    if not cleaned:
        raise ValidationError(field, f"A reason is required to {what}.")
    if len(cleaned) > MAX_REASON:
        raise ValidationError(field, f"The reason is too long (at most {MAX_REASON} characters).")
    return checked_text(field, cleaned, MAX_REASON)


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """User names by id, in one query (views show who recorded what)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(User.id, User.username).where(User.id.in_(wanted))
    return {user_id: name for user_id, name in session.execute(query)}


@dataclass(frozen=True)
class Actor:
    """The acting account, as a clinical write needs it: who, for the record and the audit row."""

    id: int
    username: str
    display_name: str


_ACTING = select(
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.active,
    User.must_change_password,
    User.password_hash.is_not(None).label("has_password"),
).where(User.username == bindparam("username"))


_SYSTEM_USER_ID = select(User.id).where(User.username == SYSTEM_USERNAME)


def _refuse_unknown(username: str) -> NoReturn:
    raise ServiceError(f"Unknown user {username!r}: every write must name an existing user.")


def _permit(
    username: str, active: bool, must_change_password: bool, has_password: bool, role: str, action: str
) -> None:
    if not active:
        raise ServiceError(f"The account {username!r} is deactivated and cannot record.")
    if must_change_password and has_password:
        raise NotPermitted(f"{username} must change the temporary password before doing anything else.")
    if not accounts.can(role, action):
        raise NotPermitted(accounts.refusal(username, role, action))


class ServiceBase:
    """State and checks shared by the use-case mixins that make up ClinicalService."""

    def __init__(self, db: Database, clock: Clock | None = None, zone_name: str | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.zone_name = zone_name or workstation_zone_name()

    def _user_in(
        self, session: Session, username: str, display_name: str, role: str, *, workstation_default: bool
    ) -> User:
        """The account, made (and audited) in the caller's transaction if it does not exist yet."""
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                display_name=clean(display_name) or username,
                role=role,
                active=True,
                is_workstation_default=workstation_default,
                created_at=self.clock.now(),
            )
            session.add(user)
            session.flush()
            audit.append(
                session,
                at=self.clock.now(),
                user_id=user.id,
                action="user.create",
                entity="user",
                entity_id=user.id,
                after={"username": username, "role": role, "workstation_default": workstation_default},
            )
        return user

    def _workstation_user_in(self, session: Session) -> User:
        return self._user_in(
            session, WORKSTATION_USERNAME, WORKSTATION_DISPLAY_NAME, "nurse", workstation_default=True
        )

    def _actor(self, session: Session, username: str, action: str) -> User:
        """The acting account, if it may do `action` (monitor.domain.accounts.PERMISSIONS).

        Every write goes through here or _acting, so a refused role is refused whatever screen or
        command called the service, not only where a button is hidden.
        """
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            _refuse_unknown(username)
        _permit(
            username,
            user.active,
            user.must_change_password,
            user.password_hash is not None,
            user.role,
            action,
        )
        return user

    def _acting(self, session: Session, username: str, action: str) -> Actor:
        """_actor's check, for the writes that need only who acts (the clinical records): read as plain
        columns, not as an account object (every bedside write pays for it)."""
        row = session.connection().execute(_ACTING, {"username": username}).first()
        if row is None:
            _refuse_unknown(username)
        _permit(username, row.active, row.must_change_password, row.has_password, row.role, action)
        return Actor(id=row.id, username=row.username, display_name=row.display_name)

    def may(self, username: str, action: str) -> bool:
        """Would `_actor` let this account do `action`? For screens that hide what would be refused."""
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            return user is not None and user.active and accounts.can(user.role, action)

    # --- workstation settings (append-only; the newest row per key wins) --------------------------

    def _workstation_setting(self, key: str, default: float) -> float:
        with self.db.read() as session:
            row = session.scalar(
                select(WorkstationSetting)
                .where(WorkstationSetting.key == key)
                .order_by(WorkstationSetting.id.desc())
                .limit(1)
            )
            return float(row.value) if row is not None else default

    def _set_workstation_setting(
        self, actor: str, key: str, value: float, before: float, reason: str, what: str
    ) -> None:
        """An administrator's change of a setting every workstation on the database follows (audited)."""
        why = require_reason("Reason", reason, what)
        now = self.clock.now()
        with self.db.write() as session:
            admin = self._actor(session, actor, "set_workstation_setting")
            session.add(WorkstationSetting(key=key, value=value, set_at=now, set_by_id=admin.id, reason=why))
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=admin.id,
                action="settings.set",
                entity="workstation_setting",
                entity_id=None,
                before={key: before},
                after={key: value},
                reason=why,
            )

    def _system_user(self, session: Session) -> User:
        """The account that signs what the app does by itself (escalation of an alert)."""
        user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
        if user is None:
            user = User(
                username=SYSTEM_USERNAME,
                display_name=SYSTEM_DISPLAY_NAME,
                role="system",
                active=False,  # nobody can sign in or chart as it
                is_workstation_default=False,
                created_at=self.clock.now(),
            )
            session.add(user)
            session.flush()
        return user

    def _system_user_id(self, session: Session) -> int:
        """The system account's id, read as a plain column (the alert evaluation of a clinical write
        signs what it raises or withdraws with it); the account is made by _system_user if missing."""
        found = session.connection().execute(_SYSTEM_USER_ID).scalar()
        return found if found is not None else self._system_user(session).id

    def _episode(self, session: Session, episode_id: int) -> Episode:
        episode = session.get(Episode, episode_id)
        if episode is None:
            raise NotFound(f"Episode {episode_id} does not exist.")
        return episode

    def _episode_facts(self, session: Session, episode_id: int) -> EpisodeFacts:
        facts = episode_facts(session, [episode_id]).get(episode_id)
        if facts is None:
            raise NotFound(f"Episode {episode_id} does not exist.")
        return facts

    def _open_episode(
        self, session: Session, actor: str, action: str, episode_id: int, records: str
    ) -> tuple[Actor, EpisodeFacts]:
        """The acting user and the episode a new record goes to; a discharged one takes no more `records`."""
        user = self._acting(session, actor, action)
        episode = self._episode_facts(session, episode_id)
        if episode.discharged_at is not None:
            raise Conflict(f"This episode is discharged; {records} can no longer be added.")
        return user, episode

    def _checked_time(self, field: str, value: datetime, now: datetime) -> datetime:
        try:
            verdict = charting.check_clinical_time(value, now)
        except ValueError as exc:
            raise ValidationError(field, f"{field} must include a time zone.") from exc
        if value.year < 1900:
            # A mistyped year (0026 for 2026); also keeps the rules' time arithmetic inside the calendar.
            raise ValidationError(field, f"{field} is before 1900; check the year.")
        if verdict is charting.TimeVerdict.IN_FUTURE:
            raise ValidationError(
                field, f"{field} is more than 5 minutes in the future; clinical times cannot be ahead."
            )
        return value.astimezone(UTC)

    def _late_reason(self, field: str, taken_at: datetime, now: datetime, reason: str) -> str:
        """Back-charting more than 1 h late needs a reason (design.md, Time)."""
        cleaned = clean(reason)
        if charting.check_clinical_time(taken_at, now) is charting.TimeVerdict.LATE and not cleaned:
            raise ValidationError(
                field, "This is charted more than 1 hour after the time it was taken: give a reason."
            )
        if len(cleaned) > MAX_REASON:
            raise ValidationError(field, f"The reason is too long (at most {MAX_REASON} characters).")
        return checked_text(field, cleaned, MAX_REASON)

    def _record_void(
        self,
        session: Session,
        user: User,
        episode: Episode,
        void_row: Base,
        entity: str,
        record_id: int,
        reason: str,
        now: datetime,
    ) -> None:
        """Mark a record entered in error: the void row (who, when, why), its audit row, re-evaluation."""
        session.add(void_row)
        audit.append(
            session,
            at=now,
            user_id=user.id,
            action=f"{entity}.entered_in_error",
            entity=entity,
            entity_id=record_id,
            patient_id=episode.patient_id,
            before={"entered_in_error": False},
            after={"entered_in_error": True},
            reason=reason,
        )
        session.flush()
        self._after_write(session, episode.id, now)

    def _after_write(self, session: Session, episode: int | EpisodeFacts, now: datetime) -> None:
        """Called in the transaction of every clinical write; the alerting mixin re-evaluates there.
        episode: the facts the write read already (_open_episode), else the episode's id."""

    def _not_before_admission(self, field: str, when: datetime, episode: Episode | EpisodeFacts) -> None:
        """A clinical time more than 1 h before admission is almost certainly a wrong date."""
        if when < episode.admitted_at - charting.LATE_CHARTING_AFTER:
            raise ValidationError(field, f"{field} is before the admission; check the date.")
