"""Refusals the user can act on. Each carries a plain message; ValidationError also names the field."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refused, with a message fit for the screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    """Bad input: `field` names the input (as the form labels it) so the UI can show it beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """The record changed since it was shown (for example amended at another workstation)."""


class NotPermitted(ServiceError):
    """The acting user's role does not allow this action (monitor.domain.accounts.PERMISSIONS)."""


class SignInRefused(ServiceError):
    """Sign-in (or a password change) refused: wrong credentials, a locked or deactivated account."""


# The UI and CLI see database failures through the services layer, never the store directly.
from monitor.store.errors import DatabaseProblem, ProblemKind  # noqa: E402

__all__ = [
    "Conflict",
    "DatabaseProblem",
    "NotFound",
    "NotPermitted",
    "ProblemKind",
    "ServiceError",
    "SignInRefused",
    "ValidationError",
]
