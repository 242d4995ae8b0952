"""The resident kiosk's services at the station: requests, reports, devices, notices, emergency."""
