"""Dates in the UI language's own form: ``23.11.2026`` in German, ``23/11/2026`` in British
English. Machine-readable output (CSV, exports) stays ISO; this is for what staff read."""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QDate, QLocale

from ui import i18n


def ui_locale() -> QLocale:
    """The locale of the UI language in use (dates follow the chosen language, not only
    the system's); falls back to the default locale."""
    for translator in getattr(i18n, "_installed", []):
        code = translator.language()
        if code:
            return QLocale(code.replace("_", "-"))
    default = QLocale()
    if i18n.current_language() == "en" and default.language() != QLocale.Language.English:
        # English chosen on, say, a German system: English dates too (day first, as in
        # Europe), not the system's German ones.
        return QLocale("en_GB")
    if default.language() == QLocale.Language.C:  # offscreen and minimal systems
        return QLocale("en_GB")
    return default


def short_date_format(loc: QLocale) -> str:
    """The locale's short date pattern, with four-digit years (a birth year "58" is
    ambiguous)."""
    pattern = loc.dateFormat(QLocale.FormatType.ShortFormat)
    return pattern if "yyyy" in pattern else pattern.replace("yy", "yyyy")


def day_month_format(loc: QLocale) -> str:
    """The short pattern without its year: ``dd.MM.`` in German (the trailing dot belongs
    to the month there), ``dd/MM`` in British, ``M/d`` in US English."""
    pattern = re.sub(r"y+", "", loc.dateFormat(QLocale.FormatType.ShortFormat))
    return pattern.strip(" /-,") or "dd.MM."


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def format_date(day: date, locale: QLocale | None = None) -> str:
    """A date in the UI language's short form (``17.05.1990`` in German)."""
    loc = locale or ui_locale()
    return loc.toString(qdate(day), short_date_format(loc))


def format_day_month(day: date, locale: QLocale | None = None) -> str:
    """Day and month only (``23.11.`` in German), for ranges and narrow axes."""
    loc = locale or ui_locale()
    return loc.toString(qdate(day), day_month_format(loc))
