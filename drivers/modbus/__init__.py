"""Modbus I/O module: latched inputs and relay outputs over pymodbus, and a simulated module."""
