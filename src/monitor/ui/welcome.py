"""The first run: no clinic database yet. Create it (its first administrator), or explore the demo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

CREATE, DEMO = "create", "demo"


class WelcomeDialog(QDialog):
    """`choice` is CREATE or DEMO after accept(); Quit rejects."""

    def __init__(self, location: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = ""
        self.setWindowTitle(self.tr("Welcome to the withdrawal monitor"))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        title = QLabel(self.tr("<span style='font-size:16pt'><b>Welcome</b></span>"), self)
        layout.addWidget(title)
        text = QLabel(
            self.tr(
                "Bedside COWS charting for opioid detox, with alerts for precipitated withdrawal after "
                "naltrexone or naloxone.<br><br>"
                "This workstation has no clinic database yet. It will be kept here:<br><b>{0}</b><br><br>"
                "<b>Create the clinic database</b> to start: you make its first administrator account, who "
                "then adds the nurses and physicians. Or <b>explore the demo</b>: a ward of invented "
                "patients in a separate file, with its own demo accounts."
            ).format(location.replace("&", "&amp;").replace("<", "&lt;")),
            self,
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setAccessibleName("Welcome text")
        layout.addWidget(text)
        buttons = QDialogButtonBox(self)
        self.create_button = buttons.addButton(
            self.tr("&Create the clinic database…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button.setAccessibleName("Create the clinic database")
        self.demo_button = buttons.addButton(
            self.tr("Explore the &demo"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.demo_button.setAccessibleName("Explore the demo")
        quit_button = buttons.addButton(self.tr("&Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        quit_button.setAccessibleName("Quit")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(lambda: self._choose(CREATE))
        self.demo_button.clicked.connect(lambda: self._choose(DEMO))
        quit_button.clicked.connect(self.reject)
        layout.addWidget(buttons)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
