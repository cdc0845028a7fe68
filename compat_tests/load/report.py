"""A self-contained HTML report of a load run (inline CSS and SVG; no scripts, no external files)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from tigase_py.compat_tests.load import svg
from tigase_py.compat_tests.load.results import LATENCY_BUCKETS_MS, LoadResult

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 62em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 2px 10px; border: 1px solid #ddd; }
th { background: #f3f3f3; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #8a5a00; } .meta { color: #666; font-size: 0.9em; } figure { margin: 1em 0; }
"""


def figure(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}" if abs(value) >= 0.1 else f"{value:.3g}"


SUMMARY_LABELS = {
    "sessions": "sessions logged in",
    "logins_per_s": "logins/s",
    "delivered_per_s": "delivered msgs/s",
    "sent": "sent (measured)",
    "delivered": "delivered (measured)",
    "p50_ms": "latency p50 (ms)",
    "p95_ms": "latency p95 (ms)",
    "p99_ms": "latency p99 (ms)",
    "kib_per_session": "server KiB per session",
    "errors": "errors",
}


def _summary_table(result: LoadResult) -> str:
    rows = "".join(
        f"<tr><th>{escape(SUMMARY_LABELS[key])}</th><td class='n'>{figure(value, 2)}</td></tr>"
        for key, value in result.summary().items()
    )
    return f"<table>{rows}</table>"


def _charts(result: LoadResult) -> list[str]:
    series = result.series
    charts = []
    if series:
        t = [float(s.t) for s in series]
        charts.append(svg.line_chart("Throughput", "seconds", "per second", [
            ("delivered/s", list(zip(t, [float(s.delivered) for s in series], strict=True))),
            ("sent/s", list(zip(t, [float(s.sent) for s in series], strict=True))),
            ("errors/s", list(zip(t, [float(s.errors) for s in series], strict=True))),
        ]))  # fmt: skip
        charts.append(svg.line_chart("Sessions online", "seconds", "sessions", [
            ("sessions", list(zip(t, [float(s.sessions) for s in series], strict=True))),
            ("logins/s", list(zip(t, [float(s.logins) for s in series], strict=True))),
        ]))  # fmt: skip
        if any(s.p50_ms is not None for s in series):
            charts.append(svg.line_chart("Latency over time", "seconds", "ms", [
                ("p50", list(zip(t, [s.p50_ms for s in series], strict=True))),
                ("p99", list(zip(t, [s.p99_ms for s in series], strict=True))),
            ]))  # fmt: skip
    histogram = result.latency.histogram
    if histogram and any(histogram):
        used = [i for i, c in enumerate(histogram) if c]
        first, last = used[0], used[-1]
        bars = [(f"≤{figure(LATENCY_BUCKETS_MS[i], 2)}", float(histogram[i])) for i in range(first, last + 1)]
        charts.append(svg.bar_chart("Latency histogram", "ms (bucket upper bound)", "messages", bars))
    memory = [m for m in result.memory if math.isfinite(m.kib_per_session)]
    if memory and result.kind == "idle":
        charts.append(svg.line_chart("Server memory per session", "seconds", "KiB", [
            ("KiB/session", [(m.t, m.kib_per_session) for m in memory]),
        ]))  # fmt: skip
    elif result.memory:
        charts.append(svg.line_chart("Server memory", "seconds", "MiB", [
            ("RSS", [(m.t, m.rss_kib / 1024) for m in result.memory]),
        ]))  # fmt: skip
    return charts


# Scenario fields that mean nothing for a kind (left out of its parameter line).
_UNUSED = {
    "login-storm": {"pairs", "contacts", "rooms", "rate", "rate_mode", "window", "message_size", "max_count"},
    "idle": {"pairs", "contacts", "rooms", "rate", "rate_mode", "window", "message_size", "max_count"},
    "one-to-one": {"sessions", "contacts", "rooms"},
    "presence-storm": {"pairs", "rooms", "window", "message_size"},
    "muc-fanout": {"pairs", "contacts", "window"},
    "pubsub-fanout": {"pairs", "contacts", "window"},
}


def parameters(scenario: dict[str, object]) -> str:
    """The phase's parameter line: the sessions it logs in first, then only the fields its kind uses."""
    kind = str(scenario.get("kind", ""))
    unused = set(_UNUSED.get(kind, ())) | {"name", "kind"}
    if scenario.get("rate_mode") == "window":
        unused.add("rate")
    else:
        unused.add("window")
    pairs = scenario.get("pairs")
    sessions = 2 * pairs if kind == "one-to-one" and isinstance(pairs, int) else scenario.get("sessions")
    shown = [f"sessions={sessions}"]
    shown += [f"{key}={value}" for key, value in scenario.items() if key not in unused and key != "sessions"]
    return ", ".join(shown)


def _section(result: LoadResult) -> str:
    scenario = parameters(result.scenario)
    parts = [f"<h2>{escape(result.name)} <small>({escape(result.kind)})</small></h2>"]
    parts.append(f"<p class='meta'>{escape(scenario)}</p>")
    if result.status != "ok":
        parts.append(f"<p class='note'><b>{escape(result.status)}</b>: {escape(result.note)}</p>")
        return "".join(parts)
    if result.note:
        parts.append(f"<p class='note'>{escape(result.note)}</p>")
    parts.append(_summary_table(result))
    cpu = result.generator.get("cpu_percent")
    if cpu is not None:
        workers = result.generator.get("workers", 1)
        parts.append(
            f"<p class='meta'>generator CPU during the traffic: {cpu}% (100% = one core; {workers} worker(s))</p>"
        )
    parts += [f"<figure>{chart}</figure>" for chart in _charts(result)]
    if result.error_messages:
        items = "".join(f"<li><code>{escape(m)}</code></li>" for m in result.error_messages)
        parts.append(f"<details><summary>first errors</summary><ul>{items}</ul></details>")
    return "".join(parts)


def render(results: Sequence[LoadResult], title: str = "Load test report") -> str:
    """The whole report as one HTML document."""
    head = results[0] if results else None
    meta = ""
    if head is not None:
        target = head.target
        gen = head.generator
        meta = (
            f"<p class='meta'>target {escape(str(target.get('name', '')))} "
            f"({escape(str(target.get('host')))}:{escape(str(target.get('port')))}, tls "
            f"{escape(str(target.get('tls')))}, {escape(str(target.get('mechanism')))}) · engine "
            f"{escape(head.engine)} · started {escape(head.started)} · generator "
            f"{escape(str(gen.get('workers', '?')))} worker(s) on {escape(str(gen.get('cpus', '?')))} CPU(s)</p>"
        )
    body = "".join(_section(r) for r in results)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{meta}{body}</body></html>\n"
    )


def write(path: Path, results: Sequence[LoadResult], title: str = "Load test report") -> None:
    Path(path).write_text(render(results, title), encoding="utf-8")
