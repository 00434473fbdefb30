"""Issue 5: permissions are enforced in the services. Every service that writes (or shows the audit
trail) is called by an account of every role: the roles monitor.domain.accounts allows succeed, every
other role is refused with a message naming the role that may, and a refusal writes nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.domain import accounts
from monitor.io.episode_json import parse_document
from monitor.services.clinical import ClinicalService
from monitor.services.errors import NotPermitted
from monitor.services.views import DoseInput, SubstanceInput, VitalsInput
from monitor.store.models import AuditEntry
from tests.conftest import T0, FakeClock
from tests.helpers import admission, cows
from tests.io.test_episode_json import EXAMPLE

TEMP_PW = "temporary passphrase 1"
# Each role of the issue, and a clinician who also administers (the union of both).
ACCOUNTS = {
    "nurse": "rn.role",
    "physician": "dr.role",
    "administrator": "it.role",
    "physician+administrator": "dr.admin",
}


@dataclass
class Ward:
    """One open episode with something of everything on it, charted by a setup nurse."""

    service: ClinicalService
    clock: FakeClock
    episode: int
    assessment: int
    dose: int
    vitals: int
    alert: int
    tmp: Path


@pytest.fixture
def ward(service: ClinicalService, clock: FakeClock, tmp_path: Path) -> Ward:
    setup = service.ensure_user("rn.setup", "Setup Nurse", "nurse").username
    for role, username in ACCOUNTS.items():
        service.ensure_user(username, username, role)
    service.ensure_user("rn.target", "Target Nurse", "nurse")
    episode = service.admit(setup, admission(clock.now()))
    clock.advance(minutes=10)
    # COWS 25: moderately severe withdrawal, an alert to acknowledge, snooze and silence.
    first = service.record_assessment(
        setup,
        episode,
        cows(
            clock.now(),
            pulse_bpm=110,
            resting_pulse=2,
            sweating=4,
            restlessness=5,
            pupil_size=5,
            bone_joint_aches=4,
            gi_upset=5,
        ),
    )
    dose = service.record_dose(setup, episode, DoseInput("clonidine", "oral", 0.1, clock.now()))
    vitals = service.record_vitals(setup, episode, VitalsInput(clock.now(), pulse_bpm=88))
    [alert] = [a for a in service.alerts(episode_id=episode) if a.rule == "withdrawal_severity"]
    clock.advance(minutes=5)
    return Ward(service, clock, episode, first.id, dose.id, vitals.id, alert.id, tmp_path)


def _import(w: Ward, actor: str) -> object:
    data = copy.deepcopy(EXAMPLE)
    data["patient"]["mrn"] = "K-7777"  # another patient than the ward's
    w.clock.current = T0 + timedelta(hours=3)
    return w.service.import_episodes(actor, parse_document(data, "test.json"), source="test.json")


# One call per action of the permission matrix, with input that is valid for it.
CALLS: dict[str, Callable[[Ward, str], object]] = {
    "admit": lambda w, a: w.service.admit(a, admission(w.clock.now(), mrn="K-2002", name="Sam Other")),
    "discharge": lambda w, a: w.service.discharge(a, w.episode, w.clock.now()),
    "record_assessment": lambda w, a: w.service.record_assessment(a, w.episode, cows(w.clock.now())),
    "amend_assessment": lambda w, a: w.service.amend_assessment(
        a, w.assessment, cows(w.clock.now() - timedelta(minutes=5)), "pupil size misread"
    ),
    "mark_entered_in_error": lambda w, a: w.service.mark_entered_in_error(a, w.assessment, "wrong bed"),
    "record_vitals": lambda w, a: w.service.record_vitals(a, w.episode, VitalsInput(w.clock.now(), 80)),
    "mark_vitals_entered_in_error": lambda w, a: w.service.mark_vitals_entered_in_error(
        a, w.vitals, "wrong patient"
    ),
    "record_substance_use": lambda w, a: w.service.record_substance_use(
        a, w.episode, SubstanceInput("kratom", last_use_at=w.clock.now() - timedelta(days=1))
    ),
    "import_episodes": _import,
    "export": lambda w, a: w.service.episode_report(a, w.episode),
    "record_dose": lambda w, a: w.service.record_dose(
        a, w.episode, DoseInput("ondansetron", "oral", 4, w.clock.now())
    ),
    "mark_dose_entered_in_error": lambda w, a: w.service.mark_dose_entered_in_error(a, w.dose, "not given"),
    "acknowledge_alert": lambda w, a: w.service.acknowledge_alert(a, w.alert, "seen, comfort meds given"),
    "snooze_alert": lambda w, a: w.service.snooze_alert(a, w.alert, 10),
    "silence_alert": lambda w, a: w.service.silence_alert(a, w.alert),
    "sign_off": lambda w, a: w.service.sign_off(a, w.episode, "reviewed, plan unchanged"),
    "set_protocol_setting": lambda w, a: w.service.set_protocol_setting(
        a, "reassess_first_minutes", 45, "local flowsheet"
    ),
    "manage_users": lambda w, a: w.service.create_user(a, "rn.new", "New Nurse", "nurse", TEMP_PW),
    "reset_password": lambda w, a: w.service.reset_password(a, "rn.target", TEMP_PW),
    "set_workstation_setting": lambda w, a: w.service.set_idle_lock_minutes(a, 5, "busy ward"),
    "view_audit": lambda w, a: w.service.write_audit_csv(a, w.tmp / "audit.csv"),
}
# Further calls guarded by the same action (each must be refused just like its first).
MORE_CALLS: dict[str, Callable[[Ward, str], object]] = {
    "manage_users/list": lambda w, a: w.service.users(a),
    "manage_users/deactivate": lambda w, a: w.service.deactivate_user(a, "rn.target", "left the clinic"),
    "view_audit/search": lambda w, a: w.service.audit_search(a),
}
# Actions whose service arrives with a later issue (backups: issue 7).
NOT_YET_A_SERVICE = {"backup"}


def audit_count(service: ClinicalService) -> int:
    with service.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_every_action_of_the_matrix_has_a_call_here() -> None:
    assert set(CALLS) | NOT_YET_A_SERVICE == set(accounts.ACTIONS)


CASES = [(name, role) for name in [*CALLS, *MORE_CALLS] for role in ACCOUNTS]


@pytest.mark.parametrize(("call", "role"), CASES, ids=[f"{c}-{r}" for c, r in CASES])
def test_role_matrix(ward: Ward, call: str, role: str) -> None:
    action = call.split("/")[0]
    perform = {**CALLS, **MORE_CALLS}[call]
    actor = ACCOUNTS[role]
    before = audit_count(ward.service)
    if accounts.can(role, action):
        perform(ward, actor)
        return
    with pytest.raises(NotPermitted) as refused:
        perform(ward, actor)
    allowed = " or ".join(r for r in accounts.ROLES if r in accounts.PERMISSIONS[action])
    assert refused.value.message == (
        f"{actor} ({role}) may not {accounts.ACTION_WORDS[action]}: that needs the {allowed} role."
    )
    assert audit_count(ward.service) == before  # nothing written, not even half
    assert not (ward.tmp / "audit.csv").exists()


def test_the_expected_refusals_in_plain_words(ward: Ward) -> None:
    """The three refusals a ward meets most, spelled out (the matrix above derives its messages)."""
    with pytest.raises(
        NotPermitted,
        match=r"^rn.role \(nurse\) may not sign off an episode's review: "
        r"that needs the physician role\.$",
    ):
        CALLS["sign_off"](ward, "rn.role")
    with pytest.raises(
        NotPermitted,
        match=r"^it.role \(administrator\) may not record assessments: "
        r"that needs the nurse or physician role\.$",
    ):
        CALLS["record_assessment"](ward, "it.role")
    with pytest.raises(
        NotPermitted,
        match=r"^dr.role \(physician\) may not reset passwords: "
        r"that needs the administrator role\.$",
    ):
        CALLS["reset_password"](ward, "dr.role")


def test_a_temporary_password_must_be_changed_before_any_write(ward: Ward) -> None:
    service = ward.service
    admin = service.create_first_administrator("admin", "Ada Admin", "admin passphrase 1").username
    service.create_user(admin, "rn.fresh", "Fresh Nurse", "nurse", TEMP_PW)
    before = audit_count(service)
    with pytest.raises(NotPermitted, match="must change the temporary password"):
        CALLS["record_assessment"](ward, "rn.fresh")
    assert audit_count(service) == before
    service.change_password("rn.fresh", TEMP_PW, "my own passphrase 1")
    CALLS["record_assessment"](ward, "rn.fresh")
