"""The station crew's alarm console (PySide6): alarms take over the screen, 1-3-5 timers, link and fault
warnings, a "daemon disconnected" state. It talks to the daemon only through `ui.link.DaemonLink`."""
