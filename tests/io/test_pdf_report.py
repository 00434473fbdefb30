"""The PDF episode report (issue 6), read back with pypdf: what a nurse or physician must find is there."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from monitor.domain.scales import COWS
from monitor.io import pdf_report
from monitor.io.pdf_report import FONT_CANDIDATES, write_episode_pdf
from monitor.io.report_model import EpisodeReport, ReportAssessment
from tests.report_helpers import MRN, PATIENT_NAME, chart_sample_episode, items_for_total

BERLIN = ZoneInfo("Europe/Berlin")
ASSESSMENT_HEADING = "Status and notes"


@pytest.fixture
def sample(service, clock, nurse, physician) -> EpisodeReport:
    return chart_sample_episode(service, clock, nurse, physician).report


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces made single spaces: table cells wrap where they like."""
    return " ".join(text.split())


def render(report: EpisodeReport, tmp_path: Path) -> list[str]:
    """Write the report, check the page count it returns, and give each page's text (flattened)."""
    path = tmp_path / "report.pdf"
    pages = write_episode_pdf(report, path)
    reader = PdfReader(path)
    assert pages >= 1
    assert pages == len(reader.pages)
    return [flat(page.extract_text()) for page in reader.pages]


def local(moment) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


def row_text(assessment: ReportAssessment) -> str:
    """An assessment's row as the table reads left to right: time, the 11 items, total, band."""
    items = [str(assessment.items[item.key]) for item in COWS.items]
    return flat(" ".join([local(assessment.taken_at), *items, str(assessment.total), assessment.band_label]))


def test_sample_episode_has_everything_a_clinician_looks_for(sample, tmp_path):
    pages = render(sample, tmp_path)
    text = " ".join(pages)

    # Header on page 1, times in the clinic's zone (Berlin is UTC+1 in November).
    assert "COWS episode report" in pages[0]
    assert PATIENT_NAME in pages[0]
    assert MRN in pages[0]
    assert "Times in Europe/Berlin" in pages[0]
    assert "2026-11-20 09:00 by rn.lee" in pages[0]  # admitted 08:00 UTC
    assert "open" in pages[0]
    assert "Kratom (mitragynine)" in pages[0]
    assert "2026-11-18 10:00" in pages[0]  # kratom last used two days before admission
    assert "1 d 23 h" in pages[0]

    # Every version of every assessment, in order, with its items, total and band.
    assert len(sample.current_assessments()) == 3
    position = 0
    for assessment in sample.assessments:
        position = text.index(row_text(assessment), position)
    assert "2026-11-20 10:00" in text  # the baseline at 09:00 UTC
    assert "Replaced by amendment" in text
    assert "pupil size misread" in text
    assert "Entered in error: charted on the wrong patient" in text
    assert "sweating, gooseflesh" in text  # a note
    for item in COWS.items:  # the legend maps the short headings to the items' labels
        assert item.label in text

    # Doses, with the warning and why the dose was given anyway.
    assert "naltrexone 25 mg PO" in text
    assert "antagonist" in text
    assert "Given anyway because: rapid induction, Dr Rao agreed" in text
    assert "loperamide 4 mg PO" in text  # the dose entered in error is still listed, marked

    # Vital signs.
    assert "142/90" in text
    assert "37.4" in text

    # Alerts: priority in words, the message, the acknowledgement with who, when and why.
    assert "HIGH" in text
    assert "MEDIUM" in text
    assert "Possible precipitated withdrawal" in text
    assert "COWS 4 -> 17 (+13)" in text
    reason = "Dr Rao informed, clonidine and ondansetron ordered"
    assert f"Acknowledged by rn.lee (2026-11-20 10:58): {reason}" in text

    # Sign-off.
    assert "Precipitated withdrawal managed; continue comfort medicines." in text
    assert "dr.rao" in text

    # Every page says which patient it belongs to, who printed it when, and where it is in the document.
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert f"{PATIENT_NAME} · MRN {MRN}" in page
        assert "Printed 2026-11-20 13:00 by Robin Lee (rn.lee)" in page
        assert f"Withdrawal monitor {sample.app_version}" in page


def test_trend_chart_draws_the_bands_and_the_antagonist_dose(sample, tmp_path):
    first_page = render(sample, tmp_path)[0]
    assert "COWS total over time" in first_page
    for band in COWS.bands:
        assert band.label in first_page
    assert "naltrexone 25 mg PO" in first_page  # the antagonist's marker is labelled
    assert "10:00" in first_page and "11:00" in first_page  # time axis labels
    assert "No assessments" not in first_page


def test_assessment_table_splits_across_pages_with_its_heading_repeated(sample, tmp_path):
    template = sample.assessments[0]
    start = template.taken_at
    many = []
    for number in range(300):
        total = (number * 7) % 30
        many.append(
            dataclasses.replace(
                template,
                id=number + 1,
                root_id=number + 1,
                taken_at=start + timedelta(minutes=30 * number),
                recorded_at=start + timedelta(minutes=30 * number),
                items=items_for_total(total),
                total=total,
                band_key=COWS.band_for(total).key,
                band_label=COWS.band_for(total).label,
                note="restless, asks for more clonidine" if number % 3 else "",
            )
        )
    # A note longer than a page and a word longer than a column must wrap, not overflow (LayoutError).
    many[10] = dataclasses.replace(many[10], note="sweating and yawning " * 250)
    many[11] = dataclasses.replace(many[11], note="x" * 400)
    report = dataclasses.replace(sample, assessments=tuple(many))

    path = tmp_path / "long.pdf"
    pages = write_episode_pdf(report, path)
    reader = PdfReader(path)
    assert pages == len(reader.pages)

    table_pages = [page for page in reader.pages if page.mediabox.width > page.mediabox.height]
    assert len(table_pages) >= 5
    table_text = ""
    for page in table_pages:
        page_text = flat(page.extract_text())
        assert ASSESSMENT_HEADING in page_text  # the header row repeats on every continuation page
        assert "Taken" in page_text and "Total" in page_text
        table_text += " " + page_text
    for assessment in many:
        assert local(assessment.taken_at) in table_text
    assert f"Page {pages} of {pages}" in flat(reader.pages[-1].extract_text())


def test_episode_without_assessments_gets_a_note_instead_of_a_chart(sample, tmp_path):
    pages = render(dataclasses.replace(sample, assessments=()), tmp_path)
    assert "No assessments recorded: nothing to plot." in pages[0]
    assert ASSESSMENT_HEADING not in " ".join(pages)
    assert "naltrexone 25 mg PO" in " ".join(pages)  # the rest of the report is still there


def test_episode_with_one_assessment_still_charts_it(sample, tmp_path):
    report = dataclasses.replace(sample, assessments=sample.assessments[:1], doses=(), alerts=())
    pages = render(report, tmp_path)
    assert "Only one assessment so far: no trend yet." in pages[0]
    assert row_text(sample.assessments[0]) in " ".join(pages)


def test_discharged_episode_says_when_by_whom_and_why(sample, tmp_path):
    note = "Transferred to ward 4 for follow-up. " * 60  # longer than the page: must flow on, not fail
    report = dataclasses.replace(
        sample, discharged_at=sample.exported_at, discharged_by="dr.rao", discharge_note=note
    )
    text = " ".join(render(report, tmp_path))
    assert "Discharged 2026-11-20 13:00 by dr.rao" in text
    assert flat(note) in text
    assert "open (not discharged)" not in text


def test_time_axis_skips_the_hour_that_daylight_saving_leaves_out(sample, tmp_path):
    # Berlin springs forward on 2026-03-29 at 02:00 (01:00 UTC): wall clocks go from 01:59 to 03:00.
    start = datetime(2026, 3, 29, 0, 10, tzinfo=UTC)
    assessments = tuple(
        dataclasses.replace(
            sample.assessments[0], id=n, root_id=n, taken_at=start + n * timedelta(minutes=20)
        )
        for n in range(1, 13)
    )
    report = dataclasses.replace(sample, assessments=assessments, doses=(), alerts=())
    axis_labels = render(report, tmp_path)[0].split()
    assert "01:30" in axis_labels
    assert "02:00" not in axis_labels and "02:30" not in axis_labels
    assert axis_labels.count("03:00") == 1  # not twice: 02:00 does not exist that night


def test_non_ascii_names_survive(sample, tmp_path):
    report = dataclasses.replace(sample, name="Zoë Ørsted", exported_by_name="Jürgen Groß")
    pages = render(report, tmp_path)
    assert "Zoë Ørsted" in pages[0]
    for page in pages:
        assert "Zoë Ørsted · MRN K-1001" in page
        assert "by Jürgen Groß (rn.lee)" in page


def test_user_text_is_printed_as_typed_not_read_as_markup(sample, tmp_path):
    first = dataclasses.replace(sample.assessments[0], note="pulse <110> & <b>rising</b>")
    report = dataclasses.replace(sample, assessments=(first, *sample.assessments[1:]))
    assert "Note: pulse <110> & <b>rising</b>" in " ".join(render(report, tmp_path))


@pytest.mark.skipif(
    not any(regular.is_file() for regular, _bold in FONT_CANDIDATES),
    reason="no DejaVu Sans on this machine: the words are printed without the symbols",
)
def test_priority_symbols_with_a_font_that_has_them(sample, tmp_path):
    text = " ".join(render(sample, tmp_path))
    assert "▲ HIGH" in text
    assert "◆ MEDIUM" in text


def test_without_a_symbol_font_priorities_are_words_and_names_still_print(sample, tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_report, "FONT_CANDIDATES", ())  # Helvetica, as on a machine without DejaVu
    pages = render(dataclasses.replace(sample, name="Zoë Ørsted"), tmp_path)
    text = " ".join(pages)
    assert "HIGH" in text and "MEDIUM" in text
    assert "▲" not in text and "◆" not in text
    assert "Zoë Ørsted" in pages[0]


def test_writes_to_a_binary_stream(sample):
    stream = io.BytesIO()
    pages = write_episode_pdf(sample, stream)
    assert pages == len(PdfReader(io.BytesIO(stream.getvalue())).pages)


def test_a_folder_that_does_not_exist_raises_oserror_and_writes_nothing(sample, tmp_path):
    target = tmp_path / "no such folder" / "report.pdf"
    with pytest.raises(OSError):
        write_episode_pdf(sample, target)
    assert not target.parent.exists()
