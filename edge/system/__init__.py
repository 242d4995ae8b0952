"""Helpers of the host: faults board, atomic file writes, sd_notify, host health."""
