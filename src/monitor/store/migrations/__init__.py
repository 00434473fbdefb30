"""Alembic migrations shipped inside the package and applied at start (one step per schema version).

Alembic is imported only when there is something to migrate or check against the scripts: a database
already at the head revision opens without it (alembic, with mako and pygments, was about a quarter of the
app's imports at start: issue 9, bench/process_figures.py).
"""

from __future__ import annotations

import ast
import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from monitor.store.errors import DatabaseProblem, ProblemKind

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

HERE = Path(__file__).parent
# Alembic's default table for the schema revision (env.py keeps the default).
VERSION_TABLE = "alembic_version"


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


@functools.cache
def plain_head() -> str | None:
    """The head revision read straight from the scripts in versions/ (their `revision` and
    `down_revision` assignments), without importing alembic; None unless they form one plain chain of
    string literals (a merge, a computed id, scripts shipped as bytecode only): then alembic decides."""
    parents: dict[str, str | None] = {}
    for script in sorted((HERE / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                values[target.id] = value.value
        revision, parent = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None
        parents[revision] = parent
    heads = set(parents) - set(parents.values())
    return heads.pop() if len(heads) == 1 and len(parents) > 0 else None


def is_known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:  # alembic raises several types for an unknown id
        return False


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision, None before the first migration: what alembic's
    MigrationContext.get_current_revision reads, read here without importing alembic."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = list(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    if len(found) > 1:
        raise DatabaseProblem(ProblemKind.OTHER, f"several schema revisions stored: {', '.join(found)}")
    return found[0] if found else None


# Alembic keeps the running migration's context in process-wide state: two databases migrated at
# once from two threads cross over (seen as "table already exists" and crashes in the crash-safety
# test's first version). One at a time.
_MIGRATING = threading.Lock()


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    with _MIGRATING:
        command.upgrade(config(connection), revision)
