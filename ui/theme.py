"""Light and dark themes: one palette of colours feeds both the style sheet and the delegates.

The style sheet (``resources/style/inbox.qss``) names colours as ``@token``; the delegates,
which paint by hand, read the same palette through :func:`colors` at paint time, so a theme
switch only needs a repaint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "style"
THEMES = ("light", "dark")


@dataclass(frozen=True, slots=True)
class ThemeColors:
    """Every colour the window uses, as ``#rrggbb`` strings (``rgba()`` allowed in the sheet)."""

    name: str
    window: str
    base: str
    panel: str
    border: str
    divider: str
    text: str
    text_muted: str
    placeholder: str
    accent: str
    accent_hover: str
    accent_pressed: str
    accent_light: str
    accent_disabled: str
    hover: str
    thread_bg: str
    bubble_in: str
    bubble_out: str
    bubble_note: str
    bubble_border: str
    chip_bg: str
    window_green: str
    window_green_bg: str
    window_grey: str
    window_grey_bg: str
    window_amber: str
    window_amber_bg: str
    failed: str
    warning: str
    presence: str
    scroll: str
    scroll_hover: str
    quote_bar: str
    quote_bg: str
    media_bg: str

    def q(self, token: str) -> QColor:
        """The colour ``token`` as a QColor."""
        return QColor(getattr(self, token))


LIGHT = ThemeColors(
    name="light",
    window="#f7f8fa",
    base="#ffffff",
    panel="#f0f2f5",
    border="#e3e6e8",
    divider="#e9edef",
    text="#1f2a30",
    text_muted="#5f6e76",
    placeholder="#8696a0",
    accent="#128c7e",
    accent_hover="#0f7a6e",
    accent_pressed="#0c6a5f",
    accent_light="#e7f4f1",
    accent_disabled="#b9c6c3",
    hover="#f5f6f6",
    thread_bg="#efeae2",
    bubble_in="#ffffff",
    bubble_out="#d9fdd3",
    bubble_note="#fff4c2",
    bubble_border="#dcd8d2",
    chip_bg="#ffffff",
    window_green="#1b8a4a",
    window_green_bg="#e2f5e9",
    window_grey="#7d8a90",
    window_grey_bg="#eef0f1",
    window_amber="#b25e00",
    window_amber_bg="#fff0d9",
    failed="#d93025",
    warning="#e37400",
    presence="#6b4fbb",
    scroll="rgba(0, 0, 0, 0.18)",
    scroll_hover="rgba(0, 0, 0, 0.30)",
    quote_bar="#128c7e",
    quote_bg="#f0f2f0",
    media_bg="#e9edef",
)

DARK = ThemeColors(
    name="dark",
    window="#111b21",
    base="#111b21",
    panel="#202c33",
    border="#2a3942",
    divider="#222e35",
    text="#e9edef",
    text_muted="#9aa9b1",
    placeholder="#8696a0",
    accent="#00a884",
    accent_hover="#06cf9c",
    accent_pressed="#008f72",
    accent_light="#2a3942",
    accent_disabled="#3b4a54",
    hover="#1f2c33",
    thread_bg="#0b141a",
    bubble_in="#202c33",
    bubble_out="#005c4b",
    bubble_note="#4d4420",
    bubble_border="#2a3942",
    chip_bg="#182229",
    window_green="#4fd18b",
    window_green_bg="#173b2a",
    window_grey="#8696a0",
    window_grey_bg="#26343c",
    window_amber="#ffb74d",
    window_amber_bg="#4a3615",
    failed="#ff6b5e",
    warning="#ffab40",
    presence="#b39dfa",
    scroll="rgba(255, 255, 255, 0.20)",
    scroll_hover="rgba(255, 255, 255, 0.35)",
    quote_bar="#06cf9c",
    quote_bg="#1d282f",
    media_bg="#2a3942",
)

_current: list[ThemeColors] = [LIGHT]


def colors() -> ThemeColors:
    """The active theme's colours (delegates call this while painting)."""
    return _current[0]


def theme_named(name: str) -> ThemeColors:
    """``LIGHT`` or ``DARK``; unknown names fall back to light."""
    return DARK if name == "dark" else LIGHT


def style_sheet(theme: ThemeColors) -> str:
    """The style sheet with every ``@token`` replaced by the theme's colour."""
    qss = STYLE_DIR / "inbox.qss"
    if not qss.is_file():
        return ""
    values = {f.name: str(getattr(theme, f.name)) for f in fields(theme)}
    values["style_dir"] = STYLE_DIR.as_posix()  # for url(): icons beside the sheet
    return re.sub(
        r"@([a-z_]+)", lambda m: values.get(m.group(1), m.group(0)), qss.read_text("utf-8")
    )


def apply_theme(app: QApplication, name: str = "light") -> ThemeColors:
    """Use Fusion with the theme's palette and style sheet; return the colours now active."""
    theme = theme_named(name)
    _current[0] = theme
    app.setStyle("Fusion")
    palette = QPalette()
    role = QPalette.ColorRole
    for r, token in (
        (role.Window, "window"),
        (role.Base, "base"),
        (role.AlternateBase, "hover"),
        (role.Text, "text"),
        (role.WindowText, "text"),
        (role.ButtonText, "text"),
        (role.Button, "base"),
        (role.Highlight, "accent"),
        (role.PlaceholderText, "placeholder"),
        (role.ToolTipBase, "base"),
        (role.ToolTipText, "text"),
    ):
        palette.setColor(r, theme.q(token))
    palette.setColor(role.HighlightedText, QColor("#ffffff"))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.Text, role.WindowText, role.ButtonText):
        palette.setColor(disabled, r, theme.q("placeholder"))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(theme))
    return theme


def apply_light_theme(app: QApplication) -> None:
    """Kept for callers of the first version: the light theme."""
    apply_theme(app, "light")
