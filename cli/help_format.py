"""Help-screen fixes applied once for every command.

typer (0.2x) shows a type column for every option, so a flag such as ``--json`` reads
``--json <bool>`` and a counter such as ``-v`` reads ``-v <int>``, as if they took a value. Flags
take none: their type column stays empty.
"""

from __future__ import annotations

from typing import Any

from typer import core

_original = core.TyperOption.display_type_rich


def _display_type_rich(self: core.TyperOption, ctx: Any) -> str | None:
    if self.is_flag and self.metavar is None:
        return None
    return _original(self, ctx)


def hide_flag_types() -> None:
    """Idempotent: install the flag-aware type column on typer's option class."""
    core.TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]
