"""Persistent storage: `engine.open_storage(url)` gives a `Storage` with one attribute per store.

Importing this package has no side effects and does not import SQLAlchemy.
"""
