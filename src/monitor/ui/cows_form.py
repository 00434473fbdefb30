"""Bedside COWS entry: one keyboard-first screen (design.md, UI; domain.md section 1).

All 11 items are on one screen, each a group of radio choices that show the score value and the
anchor text ("3 – Frequent shifting ..."). A digit picks the option with that score *value* (COWS
values skip numbers) and moves on to the next item, so a nurse can type 1 0 1 1 ... and press Enter.
A measured pulse scores item 1 by itself. The total and band are shown only when every item is
answered: a partial total reads as a low score, which is dangerous.

Nothing is kept here that cannot be rebuilt: the service saves, the form only collects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFocusEvent,
    QFont,
    QIntValidator,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QButtonGroup,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QVBoxLayout,
    QWidget,
)

from monitor.domain import charting, scales
from monitor.domain.scales import COWS, Item
from monitor.services.clinical import ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import AssessmentInput, AssessmentView, EpisodeDetail
from monitor.ui import timefmt
from monitor.ui.errors import describe
from monitor.ui.typed_fields import TimeEdit

__all__ = ["CowsForm", "CowsItemBox", "OptionRadio"]

# Items per column of the three-column grid, in form order (reading order runs down, then across).
_COLUMNS: tuple[tuple[int, int], ...] = ((0, 4), (4, 8), (8, 11))
# Anchor text wraps at about this many average characters, so three columns fit a 1366 px screen.
_WRAP_CHARS = 62
# The longest reason the service accepts (services.clinical.MAX_REASON).
_MAX_REASON = 2000
# How often the time checks are redone while the form is open (now moves on).
_RECHECK_MS = 30_000

_DIGIT_KEYS: dict[int, int] = {getattr(Qt.Key, f"Key_{d}").value: d for d in range(10)}
_PREV_KEYS = {Qt.Key.Key_Left.value, Qt.Key.Key_Up.value}
_NEXT_KEYS = {Qt.Key.Key_Right.value, Qt.Key.Key_Down.value}
_ENTER_KEYS = {Qt.Key.Key_Return.value, Qt.Key.Key_Enter.value}
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)


def _key(event: QKeyEvent) -> int:
    key = event.key()
    return int(key.value) if isinstance(key, Qt.Key) else int(key)


def _has_command_modifier(event: QKeyEvent) -> bool:
    return bool(event.modifiers() & _COMMAND_MODIFIERS)


def _plain(text: str) -> str:
    """A label's visible text: mnemonic ampersands removed ("&&" stays a literal "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _font(base: QFont, *, scale: float = 1.0, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setBold(bold)
    if scale != 1.0:
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale)
        elif font.pixelSize() > 0:
            font.setPixelSize(max(1, round(font.pixelSize() * scale)))
    return font


# --- one option: a radio button whose text wraps ---------------------------------------------------


class OptionRadio(QRadioButton):
    """A radio button whose text word-wraps instead of being cut off or elided.

    QRadioButton draws its text on one line; a long anchor in a narrow column would be clipped. This
    draws the style's own indicator and the text wrapped below it, and reports heightForWidth so the
    layout gives every line room. The whole area (not just the indicator) is clickable.
    """

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def _option(self) -> QStyleOptionButton:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        return option

    def _indicator_size(self) -> QSize:
        style = self.style()
        option = self._option()
        return QSize(
            style.pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth, option, self),
            style.pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorHeight, option, self),
        )

    def _text_left(self) -> int:
        metric = QStyle.PixelMetric.PM_RadioButtonLabelSpacing
        spacing = self.style().pixelMetric(metric, self._option(), self)
        return self._indicator_size().width() + spacing

    def _text_height(self, text_width: int) -> int:
        rect = self.fontMetrics().boundingRect(
            QRect(0, 0, max(1, text_width), 100_000),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
            self.text(),
        )
        return rect.height()

    def _natural_text_width(self) -> int:
        return self.fontMetrics().horizontalAdvance(self.text()) + 2

    def _wrap_width(self) -> int:
        return self.fontMetrics().averageCharWidth() * _WRAP_CHARS

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        text_height = self._text_height(width - self._text_left())
        return max(text_height, self._indicator_size().height()) + 2

    def sizeHint(self) -> QSize:
        width = self._text_left() + min(self._natural_text_width(), self._wrap_width())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        # Never narrower than the wrap width: on a small screen the form scrolls instead of squeezing
        # the anchors into more lines than the layout planned for.
        return self.sizeHint()

    def hitButton(self, pos: QPoint) -> bool:
        return self.rect().contains(pos)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        option = self._option()
        palette = self.palette()
        if self.isChecked():
            # The chosen option is tinted as well as ticked (not colour alone: the tick is the shape).
            tint = QColor(palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight))
            tint.setAlpha(48)
            painter.fillRect(self.rect(), tint)
        indicator = self._indicator_size()
        line = self.fontMetrics().height()
        top = 1 + max(0, (line - indicator.height()) // 2)
        option.rect = QRect(0, top, indicator.width(), indicator.height())
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorRadioButton, option, painter, self)
        # Disabled only while scored from the pulse: draw the anchor in the normal text colour so it
        # stays fully legible; the greyed indicator and the "Scored from pulse" note tell the state.
        text_palette = QPalette(palette)
        text_palette.setCurrentColorGroup(QPalette.ColorGroup.Active)
        left = self._text_left()
        text_rect = QRect(left, 1, self.width() - left, self.height() - 1)
        self.style().drawItemText(
            painter,
            text_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
            text_palette,
            True,
            self.text(),
            QPalette.ColorRole.WindowText,
        )
        painter.end()


# --- one item: a group of options driven by digits and arrows --------------------------------------


class CowsItemBox(QGroupBox):
    """One COWS item: its options as radios in a QButtonGroup, keyboard-driven.

    The group box itself takes focus (its radios do not), so Tab and Shift+Tab move from item to item.
    A digit selects the option with that score value; arrows move between options.
    """

    changed = Signal(str)  # the item key; emitted on every change of the selection
    digit_picked = Signal(str)  # the item key; a digit chose a value, move on
    hint = Signal(str)  # a short message for the status line
    digit_refused = Signal(str, int)  # the item key and a digit it does not allow

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        title = f"{item.number}. {self._translate_scale(item.label)}"
        super().__init__(title, parent)
        self.item = item
        self._locked = False
        self.setAccessibleName(title)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        base = self.font()
        self.setFont(_font(base, bold=True))
        plain = _font(base)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(1)
        if item.instruction:
            instruction = QLabel(self._translate_scale(item.instruction), self)
            instruction.setFont(_font(base, scale=0.9))
            instruction.setWordWrap(True)
            layout.addWidget(instruction)
        # Room for extra rows above the options (item 1 puts the pulse field here).
        self.extra_layout = QVBoxLayout()
        self.extra_layout.setContentsMargins(0, 0, 0, 0)
        self.extra_layout.setSpacing(2)
        layout.addLayout(self.extra_layout)

        self._buttons = QButtonGroup(self)
        self._buttons.setExclusive(True)
        self._radios: dict[int, OptionRadio] = {}
        for option in item.options:
            text = f"{option.value} – {self._translate_scale(option.anchor)}"
            radio = OptionRadio(text, self)
            radio.setFont(plain)
            radio.setAccessibleName(text)
            radio.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self._buttons.addButton(radio, option.value)
            self._radios[option.value] = radio
            layout.addWidget(radio)
        self._buttons.idClicked.connect(self._clicked)
        self._describe()

    @staticmethod
    def _translate_scale(text: str) -> str:
        # Scale texts are data; a translator can still supply them under the "COWS" context.
        return QApplication.translate("COWS", text)

    # -- state

    def value(self) -> int | None:
        """The selected score value, or None while the item is unanswered."""
        checked = self._buttons.checkedId()
        return None if checked == -1 else checked

    def select_value(self, value: int | None) -> None:
        """Select the option with this score value (None clears the item); emits changed if it changed."""
        if value is not None and value not in self._radios:
            raise scales.InvalidItemValue(self.item.key, value, self.item.allowed_values, self.item.label)
        if value == self.value():
            return
        if value is None:
            self._buttons.setExclusive(False)
            for radio in self._radios.values():
                radio.setChecked(False)
            self._buttons.setExclusive(True)
        else:
            self._radios[value].setChecked(True)
        self._describe()
        self.changed.emit(self.item.key)

    def radios(self) -> list[OptionRadio]:
        """The option buttons in value order."""
        return list(self._radios.values())

    def radio(self, value: int) -> OptionRadio:
        return self._radios[value]

    def allowed_text(self) -> str:
        return ", ".join(str(v) for v in self.item.allowed_values)

    @property
    def locked(self) -> bool:
        return self._locked

    def set_locked(self, locked: bool) -> None:
        """Locked: scored from elsewhere (item 1 from the pulse); radios disabled, no keyboard stop."""
        self._locked = locked
        for radio in self._radios.values():
            radio.setEnabled(not locked)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus if locked else Qt.FocusPolicy.StrongFocus)
        self._describe()

    def _describe(self) -> None:
        value = self.value()
        if value is None:
            text = self.tr("Not answered. Allowed: {values}.").format(values=self.allowed_text())
        else:
            text = self.tr("Selected: {choice}.").format(choice=self._radios[value].text())
        if self._locked:
            text += " " + self.tr("Scored from pulse.")
        self.setAccessibleDescription(text)

    # -- input

    def _clicked(self, value: int) -> None:
        self._describe()
        self.changed.emit(self.item.key)
        if self.focusPolicy() != Qt.FocusPolicy.NoFocus:
            self.setFocus(Qt.FocusReason.MouseFocusReason)

    def _step(self, delta: int) -> None:
        values = list(self.item.allowed_values)
        current = self.value()
        if current is None:
            index = 0 if delta > 0 else len(values) - 1
        else:
            index = min(max(values.index(current) + delta, 0), len(values) - 1)
        self.select_value(values[index])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = _key(event)
        if _has_command_modifier(event) or self._locked:
            super().keyPressEvent(event)
            return
        if key in _DIGIT_KEYS:
            digit = _DIGIT_KEYS[key]
            if digit in self._radios:
                self.select_value(digit)
                self.digit_picked.emit(self.item.key)
            else:
                self.hint.emit(
                    self.tr("{label} allows {values}").format(
                        label=self._translate_scale(self.item.label), values=self.allowed_text()
                    )
                )
                self.digit_refused.emit(self.item.key, digit)
            event.accept()
            return
        if key in _PREV_KEYS:
            self._step(-1)
            event.accept()
            return
        if key in _NEXT_KEYS:
            self._step(+1)
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # A click on a disabled radio lands here: say why it does nothing.
        if self._locked:
            self.hint.emit(
                self.tr("Item {number} is scored from the pulse; clear the pulse to choose by hand.").format(
                    number=self.item.number
                )
            )
        super().mousePressEvent(event)

    # -- focus shown by a frame as well as by the system's focus colour

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.hasFocus():
            painter = QPainter(self)
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight))
            pen.setWidth(2)
            painter.setPen(pen)
            painter.drawRect(self.rect().adjusted(1, 1, -1, -1))
            painter.end()


class _FittingScrollArea(QScrollArea):
    """A scroll area that asks for its whole content: scroll bars appear only on a screen too small."""

    def sizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().sizeHint()
        frame = 2 * self.frameWidth()
        hint = widget.sizeHint()
        if widget.hasHeightForWidth():
            # Wrapped anchors: the height that the content needs at its preferred width.
            hint.setHeight(max(hint.height(), widget.heightForWidth(hint.width())))
        return hint + QSize(frame, frame)


# --- the dialog -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CowsDraft:
    """What was entered in a COWS form that the idle lock closed before it was saved.

    Kept in memory only (never written anywhere): it goes back into a new form for the same nurse, or
    is thrown away when someone else signs in at the workstation.
    """

    episode_id: int
    amend: AssessmentView | None
    items: dict[str, int | None]
    pulse_text: str
    taken_at: datetime
    note: str
    late_reason: str
    amend_reason: str


class CowsForm(QDialog):
    """Record (or amend) one COWS for an episode; after a successful save `saved` holds the result."""

    def __init__(
        self,
        service: ClinicalService,
        actor: str,
        episode: EpisodeDetail,
        *,
        amend: AssessmentView | None = None,
        draft: CowsDraft | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode = episode
        self.amend = amend
        self.saved: AssessmentView | None = None
        self._service_errors: dict[str, str] = {}
        # Digits typed and not taken (refused by an item, or after the last item): see _digit_not_taken.
        self._untaken: list[str] = []
        self._original_taken_at: datetime | None = None
        self._closing_programmatically = False

        bed = episode.bed or self.tr("no bed")
        if amend is None:
            title = self.tr("COWS – {name} (bed {bed})")
        else:
            title = self.tr("Amend COWS – {name} (bed {bed})")
        self.setWindowTitle(title.format(name=episode.name, bed=bed))
        self.setSizeGripEnabled(True)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(4)
        outer.addWidget(self._build_header())

        content = QWidget(self)
        columns = QHBoxLayout(content)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(8)
        self._items: dict[str, CowsItemBox] = {}
        column_layouts: list[QVBoxLayout] = []
        for start, stop in _COLUMNS:
            column = QVBoxLayout()
            column.setSpacing(4)
            for item in COWS.items[start:stop]:
                box = CowsItemBox(item, content)
                box.changed.connect(self._item_changed)
                box.digit_picked.connect(self._advance_after)
                box.hint.connect(self._show_hint)
                box.digit_refused.connect(self._digit_not_taken)
                self._items[item.key] = box
                column.addWidget(box)
            column_layouts.append(column)
            columns.addLayout(column, 1)
        self._build_pulse_row(self._items["resting_pulse"])
        charting_box = self._build_charting_fields(content)
        column_layouts[-1].addWidget(charting_box)
        for column in column_layouts:
            column.addStretch(1)
        # Three equal columns, each as wide as the widest item wants: no column squeezes another.
        column_width = max(box.sizeHint().width() for box in self._items.values())
        for widget in (*self._items.values(), charting_box):
            widget.setMinimumWidth(column_width)

        scroll = self._scroll = _FittingScrollArea(self)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setWidget(content)
        outer.addWidget(scroll, 1)
        outer.addLayout(self._build_footer())

        self._set_tab_order()
        self._prefill()
        self._initial_state = self._state()
        if draft is not None:
            # After the initial state: a restored draft counts as unsaved input (Esc asks first).
            self._restore(draft)

        self._recheck = QTimer(self)
        self._recheck.setInterval(_RECHECK_MS)
        self._recheck.timeout.connect(self._refresh)
        self._recheck.start()
        self._refresh()
        self._fit_to_screen()
        self._focus_first()

    # -- building

    def _build_header(self) -> QWidget:
        header = QWidget(self)
        layout = QVBoxLayout(header)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        patient = QLabel(
            self.tr("{name}    MRN {mrn}    Bed {bed}").format(
                name=self.episode.name, mrn=self.episode.mrn, bed=self.episode.bed or self.tr("none")
            ),
            header,
        )
        patient.setFont(_font(self.font(), scale=1.15, bold=True))
        patient.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header_label = patient
        layout.addWidget(patient)
        if self.amend is not None:
            amending = QLabel(
                self.tr(
                    "Amending version {version} of the COWS taken {taken}, recorded by {who}. "
                    "The original stays in the history."
                ).format(
                    version=self.amend.version,
                    taken=timefmt.local(self.amend.taken_at),
                    who=self.amend.recorded_by_name or self.amend.recorded_by,
                ),
                header,
            )
            amending.setWordWrap(True)
            layout.addWidget(amending)
        if not self.episode.is_open:
            closed = QLabel(self.tr("This episode is discharged: new assessments cannot be saved."), header)
            closed.setWordWrap(True)
            layout.addWidget(closed)
        return header

    def _build_pulse_row(self, box: CowsItemBox) -> None:
        row = QHBoxLayout()
        row.setSpacing(6)
        label = QLabel(self.tr("&Pulse (bpm)"), box)
        label.setFont(_font(self.font()))
        self.pulse_edit = QLineEdit(box)
        self.pulse_edit.setFont(_font(self.font()))
        self.pulse_edit.setAccessibleName(_plain(label.text()))
        self.pulse_edit.setValidator(QIntValidator(0, 999, self.pulse_edit))
        self.pulse_edit.setMaxLength(3)
        self.pulse_edit.setFixedWidth(self.pulse_edit.fontMetrics().horizontalAdvance("0000") + 16)
        self.pulse_edit.setPlaceholderText(self.tr("bpm"))
        label.setBuddy(self.pulse_edit)
        self.pulse_message = QLabel(box)
        self.pulse_message.setFont(_font(self.font()))
        self.pulse_message.setWordWrap(True)
        self.pulse_message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row.addWidget(label)
        row.addWidget(self.pulse_edit)
        row.addWidget(self.pulse_message, 1)
        box.extra_layout.addLayout(row)
        self.pulse_edit.textChanged.connect(self._pulse_changed)
        self.pulse_edit.editingFinished.connect(self._refresh)

    def _build_charting_fields(self, parent: QWidget) -> QWidget:
        box = QGroupBox(self._zone_caption(), parent)
        form = QFormLayout(box)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(3)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form = form

        time_label = QLabel(self.tr("&Time taken"), box)
        self.time_edit = TimeEdit(box)
        self.time_edit.setAccessibleName(_plain(time_label.text()))
        time_label.setBuddy(self.time_edit)
        form.addRow(time_label, self.time_edit)
        self.time_message = QLabel(box)
        self.time_message.setWordWrap(True)
        form.addRow(self.time_message)
        self.time_edit.dateTimeChanged.connect(self._time_changed)
        self.time_edit.refused.connect(self._show_hint)  # said on the status line too, not only a tooltip

        self._late_label = QLabel(self.tr("Reason for &late charting"), box)
        self.late_reason_edit = QLineEdit(box)
        self.late_reason_edit.setMaxLength(_MAX_REASON)
        self.late_reason_edit.setAccessibleName(_plain(self._late_label.text()))
        self._late_label.setBuddy(self.late_reason_edit)
        form.addRow(self._late_label, self.late_reason_edit)
        self.late_message = QLabel(box)
        self.late_message.setWordWrap(True)
        form.addRow(self.late_message)
        self.late_reason_edit.textChanged.connect(self._late_reason_changed)

        note_label = QLabel(self.tr("&Note"), box)
        self.note_edit = QLineEdit(box)
        self.note_edit.setMaxLength(_MAX_REASON)
        self.note_edit.setPlaceholderText(self.tr("Optional"))
        self.note_edit.setAccessibleName(_plain(note_label.text()))
        note_label.setBuddy(self.note_edit)
        form.addRow(note_label, self.note_edit)
        self.note_edit.textChanged.connect(self._field_changed)

        self.amend_reason_edit: QLineEdit | None = None
        self.amend_message: QLabel | None = None
        if self.amend is not None:
            amend_label = QLabel(self.tr("Reason for &amendment"), box)
            self.amend_reason_edit = QLineEdit(box)
            self.amend_reason_edit.setMaxLength(_MAX_REASON)
            self.amend_reason_edit.setPlaceholderText(self.tr("Required"))
            self.amend_reason_edit.setAccessibleName(_plain(amend_label.text()))
            amend_label.setBuddy(self.amend_reason_edit)
            form.addRow(amend_label, self.amend_reason_edit)
            self.amend_message = QLabel(box)
            self.amend_message.setWordWrap(True)
            form.addRow(self.amend_message)
            self.amend_reason_edit.textChanged.connect(self._amend_reason_changed)
        return box

    def _build_footer(self) -> QVBoxLayout:
        footer = QVBoxLayout()
        footer.setSpacing(2)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Status"))
        # Two lines reserved, so a message never pushes the items into a scroll area.
        self.status_label.setMinimumHeight(2 * self.status_label.fontMetrics().lineSpacing())
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        footer.addWidget(self.status_label)
        row = QHBoxLayout()
        self.total_label = QLabel(self)
        self.total_label.setFont(_font(self.font(), scale=1.3, bold=True))
        self.total_label.setWordWrap(True)
        row.addWidget(self.total_label, 1)
        self.save_button = QPushButton(self.tr("&Save"), self)
        self.save_button.setAccessibleName(_plain(self.save_button.text()))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._try_save)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setAccessibleName(_plain(self.cancel_button.text()))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        row.addWidget(self.save_button)
        row.addWidget(self.cancel_button)
        footer.addLayout(row)
        return footer

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [self.pulse_edit, *self._items.values(), self.time_edit]
        chain += [self.late_reason_edit, self.note_edit]
        if self.amend_reason_edit is not None:
            chain.append(self.amend_reason_edit)
        chain += [self.save_button, self.cancel_button]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _zone_caption(self) -> str:
        # The workstation's local time, as every other screen shows it (monitor.ui.timefmt).
        zone = bytes(QTimeZone.systemTimeZoneId().data()).decode()
        return self.tr("Time and note (local time, {zone})").format(zone=zone)

    def _fit_to_screen(self, *, grow_only: bool = False) -> None:
        """Size to show everything without scrolling, as far as the screen allows.

        grow_only: a field that appeared (late-charting reason, an error) made the content taller;
        grow rather than hide part of the form behind a scroll bar, and never shrink under the nurse.
        """
        hint = self.sizeHint()
        if grow_only:
            if hint.width() <= self.width() and hint.height() <= self.height():
                return
            hint = hint.expandedTo(self.size())
        screen = self.screen()
        if screen is not None:
            hint = hint.boundedTo(screen.availableGeometry().size())
        if hint != self.size():
            self.resize(hint)

    # -- time: stored as aware UTC, shown in the workstation's local time

    def _field_time(self) -> datetime:
        return timefmt.from_qdatetime(self.time_edit.dateTime())

    def taken_at(self) -> datetime:
        """The clinical time as chosen, as an aware UTC datetime. An amendment whose time field was left
        as it was keeps the original time exactly (the field holds whole seconds): the history then
        shows no change of time that nobody made."""
        chosen = self._field_time()
        if self.amend is not None and chosen == self._original_taken_at:
            return self.amend.taken_at
        return chosen

    # -- prefill and state

    def _prefill(self) -> None:
        if self.amend is None:
            now = self.service.clock.now().astimezone(UTC).replace(second=0, microsecond=0)
            self.time_edit.setDateTime(timefmt.to_qdatetime(now))
            return
        self.time_edit.setDateTime(timefmt.to_qdatetime(self.amend.taken_at))
        self._original_taken_at = self._field_time()
        for key, box in self._items.items():
            box.select_value(self.amend.items.get(key))
        if self.amend.pulse_bpm is not None:
            self.pulse_edit.setText(str(self.amend.pulse_bpm))
        self.note_edit.setText(self.amend.note)
        self.late_reason_edit.setText(self.amend.late_reason)

    def draft(self) -> CowsDraft:
        """Everything entered so far, to be put back after the screen was locked."""
        return CowsDraft(
            episode_id=self.episode.id,
            amend=self.amend,
            items=self._answers(),
            pulse_text=self.pulse_edit.text(),
            taken_at=self.taken_at(),
            note=self.note_edit.text(),
            late_reason=self.late_reason_edit.text(),
            amend_reason=self.amend_reason_edit.text() if self.amend_reason_edit is not None else "",
        )

    def _restore(self, draft: CowsDraft) -> None:
        self.time_edit.setDateTime(timefmt.to_qdatetime(draft.taken_at))
        self.pulse_edit.setText(draft.pulse_text)
        for key, box in self._items.items():
            if not box.locked:  # item 1 follows the pulse when one is typed
                box.select_value(draft.items.get(key))
        self.note_edit.setText(draft.note)
        self.late_reason_edit.setText(draft.late_reason)
        if self.amend_reason_edit is not None:
            self.amend_reason_edit.setText(draft.amend_reason)

    def close_for_lock(self) -> CowsDraft | None:
        """Close without asking (nobody may be there to answer); the unsaved input, if any, is returned."""
        kept = self.draft() if self.saved is None and self.has_changes() else None
        self._closing_programmatically = True
        self.reject()
        return kept

    def _state(self) -> tuple[object, ...]:
        return (
            tuple(box.value() for box in self._items.values()),
            self.pulse_edit.text(),
            self.time_edit.dateTime().toSecsSinceEpoch(),
            self.note_edit.text(),
            self.late_reason_edit.text(),
            self.amend_reason_edit.text() if self.amend_reason_edit is not None else "",
        )

    def has_changes(self) -> bool:
        """Anything entered (or, when amending, changed) since the form opened."""
        return self._state() != self._initial_state

    # -- public helpers (tests, screenshot script)

    def item_widget(self, key: str) -> CowsItemBox:
        return self._items[key]

    def selected(self, key: str) -> int | None:
        return self._items[key].value()

    def total_text(self) -> str:
        return self.total_label.text()

    def status_text(self) -> str:
        return self.status_label.text()

    # -- pulse

    def _pulse(self) -> tuple[int | None, str]:
        """(bpm, problem): bpm is None when the field is empty or the value cannot be used."""
        text = self.pulse_edit.text().strip()
        if not text:
            return None, ""
        try:
            bpm = int(text)
        except ValueError:
            return None, self.tr("Enter the pulse as a whole number of beats per minute")
        low, high = scales.PULSE_PLAUSIBLE_BPM
        if not low <= bpm <= high:
            return None, self.tr("Not plausible: enter {low}–{high} bpm").format(low=low, high=high)
        return bpm, ""

    def _pulse_changed(self) -> None:
        box = self._items["resting_pulse"]
        text = self.pulse_edit.text().strip()
        bpm, _problem = self._pulse()
        had_focus = self.focusWidget() is box
        box.set_locked(bool(text))
        if had_focus and box.locked:
            self._focus(self.pulse_edit)  # item 1 no longer takes focus: stay where item 1 is scored
        if bpm is not None:
            box.select_value(scales.resting_pulse_value(bpm))
        else:
            # An empty or unusable pulse leaves item 1 unanswered: never keep a stale score.
            box.select_value(None)
        self._service_errors.pop("Pulse (bpm)", None)
        self._field_changed()

    # -- reactions

    def _item_changed(self, _key: str) -> None:
        self._service_errors.pop("Items", None)
        self._field_changed()

    def _time_changed(self) -> None:
        self._service_errors.pop("Time taken", None)
        self._field_changed()

    def _late_reason_changed(self) -> None:
        self._service_errors.pop("Reason for late charting", None)
        self._field_changed()

    def _amend_reason_changed(self) -> None:
        self._service_errors.pop("Reason for amendment", None)
        self._field_changed()

    def _field_changed(self) -> None:
        self.status_label.clear()
        self._refresh()

    def _digit_not_taken(self, key: str | None, digit: int) -> None:
        """A digit an item refused, or one typed after the last item (on Save), where nothing takes it.

        A pulse typed as scores ("100" for a pulse of 100, where the form opens on item 1) puts every
        later score one item late: the scores that no longer fit are refused, and the last land after
        item 11. Each is remembered, and the first Enter says them all instead of saving."""
        where = (
            self.tr("after the last item")
            if key is None
            else self.tr("at item {number}").format(number=COWS.item(key).number)
        )
        self._untaken.append(f'"{digit}" {where}')
        if key is None:
            self.status_label.setText(self._untaken_message())

    def _untaken_message(self) -> str:
        return self.tr(
            "Not taken: {digits}. Were the scores typed one item late (a pulse typed as scores)? Check "
            "the items; a pulse goes in Pulse (Alt+P). Enter saves the scores as shown."
        ).format(digits=", ".join(self._untaken))

    def _show_hint(self, text: str) -> None:
        self.status_label.setText(text)

    def _advance_after(self, key: str) -> None:
        """After a digit pick, focus the next item; after the last, what still blocks saving, or Save."""
        keys = list(self._items)
        for later in keys[keys.index(key) + 1 :]:
            box = self._items[later]
            if not box.locked:
                self._focus(box)
                return
        blockers = self._blockers()
        self._focus(blockers[0][0] if blockers else self.save_button)

    # -- checks

    def _answers(self) -> dict[str, int | None]:
        return {key: box.value() for key, box in self._items.items()}

    def _time_verdict(self) -> charting.TimeVerdict:
        return charting.check_clinical_time(self.taken_at(), self.service.clock.now())

    def _late_reason_required(self, verdict: charting.TimeVerdict) -> bool:
        if verdict is not charting.TimeVerdict.LATE:
            return False
        if self.amend is None:
            return True
        # Amending keeps the original clinical time: the amendment reason explains the correction.
        # Only moving the time to another late time needs a late-charting reason of its own.
        return self._field_time() != self._original_taken_at

    def _blockers(self) -> list[tuple[QWidget, str]]:
        """What stops saving, in form order, each with the widget to fix it in."""
        blockers: list[tuple[QWidget, str]] = []
        _bpm, pulse_problem = self._pulse()
        result = scales.score(COWS, self._answers())
        missing = list(result.missing)
        if pulse_problem and "resting_pulse" in missing:
            blockers.append(
                (
                    self.pulse_edit,
                    self.tr(
                        "The pulse {text} bpm cannot score item 1 ({problem}); correct it, or clear it "
                        "and choose item 1 by hand."
                    ).format(text=self.pulse_edit.text().strip(), problem=pulse_problem.lower()),
                )
            )
            missing.remove("resting_pulse")
        if missing:
            names = "; ".join(self._items[k].accessibleName() for k in missing)
            blockers.append((self._items[missing[0]], self.tr("Missing: {items}.").format(items=names)))
        verdict = self._time_verdict()
        if verdict is charting.TimeVerdict.IN_FUTURE:
            blockers.append(
                (self.time_edit, self.tr("Time taken is more than 5 minutes in the future: correct it."))
            )
        if self._late_reason_required(verdict) and not self.late_reason_edit.text().strip():
            blockers.append(
                (
                    self.late_reason_edit,
                    self.tr("Give a reason for late charting (taken more than 1 hour ago)."),
                )
            )
        if self.amend_reason_edit is not None and not self.amend_reason_edit.text().strip():
            blockers.append((self.amend_reason_edit, self.tr("Give a reason for the amendment.")))
        return blockers

    def _refresh(self) -> None:
        """Recompute the total, the field messages and whether Save is allowed."""
        result = scales.score(COWS, self._answers())
        if result.total is None or result.band is None:
            numbers = ", ".join(str(COWS.item(k).number) for k in result.missing)
            count = len(result.missing)
            if count == 1:
                text = self.tr("No total: 1 item missing ({numbers})").format(numbers=numbers)
            else:
                text = self.tr("No total: {count} items missing ({numbers})").format(
                    count=count, numbers=numbers
                )
        else:
            band = result.band
            band_label = QApplication.translate("COWS", band.label)
            if band.app_defined:
                band_text = self.tr("{label} ({low}–{high}, this app's label; the scale defines none)")
            else:
                band_text = self.tr("{label} ({low}–{high})")
            text = self.tr("Total {total} of {max} – {band}").format(
                total=result.total,
                max=COWS.max_total,
                band=band_text.format(label=band_label, low=band.low, high=band.high),
            )
        self.total_label.setText(text)
        self.total_label.setAccessibleName(text)

        bpm, pulse_problem = self._pulse()
        pulse_message = self._service_errors.get("Pulse (bpm)", "")
        if not pulse_message:
            if pulse_problem and not self._pulse_still_typing():
                pulse_message = pulse_problem
            elif bpm is not None:
                pulse_message = self.tr("Scored from pulse: {value}").format(
                    value=scales.resting_pulse_value(bpm)
                )
        self.pulse_message.setText(pulse_message)

        verdict = self._time_verdict()
        time_message = self._service_errors.get("Time taken", "")
        if verdict is charting.TimeVerdict.IN_FUTURE:
            time_message = self.tr("More than 5 minutes in the future: not allowed")
        self.time_message.setText(time_message)
        self._form.setRowVisible(self.time_message, bool(time_message))

        late_error = "Reason for late charting" in self._service_errors
        late_visible = verdict is charting.TimeVerdict.LATE or late_error
        required = self._late_reason_required(verdict) or late_error
        self._form.setRowVisible(self.late_reason_edit, late_visible)
        self.late_reason_edit.setPlaceholderText(self.tr("Required") if required else self.tr("Optional"))
        late_message = self._service_errors.get("Reason for late charting", "")
        self.late_message.setText(late_message)
        self._form.setRowVisible(self.late_message, bool(late_message))

        if self.amend_message is not None:
            amend_message = self._service_errors.get("Reason for amendment", "")
            self.amend_message.setText(amend_message)
            self._form.setRowVisible(self.amend_message, bool(amend_message))

        self.save_button.setEnabled(not self._blockers())
        # Rows may have appeared or gone: the scroll area's size hint is cached by the dialog's layout.
        self._scroll.updateGeometry()
        if self.isVisible():
            self._fit_to_screen(grow_only=True)

    def _pulse_still_typing(self) -> bool:
        """A too-low pulse may be the first digit of a longer one: say nothing until the nurse stops."""
        text = self.pulse_edit.text().strip()
        low, _high = scales.PULSE_PLAUSIBLE_BPM
        return self.pulse_edit.hasFocus() and text.isdigit() and int(text) < low and len(text) < 3

    # -- saving

    def _input(self) -> AssessmentInput:
        bpm, _problem = self._pulse()
        late_visible = self._time_verdict() is charting.TimeVerdict.LATE
        return AssessmentInput(
            taken_at=self.taken_at(),
            items=self._answers(),
            pulse_bpm=bpm,
            note=self.note_edit.text().strip(),
            late_reason=self.late_reason_edit.text().strip() if late_visible else "",
        )

    def _try_save(self) -> None:
        """Save when allowed; otherwise say what is missing and go to it. Errors keep the form open."""
        self._refresh()  # now may have moved on since the last check
        blockers = self._blockers()
        if blockers:
            self.status_label.setText(
                self.tr("Not saved yet. {what}").format(what=" ".join(message for _w, message in blockers))
            )
            self._focus(blockers[0][0])
            return
        if self._untaken:
            self.status_label.setText(self.tr("Not saved yet. {what}").format(what=self._untaken_message()))
            self._untaken.clear()  # seen: the next Enter saves
            return
        entry = self._input()
        self.save_button.setEnabled(False)
        try:
            if self.amend is None:
                view = self.service.record_assessment(self.actor, self.episode.id, entry)
            else:
                assert self.amend_reason_edit is not None
                view = self.service.amend_assessment(
                    self.actor, self.amend.id, entry, self.amend_reason_edit.text().strip()
                )
        except Exception as exc:  # ServiceError, DatabaseProblem or a bug: words on screen, never a trace
            self._show_save_error(exc)
            return
        self.saved = view
        self._recheck.stop()
        self.accept()

    def _show_save_error(self, exc: Exception) -> None:
        message = describe(exc)
        self._service_errors.clear()
        target: QWidget | None = None
        if isinstance(exc, ValidationError):
            self._service_errors[exc.field] = message
            target = {
                "Pulse (bpm)": self.pulse_edit,
                "Time taken": self.time_edit,
                "Reason for late charting": self.late_reason_edit,
                "Reason for amendment": self.amend_reason_edit,
            }.get(exc.field)
        self._refresh()
        self.status_label.setText(self.tr("Not saved. {message}").format(message=message))
        if target is not None:
            self._focus(target)

    # -- keys and closing

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if _key(event) in _DIGIT_KEYS and not _has_command_modifier(event):
            self._digit_not_taken(None, _DIGIT_KEYS[_key(event)])  # fields and items took theirs
            event.accept()
            return
        if _key(event) in _ENTER_KEYS and not _has_command_modifier(event):
            focus = QApplication.focusWidget()
            if isinstance(focus, QAbstractButton) and focus is not self.save_button:
                focus.click()  # Enter on a focused Cancel means Cancel
            else:
                self._try_save()
            event.accept()
            return
        super().keyPressEvent(event)

    def confirm_discard(self) -> bool:
        """Ask before throwing away what was entered; the safe answer (keep editing) is the default."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Discard this COWS?"))
        box.setText(self.tr("What you entered has not been saved. Discard it?"))
        discard = box.addButton(self.tr("Discard"), QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(self.tr("Keep editing"), QMessageBox.ButtonRole.RejectRole)
        for button in (discard, keep):
            button.setAccessibleName(button.text())  # a screen reader names them as they read
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is discard

    def reject(self) -> None:
        # Esc, Cancel or the window's close button: ask first when something would be lost.
        ask = not self._closing_programmatically
        self._closing_programmatically = False
        if ask and self.saved is None and self.has_changes() and not self.confirm_discard():
            return
        self._recheck.stop()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        # QDialog turns a close into reject(). A close the program asks for (close() from code, not
        # the window's close button) must not block on a question nobody may be there to answer.
        self._closing_programmatically = not event.spontaneous()
        super().closeEvent(event)
        self._closing_programmatically = False

    def _focus_first(self) -> None:
        # Set before the dialog is shown: QDialog then gives focus to this widget when it opens.
        first = self._items["resting_pulse"]
        boxes = [box for box in self._items.values() if not box.locked]
        missing = [box for box in boxes if box.value() is None]
        if missing and len(missing) < len(boxes):
            # A draft restored after the idle lock: on where the nurse stopped, so the next digit she
            # types scores the next item (in the pulse field it was lost, the field being full).
            self._focus(missing[0])
            return
        self._focus(self.pulse_edit if first.locked else first)

    def _focus(self, widget: QWidget) -> None:
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        content = self._scroll.widget()
        if content is not None and content.isAncestorOf(widget):
            self._scroll.ensureWidgetVisible(widget, 8, 8)
