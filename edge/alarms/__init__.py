"""One-key alarms: DC-09 and Modbus sources, the incident engine with 1-3-5 timers, sirens, journal."""
