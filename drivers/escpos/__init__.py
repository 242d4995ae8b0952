"""ESC/POS receipt printer: receipt builder, status decoding, printer and a simulator."""
