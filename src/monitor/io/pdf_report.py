"""The PDF episode report (issue 6): one episode on paper, for the paper chart or a referral.

Page 1 (A4 portrait) names the patient and the episode, lists the substances and draws the COWS trend
with the severity bands, the doses and the alerts. The assessment table follows on A4 landscape pages,
because its 16 columns do not fit a portrait page at a readable size; doses, vital signs, alerts,
corrections and sign-offs follow in portrait again. Every page carries the patient's name and MRN (a
loose page can go back into the right chart), who printed it when, the app version and "Page N of M".

Times print in the clinic's zone (`report.zone_name`), named once in the header. Everything is written
with reportlab's platypus; this module only formats an EpisodeReport and never touches the database.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reportlab
from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    Polygon,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from monitor.domain.scales import COWS
from monitor.io.report_model import (
    EpisodeReport,
    ReportAlert,
    ReportAssessment,
    ReportDose,
    ReportVitals,
)

__all__ = ["FONT_CANDIDATES", "write_episode_pdf"]

TITLE = "COWS episode report"
TIME_FORMAT = "%Y-%m-%d %H:%M"

# Alert priority is never shown by colour alone (design.md, UI): the word always, the shape when the
# font has it.
PRIORITY_WORDS = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW"}
PRIORITY_SYMBOLS = {"high": "\u25b2", "medium": "\u25c6", "low": "\u25cf"}  # ▲ ◆ ●

# Short column headings of the assessment table; the legend under it gives each item's full label.
# Presentation only: the items, their order and their labels come from monitor.domain.scales.
ITEM_HEADINGS = {
    "resting_pulse": "Pulse",
    "sweating": "Sweat",
    "restlessness": "Restl.",
    "pupil_size": "Pupils",
    "bone_joint_aches": "Aches",
    "runny_nose_tearing": "Nose",
    "gi_upset": "GI",
    "tremor": "Trem.",
    "yawning": "Yawn",
    "anxiety_irritability": "Anx.",
    "gooseflesh": "Goose",
}

# --- Fonts ------------------------------------------------------------------------------------------

_RL_FONTS = Path(reportlab.__file__).parent / "fonts"

# (regular, bold) TrueType files tried in order. The standard PDF fonts (Helvetica) only cover Latin-1
# and have no ▲ ◆ ●, so a TTF that has those glyphs is preferred; DejaVu Sans also covers the Latin,
# Greek and Cyrillic letters of patients' names. A file that is missing or lacks the glyphs is skipped.
FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = tuple(
    (Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf")
    for folder in (
        "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu
        "/usr/share/fonts/dejavu-sans-fonts",  # Fedora
        "/usr/share/fonts/dejavu",
        "/usr/share/fonts/TTF",  # Arch
        "/usr/local/share/fonts",
        "/Library/Fonts",
        os.path.expanduser("~/Library/Fonts"),
        os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"),
        _RL_FONTS,
    )
)

_REQUIRED_GLYPHS = "".join(PRIORITY_SYMBOLS.values()) + "äëöüßØ°–"


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    has_symbols: bool  # whether ▲ ◆ ● render in `regular`


_HELVETICA = _Fonts("Helvetica", "Helvetica-Bold", has_symbols=False)


@functools.cache
def _choose_fonts(candidates: tuple[tuple[Path, Path], ...]) -> _Fonts:
    """The first candidate TTF with the priority symbols, registered with reportlab; else Helvetica."""
    for regular_path, bold_path in candidates:
        if not regular_path.is_file():
            continue
        try:
            regular = TTFont(f"Report-{regular_path.stem}", str(regular_path))
            if not all(ord(ch) in regular.face.charToGlyph for ch in _REQUIRED_GLYPHS):
                continue
            # Without a bold file, bold text is set in the regular face rather than not at all.
            bold = TTFont(f"Report-{bold_path.stem}", str(bold_path)) if bold_path.is_file() else regular
        except (TTFError, OSError):
            continue  # unreadable or an unsupported outline format: try the next
        pdfmetrics.registerFont(regular)
        pdfmetrics.registerFont(bold)
        pdfmetrics.registerFontFamily(
            regular.fontName,
            normal=regular.fontName,
            bold=bold.fontName,
            italic=regular.fontName,
            boldItalic=bold.fontName,
        )
        return _Fonts(regular.fontName, bold.fontName, has_symbols=True)
    return _HELVETICA


# --- Text helpers -----------------------------------------------------------------------------------


def _markup(text: str) -> str:
    """User text made safe for Paragraph markup; line breaks a nurse typed are kept."""
    return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


def _duration(span: timedelta) -> str:
    """A span as a clinician says it: "1 d 23 h", "5 h 30 min", "40 min"."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


class _Times:
    """Formats UTC instants in the clinic's zone."""

    def __init__(self, zone_name: str) -> None:
        self.zone: tzinfo
        try:
            self.zone = ZoneInfo(zone_name)
            self.label = zone_name
        except (ZoneInfoNotFoundError, ValueError):
            # Printing UTC and saying so beats refusing to print a chart a clinician needs.
            self.zone = UTC
            self.label = f"UTC (the clinic's zone {zone_name!r} is unknown on this computer)"

    def local(self, moment: datetime) -> datetime:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def at(self, moment: datetime | None) -> str:
        return "" if moment is None else self.local(moment).strftime(TIME_FORMAT)


# --- Page furniture ---------------------------------------------------------------------------------

PAGE_MARGIN = 15 * mm
FOOTER_HEIGHT = 14 * mm


@dataclass
class _Footer:
    """What every page says at its foot; `pages` is filled in once the document is complete."""

    fonts: _Fonts
    patient: str
    printed: str
    version: str
    pages: int = 0

    def draw(self, canvas: Any, page: int, pages: int) -> None:
        width = canvas._pagesize[0]
        left, right = PAGE_MARGIN, width - PAGE_MARGIN
        canvas.saveState()
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.5)
        canvas.line(left, FOOTER_HEIGHT, right, FOOTER_HEIGHT)
        page_text = f"Page {page} of {pages}"
        canvas.setFont(self.fonts.bold, 8)
        canvas.drawRightString(right, FOOTER_HEIGHT - 10, page_text)
        room = right - left - canvas.stringWidth(page_text, self.fonts.bold, 8) - 12
        canvas.drawString(left, FOOTER_HEIGHT - 10, _fit(self.patient, self.fonts.bold, 8, room))
        canvas.setFont(self.fonts.regular, 7)
        canvas.drawRightString(right, FOOTER_HEIGHT - 20, self.version)
        room = right - left - canvas.stringWidth(self.version, self.fonts.regular, 7) - 12
        canvas.drawString(left, FOOTER_HEIGHT - 20, _fit(self.printed, self.fonts.regular, 7, room))
        canvas.restoreState()


def _fit(text: str, font: str, size: float, width: float) -> str:
    """The text, shortened with an ellipsis if it would run into its neighbour."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds the pages back until the document ends, so each footer can say "of M" (a PDF page cannot
    be changed after it is written): the usual reportlab recipe for page totals."""

    def __init__(self, *args: Any, footer: _Footer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, start=1):
            self.__dict__.update(state)
            self._footer.draw(self, number, total)
            super().showPage()
        self._footer.pages = total
        super().save()


# --- Styles -----------------------------------------------------------------------------------------

CELL_PADDING = 3

GRID_GREY = colors.HexColor("#9a9a9a")
HEADER_FILL = colors.HexColor("#e4e4e4")
VOID_FILL = colors.HexColor("#f1f1f1")
VOID_TEXT = colors.HexColor("#6b6b6b")
ANTAGONIST_RED = colors.HexColor("#a4161a")
PRIORITY_COLOURS = {
    "high": colors.HexColor("#b0151b"),
    "medium": colors.HexColor("#d9822b"),
    "low": colors.HexColor("#4a6fa5"),
}
THRESHOLD_LINE = {"strokeColor": GRID_GREY, "strokeWidth": 0.6, "strokeDashArray": [3, 2]}
ANTAGONIST_LINE = {"strokeColor": ANTAGONIST_RED, "strokeWidth": 1.6}
DOSE_LINE = {"strokeColor": colors.grey, "strokeWidth": 0.7, "strokeDashArray": [2, 2]}
# Band fills from calm to alarming, by band position (the bands themselves are data).
BAND_FILLS = tuple(colors.HexColor(c) for c in ("#edf5ec", "#fbf6de", "#fde9d4", "#fad9d2", "#f1c4c4"))


class _Styles:
    def __init__(self, fonts: _Fonts) -> None:
        self.fonts = fonts
        self.title = ParagraphStyle("title", fontName=fonts.bold, fontSize=16, leading=20, spaceAfter=4)
        self.heading = ParagraphStyle(
            "heading",
            fontName=fonts.bold,
            fontSize=11.5,
            leading=14,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        )
        self.body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9, leading=11.5)
        self.note = ParagraphStyle("note", parent=self.body, fontSize=8, leading=10, textColor=VOID_TEXT)
        self.cell = ParagraphStyle("cell", fontName=fonts.regular, fontSize=8, leading=9.6)
        self.cell_bold = ParagraphStyle("cell_bold", parent=self.cell, fontName=fonts.bold)
        self.cell_void = ParagraphStyle("cell_void", parent=self.cell, textColor=VOID_TEXT)
        self.cell_void_centred = ParagraphStyle(
            "cell_void_centred", parent=self.cell_void, alignment=TA_CENTER
        )
        self.cell_head = ParagraphStyle("cell_head", parent=self.cell, fontName=fonts.bold)
        self.label = ParagraphStyle("label", parent=self.body, fontName=fonts.bold)
        self.patient = ParagraphStyle(
            "patient", parent=self.body, fontName=fonts.bold, fontSize=11, leading=13
        )

    def cell_text(self, markup: str, *, void: bool = False, bold: bool = False) -> Paragraph:
        """A wrapping table cell; `markup` is already escaped. Voided text is grey and struck through."""
        if void:
            return Paragraph(f"<strike>{markup}</strike>", self.cell_void)
        return Paragraph(markup, self.cell_bold if bold else self.cell)

    def struck(self, text: str, *, centred: bool = False) -> Paragraph:
        """A plain value of a voided row, struck through so nobody reads it as current."""
        style = self.cell_void_centred if centred else self.cell_void
        return Paragraph(f"<strike>{escape(text)}</strike>", style)

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        *,
        void_rows: Iterable[int] = (),
        extra: Iterable[tuple[Any, ...]] = (),
    ) -> Table:
        """A table with a repeated header row; rows may split inside a cell so a long note never makes
        a row taller than a page (reportlab would raise LayoutError)."""
        data = [[Paragraph(escape(h), self.cell_head) for h in header], *rows]
        commands: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), self.fonts.regular, 8, 9.6),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID_GREY),
            ("BOX", (0, 0), (-1, -1), 0.6, GRID_GREY),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        for row in void_rows:
            commands.append(("BACKGROUND", (0, row + 1), (-1, row + 1), VOID_FILL))
            commands.append(("TEXTCOLOR", (0, row + 1), (-1, row + 1), VOID_TEXT))
        commands.extend(extra)
        return Table(
            data,
            colWidths=list(widths),
            repeatRows=1,
            splitInRow=1,
            hAlign="LEFT",
            style=TableStyle(commands),
        )


# --- The report -------------------------------------------------------------------------------------


def write_episode_pdf(report: EpisodeReport, target: Path | str | BinaryIO) -> int:
    """Write the episode report as a PDF to a file path or a binary stream; returns the page count.

    The document is built in memory first, so a failure while laying it out leaves no file behind. A
    missing folder, a read-only location or a full disk raise OSError for the caller to put into words;
    monitor.services.files.atomic_file gives the export its all-or-nothing rename.
    """
    buffer = io.BytesIO()
    pages = _ReportWriter(report, _choose_fonts(FONT_CANDIDATES)).build(buffer)
    if isinstance(target, str | os.PathLike):
        Path(target).write_bytes(buffer.getvalue())
    else:
        target.write(buffer.getvalue())
    return pages


class _ReportWriter:
    def __init__(self, report: EpisodeReport, fonts: _Fonts) -> None:
        self.report = report
        self.fonts = fonts
        self.times = _Times(report.zone_name)
        self.styles = _Styles(fonts)
        self.portrait_size = A4
        self.landscape_size = landscape(A4)
        self.portrait_width = A4[0] - 2 * PAGE_MARGIN
        self.landscape_width = self.landscape_size[0] - 2 * PAGE_MARGIN
        # Columns of times and numbers are as wide as their text in the chosen font, so they never wrap.
        self.time_width = self.fit_width(datetime(2000, 12, 31, 23, 59).strftime(TIME_FORMAT))

    def fit_width(self, text: str, *, bold: bool = False) -> float:
        """A column width that holds `text` on one line at 8 pt, with the cell padding."""
        font = self.fonts.bold if bold else self.fonts.regular
        return float(pdfmetrics.stringWidth(text, font, 8)) + 2 * CELL_PADDING + 1

    def build(self, target: BinaryIO) -> int:
        report = self.report
        printed_by = report.exported_by_name or report.exported_by
        if report.exported_by_name and report.exported_by:
            printed_by = f"{report.exported_by_name} ({report.exported_by})"
        footer = _Footer(
            self.fonts,
            patient=f"{report.name} · MRN {report.mrn}",
            printed=f"Printed {self.times.at(report.exported_at)} by {printed_by}",
            version=f"Withdrawal monitor {report.app_version}".strip(),
        )
        doc = BaseDocTemplate(
            target,
            pagesize=self.portrait_size,
            title=f"{TITLE}, MRN {report.mrn}",
            author=printed_by,
            creator=footer.version,
        )
        doc.addPageTemplates(
            [self._template("portrait", self.portrait_size), self._template("landscape", self.landscape_size)]
        )
        doc.build(self._story(), canvasmaker=functools.partial(_NumberedCanvas, footer=footer))
        return footer.pages

    def _template(self, name: str, size: tuple[float, float]) -> PageTemplate:
        frame = Frame(
            PAGE_MARGIN,
            FOOTER_HEIGHT + 4 * mm,
            size[0] - 2 * PAGE_MARGIN,
            size[1] - PAGE_MARGIN - FOOTER_HEIGHT - 4 * mm,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id=name,
        )
        return PageTemplate(id=name, frames=[frame], pagesize=size)

    def _story(self) -> list[Flowable]:
        story: list[Flowable] = [*self._header(), *self._substances(), *self._trend()]
        if self.report.assessments:
            # The 16-column table needs landscape pages to stay readable at 8 pt.
            story += [NextPageTemplate("landscape"), PageBreak(), *self._assessments()]
            story += [NextPageTemplate("portrait"), PageBreak()]
        else:
            story += [self._heading("Assessments"), self._empty("No assessments recorded.")]
        story += [*self._doses(), *self._vitals(), *self._alerts(), *self._corrections(), *self._sign_offs()]
        return story

    # --- small builders ---

    def _heading(self, text: str) -> Paragraph:
        return Paragraph(_markup(text), self.styles.heading)

    def _empty(self, text: str) -> Paragraph:
        return Paragraph(_markup(text), self.styles.body)

    def _cell(self, text: str, *, void: bool = False, bold: bool = False) -> Paragraph:
        return self.styles.cell_text(_markup(text), void=void, bold=bold)

    def _lines(self, lines: Iterable[str], *, void: bool = False, first_bold: bool = False) -> Paragraph:
        """Several lines of user text in one cell; the first may be bold (a status, a title)."""
        escaped = [_markup(line) for line in lines if line]
        if first_bold and escaped:
            escaped[0] = f"<b>{escaped[0]}</b>"
        return self.styles.cell_text("<br/>".join(escaped), void=void)

    # --- page 1 ---

    def _header(self) -> list[Flowable]:
        r = self.report
        s = self.styles
        if r.discharged_at is None:
            discharged = "open (not discharged)"
        else:
            discharged = f"{self.times.at(r.discharged_at)} by {r.discharged_by or 'unknown'}"

        def pair(label: str, value: str, style: ParagraphStyle = s.body) -> list[Paragraph]:
            return [Paragraph(_markup(label), s.label), Paragraph(_markup(value), style)]

        rows = [
            pair("Patient", r.name, s.patient) + pair("MRN", r.mrn, s.patient),
            pair("Birth date", _date(r.birth_date)) + pair("Sex", r.sex or "not recorded"),
            pair("Bed", r.bed or "none") + pair("Episode", str(r.episode_id)),
            pair("Admitted", f"{self.times.at(r.admitted_at)} by {r.admitted_by or 'unknown'}")
            + pair("Discharged", discharged),
        ]
        style: list[tuple[Any, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, GRID_GREY),
        ]
        if r.discharged_at is not None and r.discharge_note:
            rows.append([*pair("Discharge note", r.discharge_note), "", ""])
            style.append(("SPAN", (1, -1), (3, -1)))
        width = self.portrait_width
        widths = [0.15 * width, 0.38 * width, 0.14 * width, 0.33 * width]
        table = Table(rows, colWidths=widths, hAlign="LEFT", splitInRow=1)  # a discharge note can be long
        table.setStyle(TableStyle(style))
        zone = Paragraph(f"Times in {_markup(self.times.label)}", s.note)
        return [Paragraph(TITLE, s.title), table, Spacer(1, 3), zone]

    def _substances(self) -> list[Flowable]:
        r = self.report
        flow: list[Flowable] = [self._heading("Substances and last use")]
        if not r.substances:
            return [*flow, self._empty("No substances recorded.")]
        rows = []
        for sub in r.substances:
            if sub.last_use_at is None:
                before = "unknown"
            elif sub.last_use_at <= r.admitted_at:
                before = _duration(r.admitted_at - sub.last_use_at)
            else:
                before = f"{_duration(sub.last_use_at - r.admitted_at)} after admission"
            rows.append(
                [
                    self._cell(sub.label or sub.substance, bold=True),
                    "yes" if sub.is_opioid else "no",
                    self.times.at(sub.last_use_at) or "unknown",
                    before,
                    self._cell(sub.amount or "–"),
                    self._cell(sub.route or "–"),
                ]
            )
        widths = _widths(self.portrait_width, [None, 42, self.time_width, 70, 90, 60])
        header = ["Substance", "Opioid", "Last use", "Before admission", "Amount", "Route"]
        return [*flow, self.styles.table(header, rows, widths)]

    def _trend(self) -> list[Flowable]:
        heading = self._heading("COWS total over time")
        current = self.report.current_assessments()
        if not current:
            return [heading, self._empty("No assessments recorded: nothing to plot.")]
        drawing = _TrendChart(self.report, current, self.times, self.fonts, self.portrait_width).draw()
        notes = [
            "Current versions only: replaced versions and entries in error are left out (see the table)."
        ]
        if len(current) == 1:
            notes.insert(0, "Only one assessment so far: no trend yet.")
        app_bands = [b for b in COWS.bands if b.app_defined]
        if app_bands:
            labels = ", ".join(f"“{b.label}” ({b.low}–{b.high})" for b in app_bands)
            notes.append(f"* {labels}: the app's own label; the published scale defines no band there.")
        return [KeepTogether([heading, drawing, *(Paragraph(_markup(n), self.styles.note) for n in notes)])]

    # --- assessments ---

    def _assessments(self) -> list[Flowable]:
        rows: list[list[Any]] = []
        void_rows: list[int] = []
        previous_total = _previous_totals(self.report.assessments)
        for index, a in enumerate(self.report.assessments):
            void = a.entered_in_error or not a.is_current
            if void:
                void_rows.append(index)
            cells: list[Any] = [self.times.at(a.taken_at)]
            cells += [_item_text(a, item.key) for item in COWS.items]
            cells.append(str(a.total))
            if void:
                cells = [self.styles.struck(c, centred=column > 0) for column, c in enumerate(cells)]
            cells.append(self._cell(a.band_label, void=void))
            cells.append(self._lines(self._assessment_notes(a, previous_total.get(a.id)), first_bold=True))
            cells.append(self._cell(a.recorded_by, void=void))
            rows.append(cells)
        header = ["Taken", *(_item_heading(i.key, i.number) for i in COWS.items), "Total", "Band"]
        header += ["Status and notes", "By"]
        item_width = max(self.fit_width(h, bold=True) for h in header[1 : 1 + len(COWS.items)])
        widths = [self.time_width, *([item_width] * len(COWS.items)), self.fit_width("Total", bold=True)]
        widths = _widths(self.landscape_width, [*widths, 60, None, 52])
        first_item, total_col = 1, len(COWS.items) + 1
        extra = [
            ("ALIGN", (first_item, 1), (total_col, -1), "CENTER"),
            ("FONT", (total_col, 1), (total_col, -1), self.fonts.bold, 8, 9.6),
        ]
        table = self.styles.table(header, rows, widths, void_rows=void_rows, extra=extra)
        legend = "; ".join(
            f"<b>{escape(_item_heading(i.key, i.number))}</b> = {i.number}. {escape(i.label)}"
            for i in COWS.items
        )
        explain = (
            "Every version of every assessment, oldest first. Grey, struck-through rows are not part of the "
            "current record: replaced by an amendment or entered in error. Items score as on the COWS form."
        )
        return [
            self._heading(f"Assessments ({COWS.name})"),
            table,
            Spacer(1, 4),
            Paragraph(f"Columns: {legend}.", self.styles.note),
            Paragraph(_markup(explain), self.styles.note),
        ]

    def _assessment_notes(self, a: ReportAssessment, replaced_total: int | None) -> list[str]:
        if a.entered_in_error:
            who = ", ".join(part for part in (a.voided_by, self.times.at(a.voided_at)) if part)
            lines = [f"{a.status}: {a.void_reason}" + (f" ({who})" if who else "")]
        else:
            lines = [a.status]
        if a.version > 1:
            was = f", total was {replaced_total}" if replaced_total is not None else ""
            lines.append(f"Version {a.version}{was}. Amendment reason: {a.amend_reason or 'none given'}")
        if a.late_reason:
            lines.append(f"Charted late ({self.times.at(a.recorded_at)}): {a.late_reason}")
        elif abs(a.recorded_at - a.taken_at) >= timedelta(minutes=1):
            lines.append(f"Recorded {self.times.at(a.recorded_at)}")
        if a.pulse_bpm is not None:
            lines.append(f"Pulse {a.pulse_bpm} bpm")
        if a.note:
            lines.append(f"Note: {a.note}")
        return lines

    # --- doses, vital signs ---

    def _doses(self) -> list[Flowable]:
        flow: list[Flowable] = [self._heading("Doses")]
        if not self.report.doses:
            return [*flow, self._empty("No doses recorded.")]
        rows: list[list[Any]] = []
        void_rows: list[int] = []
        for index, d in enumerate(self.report.doses):
            void = d.entered_in_error
            if void:
                void_rows.append(index)
            antagonist = d.role == "antagonist"
            rows.append(
                [
                    self._cell(self.times.at(d.given_at), void=void),
                    self._cell(d.description, void=void, bold=antagonist),
                    self._cell(d.role, void=void, bold=antagonist),
                    self._lines(self._dose_notes(d), first_bold=void),
                    self._cell(d.recorded_by, void=void),
                ]
            )
        widths = _widths(self.portrait_width, [self.time_width, 118, 58, None, 56])
        header = ["Given", "Dose", "Role", "Warnings, reasons and notes", "By"]
        return [*flow, self.styles.table(header, rows, widths, void_rows=void_rows)]

    def _dose_notes(self, d: ReportDose) -> list[str]:
        lines = []
        if d.entered_in_error:
            lines.append(f"Entered in error: {d.void_reason}" + _at(self.times.at(d.voided_at)))
        lines += [f"Warning: {w}" for w in d.warnings]
        if d.warning_reason:
            lines.append(f"Given anyway because: {d.warning_reason}")
        if abs(d.recorded_at - d.given_at) >= timedelta(minutes=1):
            lines.append(f"Recorded {self.times.at(d.recorded_at)}")
        if d.note:
            lines.append(f"Note: {d.note}")
        return lines

    def _vitals(self) -> list[Flowable]:
        flow: list[Flowable] = [self._heading("Vital signs")]
        if not self.report.vitals:
            return [*flow, self._empty("No vital signs recorded.")]
        rows: list[list[Any]] = []
        void_rows: list[int] = []
        for index, v in enumerate(self.report.vitals):
            void = v.entered_in_error
            if void:
                void_rows.append(index)
            values = [self.times.at(v.taken_at), _number(v.pulse_bpm), _blood_pressure(v)]
            values += [_number(v.resp_rate), _number(v.spo2), _number(v.temp_c)]
            cells: list[Any] = [self.styles.struck(x) for x in values] if void else values
            notes = [f"Entered in error: {v.void_reason}" + _at(self.times.at(v.voided_at))] if void else []
            notes += [f"Note: {v.note}"] if v.note else []
            cells += [self._lines(notes, first_bold=void), self._cell(v.recorded_by, void=void)]
            rows.append(cells)
        widths = _widths(self.portrait_width, [self.time_width, 40, 52, 36, 36, 40, None, 56])
        header = ["Taken", "Pulse /min", "BP mmHg", "Resp /min", "SpO2 %", "Temp °C", "Notes", "By"]
        return [*flow, self.styles.table(header, rows, widths, void_rows=void_rows)]

    # --- alerts ---

    def _alerts(self) -> list[Flowable]:
        flow: list[Flowable] = [self._heading("Alerts")]
        if not self.report.alerts:
            return [*flow, self._empty("No alerts raised.")]
        rows: list[list[Any]] = []
        extra: list[tuple[Any, ...]] = []
        for index, alert in enumerate(self.report.alerts, start=1):
            colour = PRIORITY_COLOURS.get(alert.priority, colors.black)
            extra.append(("TEXTCOLOR", (1, index), (1, index), colour))
            rows.append(
                [
                    self.times.at(alert.raised_at),
                    self._priority(alert.priority),
                    self._lines([alert.title, alert.message], first_bold=True),
                    self._lines(self._alert_state(alert)),
                    self._lines(self._alert_handling(alert)),
                ]
            )
        extra.append(("FONT", (1, 1), (1, -1), self.fonts.bold, 8, 9.6))
        priority_width = max(self.fit_width(self._priority(p), bold=True) for p in PRIORITY_WORDS)
        widths = _widths(self.portrait_width, [self.time_width, priority_width, 160, 70, None])
        header = ["Raised", "Priority", "Alert", "State", "Acknowledgement and events"]
        return [*flow, self.styles.table(header, rows, widths, extra=extra)]

    def _priority(self, priority: str) -> str:
        word = PRIORITY_WORDS.get(priority, priority.upper())
        symbol = PRIORITY_SYMBOLS.get(priority)
        return f"{symbol} {word}" if symbol and self.fonts.has_symbols else word

    def _alert_state(self, alert: ReportAlert) -> list[str]:
        lines = [alert.state]
        if alert.escalated_at is not None:
            lines.append(f"Escalated {self.times.at(alert.escalated_at)}")
        if alert.resolved_at is not None:
            lines.append(f"Resolved {self.times.at(alert.resolved_at)}")
        return lines

    def _alert_handling(self, alert: ReportAlert) -> list[str]:
        lines = []
        if alert.acknowledged_by:
            reason = f": {alert.acknowledge_reason}" if alert.acknowledge_reason else ""
            when = _at(self.times.at(alert.acknowledged_at))
            lines.append(f"Acknowledged by {alert.acknowledged_by}{when}{reason}")
        for event in alert.events:
            # The acknowledgement already has its own line above.
            acknowledgement = ("acknowledge", alert.acknowledged_by, alert.acknowledged_at)
            if (event.kind, event.by, event.at) == acknowledgement:
                continue
            until = f" until {self.times.at(event.until)}" if event.until is not None else ""
            reason = f": {event.reason}" if event.reason else ""
            kind = event.kind.replace("_", " ")
            lines.append(f"{self.times.at(event.at)} {kind} by {event.by}{until}{reason}")
        return lines or ["–"]

    # --- corrections and sign-offs ---

    def _corrections(self) -> list[Flowable]:
        """Every amendment and entry in error in one list, so a reviewer need not hunt through tables."""
        r = self.report
        previous_total = _previous_totals(r.assessments)
        found: list[tuple[datetime, str, str, str]] = []
        for a in r.assessments:
            taken = self.times.at(a.taken_at)
            if a.version > 1:
                was = previous_total.get(a.id)
                change = f"total {was} now {a.total}" if was is not None else f"total {a.total}"
                what = f"COWS of {taken} amended ({change})"
                found.append((a.recorded_at, what, a.recorded_by, a.amend_reason))
            if a.voided_at is not None:
                what = f"COWS of {taken} (total {a.total}) entered in error"
                found.append((a.voided_at, what, a.voided_by, a.void_reason))
        for d in r.doses:
            if d.voided_at is not None:
                what = f"Dose {d.description} of {self.times.at(d.given_at)} entered in error"
                found.append((d.voided_at, what, "", d.void_reason))
        for v in r.vitals:
            if v.voided_at is not None:
                what = f"Vital signs of {self.times.at(v.taken_at)} entered in error"
                found.append((v.voided_at, what, "", v.void_reason))
        flow: list[Flowable] = [self._heading("Amendments and entries in error")]
        if not found:
            return [*flow, self._empty("None.")]
        found.sort(key=lambda row: row[0])
        rows = [
            [self.times.at(at), self._cell(what), self._cell(by or "–"), self._cell(why)]
            for at, what, by, why in found
        ]
        widths = _widths(self.portrait_width, [self.time_width, 200, 56, None])
        return [*flow, self.styles.table(["When", "What", "By", "Reason"], rows, widths)]

    def _sign_offs(self) -> list[Flowable]:
        flow: list[Flowable] = [self._heading("Sign-offs")]
        if not self.report.sign_offs:
            return [*flow, self._empty("Not signed off.")]
        rows = [
            [
                self._lines([f"{self.times.at(s.period_start)} –", self.times.at(s.period_end)]),
                self.times.at(s.signed_at),
                self._cell(s.signed_by, bold=True),
                self._cell(s.comment or "–"),
            ]
            for s in self.report.sign_offs
        ]
        period_width = self.fit_width(self.times.at(self.report.exported_at) + " –")
        widths = _widths(self.portrait_width, [period_width, self.time_width, 60, None])
        return [*flow, self.styles.table(["Period", "Signed at", "By", "Comment"], rows, widths)]


def _widths(total: float, fixed: Sequence[float | None]) -> list[float]:
    """Column widths: the one None column takes what the fixed ones leave of the frame."""
    rest = total - sum(w for w in fixed if w is not None)
    return [rest if w is None else w for w in fixed]


def _date(value: date | None) -> str:
    return value.isoformat() if value is not None else "not recorded"


def _at(text: str) -> str:
    return f" ({text})" if text else ""


def _blood_pressure(v: ReportVitals) -> str:
    if v.systolic is None and v.diastolic is None:
        return "–"
    return f"{_number(v.systolic)}/{_number(v.diastolic)}"


def _item_heading(key: str, number: int) -> str:
    return ITEM_HEADINGS.get(key, f"#{number}")


def _item_text(a: ReportAssessment, key: str) -> str:
    value = a.items.get(key)
    return "–" if value is None else str(value)


def _previous_totals(assessments: Sequence[ReportAssessment]) -> dict[int, int]:
    """For each amended version, the total of the version it replaced (by assessment id)."""
    by_version = {(a.root_id, a.version): a.total for a in assessments}
    return {
        a.id: by_version[(a.root_id, a.version - 1)]
        for a in assessments
        if a.version > 1 and (a.root_id, a.version - 1) in by_version
    }


# --- The trend chart --------------------------------------------------------------------------------

# Tick spacings for the time axis, in minutes; the first that gives at most MAX_TICKS ticks is used.
TICK_STEPS = (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2 * 1440, 7 * 1440)
MAX_TICKS = 8
# Point labels and labels of ordinary doses crowd the chart beyond these counts.
MAX_POINT_LABELS = 40
MAX_DOSE_LABELS = 15
DOSE_LABEL_GAP = 9  # points between two rotated dose labels, about one line of 6.8 pt text


class _TrendChart:
    """COWS totals over time on the scale's bands, with doses as vertical lines and alerts as shapes."""

    HEIGHT = 270
    LEFT = 34  # y tick labels and the axis title
    RIGHT = 88  # band labels
    LEGEND = 16
    AXIS = 24  # time tick labels: time, then date when it changes
    ALERT_LANE = 16

    def __init__(
        self,
        report: EpisodeReport,
        current: Sequence[ReportAssessment],
        times: _Times,
        fonts: _Fonts,
        width: float,
    ) -> None:
        self.current = sorted(current, key=lambda a: a.taken_at)
        self.doses = [d for d in report.doses if not d.entered_in_error]
        self.alerts = list(report.alerts)
        self.times = times
        self.fonts = fonts
        self.width = width
        self.plot_left = self.LEFT
        self.plot_right = width - self.RIGHT
        self.plot_bottom = self.LEGEND + self.AXIS
        self.plot_top = self.HEIGHT - self.ALERT_LANE - 4
        moments = [a.taken_at for a in self.current]
        moments += [d.given_at for d in self.doses] + [a.raised_at for a in self.alerts]
        start, end = min(moments), max(moments)
        pad = max((end - start) * 0.04, timedelta(minutes=10))
        self.start, self.end = start - pad, end + pad

    def x(self, moment: datetime) -> float:
        share = (moment - self.start) / (self.end - self.start)
        return self.plot_left + share * (self.plot_right - self.plot_left)

    def y(self, total: float) -> float:
        share = total / COWS.max_total
        return self.plot_bottom + share * (self.plot_top - self.plot_bottom)

    def text(
        self, x: float, y: float, text: str, *, size: float = 7, bold: bool = False, **kw: Any
    ) -> String:
        font = self.fonts.bold if bold else self.fonts.regular
        return String(x, y, text, fontName=font, fontSize=size, **kw)

    def draw(self) -> Drawing:
        drawing = Drawing(self.width, self.HEIGHT)
        for part in (self._bands, self._time_axis, self._doses, self._series, self._alerts, self._legend):
            for shape in part():
                drawing.add(shape)
        return drawing

    def _bands(self) -> list[Any]:
        shapes: list[Any] = []
        left, right = self.plot_left, self.plot_right
        for index, band in enumerate(COWS.bands):
            top = band.high + 1 if band is not COWS.bands[-1] else COWS.max_total
            low_y, high_y = self.y(band.low), self.y(top)
            fill = BAND_FILLS[min(index, len(BAND_FILLS) - 1)]
            shapes.append(Rect(left, low_y, right - left, high_y - low_y, fillColor=fill, strokeColor=None))
            if band.low > 0:  # the threshold into this band
                shapes.append(Line(left, low_y, right, low_y, **THRESHOLD_LINE))
            middle = (low_y + high_y) / 2
            label = band.label + ("*" if band.app_defined else "")
            shapes.append(self.text(right + 4, middle + 1, label, size=6.8, bold=True))
            shapes.append(
                self.text(right + 4, middle - 7, f"{band.low}–{band.high}", size=6.5, fillColor=VOID_TEXT)
            )
        for tick in sorted({0, COWS.max_total, *(b.low for b in COWS.bands)}):
            shapes.append(
                Line(left - 3, self.y(tick), left, self.y(tick), strokeColor=colors.black, strokeWidth=0.6)
            )
            shapes.append(self.text(left - 5, self.y(tick) - 2.4, str(tick), textAnchor="end"))
        frame = Rect(left, self.plot_bottom, right - left, self.plot_top - self.plot_bottom, fillColor=None)
        frame.strokeWidth = 0.7
        shapes.append(frame)
        title = self.text(0, 0, "COWS total", size=7, bold=True, textAnchor="middle")
        middle = (self.plot_bottom + self.plot_top) / 2
        shapes.append(Group(title, transform=(0, 1, -1, 0, 9, middle)))
        return shapes

    def _ticks(self) -> tuple[int, list[datetime]]:
        span_minutes = (self.end - self.start).total_seconds() / 60
        step = next((s for s in TICK_STEPS if span_minutes / s <= MAX_TICKS), TICK_STEPS[-1])
        while span_minutes / step > MAX_TICKS:  # episodes longer than weeks
            step *= 2
        # Ticks on round local wall-clock times (10:00, 10:30), counted from local midnight.
        local_start = self.times.local(self.start)
        midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (local_start.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds() / 60
        first = midnight + timedelta(minutes=-(-elapsed // step) * step)
        ticks = []
        tick = first
        while tick.astimezone(UTC) <= self.end:
            instant = tick.astimezone(UTC)
            # A wall-clock time skipped by a spring-forward change (02:30) does not exist: no tick there.
            if self.times.local(instant).replace(tzinfo=None) == tick.replace(tzinfo=None):
                ticks.append(instant)
            tick += timedelta(minutes=step)  # wall-clock steps: labels stay round across DST
        return step, ticks

    def _time_axis(self) -> list[Any]:
        step, ticks = self._ticks()
        shapes: list[Any] = []
        last_day = ""
        for tick in ticks:
            x = self.x(tick)
            local = self.times.local(tick)
            shapes.append(
                Line(x, self.plot_bottom, x, self.plot_bottom - 3, strokeColor=colors.black, strokeWidth=0.6)
            )
            shapes.append(
                Line(x, self.plot_bottom, x, self.plot_top, strokeColor=colors.white, strokeWidth=0.4)
            )
            day = local.strftime("%Y-%m-%d")
            if step < 1440:
                shapes.append(
                    self.text(x, self.plot_bottom - 11, local.strftime("%H:%M"), textAnchor="middle")
                )
                if day != last_day:
                    shapes.append(self.text(x, self.plot_bottom - 20, day, size=6.5, textAnchor="middle"))
            else:
                shapes.append(self.text(x, self.plot_bottom - 11, day, textAnchor="middle"))
            last_day = day
        return shapes

    def _doses(self) -> list[Any]:
        shapes: list[Any] = []
        ordinary = [d for d in self.doses if d.role != "antagonist"]
        labelled_at: list[float] = []
        # Antagonists first, so theirs is the label kept where two would overlap.
        for dose in sorted(self.doses, key=lambda d: d.role != "antagonist"):
            x = self.x(dose.given_at)
            antagonist = dose.role == "antagonist"
            style = ANTAGONIST_LINE if antagonist else DOSE_LINE
            shapes.append(Line(x, self.plot_bottom, x, self.plot_top, **style))
            crowded = any(abs(x - other) < DOSE_LABEL_GAP for other in labelled_at)
            if crowded or not (antagonist or len(ordinary) <= MAX_DOSE_LABELS):
                continue
            labelled_at.append(x)
            # Rotated to read upwards along the line, just left of it, ending at the top where the
            # points (mostly low totals) rarely are.
            colour = ANTAGONIST_RED if antagonist else colors.HexColor("#555555")
            label = self.text(
                -3, 0, dose.description, size=6.8, bold=antagonist, fillColor=colour, textAnchor="end"
            )
            shapes.append(Group(label, transform=(0, 1, -1, 0, x - 2, self.plot_top)))
        return shapes

    def _series(self) -> list[Any]:
        points = [(self.x(a.taken_at), self.y(a.total)) for a in self.current]
        # Markers shrink when points crowd, so a week of half-hourly totals still reads as a line.
        spacing = (self.plot_right - self.plot_left) / len(points)
        radius = max(0.8, min(2.6, spacing / 3))
        shapes: list[Any] = []
        if len(points) > 1:
            flat = [coordinate for point in points for coordinate in point]
            line_width = 1.4 if radius >= 2 else 0.8
            shapes.append(PolyLine(flat, strokeColor=colors.black, strokeWidth=line_width))
        for (x, y), a in zip(points, self.current, strict=True):
            shapes.append(Circle(x, y, radius, fillColor=colors.black, strokeColor=None))
            if len(points) <= MAX_POINT_LABELS:
                shapes.append(self.text(x, y + 5, str(a.total), size=7, bold=True, textAnchor="middle"))
        return shapes

    def _alerts(self) -> list[Any]:
        lane = self.plot_top + 4 + self.ALERT_LANE / 2
        shapes: list[Any] = [self.text(self.plot_left - 5, lane - 2.4, "Alerts", size=6.5, textAnchor="end")]
        for alert in self.alerts:
            shapes.append(_priority_shape(alert.priority, self.x(alert.raised_at), lane, 4.2))
        return shapes

    def _legend(self) -> list[Any]:
        shapes: list[Any] = []
        x, y = self.plot_left, 4.0
        entries = [("series", "COWS total"), ("antagonist", "antagonist dose"), ("dose", "other dose")]
        entries += [(priority, f"alert {word.lower()}") for priority, word in PRIORITY_WORDS.items()]
        for kind, label in entries:
            shapes += self._legend_marker(kind, x + 6, y + 2.5)
            shapes.append(self.text(x + 16, y, label, size=6.8))
            x += 16 + pdfmetrics.stringWidth(label, self.fonts.regular, 6.8) + 12
        return shapes

    def _legend_marker(self, kind: str, x: float, y: float) -> list[Any]:
        if kind == "series":
            line = Line(x - 6, y, x + 6, y, strokeColor=colors.black, strokeWidth=1.4)
            return [line, Circle(x, y, 2.4, fillColor=colors.black, strokeColor=None)]
        if kind == "antagonist":
            return [Line(x, y - 4.5, x, y + 4.5, **ANTAGONIST_LINE)]
        if kind == "dose":
            return [Line(x, y - 4.5, x, y + 4.5, **DOSE_LINE)]
        return [_priority_shape(kind, x, y, 3.8)]


def _priority_shape(priority: str, x: float, y: float, r: float) -> Any:
    """▲ high, ◆ medium, ● low, drawn as shapes so they never depend on a font's glyphs."""
    colour = PRIORITY_COLOURS.get(priority, colors.black)
    if priority == "high":
        return Polygon([x - r, y - r * 0.8, x + r, y - r * 0.8, x, y + r], fillColor=colour, strokeColor=None)
    if priority == "medium":
        return Polygon([x, y - r, x + r, y, x, y + r, x - r, y], fillColor=colour, strokeColor=None)
    return Circle(x, y, r * 0.8, fillColor=colour, strokeColor=None)
