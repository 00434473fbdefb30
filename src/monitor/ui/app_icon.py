"""The app's icon for its windows and the taskbar, from the PNG renders in resources/icons/hicolor
(resources/icons/render.py makes them from the SVG). PNGs need no Qt image plugin, so the packaged
bundle, which keeps only the plugins it needs, shows the same icon."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_NAME = "withdrawal-monitor.png"


def icon_folders() -> list[Path]:
    """Where the hicolor tree may be: inside a PyInstaller bundle, or in the source checkout."""
    folders = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(Path(bundle) / "icons" / "hicolor")
    folders.append(Path(__file__).resolve().parents[3] / "resources" / "icons" / "hicolor")
    return folders


def app_icon() -> QIcon:
    """Every size found (16-256 px); an empty icon when none is (the desktop's own entry then names it)."""
    icon = QIcon()
    for folder in icon_folders():
        for png in sorted(folder.glob(f"*/apps/{ICON_NAME}")):
            icon.addFile(str(png))
        if not icon.isNull():
            break
    return icon
