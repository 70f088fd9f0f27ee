"""The SQLAlchemy backend: SQLite (default) and PostgreSQL."""
