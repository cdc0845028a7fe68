"""Server configuration: one TOML file loaded into frozen dataclasses.

``load.load_config(path)`` reads and validates; ``schema`` holds the types; ``types`` the value
parsers shared with module options; ``default.write_default`` writes a fresh ``tigase.toml``.
"""
