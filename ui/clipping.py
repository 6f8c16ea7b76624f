"""Find widgets whose text does not fit: run it with the pseudo-locale (30–40 % longer
strings) to see which labels and buttons would clip in a longer language."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget


def clipped_widgets(root: QWidget) -> list[str]:
    """Visible single-line labels and buttons under ``root`` whose text is wider than
    the room they have, as ``objectName: text`` (word-wrapped labels grow instead)."""
    found: list[str] = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or widget.width() <= 0:
            continue
        if isinstance(widget, QLabel):
            if widget.wordWrap() or not widget.text() or widget.pixmap() is not None:
                continue
            text = widget.text()
        elif isinstance(widget, QAbstractButton):
            text = widget.text()
        else:
            continue
        # The size hint is what the text needs with the style's padding: less room clips.
        if text and widget.width() < widget.sizeHint().width():
            found.append(f"{widget.objectName() or type(widget).__name__}: {text}")
    return found
