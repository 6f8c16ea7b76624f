"""Translations: German or English, following the system locale.

Every user-visible string is wrapped in ``tr()`` so ``pyside6-lupdate`` can collect it into
``resources/translations/inbox_<lang>.ts``; ``pyside6-lrelease`` turns that into the ``.qm``
loaded here. A missing ``.qm`` simply leaves the English defaults in place.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

log = logging.getLogger("inbox.ui.i18n")

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "translations"
SUPPORTED = ("de",)

# Kept alive here: Qt does not own an installed translator, so it must outlive installation.
_installed: list[QTranslator] = []


def install_translator(app: QCoreApplication, locale: QLocale | None = None) -> str:
    """Install the translator matching ``locale`` (default: the system's); return the language.

    Returns ``"en"`` when English (the source language) is used.
    """
    loc = locale or QLocale.system()
    lang = QLocale.languageToCode(loc.language())
    if lang not in SUPPORTED:
        return "en"
    qm = TRANSLATIONS_DIR / f"inbox_{lang}.qm"
    if not qm.is_file():
        log.info("no compiled translation for %s; using English", lang)
        return "en"
    translator = QTranslator(app)
    if not translator.load(str(qm)):
        log.warning("could not load translation file for %s", lang)
        return "en"
    app.installTranslator(translator)
    _installed.append(translator)
    return lang


def remove_translators(app: QCoreApplication) -> None:
    """Uninstall what :func:`install_translator` installed (language switch, tests)."""
    while _installed:
        app.removeTranslator(_installed.pop())
