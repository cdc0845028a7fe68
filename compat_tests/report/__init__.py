"""Reports written from one result document: JUnit XML, JSON and a self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tigase_py.compat_tests.report import html, json_report, junit


def write_all(doc: dict[str, Any], directory: Path) -> list[Path]:
    """Write ``<name>.json``, ``<name>.junit.xml`` and ``<name>.html`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in doc["target"].get("name") or "target")
    paths = [directory / f"{name}.json", directory / f"{name}.junit.xml", directory / f"{name}.html"]
    json_report.write(doc, paths[0])
    junit.write(doc, paths[1])
    html.write(doc, paths[2])
    return paths
