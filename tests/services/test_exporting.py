"""Exports through the service and the command line (issue 6): complete files or none, one audit row
each, plain refusals. The formats themselves are tested in tests/io."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from monitor.cli.main import main
from monitor.services.clinical import ClinicalService
from monitor.services.errors import DatabaseProblem, NotFound, ProblemKind, ValidationError
from tests.conftest import T0, FakeClock
from tests.helpers import admission, cows
from tests.report_helpers import MRN, PATIENT_NAME, Charted, chart_sample_episode


@pytest.fixture
def charted(service: ClinicalService, clock: FakeClock, nurse: str, physician: str) -> Charted:
    return chart_sample_episode(service, clock, nurse, physician)


def export_rows(service: ClinicalService) -> list[dict[str, object]]:
    return [
        {"user": e.username, "mrn": e.patient_mrn, **json.loads(e.after_json)}
        for e in service.audit_search("dr.rao", action="episode.export")
    ][::-1]


def test_a_pdf_export_writes_the_file_and_one_audit_row(
    service: ClinicalService, charted: Charted, nurse: str, tmp_path: Path
) -> None:
    steps: list[tuple[int, int]] = []
    out = tmp_path / "out"
    out.mkdir()
    target = out / "K-1001.pdf"
    result = service.export(
        nurse, "pdf", target, episode_ids=[charted.episode], progress=lambda d, t: steps.append((d, t))
    )
    pages = len(PdfReader(target).pages)
    assert (result.path, result.episodes, result.written) == (target, 1, pages)
    assert result.summary() == f"Exported 1 episode to {target} ({pages} pages)."
    assert steps == [(1, 2), (2, 2)]
    assert PATIENT_NAME in PdfReader(target).pages[0].extract_text()
    assert export_rows(service) == [
        {
            "user": "rn.lee",
            "mrn": MRN,
            "format": "pdf",
            "episodes": [charted.episode],
            "written": pages,
            "unit": "pages",
            "file": "K-1001.pdf",  # the name only: a folder can name a person
        }
    ]
    assert sorted(p.name for p in out.iterdir()) == ["K-1001.pdf"]  # no temporary file left


def test_fhir_and_json_exports_are_json_documents(
    service: ClinicalService, charted: Charted, nurse: str, tmp_path: Path
) -> None:
    service.export(nurse, "fhir", tmp_path / "b.fhir.json", episode_ids=[charted.episode])
    bundle = json.loads((tmp_path / "b.fhir.json").read_text(encoding="utf-8"))
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    service.export(nurse, "json", tmp_path / "e.json", episode_ids=[charted.episode])
    document = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert document["format"] == "withdrawal-monitor/episode@1"
    assert document["patient"]["mrn"] == MRN


def test_a_csv_over_a_period_takes_the_episodes_open_then(
    service: ClinicalService, charted: Charted, nurse: str, clock: FakeClock, tmp_path: Path
) -> None:
    later = service.admit(nurse, admission(clock.now(), "K-2002", "Sam Other", "4A"))
    service.record_assessment(nurse, later, cows(clock.now(), yawning=1))
    clock.advance(days=3)
    service.discharge(nurse, later, clock.now())
    assert service.episodes_between(T0 - timedelta(days=1), T0) == [charted.episode]
    both = service.episodes_between(T0, None)
    assert both == [charted.episode, later]
    target = tmp_path / "a.csv"
    result = service.export(nurse, "csv-assessments", target, episode_ids=both)
    with target.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert result.written == len(rows) == 5 + 1  # every version of the sample's five, and Sam's one
    assert {r["mrn"] for r in rows} == {MRN, "K-2002"}
    assert export_rows(service)[0]["episodes"] == [charted.episode, later]
    assert export_rows(service)[0]["mrn"] == ""  # two patients: no single patient on the row


def test_refusals_write_nothing(
    service: ClinicalService, charted: Charted, nurse: str, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(ValidationError, match="covers one episode"):
        service.export(nurse, "pdf", tmp_path / "x.pdf", episode_ids=[charted.episode, charted.episode])
    with pytest.raises(ValidationError, match="Unknown format 'docx'"):
        service.export(nurse, "docx", tmp_path / "x.docx", episode_ids=[charted.episode])
    with pytest.raises(ValidationError, match="nothing to export"):
        service.export(nurse, "csv-doses", tmp_path / "x.csv", episode_ids=[])
    with pytest.raises(ValidationError, match="Cannot write"):
        service.export(nurse, "pdf", tmp_path / "missing" / "x.pdf", episode_ids=[charted.episode])
    with pytest.raises(ValidationError, match="is a folder"):
        service.export(nurse, "pdf", tmp_path, episode_ids=[charted.episode])
    with pytest.raises(NotFound, match="No patient has the MRN 'K-9999'"):
        service.episode_for_mrn("K-9999")
    assert export_rows(service) == []
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_written_over_only_when_asked(
    service: ClinicalService, charted: Charted, nurse: str, tmp_path: Path
) -> None:
    """QA: `export -o notes.txt` silently replaced an unrelated file."""
    target = tmp_path / "notes.txt"
    target.write_text("the ward's handover notes", encoding="utf-8")
    with pytest.raises(ValidationError, match="already exists: an export does not write over a file"):
        service.export(nurse, "csv-assessments", target, episode_ids=[charted.episode])
    assert target.read_text(encoding="utf-8") == "the ward's handover notes"
    assert export_rows(service) == []
    service.export(nurse, "csv-assessments", target, episode_ids=[charted.episode], replace=True)
    assert target.read_text(encoding="utf-8-sig").startswith("mrn,episode_id,")
    assert len(export_rows(service)) == 1


@pytest.mark.sqlite_only  # the database file and its backups exist on SQLite only
def test_no_export_writes_over_the_database_its_files_or_its_backups(
    service: ClinicalService, charted: Charted, nurse: str, physician: str, db_path: Path
) -> None:
    """QA: `audit export --csv ward.sqlite` turned the clinic's database into a CSV file."""
    backup = service.backup_now(None).path  # into backups/ beside the database
    backup_bytes = backup.read_bytes()
    clinic_files = (
        db_path,
        Path(f"{db_path}-wal"),
        Path(f"{db_path}-journal"),
        backup,
        backup.with_name("x.csv"),
    )
    for target in clinic_files:
        with pytest.raises(ValidationError, match="is the clinic's database, one of its files or a backup"):
            service.export(nurse, "csv-assessments", target, episode_ids=[charted.episode], replace=True)
        with pytest.raises(ValidationError, match="is the clinic's database, one of its files or a backup"):
            service.write_audit_csv(physician, target, replace=True)
    assert db_path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert backup.read_bytes() == backup_bytes
    assert not backup.with_name("x.csv").exists()
    assert service.episode(charted.episode).mrn == MRN  # the database still opens and answers
    assert export_rows(service) == []


def test_an_export_the_audit_trail_cannot_record_leaves_no_file(
    service: ClinicalService, charted: Charted, nurse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: with the database busy, the file with patient data was on disk and the audit had no row."""

    def busy(*_args: object) -> None:
        raise DatabaseProblem(ProblemKind.BUSY, "database is locked")

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(service, "record_export", busy)
    with pytest.raises(DatabaseProblem):
        service.export(nurse, "pdf", out / "K-1001.pdf", episode_ids=[charted.episode])
    assert list(out.iterdir()) == []


@pytest.mark.sqlite_only  # the command line on the file; the services run on both backends
def test_the_command_line_exports_by_mrn(
    service: ClinicalService,
    charted: Charted,
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "report.pdf"
    assert (
        main(
            [
                "--db",
                str(db_path),
                "--user",
                "rn.lee",
                "export",
                "--mrn",
                MRN,
                "--format",
                "pdf",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(f"Exported 1 episode to {target} (") and out.rstrip().endswith("pages).")
    assert target.read_bytes().startswith(b"%PDF")
    csv_target = tmp_path / "doses.csv"
    base = ["--db", str(db_path), "--user", "rn.lee", "export", "-o", str(csv_target)]
    assert main([*base, "--format", "csv", "--table", "doses", "--since", "2026-11-20T00:00Z"]) == 0
    assert "(3 rows)" in capsys.readouterr().out
    assert main([*base, "--format", "csv"]) == 2
    assert "Say what to export" in capsys.readouterr().err
    assert main([*base, "--format", "pdf", "--mrn", "K-9999"]) == 2
    assert capsys.readouterr().err == "monitor: No patient has the MRN 'K-9999'.\n"
    assert main([*base, "--format", "pdf", "--mrn", MRN, "--since", "2026-11-20T00:00Z"]) == 2
    assert "either --mrn or a period" in capsys.readouterr().err
