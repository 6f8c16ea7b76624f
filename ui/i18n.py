"""Translations: German or English (Qt Linguist), following the system locale, plus a
pseudo-locale that finds clipped text.

Every user-visible string is wrapped in ``tr()`` so ``pyside6-lupdate`` can collect it into
``resources/translations/inbox_<lang>.ts``; ``pyside6-lrelease`` turns that into the ``.qm``
loaded here. A missing ``.qm`` simply leaves the English defaults in place.

``pseudo`` is generated at run time from the English source: accented letters and about
35 % more length, bracketed, so text that is cut off or not translatable stands out.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger("inbox.ui.i18n")

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "translations"
SUPPORTED = ("de",)
# What settings and the command line accept; "system" follows the OS locale.
LANGUAGES = ("system", "en", "de", "pseudo")

# Kept alive here: Qt does not own an installed translator, so it must outlive installation.
_installed: list[QTranslator] = []
# The language install_language() chose last ("en" needs no translator, so ask this).
_language: str | None = None


def current_language() -> str | None:
    """The UI language in use (``en``, ``de``, ``pseudo``); None before any was chosen."""
    return _language


_ACCENTS = str.maketrans(
    "aceinousyzACEINOUSYZ",
    "àçéîñöûšýžÀÇÉÎÑÖÛŠÝŽ",
)
# Placeholders and markup that must survive untouched: %1, %n, %L1, {{var}}, &-mnemonics.
_KEEP = re.compile(r"(%L?\d+|%n|\{\{[^}]*\}\}|&&|<[^>]+>)")
PSEUDO_GROWTH = 0.35


def pseudo(text: str) -> str:
    """``text`` accented and padded ~35 % longer, in brackets; placeholders kept intact."""
    if not text:
        return text
    parts = _KEEP.split(text)
    out = "".join(p if _KEEP.fullmatch(p) else p.translate(_ACCENTS) for p in parts)
    pad = max(1, math.ceil(len(text) * PSEUDO_GROWTH) - 2)
    filler = ("·~" * pad)[:pad]
    return f"[{out}{filler}]"


class PseudoTranslator(QTranslator):
    """Answers every lookup with the pseudo form of the English source."""

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        return pseudo(source)

    def isEmpty(self) -> bool:
        return False


def resolve_language(requested: str, locale: QLocale | None = None) -> str:
    """``system`` becomes ``de`` or ``en`` from the locale; other values pass through."""
    if requested in ("en", "de", "pseudo"):
        return requested
    loc = locale or QLocale.system()
    lang = QLocale.languageToCode(loc.language())
    return lang if lang in SUPPORTED else "en"


def install_language(app: QCoreApplication, language: str) -> str:
    """Replace the installed translator with ``language`` (``en``, ``de``, ``pseudo`` or
    ``system``); return the language actually in use."""
    global _language
    remove_translators(app)
    lang = resolve_language(language)
    _language = lang if lang in ("en", "pseudo") else "en"
    if lang == "pseudo":
        translator: QTranslator = PseudoTranslator(app)
        app.installTranslator(translator)
        _installed.append(translator)
        return "pseudo"
    if lang == "en":
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
    _language = lang
    # Qt's own strings (standard buttons, "Strg" in shortcuts) from Qt's translations.
    qt_translator = QTranslator(app)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_translator.load(f"qtbase_{lang}", qt_dir):
        app.installTranslator(qt_translator)
        _installed.append(qt_translator)
    return lang


def install_translator(app: QCoreApplication, locale: QLocale | None = None) -> str:
    """Install the translator matching ``locale`` (default: the system's); return the language.

    Returns ``"en"`` when English (the source language) is used.
    """
    loc = locale or QLocale.system()
    lang = QLocale.languageToCode(loc.language())
    return install_language(app, lang if lang in SUPPORTED else "en")


def remove_translators(app: QCoreApplication) -> None:
    """Uninstall what :func:`install_translator` installed (language switch, tests)."""
    global _language
    _language = None
    while _installed:
        app.removeTranslator(_installed.pop())
