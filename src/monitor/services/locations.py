"""Where the clinic database lives and how to open it (the CLI and the GUI share this)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from monitor.services.clinical import ClinicalService
from monitor.services.clock import Clock
from monitor.store.database import open_database

APP_NAME = "withdrawal-monitor"
APP_AUTHOR = "WithdrawalMonitor"


def data_dir() -> Path:
    """The per-user data folder (created 0700: it holds patient records)."""
    path = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def default_database_path() -> Path:
    return data_dir() / "monitor.sqlite"


def demo_database_path() -> Path:
    return data_dir() / "demo.sqlite"


def connect(
    *, path: Path | None = None, url: str | None = None, clock: Clock | None = None
) -> ClinicalService:
    """Open (and migrate) the database and return the services over it. Raises DatabaseProblem."""
    if url is None and path is None:
        path = default_database_path()
    database = open_database(path=path, url=url)
    return ClinicalService(database, clock=clock)


def configured_user() -> str | None:
    """The default acting user configured for this workstation (until sign-in arrives)."""
    return os.environ.get("MONITOR_USER") or None
