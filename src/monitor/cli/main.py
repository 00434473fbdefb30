"""The `monitor` command: opens the GUI, or runs headless work on the same services.

Exit codes: 0 done, 2 bad input or a database problem (a plain message on stderr, never a traceback).

This module imports only light modules: the app's start checks the database file on a worker thread
first (monitor.store.sqlite_file), so the check runs while Qt, SQLAlchemy and the services load rather
than after them. The heavy modules load where a command needs them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import __version__
from monitor.domain import accounts
from monitor.services import locations
from monitor.services.errors import DatabaseProblem, ProblemKind, ServiceError

if TYPE_CHECKING:
    from monitor.services.clinical import ClinicalService

EXIT_OK = 0
EXIT_BAD_INPUT = 2

log = logging.getLogger("monitor")


EXPORT_FORMATS = ("pdf", "fhir", "json", "csv")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"monitor: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="monitor",
        description="Withdrawal monitor: bedside COWS charting for opioid detox clinics.",
    )
    parser.add_argument("--version", action="version", version=f"withdrawal monitor {__version__}")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite database file (default: user data folder)"
    )
    where.add_argument(
        "--database-url",
        metavar="URL",
        help="database URL, e.g. postgresql+psycopg://user@host/monitor (default: $MONITOR_DATABASE_URL)",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="the existing account a command writes as (default: $MONITOR_USER, else the workstation "
        "account); for the app it only fills in the sign-in's user name",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("gui", help="open the app (the default)")
    commands.add_parser(
        "self-test",
        help="open the main window offscreen on a temporary database and close it (checks an install)",
    )
    demo = commands.add_parser("demo", help="open the app on a freshly seeded demo database")
    demo.add_argument("--no-gui", action="store_true", help="only create and seed the demo database")
    episodes = commands.add_parser("episodes", help="list open episodes")
    episodes.add_argument("--json", action="store_true", help="print JSON")
    importer = commands.add_parser("import", help="import episode files (all-or-nothing, idempotent)")
    importer.add_argument("files", nargs="+", type=Path, metavar="FILE", help="episode JSON file(s)")
    importer.add_argument(
        "--no-create-users",
        action="store_true",
        help="refuse records by unknown users instead of creating them as inactive accounts",
    )
    alerts = commands.add_parser("alerts", help="evaluate and print alerts")
    alerts.add_argument("--mrn", help="only this patient")
    alerts.add_argument("--at", metavar="TIME", help="evaluate as of this ISO 8601 time (default: now)")
    alerts.add_argument("--all", action="store_true", help="every alert ever raised, with its state")
    alerts.add_argument("--json", action="store_true", help="print a JSON array")
    exporter = commands.add_parser(
        "export",
        help="write episodes as a PDF report, CSV, episode JSON or a FHIR R4 bundle (audited)",
        description="PDF and FHIR cover one episode (--mrn); CSV and JSON also a period (--since/--until).",
    )
    exporter.add_argument(
        "--format",
        required=True,
        choices=EXPORT_FORMATS,
        help="pdf, fhir, json (episode@1), csv (with --table)",
    )
    exporter.add_argument(
        "--table", choices=("assessments", "doses", "alerts"), default="assessments", help="for --format csv"
    )
    exporter.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="the file to write"
    )
    exporter.add_argument("--overwrite", action="store_true", help="write over FILE if it exists")
    exporter.add_argument("--mrn", help="the patient (their newest episode)")
    exporter.add_argument("--since", metavar="TIME", help="episodes open after this ISO 8601 time")
    exporter.add_argument("--until", metavar="TIME", help="episodes open before this ISO 8601 time")
    backup = commands.add_parser(
        "backup",
        help="write an integrity-checked copy of the SQLite database (default: into backups/ beside it)",
        description="Without --user the copy is the application's own (signed by the system account in the "
        "audit trail; $MONITOR_USER is not used): whoever can run this command can read the database file "
        "anyway. With `monitor --user NAME backup` the account must be an administrator. For PostgreSQL "
        "use pg_dump.",
    )
    backup.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the backup exactly here (never over a file)"
    )
    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup (--user must name an administrator)",
        description="Checks the backup first (an SQLite file, intact, with this program's schema) and "
        "refuses it otherwise, changing nothing. The replaced database is kept beside it as "
        "<name>.before-restore-<UTC time>. Close the app everywhere that uses the database first. "
        "Run it as `monitor --user NAME restore FILE`: NAME must be an administrator, also in the backup. "
        "Works on a damaged database too. For PostgreSQL use pg_restore.",
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="the backup file to restore")
    audit = commands.add_parser("audit", help="audit trail checks")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_commands.add_parser("verify", help="check the hash chain and name the first broken row")
    export = audit_commands.add_parser("export", help="write the audit trail (newest first) to a CSV file")
    export.add_argument("--csv", type=Path, required=True, metavar="FILE", help="the CSV file to write")
    export.add_argument("--overwrite", action="store_true", help="write over FILE if it exists")
    export.add_argument("--mrn", help="only this patient's rows")
    export.add_argument("--user", dest="audit_user", metavar="NAME", help="only this user's rows")
    export.add_argument("--since", metavar="TIME", help="from this ISO 8601 time (e.g. 2026-11-20T08:00Z)")
    export.add_argument("--until", metavar="TIME", help="up to this ISO 8601 time")
    export.add_argument("--action", help="only this action, e.g. assessment.record")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 prints escaped, not as a crash
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    if args.db is None and args.database_url is None and args.command not in ("demo", "self-test"):
        # A ward's workstations set the server once (a shortcut's environment) instead of on every call.
        args.database_url = locations.configured_database_url()
    for name, value in vars(args).items():  # bytes that are not UTF-8 arrive as lone surrogates
        if isinstance(value, str) and not _is_utf8(value):
            print(f"monitor: --{name.replace('_', '-')} {value!r} is not UTF-8 text", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        return _dispatch(args, _start_integrity_check(args))
    except DatabaseProblem as problem:
        log.debug("database problem: %s", problem.detail)
        message = problem.message
        if problem.kind is ProblemKind.CORRUPT and args.database_url is None:
            # The way back: the newest backup that passes its check, and the command to restore it.
            from monitor.services.backups import damage_advice

            message = damage_advice(args.db or locations.default_database_path(), problem.message)
        print(f"monitor: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ServiceError as refusal:
        print(f"monitor: {refusal.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `monitor alerts --json | head`): point stdout at /dev/null so the
        # interpreter's final flush does not print a traceback, and end quietly (Python's documented way).
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _acting_user(service: ClinicalService, requested: str | None, action: str, *, make: bool = True) -> str:
    """The account a command writes as: --user or $MONITOR_USER must name an existing account (the
    command line never creates one); without either, the workstation account (a nurse with no
    password, which cannot sign in to the app), made only when a nurse may do `action` (and, with
    `make` False, left to the service to make in the command's own transaction)."""
    name = (requested or locations.configured_user() or "").strip()
    if not name:
        if not accounts.can(accounts.NURSE, action):
            # Refused before the workstation account is made: a refused command writes nothing.
            raise ServiceError(
                f"The workstation account (a nurse) may not {accounts.ACTION_WORDS[action]}: "
                "name an account that may with --user NAME."
            )
        if make:
            return service.ensure_workstation_user().username
        from monitor.services.base import WORKSTATION_USERNAME  # the services are loaded by now

        return WORKSTATION_USERNAME
    if not service.account_exists(name):
        raise ServiceError(
            f"There is no account {name!r}. An administrator creates accounts in the app "
            "(Clinic > Users and workstation lock)."
        )
    return name


def _start_integrity_check(args: argparse.Namespace) -> Future[str | None] | None:
    """For the app on an SQLite file: its integrity check, started before anything heavy is imported
    (run_gui waits for the answer before it opens the file)."""
    if args.command not in (None, "gui") or args.database_url is not None:
        return None
    try:
        path = Path(args.db or locations.default_database_path())
    except OSError:
        return None  # no data folder: the app says so itself, once its window can show it
    return locations.start_integrity_check(path)


def _dispatch(args: argparse.Namespace, integrity: Future[str | None] | None) -> int:
    if args.command == "demo":
        return _demo(args)
    if args.command == "self-test":
        return _self_test()
    if args.command in (None, "gui"):
        from monitor.ui.app import run_gui  # Qt only when a window is wanted

        return run_gui(path=args.db, url=args.database_url, user=args.user, integrity=integrity)
    from monitor.services import backups

    if args.command in ("backup", "restore") and args.database_url:
        raise ServiceError(backups.POSTGRES_REFUSAL)  # before connecting: the server may not even answer
    if args.command == "restore":
        return _restore(args)
    for option in ("at", "since", "until"):  # refuse a bad time before the database is opened (or created)
        if getattr(args, option, None):
            _parse_time(getattr(args, option), f"--{option}")
    if args.database_url is None:
        _check_database_exists(Path(args.db) if args.db else locations.default_database_path(), args.command)
    service = locations.connect(path=args.db, url=args.database_url)
    try:
        if args.command == "episodes":
            return _episodes(service, args.json)
        if args.command == "import":
            return _import(service, args)
        if args.command == "alerts":
            return _alerts(service, args)
        if args.command == "export":
            return _export(service, args)
        if args.command == "backup":
            return _backup(service, args)
        if args.command == "audit" and args.audit_command == "export":
            return _audit_export(service, args)
        if args.command == "audit":
            report = service.verify_audit_chain()
            if report.intact:
                print(f"audit chain intact: {report.rows_checked} rows checked")
                return EXIT_OK
            print(f"audit chain BROKEN at row {report.first_broken_id}: {report.problem}")
            return 1
    finally:
        service.db.dispose()
    return EXIT_BAD_INPUT


def _check_database_exists(path: Path, command: str) -> None:
    """A mistyped --db made a new, empty database and answered from it: "no active alerts" for a ward
    that has some. The commands that read refuse a file that is not there; an import makes the new
    database, as before (a fresh file to check episode files in), and says so."""
    if path.is_dir():
        raise ServiceError(f"{path} is a folder, not a database file: give the file's path.")
    if path.exists():
        return
    if command != "import":
        raise ServiceError(
            f"There is no database at {path}. Check the path. A new clinic database is made by the app's "
            f"first start (monitor --db {path}), a demo by `monitor --db {path} demo`."
        )
    print(f"monitor: there was no database at {path}: importing into a new one", file=sys.stderr)


def _episodes(service: ClinicalService, as_json: bool) -> int:
    episodes = service.open_episodes()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "episode_id": e.id,
                        "mrn": e.mrn,
                        "name": e.name,
                        "bed": e.bed,
                        "admitted_at": e.admitted_at.isoformat(),
                        "latest_cows_total": e.latest_total,
                        "latest_cows_band": e.latest_band or None,
                        "latest_cows_at": e.latest_taken_at.isoformat() if e.latest_taken_at else None,
                    }
                    for e in episodes
                ],
                indent=2,
            )
        )
        return EXIT_OK
    for e in episodes:
        latest = f"COWS {e.latest_total} ({e.latest_band})" if e.latest_total is not None else "no COWS yet"
        print(f"{e.bed or '-':6} {e.mrn:10} {e.name:30} {latest}")
    return EXIT_OK


def _import(service: ClinicalService, args: argparse.Namespace) -> int:
    from monitor.io.episode_json import EpisodeFileError, load_file

    records = []
    try:
        for path in args.files:  # read and check every file before writing anything
            records.extend(load_file(path))
    except EpisodeFileError as error:
        print(f"monitor: import refused, nothing was written: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # A refused import writes nothing, not even the workstation account: the import makes it.
    actor = _acting_user(service, args.user, "import_episodes", make=False)
    try:
        report = service.import_episodes(
            actor,
            records,
            create_unknown_users=not args.no_create_users,
            source=", ".join(p.name for p in args.files),
        )
    except ServiceError as refusal:
        print(f"monitor: import refused, nothing was written: {refusal.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"imported {', '.join(str(p) for p in args.files)}: {report.summary()}")
    return EXIT_OK


def _parse_time(text: str, option: str = "--at") -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ServiceError(f"{option} {text!r} is not an ISO 8601 time (e.g. 2026-11-20T10:00:00Z)") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ServiceError(f"{option} {text!r} has no offset; add Z or +01:00")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first day of the calendar in UTC
        raise ServiceError(f"{option} {text!r} is outside the calendar in UTC") from None


def _export(service: ClinicalService, args: argparse.Namespace) -> int:
    since = _parse_time(args.since, "--since") if args.since else None
    until = _parse_time(args.until, "--until") if args.until else None
    if args.mrn is None and since is None and until is None:
        raise ServiceError("Say what to export: --mrn MRN, or a period with --since and/or --until.")
    if args.mrn is not None and (since is not None or until is not None):
        raise ServiceError("Give either --mrn or a period (--since/--until), not both.")
    fmt = f"csv-{args.table}" if args.format == "csv" else args.format
    episode_ids = (
        [service.episode_for_mrn(args.mrn)]
        if args.mrn is not None
        else service.episodes_between(since, until)
    )
    actor = _acting_user(service, args.user, "export")
    result = service.export(
        actor, fmt, args.output, episode_ids=episode_ids, since=since, until=until, replace=args.overwrite
    )
    print(result.summary())
    return EXIT_OK


def _size(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KiB"
    return f"{size_bytes / (1024 * 1024):.1f} MiB"


def _backup(service: ClinicalService, args: argparse.Namespace) -> int:
    # Only an explicit --user signs as a person: $MONITOR_USER is usually a nurse (see the help).
    actor = args.user.strip() if args.user else None
    if actor is not None and not service.account_exists(actor):
        raise ServiceError(f"There is no account {actor!r}.")
    info = service.backup_now(actor, args.output, reason="command line")
    print(f"backup written: {info.path} ({_size(info.size_bytes)})")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    if not (args.user or "").strip():
        raise ServiceError("monitor restore needs --user NAME of an administrator.")
    actor = args.user.strip()
    path: Path = args.db or locations.default_database_path()
    try:
        service = locations.connect(path=path)
    except DatabaseProblem as problem:
        if problem.kind is not ProblemKind.CORRUPT:
            raise
        # A damaged database is why one restores: go ahead without opening it (the backup's accounts
        # decide whether --user may).
        log.debug("restoring over a damaged database: %s", problem.detail)
        from monitor.services import backups

        kept = backups.restore_database_file(path, args.file, actor)
    else:
        try:
            kept = service.restore(actor, args.file)
        finally:
            service.db.dispose()
    print(f"restored {args.file} into {path}")
    print(f"the replaced database is kept as {kept}")
    return EXIT_OK


def _audit_export(service: ClinicalService, args: argparse.Namespace) -> int:
    since = _parse_time(args.since, "--since") if args.since else None
    until = _parse_time(args.until, "--until") if args.until else None
    actor = _acting_user(service, args.user, "view_audit")
    count = service.write_audit_csv(
        actor,
        args.csv,
        mrn=args.mrn,
        username=args.audit_user,
        since=since,
        until=until,
        action=args.action,
        replace=args.overwrite,
    )
    print(f"wrote {count} rows to {args.csv}")
    return EXIT_OK


def _alerts(service: ClinicalService, args: argparse.Namespace) -> int:
    at = _parse_time(args.at) if args.at else datetime.now(UTC)
    alerts = service.alerts_as_of(at, mrn=args.mrn, include_all=args.all)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "mrn": a.mrn,
                        "patient": a.patient,
                        "bed": a.bed,
                        "episode_id": a.episode_id,
                        "key": a.key,
                        "rule": a.rule,
                        "priority": a.priority,
                        "raised_at": a.raised_at.isoformat().replace("+00:00", "Z"),
                        "state": a.state,
                        "message": a.message,
                        "evidence": a.evidence,
                        "resolved_at": a.resolved_at.isoformat().replace("+00:00", "Z")
                        if a.resolved_at
                        else None,
                        "acknowledged_by": a.acknowledged_by or None,
                        "acknowledge_reason": a.acknowledge_reason or None,
                    }
                    for a in alerts
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    if not alerts:
        print("no alerts" if args.all else "no active alerts")
    for a in alerts:
        shape = {"high": "▲ HIGH  ", "medium": "◆ MEDIUM", "low": "● LOW   "}[a.priority]
        print(f"{shape} {a.state:12} {a.mrn:10} {a.bed or '-':5} {a.raised_at:%Y-%m-%d %H:%M}Z  {a.message}")
    return EXIT_OK


def _self_test() -> int:
    """Open the main window offscreen against a throwaway SQLite database and close it (issue 8).

    Checks what a packaged build most often lacks: the migrations on disk, the SQLite dialect, the
    password hashing binding and the Qt platform plugin. Touches no user's data.
    """
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-self-test-") as folder:
            path = Path(folder) / "self-test.sqlite"
            service = locations.connect(path=path)
            try:
                service.ensure_user("self-test", "Self test", "nurse")
                revision = service.db.schema_revision
                _show_main_window_briefly(service, str(path))
            finally:
                service.db.dispose()
    except Exception as failure:  # any failure is the answer: one line, no traceback
        log.debug("self-test failed", exc_info=True)
        detail = " ".join(str(failure).split()) or type(failure).__name__
        print(f"monitor: self-test failed: {type(failure).__name__}: {detail}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"self-test ok: schema {revision}, main window shown and closed, icon {_icon_sizes()}")
    return EXIT_OK


def _icon_sizes() -> str:
    """The window icon's sizes, e.g. "16-256 px (7 sizes)", or "not found" (the bundle lacks it)."""
    from monitor.ui.app_icon import app_icon

    sizes = sorted(size.width() for size in app_icon().availableSizes())
    return f"{sizes[0]}-{sizes[-1]} px ({len(sizes)} sizes)" if sizes else "not found"


def _show_main_window_briefly(service: ClinicalService, location: str) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from monitor.ui.main_window import DEFERRED_MODULES, MainWindow  # Qt only here

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    window = MainWindow(service, "self-test", location)
    # What the window loads after it is shown (the dialogs, the charts' library): a bundle that lacks
    # one fails here, not at a nurse's first COWS form or Trend. The trend view is built as by Ctrl+4.
    for name in DEFERRED_MODULES:
        importlib.import_module(name)
    window.views.setCurrentWidget(window.trend_tab)
    shown: list[bool] = []

    def look_and_quit() -> None:
        shown.append(window.isVisible())  # before quit(): Qt 6 closes the windows on quit
        app.quit()

    try:
        window.show()
        QTimer.singleShot(200, look_and_quit)
        app.exec()
        if shown != [True]:
            raise RuntimeError("the main window was not shown")
    finally:
        window.close()
        QApplication.processEvents()


def _demo(args: argparse.Namespace) -> int:
    from monitor.services.demo import DEMO_SIGN_IN_HINT

    if args.database_url:
        print("monitor: the demo only seeds a local SQLite file; drop --database-url", file=sys.stderr)
        return EXIT_BAD_INPUT
    path: Path = args.db or locations.demo_database_path()
    if args.db is not None and path.exists() and path.stat().st_size > 0:
        print(f"monitor: {path} already exists; the demo seeds only a new file", file=sys.stderr)
        return EXIT_BAD_INPUT
    locations.rebuild_demo_database(path)  # the file is new (or the app's own demo file)
    print(f"demo database: {path}")
    if args.no_gui:
        return EXIT_OK
    from monitor.ui.app import run_gui

    return run_gui(path=path, url=None, user=args.user, sign_in_hint=DEMO_SIGN_IN_HINT)


if __name__ == "__main__":
    sys.exit(main())
