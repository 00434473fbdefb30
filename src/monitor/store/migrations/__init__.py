"""Alembic migrations shipped inside the package and applied at start (one step per schema version)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

HERE = Path(__file__).parent
# Alembic's default table for the schema revision (env.py keeps the default).
VERSION_TABLE = "alembic_version"


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def is_known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:  # alembic raises several types for an unknown id
        return False


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


# Alembic keeps the running migration's context in process-wide state: two databases migrated at
# once from two threads cross over (seen as "table already exists" and crashes in the crash-safety
# test's first version). One at a time.
_MIGRATING = threading.Lock()


def upgrade(connection: Connection, revision: str = "head") -> None:
    with _MIGRATING:
        command.upgrade(config(connection), revision)
