"""PySide6 applications: the resident touchscreen and the crew console."""
