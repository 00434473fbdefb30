"""Roles, what each role may do, the password policy and the lockout rule (issue 5). Pure data.

The permission matrix is data, not code scattered through the services: `PERMISSIONS` maps every
service action to the roles allowed to do it, and `can(role, action)` is the one question the services
(and the UI, to hide what would be refused anyway) ask.

Roles, as issue 5 states them:
- nurse: admit (and discharge), record (assessments, corrections, vital signs, substance use), dose,
  acknowledge alerts (acknowledge, snooze, silence);
- physician: everything a nurse may do, plus sign-off and the clinical protocol settings;
- administrator: user accounts, password resets, backups, the workstation settings and the audit
  trail; no clinical charting unless the same account also holds a clinical role.

One person has one account, so a clinician who also administers holds both roles in it: a role string
may combine roles with "+" ("physician+administrator"), and its rights are the union.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

NURSE: Final = "nurse"
PHYSICIAN: Final = "physician"
ADMINISTRATOR: Final = "administrator"
ROLES: Final[tuple[str, ...]] = (NURSE, PHYSICIAN, ADMINISTRATOR)
ROLE_SEPARATOR: Final = "+"

_CLINICAL = frozenset({NURSE, PHYSICIAN})
_PHYSICIAN = frozenset({PHYSICIAN})
_ADMINISTRATOR = frozenset({ADMINISTRATOR})
# Audit review is oversight: the administrator keeps the trail, a physician reviews the care.
_OVERSIGHT = frozenset({PHYSICIAN, ADMINISTRATOR})

PERMISSIONS: Final[Mapping[str, frozenset[str]]] = {
    # admit
    "admit": _CLINICAL,
    "discharge": _CLINICAL,
    # record
    "record_assessment": _CLINICAL,
    "amend_assessment": _CLINICAL,
    "mark_entered_in_error": _CLINICAL,
    "record_vitals": _CLINICAL,
    "mark_vitals_entered_in_error": _CLINICAL,
    "record_substance_use": _CLINICAL,
    # Importing episode files writes clinical records (admissions, assessments, doses): charting.
    "import_episodes": _CLINICAL,
    # Exports (PDF, CSV, episode JSON, FHIR) take patient records out of the app: the care team's.
    "export": _CLINICAL,
    # dose
    "record_dose": _CLINICAL,
    "mark_dose_entered_in_error": _CLINICAL,
    # acknowledge
    "acknowledge_alert": _CLINICAL,
    "snooze_alert": _CLINICAL,
    "silence_alert": _CLINICAL,
    # physician
    "sign_off": _PHYSICIAN,
    # The thresholds that decide when an alert fires are a clinical decision.
    "set_protocol_setting": _PHYSICIAN,
    # administrator
    "manage_users": _ADMINISTRATOR,
    "reset_password": _ADMINISTRATOR,
    "backup": _ADMINISTRATOR,
    # Workstation settings that are not clinical (the idle lock's minutes).
    "set_workstation_setting": _ADMINISTRATOR,
    "view_audit": _OVERSIGHT,
}
ACTIONS: Final[tuple[str, ...]] = tuple(PERMISSIONS)

# Each action in the words of a refusal: "rn.lee (nurse) may not sign off an episode's review".
ACTION_WORDS: Final[Mapping[str, str]] = {
    "admit": "admit patients",
    "discharge": "discharge patients",
    "record_assessment": "record assessments",
    "amend_assessment": "amend assessments",
    "mark_entered_in_error": "mark assessments entered in error",
    "record_vitals": "record vital signs",
    "mark_vitals_entered_in_error": "mark vital signs entered in error",
    "record_substance_use": "record substance use",
    "import_episodes": "import episode files",
    "export": "export patient records",
    "record_dose": "record doses",
    "mark_dose_entered_in_error": "mark doses entered in error",
    "acknowledge_alert": "acknowledge alerts",
    "snooze_alert": "snooze alerts",
    "silence_alert": "silence alerts",
    "sign_off": "sign off an episode's review",
    "set_protocol_setting": "change the clinical protocol",
    "manage_users": "manage user accounts",
    "reset_password": "reset passwords",
    "backup": "make or restore backups",
    "set_workstation_setting": "change the workstation settings",
    "view_audit": "view or export the audit trail",
}


def refusal(username: str, role: str, action: str) -> str:
    """Why an account may not do an action, and which role may: the message a refused user reads."""
    allowed = " or ".join(r for r in ROLES if r in PERMISSIONS[action])
    return f"{username} ({role}) may not {ACTION_WORDS[action]}: that needs the {allowed} role."


class UnknownAction(KeyError):
    """A permission asked for an action the matrix does not name: a programming error, never 'no'."""


def roles_of(role: str) -> frozenset[str]:
    """The known roles in a (possibly combined) role string; unknown parts give no rights."""
    parts = {part.strip() for part in role.split(ROLE_SEPARATOR)}
    return frozenset(parts & set(ROLES))


def is_valid_role(role: str) -> bool:
    """Every part of the role string is a known role, and there is at least one."""
    parts = [part.strip() for part in role.split(ROLE_SEPARATOR)]
    return bool(parts) and all(part in ROLES for part in parts) and len(set(parts)) == len(parts)


def can(role: str, action: str) -> bool:
    """May an account with this role do this action?"""
    try:
        allowed = PERMISSIONS[action]
    except KeyError:
        raise UnknownAction(action) from None
    return bool(roles_of(role) & allowed)


# --- passwords ------------------------------------------------------------------------------------

# NIST SP 800-63B and OWASP ask for length rather than composition rules; 12 for a shared ward.
MIN_PASSWORD_LENGTH: Final = 12
# Far above any passphrase; stops a pasted megabyte from being hashed.
MAX_PASSWORD_LENGTH: Final = 1024


def check_password_policy(password: str, username: str) -> str | None:
    """None if the password may be used, otherwise why not (a message fit for the screen)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must be at most {MAX_PASSWORD_LENGTH} characters long."
    if password.strip().casefold() == username.strip().casefold():
        return "The password must not be the user name."
    if len(set(password)) == 1:
        return "The password must not be one character repeated."
    return None


# --- lockout --------------------------------------------------------------------------------------

LOCKOUT_ATTEMPTS: Final = 5
LOCKOUT_DURATION: Final = timedelta(minutes=5)


# --- the idle lock of a shared bedside workstation --------------------------------------------------

# Issue 5: the screen locks after a configurable number of idle minutes, 10 unless set otherwise.
IDLE_LOCK_DEFAULT_MINUTES: Final = 10
# At least 1 minute (a nurse reading a trend must not be thrown out mid-thought), at most an hour
# (longer leaves a ward's patient list open to whoever walks by).
IDLE_LOCK_MIN_MINUTES: Final = 1
IDLE_LOCK_MAX_MINUTES: Final = 60
IDLE_LOCK_KEY: Final = "idle_lock_minutes"


def check_idle_lock_minutes(minutes: float) -> str | None:
    """None if the value may be used, otherwise why not."""
    if minutes != int(minutes):
        return "The idle lock is set in whole minutes."
    if not IDLE_LOCK_MIN_MINUTES <= minutes <= IDLE_LOCK_MAX_MINUTES:
        return f"The idle lock must be between {IDLE_LOCK_MIN_MINUTES} and {IDLE_LOCK_MAX_MINUTES} minutes."
    return None
