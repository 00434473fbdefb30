"""Searching the audit trail and exporting it to CSV, as an auditor would check it."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.services.audit_queries import CSV_HEADER, AuditRecord
from monitor.services.clinical import ClinicalService
from monitor.services.errors import NotFound, ValidationError
from tests.conftest import T0, FakeClock
from tests.helpers import admission, cows

# The nine rows of the `trail` fixture, oldest first: (id, user, action, patient MRN).
TRAIL = [
    (1, "rn.lee", "user.create", ""),
    (2, "dr.kim", "user.create", ""),
    (3, "rn.lee", "patient.create", "K-1001"),
    (4, "rn.lee", "episode.admit", "K-1001"),
    (5, "rn.lee", "patient.create", "K-1002"),
    (6, "rn.lee", "episode.admit", "K-1002"),
    (7, "rn.lee", "assessment.record", "K-1001"),  # 09:10
    (8, "dr.kim", "assessment.record", "K-1002"),  # 10:10
    (9, "rn.lee", "assessment.entered_in_error", "K-1001"),  # 11:10
]


@pytest.fixture
def trail(service: ClinicalService, nurse: str, clock: FakeClock) -> dict[str, int]:
    doctor = service.ensure_user("dr.kim", "Kim Doe", "physician").username
    alex = service.admit(nurse, admission(clock.now(), "K-1001", "Alex Example", "3B"))
    jordan = service.admit(nurse, admission(clock.now(), "K-1002", "Jordan Sample", "3A"))
    clock.advance(minutes=10)
    first = service.record_assessment(nurse, alex, cows(clock.now(), sweating=1))
    clock.advance(hours=1)
    service.record_assessment(doctor, jordan, cows(clock.now(), yawning=1))
    clock.advance(hours=1)
    service.mark_entered_in_error(nurse, first.id, "Charted on the wrong patient")
    return {"alex": alex, "jordan": jordan, "assessment": first.id}


def ids(rows: list[AuditRecord]) -> list[int]:
    return [r.id for r in rows]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        assert reader.fieldnames == list(CSV_HEADER)
        return list(reader)


def test_search_without_filters_gives_every_row_newest_first(service: ClinicalService, trail: dict) -> None:
    rows = service.audit_search("dr.kim")
    assert len(rows) == 9
    assert [(r.id, r.username, r.action, r.patient_mrn) for r in rows] == list(reversed(TRAIL))
    newest = rows[0]
    assert newest.at == T0 + timedelta(hours=2, minutes=10)
    assert (newest.entity, newest.entity_id, newest.reason) == (
        "assessment",
        1,
        "Charted on the wrong patient",
    )
    assert json.loads(newest.before_json) == {"entered_in_error": False}
    assert len(newest.row_hash) == 64


def test_each_filter_narrows_the_rows(service: ClinicalService, trail: dict) -> None:
    assert ids(service.audit_search("dr.kim", mrn="K-1001")) == [9, 7, 4, 3]
    assert ids(service.audit_search("dr.kim", mrn=" K-1002 ")) == [8, 6, 5]  # typed with spaces
    assert ids(service.audit_search("dr.kim", username="dr.kim")) == [8, 2]
    assert ids(service.audit_search("dr.kim", action="assessment.record")) == [8, 7]
    # From and To include their own minute: 09:10 to 10:10 is both assessments.
    window = service.audit_search(
        "dr.kim", since=T0 + timedelta(minutes=10), until=T0 + timedelta(hours=1, minutes=10)
    )
    assert ids(window) == [8, 7]
    assert ids(service.audit_search("dr.kim", since=T0 + timedelta(hours=2))) == [9]
    assert ids(service.audit_search("dr.kim", until=T0 + timedelta(minutes=5))) == [6, 5, 4, 3, 2, 1]


def test_filters_combine(service: ClinicalService, trail: dict) -> None:
    assert ids(service.audit_search("dr.kim", mrn="K-1001", action="assessment.record")) == [7]
    assert ids(
        service.audit_search("dr.kim", mrn="K-1001", username="rn.lee", since=T0 + timedelta(minutes=1))
    ) == [
        9,
        7,
    ]
    assert (
        service.audit_search("dr.kim", mrn="K-1001", username="dr.kim") == []
    )  # both exist; nothing in common


def test_times_in_another_zone_are_compared_as_instants(service: ClinicalService, trail: dict) -> None:
    berlin = datetime.fromisoformat("2026-11-20T11:05:00+01:00")  # 10:05 UTC
    assert ids(service.audit_search("dr.kim", since=berlin)) == [9, 8]


def test_limit_keeps_the_newest(service: ClinicalService, trail: dict) -> None:
    assert ids(service.audit_search("dr.kim", limit=3)) == [9, 8, 7]


def test_the_actions_present_for_the_filter_list(service: ClinicalService, trail: dict) -> None:
    assert service.audit_actions() == [
        "assessment.entered_in_error",
        "assessment.record",
        "episode.admit",
        "patient.create",
        "user.create",
    ]


def test_bad_filters_are_refused_in_words(service: ClinicalService, trail: dict) -> None:
    with pytest.raises(ValidationError) as backwards:
        service.audit_search("dr.kim", since=T0 + timedelta(hours=2), until=T0)
    assert backwards.value.field == "From"
    assert "after its end" in backwards.value.message
    with pytest.raises(ValidationError, match="time zone"):
        service.audit_search("dr.kim", since=datetime(2026, 11, 20, 9, 0))  # naive: whose 09:00?
    with pytest.raises(NotFound, match="No patient has the MRN 'K-9999'"):
        service.audit_search("dr.kim", mrn="K-9999")
    with pytest.raises(NotFound, match=r"no user 'rn\.nobody'"):
        service.audit_search("dr.kim", username="rn.nobody")


def test_csv_export_has_the_documented_header_and_every_row(
    service: ClinicalService, trail: dict, nurse: str, tmp_path: Path
) -> None:
    target = tmp_path / "audit.csv"
    assert service.write_audit_csv("dr.kim", target) == 9
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: spreadsheets pick the encoding
    assert raw[3:].split(b"\r\n")[0] == (
        b"id,at,user,action,entity,entity_id,patient_mrn,reason,before,after,row_hash"
    )
    rows = read_csv(target)
    assert len(rows) == 9
    assert [(int(r["id"]), r["user"], r["action"], r["patient_mrn"]) for r in rows] == list(reversed(TRAIL))
    void = rows[0]
    assert void["at"] == "2026-11-20T11:10:00Z"
    assert (void["entity"], void["entity_id"], void["reason"]) == (
        "assessment",
        "1",
        "Charted on the wrong patient",
    )
    assert json.loads(void["before"]) == {"entered_in_error": False}
    assert json.loads(void["after"]) == {"entered_in_error": True}
    created = rows[-1]
    assert (created["entity_id"], created["patient_mrn"], created["before"]) == ("1", "", "null")
    assert json.loads(created["after"])["username"] == "rn.lee"
    stored = {r.id: r.row_hash for r in service.audit_search("dr.kim")}
    assert all(r["row_hash"] == stored[int(r["id"])] for r in rows)
    assert not list(tmp_path.glob("*.part"))  # no temporary file left behind


def test_csv_export_applies_the_filters(
    service: ClinicalService, trail: dict, nurse: str, tmp_path: Path
) -> None:
    target = tmp_path / "alex.csv"
    assert service.write_audit_csv("dr.kim", target, mrn="K-1001") == 4
    assert [r["id"] for r in read_csv(target)] == ["9", "7", "4", "3"]
    with pytest.raises(ValidationError, match="already exists: an export does not write over a file"):
        service.write_audit_csv("dr.kim", target, username="dr.kim")
    assert [r["id"] for r in read_csv(target)] == ["9", "7", "4", "3"]  # refused: the file as it was
    replace = {"replace": True}  # the save dialog asked, or --overwrite
    assert (
        service.write_audit_csv("dr.kim", target, username="dr.kim", action="assessment.record", **replace)
        == 1
    )
    assert [r["id"] for r in read_csv(target)] == ["8"]  # the file was replaced, not appended to
    window = {"since": T0 + timedelta(hours=1), "until": T0 + timedelta(hours=3)}
    assert (
        service.write_audit_csv("dr.kim", target, **window, **replace) == 4
    )  # rows 8, 9 and the two exports
    assert [r["action"] for r in read_csv(target)] == [
        "audit.export",
        "audit.export",
        "assessment.entered_in_error",
        "assessment.record",
    ]


def test_exporting_is_audited_with_filters_and_count_but_no_patient_data(
    service: ClinicalService, trail: dict, nurse: str, tmp_path: Path
) -> None:
    service.write_audit_csv("dr.kim", tmp_path / "all.csv")
    service.write_audit_csv("dr.kim", tmp_path / "alex.csv", mrn="K-1001", since=T0)
    exports = service.audit_search("dr.kim", action="audit.export")
    assert [e.id for e in exports] == [11, 10]
    everything, alex = exports[1], exports[0]
    assert everything.username == "dr.kim" and everything.patient_mrn == ""
    assert json.loads(everything.after_json) == {"format": "csv", "filters": {}, "rows": 9}
    after = json.loads(alex.after_json)
    assert after == {
        "format": "csv",
        "filters": {"patient_id": alex.patient_id, "since": "2026-11-20T09:00:00+00:00"},
        "rows": 4,
    }
    assert alex.patient_mrn == "K-1001"  # linked to the patient by id, so it shows in their trail
    assert "K-1001" not in alex.after_json and "Alex" not in alex.after_json
    assert ids(service.audit_search("dr.kim", mrn="K-1001"))[:1] == [11]
    assert service.verify_audit_chain().intact


def test_export_refusals_are_plain_and_leave_nothing_behind(
    service: ClinicalService, trail: dict, nurse: str, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "exports"  # the database lives in tmp_path itself
    tmp_path.mkdir()
    with pytest.raises(ValidationError) as missing_folder:
        service.write_audit_csv("dr.kim", tmp_path / "no-such-folder" / "audit.csv")
    assert missing_folder.value.field == "CSV file"
    assert "Cannot write" in missing_folder.value.message
    assert "No such file or directory" in missing_folder.value.message
    with pytest.raises(ValidationError, match="is a folder"):
        service.write_audit_csv("dr.kim", tmp_path)
    with pytest.raises(ValidationError, match="after its end"):
        service.write_audit_csv("dr.kim", tmp_path / "a.csv", since=T0 + timedelta(hours=1), until=T0)
    with pytest.raises(NotFound, match="K-9999"):
        service.write_audit_csv("dr.kim", tmp_path / "a.csv", mrn="K-9999")
    assert list(tmp_path.iterdir()) == []
    assert service.audit_search("dr.kim", action="audit.export") == []  # a refused export is not an export


def test_a_typed_formula_is_exported_as_text(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock, tmp_path: Path
) -> None:
    episode = service.admit(nurse, admission(clock.now()))
    clock.advance(minutes=5)
    shown = service.record_assessment(nurse, episode, cows(clock.now()))
    service.mark_entered_in_error(nurse, shown.id, '=HYPERLINK("http://x.invalid","fix")')
    target = tmp_path / "audit.csv"
    service.write_audit_csv(physician, target, action="assessment.entered_in_error")
    (row,) = read_csv(target)
    assert row["reason"] == '\'=HYPERLINK("http://x.invalid","fix")'


def test_names_and_accents_survive_the_round_trip(
    service: ClinicalService, clock: FakeClock, tmp_path: Path
) -> None:
    user = service.ensure_user("rn.müller", "Jürgen Müller", "physician").username
    service.admit(user, admission(clock.now(), "K-2001", "Zoë Ørsted", "1A"))
    target = tmp_path / "audit.csv"
    assert service.write_audit_csv(user, target, username="rn.müller") == 3
    rows = read_csv(target)
    assert {r["user"] for r in rows} == {"rn.müller"}
    assert json.loads(rows[1]["after"])["name"] == "Zoë Ørsted"


# --- the same export from the command line (`monitor audit export`) ------------------------------------


@pytest.mark.sqlite_only  # the command line on the file; the services run on both backends
def test_cli_export_writes_the_rows_and_says_how_many(
    trail: dict, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "alex.csv"
    code = main(
        ["--db", str(db_path), "--user", "dr.kim", "audit", "export", "--csv", str(target), "--mrn", "K-1001"]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == f"wrote 4 rows to {target}"
    assert [r["id"] for r in read_csv(target)] == ["9", "7", "4", "3"]
    everything = tmp_path / "all.csv"
    assert main(["--db", str(db_path), "--user", "dr.kim", "audit", "export", "--csv", str(everything)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 10 rows to {everything}"  # 9 + the first export
    assert [r["action"] for r in read_csv(everything)][:2] == ["audit.export", "assessment.entered_in_error"]


@pytest.mark.sqlite_only  # the command line on the file; the services run on both backends
def test_cli_export_filters_by_user_time_and_action(
    trail: dict, service: ClinicalService, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    base = ["--db", str(db_path), "--user", "dr.kim", "audit", "export", "--csv", str(target)]
    assert main([*base, "--user", "dr.kim"]) == 0  # after the command: the filter, not the actor
    assert [r["id"] for r in read_csv(target)] == ["8", "2"]
    assert main([*base, "--action", "assessment.record"]) == 2  # the file exists: not written over
    assert "already exists: an export does not write over a file" in capsys.readouterr().err
    assert [r["id"] for r in read_csv(target)] == ["8", "2"]
    base.append("--overwrite")
    assert main([*base, "--since", "2026-11-20T10:10:00+01:00", "--until", "2026-11-20T10:00Z"]) == 0
    assert [r["id"] for r in read_csv(target)] == ["7"]  # 09:10 to 10:00 UTC: the 10:10 row is out
    assert main([*base, "--action", "assessment.record"]) == 0
    assert [r["id"] for r in read_csv(target)] == ["8", "7"]
    exports = service.audit_search("dr.kim", action="audit.export")
    assert {e.username for e in exports} == {"dr.kim"} and len(exports) == 3
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not an ISO 8601 time"),
        (["--until", "2026-11-20T10:00"], "--until '2026-11-20T10:00' has no offset"),
        (["--since", "2026-11-21T00:00Z", "--until", "2026-11-20T00:00Z"], "after its end"),
        (["--mrn", "K-9999"], "No patient has the MRN 'K-9999'"),
    ],
)
@pytest.mark.sqlite_only  # the command line on the file; the services run on both backends
def test_cli_export_refuses_bad_input_with_exit_2(
    trail: dict,
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    target = tmp_path / "out.csv"
    assert (
        main(["--db", str(db_path), "--user", "dr.kim", "audit", "export", "--csv", str(target), *extra]) == 2
    )
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not target.exists()


@pytest.mark.sqlite_only  # the command line on the file; the services run on both backends
def test_cli_export_to_an_unwritable_place_exits_2_in_words(
    trail: dict, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "out.csv"
    assert main(["--db", str(db_path), "--user", "dr.kim", "audit", "export", "--csv", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"monitor: Cannot write {target}: No such file or directory.")
    with pytest.raises(SystemExit) as no_file:
        main(["--db", str(db_path), "audit", "export"])  # --csv is required
    assert no_file.value.code == 2
