"""Persistence: sqlmodel tables, engine set-up, the unit of work."""
