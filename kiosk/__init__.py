"""Resident self-service domain (UI-free): services, sessions, forms and validation."""
