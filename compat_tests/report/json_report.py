"""The result document as JSON (what ``compat compare`` reads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, default=str) + "\n"


def write(doc: dict[str, Any], path: Path) -> None:
    path.write_text(render(doc))
