"""Accounts (issue 5): first administrator, users, sign-in with lockout on a fake clock, password
changes and resets, deactivation, and an audit trail that never holds a password or a hash."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import inspect, select, update

from monitor.services.accounts import HASHER, WRONG_CREDENTIALS
from monitor.services.clinical import ClinicalService
from monitor.services.errors import (
    Conflict,
    NotFound,
    NotPermitted,
    ServiceError,
    SignInRefused,
    ValidationError,
)
from monitor.store import migrations
from monitor.store.database import Database, create_db_engine, open_database, sqlite_url
from monitor.store.models import AuditEntry, User
from tests.conftest import T0, FakeClock
from tests.helpers import admission

ADMIN_PW = "admin passphrase 1"
TEMP_PW = "temporary pass 42"
NURSE_PW = "kim's own secret 7"
PHYS_PW = "physician secret 99"


@pytest.fixture
def admin(service: ClinicalService) -> str:
    return service.create_first_administrator("admin", "Ada Admin", ADMIN_PW).username


@pytest.fixture
def kim(service: ClinicalService, admin: str) -> str:
    """A nurse with her own password (the temporary one already changed)."""
    service.create_user(admin, "rn.kim", "Kim Nurse", "nurse", TEMP_PW)
    service.change_password("rn.kim", TEMP_PW, NURSE_PW)
    return "rn.kim"


def user_row(db: Database, username: str) -> User:
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        session.expunge(user)
        return user


def audit_rows(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def actions(db: Database) -> list[str]:
    return [row.action for row in audit_rows(db)]


def refused(service: ClinicalService, username: str, password: str) -> str:
    with pytest.raises(SignInRefused) as info:
        service.sign_in(username, password)
    return info.value.message


# --- first administrator -----------------------------------------------------------------------------


def test_an_empty_database_asks_for_the_first_administrator(service: ClinicalService) -> None:
    assert service.needs_first_administrator()
    service.ensure_workstation_user()  # the pre-sign-in default account is no administrator
    assert service.needs_first_administrator()

    view = service.create_first_administrator("admin", "Ada Admin", ADMIN_PW)

    assert view.role == "administrator"
    assert view.active and not view.must_change_password
    assert not service.needs_first_administrator()
    signed = service.sign_in("admin", ADMIN_PW)
    assert signed.id == view.id and not signed.must_change_password


def test_the_first_administrator_is_made_only_once(service: ClinicalService, admin: str) -> None:
    with pytest.raises(Conflict):
        service.create_first_administrator("intruder", "Not Welcome", "intruder passphrase")
    with pytest.raises(SignInRefused):
        service.sign_in("intruder", "intruder passphrase")


def test_the_first_administrator_password_follows_the_policy(service: ClinicalService) -> None:
    with pytest.raises(ValidationError) as info:
        service.create_first_administrator("admin", "Ada Admin", "short")
    assert "12" in info.value.message
    with pytest.raises(ValidationError):
        service.create_first_administrator("", "Nobody", ADMIN_PW)
    with pytest.raises(ValidationError):
        service.create_first_administrator("system", "The App", ADMIN_PW)
    assert service.needs_first_administrator()


def test_an_existing_user_name_cannot_become_the_first_administrator(service: ClinicalService) -> None:
    service.ensure_user("rn.lee", "Robin Lee", "nurse")
    with pytest.raises(Conflict):
        service.create_first_administrator("rn.lee", "Robin Lee", ADMIN_PW)


# --- creating users ----------------------------------------------------------------------------------


def test_a_new_user_must_change_the_temporary_password(service: ClinicalService, admin: str) -> None:
    created = service.create_user(admin, "rn.kim", "Kim Nurse", "nurse", TEMP_PW)
    assert created.must_change_password and created.role == "nurse"

    first = service.sign_in("rn.kim", TEMP_PW)
    assert first.must_change_password

    changed = service.change_password("rn.kim", TEMP_PW, NURSE_PW)
    assert not changed.must_change_password
    assert not service.sign_in("rn.kim", NURSE_PW).must_change_password
    assert refused(service, "rn.kim", TEMP_PW) == WRONG_CREDENTIALS


def test_create_user_checks_role_policy_and_duplicates(service: ClinicalService, admin: str) -> None:
    with pytest.raises(ValidationError):
        service.create_user(admin, "dr.who", "Doctor", "doctor", TEMP_PW)
    with pytest.raises(ValidationError):
        service.create_user(admin, "dr.who", "Doctor", "physician", "too short")
    with pytest.raises(ValidationError):
        service.create_user(admin, "dr who", "Doctor", "physician", TEMP_PW)
    service.create_user(admin, "dr.who", "Doctor", "physician+administrator", TEMP_PW)
    with pytest.raises(Conflict):
        service.create_user(admin, "dr.who", "Doctor again", "physician", TEMP_PW)


@pytest.mark.parametrize("role", ["nurse", "physician"])
def test_only_an_administrator_creates_users_and_resets_passwords(
    service: ClinicalService, admin: str, kim: str, role: str
) -> None:
    service.create_user(admin, "clin", "Clinician", role, TEMP_PW)
    service.change_password("clin", TEMP_PW, "clinician's own passphrase")
    before = len(audit_rows(service.db))

    with pytest.raises(NotPermitted) as info:
        service.create_user("clin", "rn.new", "New Nurse", "nurse", TEMP_PW)
    assert info.value.message == (
        f"clin ({role}) may not manage user accounts: that needs the administrator role."
    )
    with pytest.raises(NotPermitted):
        service.reset_password("clin", kim, TEMP_PW)
    with pytest.raises(NotPermitted):
        service.deactivate_user("clin", kim, "left the ward")

    assert len(audit_rows(service.db)) == before  # nothing written
    assert service.sign_in(kim, NURSE_PW).active
    with pytest.raises(SignInRefused):
        service.sign_in("rn.new", TEMP_PW)


def test_an_account_from_before_sign_in_cannot_administer(service: ClinicalService, admin: str) -> None:
    service.ensure_user("rn.lee", "Robin Lee", "nurse")
    with pytest.raises(NotPermitted):
        service.create_user("rn.lee", "rn.new", "New Nurse", "nurse", TEMP_PW)
    with pytest.raises(ServiceError):
        service.create_user("nobody", "rn.new", "New Nurse", "nurse", TEMP_PW)


# --- sign-in and lockout -----------------------------------------------------------------------------


def test_unknown_user_and_wrong_password_get_the_same_message(service: ClinicalService, kim: str) -> None:
    unknown = refused(service, "rn.nobody", NURSE_PW)
    wrong = refused(service, kim, "not the password")
    assert unknown == wrong == WRONG_CREDENTIALS
    assert refused(service, "", "") == WRONG_CREDENTIALS
    # The system account never signs in, whatever is typed.
    assert refused(service, "system", "") == WRONG_CREDENTIALS


def test_an_account_without_a_password_cannot_sign_in(service: ClinicalService, admin: str) -> None:
    service.ensure_user("rn.lee", "Robin Lee", "nurse")
    assert refused(service, "rn.lee", "") == WRONG_CREDENTIALS
    assert refused(service, "rn.lee", "anything at all") == WRONG_CREDENTIALS


def test_five_failures_lock_for_five_minutes(service: ClinicalService, clock: FakeClock, kim: str) -> None:
    for attempt in range(1, 6):
        clock.advance(seconds=10)
        assert refused(service, kim, f"guess number {attempt}") == WRONG_CREDENTIALS
        assert user_row(service.db, kim).failed_attempts == attempt
    locked_at = clock.now()
    assert user_row(service.db, kim).locked_until == locked_at + timedelta(minutes=5)

    # The 6th attempt, even with the right password, is refused and says until when (local time:
    # the service runs in Europe/Berlin, UTC+1 in November).
    message = refused(service, kim, NURSE_PW)
    until_local = (locked_at + timedelta(hours=1, minutes=5)).strftime("%H:%M")
    assert "locked" in message and until_local in message

    clock.current = locked_at + timedelta(minutes=5) - timedelta(seconds=1)
    assert "locked" in refused(service, kim, NURSE_PW)

    clock.current = locked_at + timedelta(minutes=5)  # exactly five minutes: open again
    view = service.sign_in(kim, NURSE_PW)
    assert view.username == kim
    row = user_row(service.db, kim)
    assert row.failed_attempts == 0 and row.locked_until is None


def test_attempts_during_the_lock_do_not_extend_it(
    service: ClinicalService, clock: FakeClock, kim: str
) -> None:
    for _ in range(5):
        refused(service, kim, "wrong wrong wrong")
    locked_at = clock.now()
    for _ in range(3):
        clock.advance(minutes=1)
        assert "locked" in refused(service, kim, "wrong wrong wrong")
    clock.current = locked_at + timedelta(minutes=5)
    assert service.sign_in(kim, NURSE_PW).username == kim


def test_after_a_lock_runs_out_counting_starts_afresh(
    service: ClinicalService, clock: FakeClock, kim: str
) -> None:
    for _ in range(5):
        refused(service, kim, "wrong wrong wrong")
    clock.advance(minutes=5)
    # One more wrong guess after the lock is the first of a new count, not a sixth.
    assert refused(service, kim, "wrong wrong wrong") == WRONG_CREDENTIALS
    assert user_row(service.db, kim).locked_until is None
    assert user_row(service.db, kim).failed_attempts == 1


def test_success_resets_the_counter(service: ClinicalService, clock: FakeClock, kim: str) -> None:
    for _ in range(4):
        refused(service, kim, "wrong wrong wrong")
    assert user_row(service.db, kim).failed_attempts == 4
    service.sign_in(kim, NURSE_PW)
    assert user_row(service.db, kim).failed_attempts == 0
    for _ in range(4):
        refused(service, kim, "wrong wrong wrong")
    assert service.sign_in(kim, NURSE_PW).username == kim  # 4 + 4 failures never locked


def test_unknown_user_names_lock_nothing(service: ClinicalService, kim: str) -> None:
    for _ in range(7):
        assert refused(service, "rn.nobody", "whatever it is") == WRONG_CREDENTIALS
    assert service.sign_in(kim, NURSE_PW).username == kim


def test_a_wrong_old_password_counts_towards_the_lock(
    service: ClinicalService, clock: FakeClock, kim: str
) -> None:
    for _ in range(5):
        with pytest.raises(SignInRefused):
            service.change_password(kim, "wrong wrong wrong", "brand new secret 1")
    assert "locked" in refused(service, kim, NURSE_PW)


def test_change_password_follows_the_policy(service: ClinicalService, kim: str) -> None:
    with pytest.raises(ValidationError):
        service.change_password(kim, NURSE_PW, "short")
    with pytest.raises(ValidationError):
        service.change_password(kim, NURSE_PW, NURSE_PW)
    with pytest.raises(ValidationError):
        service.change_password(kim, NURSE_PW, "z" * 14)
    assert service.sign_in(kim, NURSE_PW).username == kim


# --- reset and deactivation --------------------------------------------------------------------------


def test_a_reset_forces_a_change_and_lifts_a_lock(
    service: ClinicalService, clock: FakeClock, admin: str, kim: str
) -> None:
    for _ in range(5):
        refused(service, kim, "wrong wrong wrong")
    reset = service.reset_password(admin, kim, TEMP_PW)
    assert reset.must_change_password

    signed = service.sign_in(kim, TEMP_PW)  # no waiting: the reset lifted the lock
    assert signed.must_change_password
    assert refused(service, kim, NURSE_PW) == WRONG_CREDENTIALS  # the old password is gone
    service.change_password(kim, TEMP_PW, "kim's next secret 8")
    assert not service.sign_in(kim, "kim's next secret 8").must_change_password


def test_a_reset_gives_an_old_account_its_first_password(service: ClinicalService, admin: str) -> None:
    service.ensure_user("rn.lee", "Robin Lee", "nurse")
    service.reset_password(admin, "rn.lee", TEMP_PW)
    assert service.sign_in("rn.lee", TEMP_PW).must_change_password
    with pytest.raises(NotFound):
        service.reset_password(admin, "rn.nobody", TEMP_PW)
    with pytest.raises(NotFound):
        service.reset_password(admin, "system", TEMP_PW)


def test_a_deactivated_account_is_refused_and_kept(
    service: ClinicalService, clock: FakeClock, admin: str, kim: str
) -> None:
    episode = service.admit(kim, admission(T0 - timedelta(hours=1)))
    with pytest.raises(ValidationError):
        service.deactivate_user(admin, kim, "  ")

    view = service.deactivate_user(admin, kim, "left the clinic")

    assert not view.active
    row = user_row(service.db, kim)
    assert row.deactivated_at == clock.now() and row.password_hash is not None
    message = refused(service, kim, NURSE_PW)
    assert "deactivated" in message
    # A wrong password on a deactivated account says no more than for anyone else.
    assert refused(service, kim, "wrong wrong wrong") == WRONG_CREDENTIALS
    # Its history keeps its author; it can no longer record.
    assert service.episode(episode).admitted_by == kim
    with pytest.raises(ServiceError):
        service.admit(kim, admission(T0, mrn="K-2002", name="Sam Sample"))
    # Deactivating again changes nothing.
    before = len(audit_rows(service.db))
    assert not service.deactivate_user(admin, kim, "still gone").active
    assert len(audit_rows(service.db)) == before


def test_the_last_administrator_cannot_be_deactivated(service: ClinicalService, admin: str) -> None:
    with pytest.raises(Conflict):
        service.deactivate_user(admin, admin, "leaving")
    assert not service.needs_first_administrator()
    service.create_user(admin, "admin2", "Second Admin", "administrator", TEMP_PW)
    service.change_password("admin2", TEMP_PW, "second admin secret")
    service.deactivate_user("admin2", admin, "left the clinic")
    assert not service.needs_first_administrator()
    assert "deactivated" in refused(service, admin, ADMIN_PW)


# --- hashing -----------------------------------------------------------------------------------------


def test_hashes_are_argon2id_at_owasp_minimum(service: ClinicalService, admin: str) -> None:
    stored = user_row(service.db, admin).password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_hash_with_other_parameters_is_rehashed_at_sign_in(
    service: ClinicalService, admin: str, kim: str
) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(NURSE_PW)
    with service.db.write() as session:
        session.execute(update(User).where(User.username == kim).values(password_hash=weaker))
    service.sign_in(kim, NURSE_PW)
    stored = user_row(service.db, kim).password_hash
    assert stored is not None and stored != weaker
    assert not HASHER.check_needs_rehash(stored)
    assert service.sign_in(kim, NURSE_PW).username == kim


# --- audit -------------------------------------------------------------------------------------------


def test_every_account_event_is_audited_without_passwords(
    service: ClinicalService, clock: FakeClock, admin: str, kim: str
) -> None:
    service.sign_in(admin, ADMIN_PW)
    refused(service, "rn.nobody", "typed-into-the-name-box")
    refused(service, "typed-into-the-name-box", "x")
    for _ in range(5):
        refused(service, kim, "a wrong guess 1")
    refused(service, kim, NURSE_PW)  # while locked
    service.reset_password(admin, kim, TEMP_PW)
    service.change_password(kim, TEMP_PW, "kim's next secret 8")
    service.deactivate_user(admin, kim, "left the clinic")

    rows = audit_rows(service.db)
    seen = [row.action for row in rows]
    for action in (
        "user.create",
        "user.sign_in",
        "user.sign_in_failed",
        "user.locked",
        "user.password_reset",
        "user.password_change",
        "user.deactivate",
    ):
        assert action in seen, action
    assert seen.count("user.locked") == 1

    admin_id = user_row(service.db, admin).id
    kim_id = user_row(service.db, kim).id
    with service.db.read() as session:
        system_id = session.scalar(select(User.id).where(User.username == "system"))
    failed = [row for row in rows if row.action == "user.sign_in_failed"]
    assert {row.user_id for row in failed} == {system_id, kim_id}
    assert all(row.entity_id is None for row in failed if row.user_id == system_id)
    created = [row for row in rows if row.action == "user.create" and row.entity_id == kim_id]
    assert created[0].user_id == admin_id
    reset = next(row for row in rows if row.action == "user.password_reset")
    assert reset.user_id == admin_id and reset.entity_id == kim_id
    deactivated = next(row for row in rows if row.action == "user.deactivate")
    assert deactivated.reason == "left the clinic"

    secrets = [ADMIN_PW, TEMP_PW, NURSE_PW, "kim's next secret 8", "a wrong guess 1"]
    secrets += ["typed-into-the-name-box", "$argon2"]
    with service.db.read() as session:
        hashes = [h for h in session.scalars(select(User.password_hash)) if h]
    for row in rows:
        text = " ".join([row.before_json, row.after_json, row.reason, row.action, row.entity])
        for secret in [*secrets, *hashes]:
            assert secret not in text, (row.action, secret)
    assert service.verify_audit_chain().intact


def test_no_password_in_the_database_file_beyond_the_hash(
    service: ClinicalService, db_path: Path, admin: str, kim: str
) -> None:
    service.db.dispose()
    connection = sqlite3.connect(db_path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dump = "\n".join(connection.iterdump())
    finally:
        connection.close()
    for secret in (ADMIN_PW, TEMP_PW, NURSE_PW):
        assert secret not in dump


# --- migration ---------------------------------------------------------------------------------------


def test_migration_0004_keeps_the_rows_of_a_0003_database(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.sqlite"
    engine = create_db_engine(sqlite_url(path))
    with engine.begin() as connection:
        migrations.upgrade(connection, "0003")
    created = "2026-11-01 08:00:00.000000"
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute(
            "INSERT INTO users (id, username, display_name, role, active, is_workstation_default, "
            "created_at) VALUES (1, 'rn.lee', 'Robin Lee', 'nurse', 1, 0, ?), "
            "(2, 'workstation', 'Workstation', 'nurse', 1, 1, ?)",
            (created, created),
        )
        raw.execute(
            "INSERT INTO patients (id, mrn, name, birth_date, sex, created_at, created_by_id) "
            "VALUES (1, 'K-9', 'Pat Old', NULL, NULL, ?, 1)",
            (created,),
        )
    engine.dispose()

    db = open_database(path=path)
    try:
        assert db.schema_revision == migrations.head_revision() == "0006"
        assert any((path.parent / "backups").iterdir())
        lee = user_row(db, "rn.lee")
        assert (lee.id, lee.display_name, lee.role, lee.active) == (1, "Robin Lee", "nurse", True)
        assert lee.password_hash is None and lee.must_change_password is False
        assert lee.failed_attempts == 0 and lee.locked_until is None and lee.deactivated_at is None
        assert user_row(db, "workstation").is_workstation_default

        service = ClinicalService(db, clock=clock, zone_name="Europe/Berlin")
        assert service.needs_first_administrator()
        admin = service.create_first_administrator("admin", "Ada Admin", ADMIN_PW).username
        service.reset_password(admin, "rn.lee", TEMP_PW)
        assert service.sign_in("rn.lee", TEMP_PW).must_change_password
        with pytest.raises(NotPermitted, match="must change the temporary password"):
            service.admit("rn.lee", admission(T0, mrn="K-9", name="Pat Old"))
        service.change_password("rn.lee", TEMP_PW, NURSE_PW)
        # The old patient is still there and can be admitted again by its author.
        service.admit("rn.lee", admission(T0, mrn="K-9", name="Pat Old"))
    finally:
        db.dispose()


def test_migration_0004_downgrades_with_rows_in_place(db: Database, service: ClinicalService) -> None:
    admin = service.create_first_administrator("admin", "Ada Admin", ADMIN_PW).username
    service.create_user(admin, "rn.kim", "Kim Nurse", "nurse", TEMP_PW)
    service.change_password("rn.kim", TEMP_PW, NURSE_PW)
    service.admit("rn.kim", admission(T0))
    with db.engine.begin() as connection:
        command.downgrade(migrations.config(connection), "0003")
        columns = {c["name"] for c in inspect(connection).get_columns("users")}
        assert "password_hash" not in columns and "locked_until" not in columns
        count = connection.exec_driver_sql("SELECT count(*) FROM users").scalar()
        assert count == 2
        migrations.upgrade(connection)
    assert user_row(db, "rn.kim").password_hash is None  # a downgrade drops the hashes


# --- the idle lock and the workstation's sessions ---------------------------------------------------


def test_idle_lock_is_ten_minutes_until_an_administrator_changes_it(
    service: ClinicalService, admin: str, kim: str
) -> None:
    assert service.idle_lock_minutes() == 10
    service.set_idle_lock_minutes(admin, 5, "corridor beds, many passers-by")
    assert service.idle_lock_minutes() == 5
    service.set_idle_lock_minutes(admin, 15, "night shift")
    assert service.idle_lock_minutes() == 15  # the newest row wins
    [first, second] = [r for r in audit_rows(service.db) if r.action == "settings.set"]
    assert (first.before_json, first.after_json) == ('{"idle_lock_minutes": 10}', '{"idle_lock_minutes": 5}')
    assert (
        first.reason == "corridor beds, many passers-by" and second.after_json == '{"idle_lock_minutes": 15}'
    )
    with pytest.raises(NotPermitted, match="may not change the workstation settings"):
        service.set_idle_lock_minutes(kim, 30, "too short for me")
    assert service.idle_lock_minutes() == 15


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (0, "The idle lock must be between 1 and 60 minutes."),
        (61, "The idle lock must be between 1 and 60 minutes."),
        (2.5, "The idle lock is set in whole minutes."),
    ],
)
def test_idle_lock_outside_its_range_is_refused(
    service: ClinicalService, admin: str, minutes: float, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        service.set_idle_lock_minutes(admin, minutes, "trying")  # type: ignore[arg-type]
    assert (refused.value.field, refused.value.message) == ("Lock after (minutes)", message)
    with pytest.raises(ValidationError, match="A reason is required"):
        service.set_idle_lock_minutes(admin, 5, "  ")
    assert service.idle_lock_minutes() == 10


def test_lock_sign_out_and_a_discarded_draft_are_audited_under_the_user(
    service: ClinicalService, kim: str, clock: FakeClock
) -> None:
    for event in ("lock", "sign_out", "draft_discarded"):
        clock.advance(minutes=1)
        service.record_session_event(kim, event)
    rows = [r for r in audit_rows(service.db) if r.action.startswith("session.")]
    assert [(r.action, r.at) for r in rows] == [
        ("session.lock", T0 + timedelta(minutes=1)),
        ("session.sign_out", T0 + timedelta(minutes=2)),
        ("session.draft_discarded", T0 + timedelta(minutes=3)),
    ]
    assert {r.user_id for r in rows} == {user_row(service.db, kim).id}
    with pytest.raises(ValueError):
        service.record_session_event(kim, "nap")
    with pytest.raises(NotFound):
        service.record_session_event("rn.nobody", "lock")


def test_users_lists_people_not_the_application(service: ClinicalService, admin: str, kim: str) -> None:
    service.record_session_event(kim, "lock")
    with pytest.raises(SignInRefused):
        service.sign_in("rn.nobody", "wrong password entirely")  # audited by the system account
    listed = service.users(admin)
    assert [u.username for u in listed] == ["admin", "rn.kim"]
    assert [(u.role, u.has_password, u.must_change_password) for u in listed] == [
        ("administrator", True, False),
        ("nurse", True, False),
    ]
    with pytest.raises(NotPermitted):
        service.users(kim)
