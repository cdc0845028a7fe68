"""Write the small subset of TOML that ``tigase.toml`` uses: tables, arrays of tables and plain values."""

from __future__ import annotations

import json
from collections.abc import Mapping

Value = str | int | float | bool | list[object] | dict[str, object]


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_table(item) for item in value)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def dumps(document: Mapping[str, object], prefix: str = "") -> str:
    """TOML text for ``document``; plain values first, then sub-tables, then arrays of tables."""
    lines: list[str] = []
    for name, value in document.items():
        if not _is_table(value) and not _is_table_array(value):
            lines.append(f"{_key(name)} = {_scalar(value)}")
    blocks = ["\n".join(lines)] if lines else []
    for name, value in document.items():
        path = f"{prefix}{_key(name)}"
        if _is_table(value):
            assert isinstance(value, Mapping)
            body = dumps(value, prefix=f"{path}.")
            blocks.append(f"[{path}]\n{body}".rstrip())
        elif _is_table_array(value):
            assert isinstance(value, list)
            for item in value:
                blocks.append(f"[[{path}]]\n{dumps(item, prefix=f'{path}.')}".rstrip())
    return "\n\n".join(block for block in blocks if block) + "\n"
