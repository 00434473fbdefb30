"""Roles and permissions as issue 5 states them, the password policy, the lockout constants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain import accounts
from monitor.domain.accounts import (
    ACTIONS,
    LOCKOUT_ATTEMPTS,
    LOCKOUT_DURATION,
    MIN_PASSWORD_LENGTH,
    ROLES,
    UnknownAction,
    can,
    check_password_policy,
    is_valid_role,
)

N, P, A = "nurse", "physician", "administrator"

# Every action x every role, written out by hand from the issue:
#   nurse: admit, record, dose, acknowledge
#   physician: the nurse's rights, sign-off, protocol settings
#   administrator: users, backups, settings; no clinical charting unless also clinical
MATRIX: dict[str, set[str]] = {
    # admit
    "admit": {N, P},
    "discharge": {N, P},
    # record
    "record_assessment": {N, P},
    "amend_assessment": {N, P},
    "mark_entered_in_error": {N, P},
    "record_vitals": {N, P},
    "mark_vitals_entered_in_error": {N, P},
    "record_substance_use": {N, P},
    "import_episodes": {N, P},
    "export": {N, P},
    # dose
    "record_dose": {N, P},
    "mark_dose_entered_in_error": {N, P},
    # acknowledge
    "acknowledge_alert": {N, P},
    "snooze_alert": {N, P},
    "silence_alert": {N, P},
    # physician only
    "sign_off": {P},
    "set_protocol_setting": {P},
    # administrator
    "manage_users": {A},
    "reset_password": {A},
    "backup": {A},
    "set_workstation_setting": {A},
    "view_audit": {P, A},
}


def test_roles_are_the_three_of_the_issue() -> None:
    assert ROLES == ("nurse", "physician", "administrator")


def test_the_matrix_names_every_action_and_only_those() -> None:
    assert set(ACTIONS) == set(MATRIX)
    # The existing service methods that write are all in the matrix.
    for action in (
        "admit",
        "discharge",
        "record_assessment",
        "amend_assessment",
        "mark_entered_in_error",
        "record_dose",
        "record_vitals",
        "record_substance_use",
        "acknowledge_alert",
        "snooze_alert",
        "silence_alert",
        "sign_off",
        "set_protocol_setting",
        "import_episodes",
        "export",
        "manage_users",
        "reset_password",
        "backup",
        "view_audit",
    ):
        assert action in ACTIONS


@pytest.mark.parametrize(
    ("action", "role"), [(action, role) for action in MATRIX for role in ROLES], ids=lambda v: str(v)
)
def test_permission_matrix(action: str, role: str) -> None:
    assert can(role, action) is (role in MATRIX[action])


def test_physician_has_every_right_of_a_nurse() -> None:
    for action in ACTIONS:
        if can(N, action):
            assert can(P, action), action


def test_administrator_alone_does_no_clinical_charting() -> None:
    clinical = [a for a in ACTIONS if can(N, a)]
    assert clinical
    assert not any(can(A, a) for a in clinical)


def test_an_administrator_who_is_also_clinical_has_both_rights() -> None:
    both = "physician+administrator"
    assert is_valid_role(both)
    assert can(both, "record_assessment")
    assert can(both, "sign_off")
    assert can(both, "manage_users")
    assert can("nurse+administrator", "record_dose")
    assert not can("nurse+administrator", "sign_off")


@pytest.mark.parametrize("role", ["", "system", "doctor", "Nurse", "nurse+", "nurse+nurse", "nurse+janitor"])
def test_invalid_roles(role: str) -> None:
    assert not is_valid_role(role)


@pytest.mark.parametrize("role", ["system", "", "janitor"])
def test_unknown_roles_may_do_nothing(role: str) -> None:
    assert not any(can(role, action) for action in ACTIONS)


def test_an_unknown_action_is_a_programming_error_not_a_refusal() -> None:
    with pytest.raises(UnknownAction):
        can(N, "launch_rockets")


# --- password policy -------------------------------------------------------------------------------


def test_minimum_length_is_twelve() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    assert check_password_policy("a" * 5 + "b" * 6, "rn.lee") is not None  # 11
    assert check_password_policy("a" * 6 + "b" * 6, "rn.lee") is None  # 12


@pytest.mark.parametrize(
    ("password", "username", "fragment"),
    [
        ("", "rn.lee", "at least 12"),
        ("short pass", "rn.lee", "at least 12"),
        ("robin.lee.rn", "robin.lee.rn", "user name"),
        ("Robin.Lee.RN", "robin.lee.rn", "user name"),
        ("x" * 20, "rn.lee", "one character"),
        ("            ", "rn.lee", "one character"),
        ("a" * (accounts.MAX_PASSWORD_LENGTH + 1) + "b", "rn.lee", "at most"),
    ],
)
def test_policy_refusals(password: str, username: str, fragment: str) -> None:
    problem = check_password_policy(password, username)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    "password", ["correct horse battery", "rn.lee rn.lee", "méthadone-4-ever", "aaaaaaaaaaab"]
)
def test_policy_accepts(password: str) -> None:
    assert check_password_policy(password, "rn.lee") is None


def test_lockout_constants() -> None:
    assert LOCKOUT_ATTEMPTS == 5
    assert timedelta(minutes=5) == LOCKOUT_DURATION
