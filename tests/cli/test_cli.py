"""The `monitor` command end to end on files written in the test."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli.main import main


def test_demo_seeds_a_ward_with_a_kratom_patient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["--db", str(db), "demo", "--no-gui"]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "episodes", "--json"]) == 0
    episodes = json.loads(capsys.readouterr().out)
    assert [e["mrn"] for e in episodes] == ["K-1001", "K-1002", "K-1003", "K-1004"]
    assert all(isinstance(e["latest_cows_total"], int) for e in episodes)
    # the kratom patient's substances are stored as kratom
    with sqlite3.connect(db) as raw:
        kinds = {row[0] for row in raw.execute("SELECT substance FROM substance_uses")}
    assert "kratom" in kinds


def test_demo_never_seeds_over_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "clinic.sqlite"
    assert main(["--db", str(db), "demo", "--no-gui"]) == 0
    before = db.read_bytes()
    assert main(["--db", str(db), "demo", "--no-gui"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_audit_verify_reports_an_intact_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.sqlite"
    main(["--db", str(db), "demo", "--no-gui"])
    capsys.readouterr()
    assert main(["--db", str(db), "audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "intact" in out
    rows = int(out.split(":")[1].split()[0])
    assert rows > 30  # users, patients, admissions, 20 assessments, one amendment, one void


def test_audit_verify_names_the_tampered_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.sqlite"
    main(["--db", str(db), "demo", "--no-gui"])
    with sqlite3.connect(db) as raw:
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("UPDATE audit_log SET reason = 'nothing to see' WHERE id = 7")
    capsys.readouterr()
    assert main(["--db", str(db), "audit", "verify"]) == 1
    assert "row 7" in capsys.readouterr().out


def test_not_a_database_exits_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("shopping list\n")
    assert main(["--db", str(bogus), "episodes"]) == 2
    err = capsys.readouterr().err
    assert "not a withdrawal monitor database" in err
    assert "Traceback" not in err
    assert bogus.read_text() == "shopping list\n"


def test_db_and_database_url_together_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", str(tmp_path / "a.sqlite"), "--database-url", "sqlite://", "episodes"])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "withdrawal monitor 0.1.0" in capsys.readouterr().out


def test_a_closed_pipe_ends_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`monitor alerts --json | head`: the reader goes away; no traceback, exit 0."""
    db = tmp_path / "demo.sqlite"
    main(["--db", str(db), "demo", "--no-gui"])
    capsys.readouterr()

    class ClosedPipe:
        def write(self, _text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["--db", str(db), "episodes", "--json"]) == 0


def _self_test(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`monitor self-test` in a fresh interpreter, offscreen, with its own home folders."""
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "self-test"],
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "d"),
            "XDG_STATE_HOME": str(home / "s"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_self_test_opens_and_closes_the_main_window(tmp_path: Path) -> None:
    """What the packaged app's smoke test runs (packaging/smoke_test.py), here from the source tree."""
    done = _self_test(tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        r"self-test ok: schema \w+, main window shown and closed, icon 16-256 px \(7 sizes\)\n", done.stdout
    )
    assert not (tmp_path / "d").exists()  # no user data folder touched


def test_self_test_fails_without_the_charts_library(tmp_path: Path) -> None:
    """The window loads pyqtgraph only after it is shown: the self-test still loads it, so a bundle
    without it fails the smoke test instead of a nurse's first Trend."""
    broken = tmp_path / "broken"
    (broken / "pyqtgraph").mkdir(parents=True)
    missing = "raise ImportError('pyqtgraph left out of the bundle')\n"
    (broken / "pyqtgraph" / "__init__.py").write_text(missing)
    done = _self_test(tmp_path, PYTHONPATH=os.pathsep.join([str(broken), *sys.path]))
    assert done.returncode == 2
    assert done.stderr == "monitor: self-test failed: ImportError: pyqtgraph left out of the bundle\n"


def test_a_failing_self_test_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr("monitor.services.locations.connect", broken)
    assert main(["self-test"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("monitor: self-test failed:") and err.count("\n") == 1


def test_the_ward_server_comes_from_the_environment_unless_a_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ward = tmp_path / "ward-server.sqlite"  # stands in for the ward's server: any database URL works
    local = tmp_path / "local.sqlite"
    assert main(["--db", str(ward), "demo", "--no-gui"]) == 0
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{ward}")
    capsys.readouterr()
    assert main(["episodes", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 4  # the demo ward, reached through the variable
    # --db wins over the variable; a file that is not there is not made (a mistyped path answered from
    # a new, empty database: "no active alerts")
    assert main(["--db", str(local), "episodes", "--json"]) == 2
    assert capsys.readouterr().err.startswith(f"monitor: There is no database at {local}. Check the path.")
    assert not local.exists()
