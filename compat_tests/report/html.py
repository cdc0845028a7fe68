"""One self-contained HTML page: summary bar (inline SVG), levels, spec × category matrix, failures with
the stanzas exchanged. Plain string templates, inline CSS, no scripts."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from tigase_py.compat_tests.case import CATEGORIES
from tigase_py.compat_tests.results import OUTCOMES

COLOURS = {
    "passed": "#2e7d32",
    "failed": "#c62828",
    "not-supported": "#9e9e9e",
    "expected-deviation": "#ef6c00",
    "unexpected-pass": "#1565c0",
    "skipped": "#cfcfcf",
}
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.o{color:#fff;padding:1px 6px;border-radius:3px;font-size:12px}pre{background:#f8f8f8;padding:8px;
overflow-x:auto;white-space:pre-wrap;font-size:12px}.sent{color:#0d47a1}.received{color:#1b5e20}.note{color:#777}
.yes{color:#2e7d32;font-weight:bold}.no{color:#c62828}details{margin:.5em 0 1.5em}
"""
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>XMPP compatibility: {title}</title>
<style>{style}</style></head><body>
<h1>XMPP compatibility: {title}</h1>
<p>{target} &middot; started {started} &middot; {duration:.1f}s &middot; {total} cases</p>
{bar}
<h2>Compliance levels (XEP-0479)</h2>{levels}
<h2>By specification and category</h2>{matrix}
<h2>Failures and deviations</h2>{failures}
<h2>All cases</h2>{cases}
</body></html>
"""


def badge(outcome: str) -> str:
    return f'<span class="o" style="background:{COLOURS.get(outcome, "#555")}">{escape(outcome)}</span>'


def bar(summary: dict[str, int]) -> str:
    total = max(summary.get("total", 0), 1)
    x, parts, legend = 0.0, [], []
    for outcome in OUTCOMES:
        count = summary.get(outcome, 0)
        if not count:
            continue
        width = 600 * count / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="22" fill="{COLOURS[outcome]}"/>')
        legend.append(f"{badge(outcome)} {count}")
        x += width
    return f'<svg width="600" height="22" role="img">{"".join(parts)}</svg><p>{" ".join(legend)}</p>'


def levels_table(levels: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, entry in levels.items():
        mark = '<span class="yes">reached</span>' if entry["reached"] else '<span class="no">not reached</span>'
        missing = ", ".join(escape(m) for m in entry["missing"][:8]) + (" ..." if len(entry["missing"]) > 8 else "")
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{mark}</td><td>{entry['passed']}/{entry['total']}</td>"
            f"<td>{escape(', '.join(entry['requires']))}</td><td>{missing}</td></tr>"
        )
    head = "<tr><th>level</th><th></th><th>passed</th><th>builds on</th><th>holding it back</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def matrix(cases: list[dict[str, Any]]) -> str:
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for case in cases:
        for category in case["categories"]:
            counts = cells.setdefault((case["spec"], category), {})
            counts[case["outcome"]] = counts.get(case["outcome"], 0) + 1
    specs = sorted({spec for spec, _ in cells})
    used = [c for c in CATEGORIES if any((s, c) in cells for s in specs)]
    head = "<tr><th>spec</th>" + "".join(f"<th>{escape(c)}</th>" for c in used) + "</tr>"
    rows = []
    for spec in specs:
        row = [f"<td>{escape(spec)}</td>"]
        for category in used:
            counts = cells.get((spec, category), {})
            row.append("<td>" + " ".join(f"{badge(o)} {n}" for o, n in counts.items()) + "</td>")
        rows.append("<tr>" + "".join(row) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def transcript_html(case: dict[str, Any]) -> str:
    arrows = {"sent": "&rarr;", "received": "&larr;", "note": "&bull;"}
    lines = [
        f'<span class="{escape(e["dir"])}">{e["t"]:8.3f} {escape(e["who"])} {arrows.get(e["dir"], "?")} '
        f"{escape(e['data'])}</span>"
        for e in case["transcript"]
    ]
    return "<pre>" + "\n".join(lines) + "</pre>" if lines else "<p>(no stanzas recorded)</p>"


def failures(cases: list[dict[str, Any]]) -> str:
    shown = [c for c in cases if c["outcome"] in ("failed", "expected-deviation")]
    if not shown:
        return "<p>None.</p>"
    parts = []
    for case in shown:
        parts.append(
            f"<h3>{badge(case['outcome'])} {escape(case['spec'])} {escape(case['section'])}: {escape(case['id'])}</h3>"
            f"<p>{escape(case['doc'])}</p><pre>{escape(case['message'])}</pre>"
            f"<details open><summary>stanzas exchanged</summary>{transcript_html(case)}</details>"
        )
    return "".join(parts)


def cases_table(cases: list[dict[str, Any]]) -> str:
    rows = [
        f"<tr><td>{escape(c['spec'])} {escape(c['section'])}</td><td>{escape(', '.join(c['categories']))}</td>"
        f"<td>{escape(c['id'])}<br><small>{escape(c['doc'].splitlines()[0] if c['doc'] else '')}</small></td>"
        f"<td>{badge(c['outcome'])}</td><td>{c['duration']:.2f}s</td>"
        f"<td><small>{escape(c['message'][:300]) if c['outcome'] != 'passed' else ''}</small></td></tr>"
        for c in sorted(cases, key=lambda c: (c["spec"], c["section"], c["id"]))
    ]
    head = "<tr><th>spec</th><th>category</th><th>case</th><th>outcome</th><th>time</th><th>note</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def render(doc: dict[str, Any]) -> str:
    target = doc["target"]
    where = f"{target.get('host')}:{target.get('port')} ({target.get('domain')}, {target.get('tls')})"
    return PAGE.format(
        title=escape(str(target.get("name") or target.get("domain"))),
        style=STYLE,
        target=escape(where),
        started=escape(doc["started"]),
        duration=doc["duration"],
        total=doc["summary"]["total"],
        bar=bar(doc["summary"]),
        levels=levels_table(doc["levels"]),
        matrix=matrix(doc["cases"]),
        failures=failures(doc["cases"]),
        cases=cases_table(doc["cases"]),
    )


def write(doc: dict[str, Any], path: Path) -> None:
    path.write_text(render(doc))
