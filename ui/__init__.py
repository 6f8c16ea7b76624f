"""The PySide6 front end (Qt lives only here; ``inbox_app`` never imports it)."""
