"""The resident touchscreen (PySide6). Entry point: `ui.kiosk.app.main`."""
