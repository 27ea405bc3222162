"""Durable records of issued cards and clinician feedback (SQLAlchemy; SQLite or PostgreSQL)."""
