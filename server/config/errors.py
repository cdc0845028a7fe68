"""The one exception the configuration loader raises."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is missing or invalid.

    The message names the file, the key path and the reason, for example
    ``tigase.toml: limits.max_stanza_size: expected a size like "256KiB", got "huge"``.
    """

    def __init__(self, reason: str, *, file: str | None = None, key: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.key = key
        super().__init__(": ".join(part for part in (file, key, reason) if part))
