"""Where the clinic database lives and how to open it (the CLI and the GUI share this).

Light to import (no SQLAlchemy until something connects): the start asks it for the database's path
before the heavy modules load, to check that file meanwhile (monitor.cli.main).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from monitor.store.sqlite_file import check_database_file

if TYPE_CHECKING:
    from monitor.services.clinical import ClinicalService
    from monitor.services.clock import Clock

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
    from monitor.services.clinical import ClinicalService
    from monitor.store.database import open_database

    if url is None and path is None:
        path = default_database_path()
    database = open_database(path=path, url=url)
    return ClinicalService(database, clock=clock)


def start_integrity_check(path: Path) -> Future[str | None]:
    """The start's check of the SQLite file at `path` (None: not damaged; else a plain message), on a
    worker thread: SQLite reads the file without holding the GIL, so the caller goes on loading modules
    meanwhile. Nothing may open the database before the answer. The thread ends with the check."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="integrity-check")
    try:
        return pool.submit(check_database_file, path)
    finally:
        pool.shutdown(wait=False)


def log_dir() -> Path:
    """The per-user log folder (created 0700). Logs carry record ids, never names or MRNs."""
    path = Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


#: One log file up to 1 MiB, then rotated; five old ones kept (a few weeks of a ward's warnings).
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(folder: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to monitor.log in the user log folder, rotated by size; returns the file's path.

    Called once at start by the app and the command line; warnings also go to stderr as before.
    """
    target = (folder or log_dir()) / "monitor.log"
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == target:
            return target  # already configured (a second call in one process)
    handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, level))
    os.chmod(target, 0o600)
    return target


def stop_logging(target: Path) -> None:
    """Close the file handler configure_logging added for `target`."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == target:
            root.removeHandler(handler)
            handler.close()


def rebuild_demo_database(path: Path | None = None) -> Path:
    """A demo ward (invented patients, times relative to now) in a new file; the default demo file is
    the app's own and rebuilt every time, so the demo always looks like a live ward."""
    from monitor.services.demo import seed_demo

    target = path or demo_database_path()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    service = connect(path=target)
    try:
        seed_demo(service)
    finally:
        service.db.dispose()
    return target


def display_location(path: Path | None, url: str | None) -> str:
    """Where the records are, for the screen: the file, or the server URL with its password hidden."""
    if url is not None:
        from sqlalchemy import make_url

        return make_url(url).render_as_string(hide_password=True)
    return str(path)


def configured_database_url() -> str | None:
    """The ward's database server for this workstation ($MONITOR_DATABASE_URL), when one is set. Its
    password belongs in the PostgreSQL password file (~/.pgpass), not in the URL."""
    return os.environ.get("MONITOR_DATABASE_URL", "").strip() or None


def configured_user() -> str | None:
    """The default acting user configured for this workstation (until sign-in arrives)."""
    return os.environ.get("MONITOR_USER") or None


#: Display preferences of this workstation's OS account (the theme): not clinical data, not audited,
#: kept beside the app's other per-user files. MONITOR_CONFIG_DIR moves the folder (tests, kiosks).
PREFERENCES_FILE = "preferences.json"


def config_dir() -> Path:
    configured = os.environ.get("MONITOR_CONFIG_DIR")
    return Path(configured) if configured else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def read_preferences() -> dict[str, str]:
    """The saved display preferences; an unreadable or hand-broken file counts as none saved (a theme
    is not worth refusing to start over), and the reason goes to the log."""
    path = config_dir() / PREFERENCES_FILE
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as problem:
        logging.getLogger(__name__).warning("display preferences not read (%s): %s", path, problem)
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(key): value for key, value in loaded.items() if isinstance(value, str)}


def save_preference(key: str, value: str) -> None:
    """Save one display preference (written beside and renamed: never half a file). Raises OSError."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    preferences = read_preferences()
    preferences[key] = value
    part = folder / f".{PREFERENCES_FILE}.part"
    part.write_text(json.dumps(preferences, indent=2) + "\n", encoding="utf-8")
    os.replace(part, folder / PREFERENCES_FILE)
