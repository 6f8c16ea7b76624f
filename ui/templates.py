"""Template mode: outside the 24-hour window WhatsApp only delivers approved templates.

The relay lists the approved templates (``engine.templates()``); this module picks the one
that fits the conversation, fills its parameters from the patient, the next appointment and
the clinic (``resources/demo/template_variables.json`` says which value fills which
positional parameter; named ones match by name), and shows them in a small form. A
parameter without a value is flagged and blocks sending: nothing goes out with a blank.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.quick_replies import appointment_values

log = logging.getLogger("inbox.ui.templates")

TEMPLATE_VARIABLES = (
    Path(__file__).resolve().parent.parent / "resources" / "demo" / "template_variables.json"
)
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TemplateRole = Qt.ItemDataRole.UserRole + 30
_Index = QModelIndex | QPersistentModelIndex

# Named parameters whose meaning is plain from the name.
NAMED_VARIABLES = {
    "first_name": "patient.first_name",
    "given_name": "patient.first_name",
    "last_name": "patient.last_name",
    "family_name": "patient.last_name",
    "name": "patient.full_name",
    "date": "appointment.date",
    "time": "appointment.time",
    "clinic": "clinic.name",
    "clinic_name": "clinic.name",
    "phone": "clinic.phone",
}


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """An approved template as ``GET /v1/templates`` lists it."""

    name: str
    language: str
    category: str | None
    parameter_format: str  # POSITIONAL | NAMED
    header_params: tuple[str, ...]
    body_params: tuple[str, ...]
    button_params: tuple[tuple[int, int], ...]  # (button index, number of values)
    body: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TemplateInfo | None:
        """None for an entry this client cannot read (a newer relay's shape)."""
        try:
            return cls(
                name=str(data["name"]),
                language=str(data["language"]),
                category=str(data["category"]) if data.get("category") else None,
                parameter_format=str(data.get("parameter_format") or "POSITIONAL").upper(),
                header_params=tuple(str(p) for p in data.get("header_params") or ()),
                body_params=tuple(str(p) for p in data.get("body_params") or ()),
                button_params=tuple(
                    (int(b["index"]), int(b["count"])) for b in data.get("button_params") or ()
                ),
                body=str(data.get("body") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def named(self) -> bool:
        return self.parameter_format == "NAMED"

    def slots(self) -> list[str]:
        """Every value the template needs: ``header.N``, ``body.P``, ``button.I.N``."""
        keys = [f"header.{p}" for p in self.header_params]
        keys += [f"body.{p}" for p in self.body_params]
        for index, count in self.button_params:
            keys += [f"button.{index}.{n}" for n in range(1, count + 1)]
        return keys

    def render(self, values: Mapping[str, str]) -> str:
        """The body as the patient will read it; an empty value shows as ``{{name}}``."""

        def sub(match: re.Match[str]) -> str:
            value = values.get(f"body.{match.group(1)}", "").strip()
            return value or match.group(0)

        return PLACEHOLDER.sub(sub, self.body)

    def send_arguments(
        self, values: Mapping[str, str]
    ) -> tuple[list[str] | dict[str, str], list[str], dict[int, list[str]]]:
        """(body params, header params, button params) for ``engine.send_template``."""
        body: list[str] | dict[str, str]
        if self.named:
            body = {p: values.get(f"body.{p}", "").strip() for p in self.body_params}
        else:
            body = [values.get(f"body.{p}", "").strip() for p in self.body_params]
        header = [values.get(f"header.{p}", "").strip() for p in self.header_params]
        buttons = {
            index: [values.get(f"button.{index}.{n}", "").strip() for n in range(1, count + 1)]
            for index, count in self.button_params
        }
        return body, header, buttons


def parse_templates(entries: Sequence[Any]) -> list[TemplateInfo]:
    """The readable entries of a template list, in the relay's order."""
    found = [TemplateInfo.from_json(e) for e in entries if isinstance(e, Mapping)]
    return [t for t in found if t is not None]


def load_template_variables(path: Path = TEMPLATE_VARIABLES) -> dict[str, dict[str, str]]:
    """Template name → {slot: variable}; empty when the file is missing or broken."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(name): {str(k): str(v) for k, v in slots.items()}
            for name, slots in (data.get("templates") or {}).items()
            if isinstance(slots, dict)
        }
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        log.warning("template variables unavailable: %s", type(exc).__name__)
        return {}


def variable_for(
    template: TemplateInfo, slot: str, mapping: Mapping[str, Mapping[str, str]]
) -> str | None:
    """The variable (``patient.first_name`` …) that fills ``slot``, if known."""
    explicit = mapping.get(template.name, {}).get(slot)
    if explicit:
        return explicit
    kind, _, name = slot.partition(".")
    if kind in ("body", "header") and not name.isdigit():
        return NAMED_VARIABLES.get(name.lower())
    return None


def in_language(values: Mapping[str, str], language: str) -> dict[str, str]:
    """``values`` with the appointment's date and time written in ``language`` (a German
    template gets "Freitag, 27. November 2026, 09:30 Uhr" even for an English patient)."""
    start = values.get("appointment.start")
    if not start:
        return dict(values)
    try:
        moment = float(start)
    except ValueError:
        return dict(values)
    return {**values, **appointment_values(moment, language)}


def prefill(
    template: TemplateInfo,
    values: Mapping[str, str],
    mapping: Mapping[str, Mapping[str, str]],
) -> dict[str, str]:
    """Each slot's value from the patient/appointment/clinic values ("" when unknown)."""
    values = in_language(values, template.language)
    filled: dict[str, str] = {}
    for slot in template.slots():
        variable = variable_for(template, slot, mapping)
        filled[slot] = (values.get(variable) or "").strip() if variable else ""
    return filled


def missing_slots(template: TemplateInfo, filled: Mapping[str, str]) -> list[str]:
    return [slot for slot in template.slots() if not filled.get(slot, "").strip()]


def suggest(
    templates: Sequence[TemplateInfo],
    values: Mapping[str, str],
    mapping: Mapping[str, Mapping[str, str]],
    *,
    language: str | None = None,
) -> TemplateInfo | None:
    """The template that fits best: in the patient's language (``patient.language``,
    German when unknown), every parameter fillable, the most of them filled (the most
    personal), utility before marketing; then by name."""
    language = (language or values.get("patient.language") or "de").split("_")[0].split("-")[0]

    def score(t: TemplateInfo) -> tuple[bool, bool, int, bool, str]:
        filled = prefill(t, values, mapping)
        gaps = len(missing_slots(t, filled))
        known = len(filled) - gaps
        return (
            t.language.split("_")[0] == language,
            gaps == 0 and known > 0,
            known - gaps,
            (t.category or "").upper() == "UTILITY",
            # reversed name order for max(): "a" ranks above "b"
            "".join(chr(0x10FFFF - ord(ch)) for ch in t.name),
        )

    return max(templates, key=score, default=None)


class TemplateListModel(QAbstractListModel):
    """The approved templates, one per row."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._templates: list[TemplateInfo] = []

    def set_templates(self, templates: Sequence[TemplateInfo]) -> None:
        if list(templates) == self._templates:
            return
        self.beginResetModel()
        self._templates = list(templates)
        self.endResetModel()

    def templates(self) -> list[TemplateInfo]:
        return list(self._templates)

    def row_of(self, template: TemplateInfo) -> int:
        try:
            return self._templates.index(template)
        except ValueError:
            return -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._templates)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._templates):
            return None
        t = self._templates[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{t.name} ({t.language})"
        if role == Qt.ItemDataRole.ToolTipRole:
            return t.body
        if role == TemplateRole:
            return t
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[TemplateRole] = QByteArray(b"template")
        return names


class TemplatePanel(QFrame):
    """Template mode in the composer: the suggested template, its parameters prefilled
    (editable), a preview of what the patient reads and which values are still missing."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templatePanel")
        self.model = TemplateListModel(self)
        self._mapping: dict[str, dict[str, str]] = load_template_variables()
        self._values: dict[str, str] = {}
        self.fields: dict[str, QLineEdit] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.choice = QComboBox(self)
        self.choice.setObjectName("templateChoice")
        self.choice.setModel(self.model)
        layout.addWidget(self.choice)
        self.form_host = QWidget(self)
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(4)
        layout.addWidget(self.form_host)
        self.preview = QLabel(self)
        self.preview.setObjectName("templatePreview")
        self.preview.setWordWrap(True)
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.preview)
        self.missing_label = QLabel(self)
        self.missing_label.setObjectName("templateMissing")
        self.missing_label.setWordWrap(True)
        layout.addWidget(self.missing_label)
        self.choice.currentIndexChanged.connect(self._rebuild)
        self.retranslate()

    def retranslate(self) -> None:
        self.choice.setAccessibleName(self.tr("Approved template"))
        self.choice.setToolTip(self.tr("Approved templates WhatsApp delivers outside the window"))
        self.preview.setAccessibleName(self.tr("Template preview"))
        self.missing_label.setAccessibleName(self.tr("Missing template values"))
        self._update_preview()

    def set_templates(self, templates: Sequence[TemplateInfo]) -> None:
        self.model.set_templates(templates)
        self.suggest()

    def set_values(self, values: Mapping[str, str]) -> None:
        """The conversation's variable values; picks the fitting template and prefills it."""
        self._values = dict(values)
        self.suggest()

    def suggest(self) -> None:
        """Select the template that fits the conversation best (and prefill it)."""
        best = suggest(self.model.templates(), self._values, self._mapping)
        row = self.model.row_of(best) if best is not None else -1
        if row != self.choice.currentIndex():
            self.choice.setCurrentIndex(row)  # rebuilds via currentIndexChanged
        else:
            self._rebuild()

    def current(self) -> TemplateInfo | None:
        t = self.choice.currentData(TemplateRole)
        return t if isinstance(t, TemplateInfo) else None

    def slot_values(self) -> dict[str, str]:
        return {slot: field.text() for slot, field in self.fields.items()}

    def missing(self) -> list[str]:
        template = self.current()
        return [] if template is None else missing_slots(template, self.slot_values())

    def slot_label(self, slot: str) -> str:
        kind, _, rest = slot.partition(".")
        if kind == "header":
            return self.tr("Title {{%1}}").replace("%1", rest)
        if kind == "button":
            index, _, n = rest.partition(".")
            return (
                self.tr("Button %1 link {{%2}}").replace("%1", str(int(index) + 1)).replace("%2", n)
            )
        return "{{" + rest + "}}"

    def _rebuild(self, *_: object) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        template = self.current()
        if template is not None:
            for slot, value in prefill(template, self._values, self._mapping).items():
                field = QLineEdit(self.form_host)
                field.setObjectName("templateField")
                field.setText(value)
                label = self.slot_label(slot)
                field.setAccessibleName(label)
                variable = variable_for(template, slot, self._mapping)
                if variable:
                    field.setPlaceholderText(variable)
                field.textChanged.connect(self._update_preview)
                self.form.addRow(label, field)
                self.fields[slot] = field
        self._update_preview()

    def _update_preview(self, *_: object) -> None:
        template = self.current()
        if template is None:
            self.preview.setText(self.tr("No approved template is available yet."))
            self.missing_label.clear()
            self.changed.emit()
            return
        self.preview.setText(template.render(self.slot_values()))
        gaps = self.missing()
        self.missing_label.setText(
            self.tr("Missing: %1 — fill it in before sending.").replace(
                "%1", ", ".join(self.slot_label(s) for s in gaps)
            )
            if gaps
            else ""
        )
        self.missing_label.setVisible(bool(gaps))
        self.changed.emit()
