"""After a crash: tell the user a report was kept on this PC and let them decide what to do.

Nothing is sent anywhere: the user reads the report (it holds no patient data), copies it
for support if they agree, or deletes it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inbox_app.client.crash import pending_reports


class CrashReportDialog(QDialog):
    """Shows the newest report; Copy (for support) or Delete all reports."""

    def __init__(self, reports: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports = reports
        self.setWindowTitle(self.tr("Crash report"))
        self.setAccessibleName(self.tr("Crash report"))
        intro = QLabel(
            self.tr(
                "Praxis Inbox closed unexpectedly. This report was saved on this PC only; it "
                "contains no patient data. Copy it for support if you agree, or delete it."
            )
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(reports[-1].read_text(encoding="utf-8"))
        self.text.setReadOnly(True)
        self.text.setAccessibleName(self.tr("Report text"))
        buttons = QDialogButtonBox()
        self.copy_button = buttons.addButton(
            self.tr("Copy for support"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.delete_button = buttons.addButton(
            self.tr("Delete reports"), QDialogButtonBox.ButtonRole.DestructiveRole
        )
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.copy_button.clicked.connect(self.copy)
        self.delete_button.clicked.connect(self.delete)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 360)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text.toPlainText())

    def delete(self) -> None:
        for path in self.reports:
            path.unlink(missing_ok=True)
        self.accept()


def offer_crash_reports(window: QMainWindow, folder: Path) -> QPushButton | None:
    """Put a 'Crash report…' button in the status bar when reports are waiting."""
    reports = pending_reports(folder)
    if not reports:
        return None
    button = QPushButton(QApplication.translate("CrashReportDialog", "Crash report…"))
    button.setObjectName("crashReportButton")
    button.setAccessibleName(QApplication.translate("CrashReportDialog", "Review the crash report"))

    def review() -> None:
        dialog = CrashReportDialog(pending_reports(folder) or reports, window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            window.statusBar().removeWidget(button)
            button.deleteLater()

    button.clicked.connect(review)
    window.statusBar().addPermanentWidget(button)
    return button
