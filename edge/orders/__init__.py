"""Work orders: what a resident's report becomes at the station (see component.py)."""
