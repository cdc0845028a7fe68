"""JUnit XML: one testsuite per specification; not-supported and skipped cases are <skipped/>."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def render_transcript(case: dict[str, Any]) -> str:
    arrows = {"sent": "->", "received": "<-", "note": "**"}
    return "\n".join(f"{e['t']:8.3f} {e['who']} {arrows.get(e['dir'], '?')} {e['data']}" for e in case["transcript"])


def render(doc: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name=f"compat {doc['target'].get('name', '')}")
    suites: dict[str, ET.Element] = {}
    for case in doc["cases"]:
        suite = suites.get(case["spec"])
        if suite is None:
            counts = doc["specs"].get(case["spec"], {})
            suite = ET.SubElement(
                root,
                "testsuite",
                name=case["spec"],
                tests=str(counts.get("total", 0)),
                failures=str(counts.get("failed", 0)),
                skipped=str(sum(counts.get(k, 0) for k in ("not-supported", "skipped", "expected-deviation"))),
            )
            suites[case["spec"]] = suite
        element = ET.SubElement(
            suite,
            "testcase",
            classname=f"{case['spec']}.{case['section']}",
            name=case["id"],
            time=str(case["duration"]),
        )
        outcome = case["outcome"]
        if outcome == "failed":
            first_line = case["message"].splitlines()[0][:500] if case["message"] else ""
            failure = ET.SubElement(element, "failure", message=first_line)
            failure.text = f"{case['message']}\n\n{render_transcript(case)}"
        elif outcome in ("not-supported", "skipped", "expected-deviation"):
            ET.SubElement(element, "skipped", message=f"{outcome}: {case['message'][:500]}")
        properties = ET.SubElement(element, "properties")
        ET.SubElement(properties, "property", name="category", value=", ".join(case["categories"]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(doc: dict[str, Any], path: Path) -> None:
    path.write_text(render(doc))
