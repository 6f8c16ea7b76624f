"""The user's language and theme choice, kept with QSettings (or only in memory)."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from ui.i18n import LANGUAGES
from ui.theme import THEMES
from ui.views import SavedView


class Preferences:
    """Language (``system``, ``en``, ``de``, ``pseudo``) and theme (``light``, ``dark``).

    With ``settings=None`` nothing is written anywhere (the demo and tests use that).
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings
        self.language = "system"
        self.theme = "light"
        self.saved_views: list[SavedView] = []
        if settings is not None:
            try:
                raw = json.loads(str(settings.value("ui/saved_views", "[]")))
            except ValueError:
                raw = []
            views = (SavedView.from_json(v) for v in raw if isinstance(raw, list))
            self.saved_views = [v for v in views if v is not None]
            lang = settings.value("ui/language", "system")
            theme = settings.value("ui/theme", "light")
            self.language = lang if lang in LANGUAGES else "system"
            self.theme = theme if theme in THEMES else "light"

    def set_language(self, language: str) -> None:
        if language in LANGUAGES:
            self.language = language
            if self._settings is not None:
                self._settings.setValue("ui/language", language)

    def set_theme(self, theme: str) -> None:
        if theme in THEMES:
            self.theme = theme
            if self._settings is not None:
                self._settings.setValue("ui/theme", theme)

    def set_saved_views(self, views: list[SavedView]) -> None:
        self.saved_views = list(views)
        if self._settings is not None:
            self._settings.setValue("ui/saved_views", json.dumps([v.to_json() for v in views]))
