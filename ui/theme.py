"""The light theme: a style sheet from resources/style plus a matching palette."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "style"

# Shared with the delegates, which paint by hand and cannot use the style sheet.
ACCENT = QColor("#128c7e")
ACCENT_LIGHT = QColor("#e7f4f1")
TEXT = QColor("#1f2a30")
TEXT_MUTED = QColor("#667781")
THREAD_BACKGROUND = QColor("#efeae2")


def apply_light_theme(app: QApplication) -> None:
    """Use Fusion with a light palette, then the style sheet for the finer touches."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f7f8fa"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f5f6f6"))
    palette.setColor(QPalette.ColorRole.Text, TEXT)
    palette.setColor(QPalette.ColorRole.WindowText, TEXT)
    palette.setColor(QPalette.ColorRole.ButtonText, TEXT)
    palette.setColor(QPalette.ColorRole.Button, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Highlight, ACCENT)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8696a0"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipText, TEXT)
    app.setPalette(palette)
    qss = STYLE_DIR / "light.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
