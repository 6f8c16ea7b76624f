"""The layering rules of ARCHITECTURE.md, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_core_never_imports_qt_or_ui() -> None:
    assert _violations("inbox_app", ("PySide6", "qasync", "ui", "PyQt6", "PyQt5")) == []


def test_relay_never_imports_client() -> None:
    assert _violations("inbox_app.relay", ("inbox_app.client",)) == []


def test_domain_is_pure() -> None:
    # Pure-Python parsers with no I/O of their own: phone numbers, and PDFs for result checks;
    # public-holiday rule tables for the opening hours (closed_days.py).
    allowed_third_party = {"phonenumbers", "pypdf", "holidays"}
    bad = []
    for path in sorted((ROOT / "inbox_app/domain").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in {"inbox_app", "__future__"} or top in allowed_third_party:
                if top == "inbox_app" and not name.startswith("inbox_app.domain"):
                    bad.append(f"{path.name} imports {name}")
                continue
            import sys

            if top not in sys.stdlib_module_names:
                bad.append(f"{path.name} imports {name}")
    assert bad == []


def test_relay_runs_without_qt_installed_modules() -> None:
    """Importing the relay must not pull PySide6 in (the server installs without it)."""
    import subprocess
    import sys

    code = (
        "import sys, inbox_app.relay.app, inbox_app.whatsapp.simulator;"
        # sqlcipher3 is a relay dependency too: its SQLite database is encrypted at rest.
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','qasync','ui')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
