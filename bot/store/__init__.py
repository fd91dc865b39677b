"""The store: SQLAlchemy models, transactions and migrations."""
