"""Shared test helpers: processes, PostgreSQL clusters, TLS material."""
