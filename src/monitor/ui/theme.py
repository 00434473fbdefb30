"""Light and dark themes (issue 8): a night shift dims the ward, a day shift wants paper-white.

Three choices: follow the system (the platform's own style and colours, dark if the desktop is dark),
light, or dark. Light and dark use Qt's Fusion style with a palette of their own, so both look the
same on every platform and in the offscreen screenshots. Warnings and cautions are not hard-coded
colours: a label gets a *tone* (set_tone), whose colour is the current theme's and follows a change of
theme. Every pair of colours here is checked for contrast (WCAG 2.1 AA, 4.5:1 for text) in the tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory, QStyleOption, QWidget

SYSTEM, LIGHT, DARK = "system", "light", "dark"
#: The choices, in menu order, with their menu words.
THEMES: dict[str, str] = {SYSTEM: "Follow the system", LIGHT: "Light", DARK: "Dark"}
PREFERENCE_KEY = "theme"
#: Overrides the saved choice for one run (screenshots, a kiosk): light, dark or system.
THEME_ENV = "MONITOR_THEME"


@dataclass(frozen=True)
class Tones:
    warning: str  # refusals, a damaged database, no backup: read now
    caution: str  # a backup older than it should be: read soon
    muted: str  # entered-in-error rows, struck through but still to be read


LIGHT_TONES = Tones(warning="#b00020", caution="#7a4a00", muted="#616161")
DARK_TONES = Tones(warning="#ff8a80", caution="#ffb74d", muted="#a8a8a8")
TONE_NAMES = ("warning", "caution", "muted")

# A dark palette for Fusion: grey-blue surfaces rather than black (less glare on a dimmed ward), text
# off-white; every text/background pair at least 4.5:1.
_DARK_COLOURS: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1f2023",
    QPalette.ColorRole.AlternateBase: "#27292c",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#9e9e9e",
    QPalette.ColorRole.Button: "#393b40",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff8a80",
    QPalette.ColorRole.Light: "#4b4e53",
    QPalette.ColorRole.Midlight: "#42454a",
    QPalette.ColorRole.Mid: "#303236",
    QPalette.ColorRole.Dark: "#1b1c1e",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#2f6bc4",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.LinkVisited: "#c58af9",
    QPalette.ColorRole.ToolTipBase: "#393b40",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
}
_DARK_DISABLED: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.WindowText: "#8a8a8a",
    QPalette.ColorRole.Text: "#8a8a8a",
    QPalette.ColorRole.ButtonText: "#8a8a8a",
    QPalette.ColorRole.Highlight: "#44474c",
    QPalette.ColorRole.HighlightedText: "#bdbdbd",
}


class ThemeEvents(QObject):
    """Tells windows that draw with colours of their own (the trend charts) to redraw."""

    changed = Signal(str)  # the scheme now showing: light or dark


events = ThemeEvents()
_system: tuple[str, QPalette] | None = None  # the platform's own style and palette, kept at first use
_style: ReadableIndicators | None = None  # the style in use (Qt does not keep a Python reference to it)

_INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorRadioButton, QStyle.PrimitiveElement.PE_IndicatorCheckBox)


class ReadableIndicators(QProxyStyle):
    """The chosen style, with radio buttons and check boxes outlined in the text colour and a chosen
    radio button filled: Fusion draws their outline in the window colour darkened, which all but
    vanishes on a dark palette (the COWS form is forty radio buttons)."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _INDICATORS:
            return
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        group = QPalette.ColorGroup.Active if enabled else QPalette.ColorGroup.Disabled
        ink = QColor(option.palette.color(group, QPalette.ColorRole.WindowText))
        ring = QColor(ink)
        ring.setAlphaF(0.55)
        box = QRectF(option.rect).adjusted(0.8, 0.8, -0.8, -0.8)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(ring, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if element == QStyle.PrimitiveElement.PE_IndicatorCheckBox:
            painter.drawRoundedRect(box, 2, 2)
        else:
            painter.drawEllipse(box)
            if option.state & QStyle.StateFlag.State_On:
                inset = box.width() * 0.28
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(ink)
                painter.drawEllipse(box.adjusted(inset, inset, -inset, -inset))
        painter.restore()


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


#: Fusion's own selection blue carries white text at only 3.7:1; this one at 5.8:1.
LIGHT_HIGHLIGHT = "#2468a8"


def light_palette() -> QPalette:
    palette = QStyleFactory.create("Fusion").standardPalette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor(LIGHT_HIGHLIGHT))
    return palette


def _application() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication), "themes need the QApplication"
    return app


def scheme(palette: QPalette | None = None) -> str:
    """Light or dark, as shown: read from the window colour, so 'follow the system' answers too."""
    palette = palette or _application().palette()
    return DARK if palette.color(QPalette.ColorRole.Window).lightness() < 128 else LIGHT


def tones() -> Tones:
    return DARK_TONES if scheme() == DARK else LIGHT_TONES


def tone_colour(tone: str) -> QColor:
    if tone not in TONE_NAMES:
        raise ValueError(f"unknown tone {tone!r}")
    return QColor(getattr(tones(), tone))


def set_tone(widget: QWidget, tone: str | None) -> None:
    """Draw a label's text in a tone of the current theme (None: back to the palette's own), bold for
    a warning or a caution. The tone stays with the widget and follows a change of theme."""
    widget.setProperty("tone", tone or "")
    _paint_tone(widget)


def _paint_tone(widget: QWidget) -> None:
    tone = widget.property("tone") or ""
    font = QFont(widget.font())
    font.setBold(tone in ("warning", "caution"))
    if tone:
        colour = tone_colour(tone)
        palette = widget.palette()
        palette.setColor(QPalette.ColorRole.WindowText, colour)
        palette.setColor(QPalette.ColorRole.Text, colour)
    else:
        palette = QPalette()  # nothing of its own: inherits the theme's, and follows it
    widget.setPalette(palette)
    widget.setFont(font)


def chosen_theme(saved: dict[str, str]) -> str:
    """The theme to start with: $MONITOR_THEME, else the saved choice, else follow the system.
    An unknown word falls back to the system's (a typo must not stop the app)."""
    for candidate in (os.environ.get(THEME_ENV, ""), saved.get(PREFERENCE_KEY, "")):
        word = candidate.strip().lower()
        if word in THEMES:
            return word
    return SYSTEM


def apply_theme(choice: str) -> str:
    """Show the app in `choice` (system, light or dark); returns the scheme now showing."""
    global _system, _style
    if choice not in THEMES:
        raise ValueError(f"unknown theme {choice!r}")
    app = _application()
    if _system is None:
        _system = (app.style().name(), QPalette(app.palette()))
    if choice == SYSTEM:
        style_name, palette = _system
    else:
        style_name, palette = "Fusion", dark_palette() if choice == DARK else light_palette()
    if _style is None or _style.baseStyle().name().lower() != style_name.lower():
        _style = ReadableIndicators(QStyleFactory.create(style_name))
        app.setStyle(_style)
    app.setPalette(palette)
    for widget in app.allWidgets():  # toned labels keep their tone, in the new theme's colour
        if widget.property("tone"):
            _paint_tone(widget)
    shown = scheme()
    events.changed.emit(shown)
    return shown


def contrast_ratio(foreground: QColor, background: QColor) -> float:
    """WCAG 2.1 contrast ratio of two opaque colours (1 to 21)."""

    def luminance(colour: QColor) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = channel(colour.red()), channel(colour.green()), channel(colour.blue())
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
