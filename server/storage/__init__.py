"""Persistent storage: `engine.open_storage(url)` gives a `Storage` with the core stores (`users`,
`vhosts`) and every feature store of `tigase_py.server.stores`, reached by `storage.store(SPEC)`.

Importing this package has no side effects and does not import SQLAlchemy. See README.md here.
"""
