"""The study archive: database (SQLAlchemy 2 + Alembic) and content-addressed objects."""

from planarmpi.store.archive import Archive, StoreOutcome, migrate

__all__ = ["Archive", "StoreOutcome", "migrate"]
