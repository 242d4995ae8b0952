"""SIA DC-09 alarm transmission: framing, codec, receiver and sender, Contact ID and SIA DCS."""
