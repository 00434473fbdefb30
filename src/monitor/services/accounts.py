"""Accounts: the first administrator, users, sign-in with lockout, password changes, deactivation.

Passwords are hashed with argon2id at OWASP's minimum parameters (19 MiB, 2 iterations, 1 lane): about
30 ms per verification on the ward's machines (design.md, Known hazards), so a bedside sign-in stays
quick while an offline guess stays expensive. A stored hash made with other parameters is re-hashed at
the next successful sign-in, so raising the parameters later needs no migration.

Nothing here writes a password or a hash to the audit log or to the application log. A failed sign-in
under an unknown user name is audited by the system account without the name typed (people type their
password into the user name field, and the audit log can never be cleaned).

Rules (monitor.domain.accounts): 5 failed attempts in a row lock the account for 5 minutes, counted on
the service's clock; a locked account is refused even with the right password; success resets the count.
An unknown user name and a wrong password get the same message, and take about the same time.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.domain import accounts
from monitor.services.base import SYSTEM_USERNAME, ServiceBase, clean, require_reason
from monitor.services.errors import (
    Conflict,
    NotFound,
    SignInRefused,
    ValidationError,
)
from monitor.services.views import UserView
from monitor.store import audit
from monitor.store.models import User

# argon2id (argon2-cffi's default type) at OWASP's minimum: m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

WRONG_CREDENTIALS = "Wrong user name or password."
SESSION_EVENTS = ("lock", "sign_out", "draft_discarded")
MAX_USERNAME = 64


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user name is unknown, so both failures take as long."""
    return HASHER.hash("not a password of anyone: timing equaliser")


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def account_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        is_workstation_default=user.is_workstation_default,
        must_change_password=user.must_change_password,
        locked_until=user.locked_until,
        has_password=user.password_hash is not None,
    )


def _is_administrator(user: User) -> bool:
    return accounts.ADMINISTRATOR in accounts.roles_of(user.role)


class AccountsMixin(ServiceBase):
    # --- first start ------------------------------------------------------------------------------

    def needs_first_administrator(self) -> bool:
        """True while no active administrator with a password exists (first start, or none left)."""
        with self.db.read() as session:
            return not self._signing_administrators(session)

    def create_first_administrator(self, username: str, display_name: str, password: str) -> UserView:
        """The account the first start asks for; refused once an administrator exists."""
        username = self._valid_username(username)
        self._check_policy(password, username, "Password")
        password_hash = HASHER.hash(password)
        now = self.clock.now()
        with self.db.write() as session:
            # Checked again inside the write lock: two workstations starting at once make one admin.
            if self._signing_administrators(session):
                raise Conflict("An administrator account already exists; sign in with it.")
            if session.scalar(select(User).where(User.username == username)) is not None:
                raise Conflict(f"The user name {username!r} is taken; choose another.")
            user = User(
                username=username,
                display_name=clean(display_name) or username,
                role=accounts.ADMINISTRATOR,
                active=True,
                is_workstation_default=False,
                created_at=now,
                password_hash=password_hash,
                must_change_password=False,  # they chose it themselves
                failed_attempts=0,
            )
            session.add(user)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="user.create",
                entity="user",
                entity_id=user.id,
                after=self._audit_state(user) | {"first_administrator": True},
            )
            return account_view(user)

    # --- administration ---------------------------------------------------------------------------

    def create_user(
        self, actor: str, username: str, display_name: str, role: str, temporary_password: str
    ) -> UserView:
        """An administrator creates an account; its user must change the password at first sign-in."""
        username = self._valid_username(username)
        role = clean(role)
        if not accounts.is_valid_role(role):
            raise ValidationError("Role", f"The role must be one of {', '.join(accounts.ROLES)}.")
        self._check_policy(temporary_password, username, "Temporary password")
        password_hash = HASHER.hash(temporary_password)
        now = self.clock.now()
        with self.db.write() as session:
            admin = self._actor(session, actor, "manage_users")
            if session.scalar(select(User).where(User.username == username)) is not None:
                raise Conflict(
                    f"The user name {username!r} already exists; reset its password to let it sign in."
                )
            user = User(
                username=username,
                display_name=clean(display_name) or username,
                role=role,
                active=True,
                is_workstation_default=False,
                created_at=now,
                password_hash=password_hash,
                must_change_password=True,
                failed_attempts=0,
            )
            session.add(user)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=admin.id,
                action="user.create",
                entity="user",
                entity_id=user.id,
                after=self._audit_state(user),
            )
            return account_view(user)

    def reset_password(self, actor: str, username: str, temporary: str) -> UserView:
        """An administrator sets a temporary password; the user must change it at the next sign-in.

        A reset also lifts a lockout. It is how an account from before sign-in existed (or one created
        by an import) gets its first password.
        """
        target_name = clean(username)
        self._check_policy(temporary, target_name, "Temporary password")
        password_hash = HASHER.hash(temporary)
        now = self.clock.now()
        with self.db.write() as session:
            admin = self._actor(session, actor, "reset_password")
            user = self._account(session, target_name)
            before = self._audit_state(user)
            user.password_hash = password_hash
            user.must_change_password = True
            user.failed_attempts = 0
            user.locked_until = None
            audit.append(
                session,
                at=now,
                user_id=admin.id,
                action="user.password_reset",
                entity="user",
                entity_id=user.id,
                before=before,
                after=self._audit_state(user),
            )
            return account_view(user)

    def deactivate_user(self, actor: str, username: str, reason: str) -> UserView:
        """Deactivate, never delete: the account keeps authoring its history but can no longer act."""
        why = require_reason("Reason", reason, "deactivate an account")
        now = self.clock.now()
        with self.db.write() as session:
            admin = self._actor(session, actor, "manage_users")
            user = self._account(session, clean(username))
            if not user.active:
                return account_view(user)
            if _is_administrator(user) and [u.id for u in self._signing_administrators(session)] == [user.id]:
                # Otherwise the next start would offer anyone at the workstation a new administrator.
                raise Conflict("This is the last administrator account; create another one first.")
            before = self._audit_state(user)
            user.active = False
            user.deactivated_at = now
            audit.append(
                session,
                at=now,
                user_id=admin.id,
                action="user.deactivate",
                entity="user",
                entity_id=user.id,
                before=before,
                after=self._audit_state(user),
                reason=why,
            )
            return account_view(user)

    def users(self, actor: str) -> list[UserView]:
        """Every account people use (not the application's own), active first, by user name."""
        with self.db.read() as session:
            self._actor(session, actor, "manage_users")
            rows = session.scalars(select(User).where(User.username != SYSTEM_USERNAME))
            return sorted((account_view(u) for u in rows), key=lambda v: (not v.active, v.username))

    # --- the idle lock ----------------------------------------------------------------------------

    def idle_lock_minutes(self) -> int:
        """Minutes without a key or mouse press before the workstation locks (default 10)."""
        return int(self._workstation_setting(accounts.IDLE_LOCK_KEY, accounts.IDLE_LOCK_DEFAULT_MINUTES))

    def set_idle_lock_minutes(self, actor: str, minutes: int, reason: str) -> None:
        """An administrator sets the idle lock for every workstation on this database (audited)."""
        problem = accounts.check_idle_lock_minutes(minutes)
        if problem is not None:
            raise ValidationError("Lock after (minutes)", problem)
        before = self.idle_lock_minutes()
        self._set_workstation_setting(
            actor, accounts.IDLE_LOCK_KEY, int(minutes), before, reason, "change the idle lock"
        )

    def record_session_event(self, username: str, event: str) -> None:
        """A workstation's lock, sign-out or user switch, in the audit trail.

        `event` is "lock" (the idle timer or the user locked the screen), "unlock" is not needed (the
        sign-in that follows is audited by sign_in), "sign_out", or "draft_discarded" (an unsaved
        assessment was thrown away because someone else signed in).
        """
        if event not in SESSION_EVENTS:
            raise ValueError(f"unknown session event {event!r}")
        now = self.clock.now()
        with self.db.write() as session:
            user = session.scalar(select(User).where(User.username == clean(username)))
            if user is None:
                raise NotFound(f"There is no account {username!r}.")
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action=f"session.{event}",
                entity="user",
                entity_id=user.id,
                after={},
            )

    # --- signing in -------------------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> UserView:
        """Check the credentials; the view's must_change_password says whether a change must follow."""
        now = self.clock.now()
        view: UserView | None = None
        with self.db.write() as session:
            user, refusal = self._authenticate(session, clean(username), password, now)
            if user is not None:
                audit.append(
                    session,
                    at=now,
                    user_id=user.id,
                    action="user.sign_in",
                    entity="user",
                    entity_id=user.id,
                    after={"must_change_password": user.must_change_password},
                )
                view = account_view(user)
        # The failure's counter and audit rows are committed before the refusal is raised.
        if refusal is not None:
            raise refusal
        assert view is not None
        return view

    def change_password(self, username: str, old: str, new: str) -> UserView:
        """The user changes their own password (required after a reset); the old one must be right."""
        name = clean(username)
        self._check_policy(new, name, "New password")
        if new == old:
            raise ValidationError("New password", "The new password must differ from the old one.")
        new_hash = HASHER.hash(new)
        now = self.clock.now()
        view: UserView | None = None
        with self.db.write() as session:
            user, refusal = self._authenticate(session, name, old, now)
            if user is not None:
                before = self._audit_state(user)
                user.password_hash = new_hash
                user.must_change_password = False
                audit.append(
                    session,
                    at=now,
                    user_id=user.id,
                    action="user.password_change",
                    entity="user",
                    entity_id=user.id,
                    before=before,
                    after=self._audit_state(user),
                )
                view = account_view(user)
        if refusal is not None:
            raise refusal
        assert view is not None
        return view

    def _authenticate(
        self, session: Session, username: str, password: str, now: datetime
    ) -> tuple[User | None, SignInRefused | None]:
        """The account if the credentials are right, else the refusal; counters and failure audit rows
        are written in the session either way (the caller commits before raising)."""
        user = session.scalar(select(User).where(User.username == username)) if username else None
        if user is None or user.username == SYSTEM_USERNAME:
            _verify(None, password)  # same work as a wrong password
            system = self._system_user(session)
            audit.append(
                session,
                at=now,
                user_id=system.id,
                action="user.sign_in_failed",
                entity="user",
                entity_id=None,
                after={"cause": "unknown user name"},
            )
            return None, SignInRefused(WRONG_CREDENTIALS)

        if user.locked_until is not None:
            if now < user.locked_until:
                self._failed(session, user, now, "locked")
                return None, SignInRefused(
                    f"This account is locked after {accounts.LOCKOUT_ATTEMPTS} failed sign-ins until "
                    f"{self._local_time(user.locked_until)}. Try again then, or ask an administrator "
                    "to reset the password."
                )
            # The lock has run out: counting starts afresh.
            user.locked_until = None
            user.failed_attempts = 0

        if not _verify(user.password_hash, password):
            user.failed_attempts += 1
            self._failed(session, user, now, "wrong password")
            if user.failed_attempts >= accounts.LOCKOUT_ATTEMPTS:
                user.locked_until = now + accounts.LOCKOUT_DURATION
                audit.append(
                    session,
                    at=now,
                    user_id=user.id,
                    action="user.locked",
                    entity="user",
                    entity_id=user.id,
                    after={"failed_attempts": user.failed_attempts, "locked_until": user.locked_until},
                )
            return None, SignInRefused(WRONG_CREDENTIALS)

        # Only someone who knows the password learns that the account is deactivated.
        if not user.active:
            self._failed(session, user, now, "deactivated")
            return None, SignInRefused("This account is deactivated; ask an administrator.")

        user.failed_attempts = 0
        user.locked_until = None
        assert user.password_hash is not None  # _verify is False without one
        if HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = HASHER.hash(password)
        return user, None

    def _failed(self, session: Session, user: User, now: datetime, cause: str) -> None:
        audit.append(
            session,
            at=now,
            user_id=user.id,
            action="user.sign_in_failed",
            entity="user",
            entity_id=user.id,
            after={"cause": cause, "failed_attempts": user.failed_attempts},
        )

    # --- helpers ----------------------------------------------------------------------------------

    def _signing_administrators(self, session: Session) -> list[User]:
        """Active accounts with a password that hold the administrator role."""
        candidates = session.scalars(
            select(User).where(User.active.is_(True), User.password_hash.is_not(None)).order_by(User.id)
        )
        return [user for user in candidates if _is_administrator(user)]

    def _account(self, session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username)) if username else None
        if user is None or user.username == SYSTEM_USERNAME:
            raise NotFound(f"There is no account {username!r}.")
        return user

    def _valid_username(self, username: str) -> str:
        name = clean(username)
        if not name:
            raise ValidationError("User name", "A user name is required.")
        if len(name) > MAX_USERNAME:
            raise ValidationError("User name", f"The user name is too long (at most {MAX_USERNAME}).")
        if any(ch.isspace() for ch in name):
            raise ValidationError("User name", "The user name must not contain spaces.")
        if name == SYSTEM_USERNAME:
            raise ValidationError("User name", f"{name!r} is reserved for the application.")
        return name

    @staticmethod
    def _check_policy(password: str, username: str, field: str) -> None:
        problem = accounts.check_password_policy(password, username)
        if problem is not None:
            raise ValidationError(field, problem)

    @staticmethod
    def _audit_state(user: User) -> dict[str, object]:
        """What the audit log keeps of an account: never the password or its hash."""
        return {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "active": user.active,
            "must_change_password": user.must_change_password,
            "has_password": user.password_hash is not None,
            "deactivated_at": user.deactivated_at,
        }

    def _local_time(self, when: datetime) -> str:
        try:
            zone = ZoneInfo(self.zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            return when.strftime("%H:%M UTC")
        return when.astimezone(zone).strftime("%H:%M")
