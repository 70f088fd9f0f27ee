"""Alembic migrations of the metadata store (batch mode on SQLite)."""
