"""The benchmark's report: the ``metric | value | target`` table and py-spy profile summaries."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TARGET_MSGS = 20_000
TARGET_KIB = 40


def _function(frame: str) -> str:
    """``name (path:line)`` → ``name (path)``: aggregate a function's lines."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def top_frames(raw: Path, limit: int = 16) -> dict[str, list[tuple[str, float]]]:
    """Top self and inclusive frames of the event loop in py-spy's collapsed stacks, as % of its samples."""
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";")]
        if not any(f.startswith("Runner.run ") for f in frames):
            continue  # other threads (aiosqlite's worker polling its queue) and truncated stacks
        total += count
        leaf = frames[-1]
        self_counts[leaf] = self_counts.get(leaf, 0) + count
        for frame in set(frames[1:]):
            incl_counts[frame] = incl_counts.get(frame, 0) + count

    def top(counts: dict[str, int]) -> list[tuple[str, float]]:
        ordered = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
        return [(name, 100.0 * c / total) for name, c in ordered]

    return {"self": top(self_counts), "inclusive": top(incl_counts)} if total else {"self": [], "inclusive": []}


def render(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def table(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [("metric", "value", "target")]
    for step in results["sessions"]:
        n = step["sessions"]
        per = f"{step['kib_per_session']:.1f} KiB"
        rows.append((f"server RSS per idle TLS session, N={n}", per, f"<= {TARGET_KIB} KiB"))
    for step in results["sessions"]:
        lg = step["login"]
        rows.append(
            (
                f"logins/s (STARTTLS+SCRAM+bind), {lg['logins']} @ {lg['concurrency']} concurrent",
                f"{lg['per_second']:.0f}/s (server CPU {lg['server_cpu_pct']:.0f}%,"
                f" gen {lg['generator_cpu_pct']:.0f}%, host {lg['host_cpu_pct']:.0f}%)",
                "",
            )
        )
    if "login_rate" in results:
        lr = results["login_rate"]
        rows.append(
            (
                f"logins/s warm client SCRAM cache, {lr['logins']} @ {lr['concurrency']} concurrent",
                f"{lr['per_second']:.0f}/s (server CPU {lr['server_cpu_pct']:.0f}%,"
                f" gen {lr['generator_cpu_pct']:.0f}%, host {lr['host_cpu_pct']:.0f}%)",
                "",
            )
        )
    for run in results["chat"]:
        p = f"{run['pairs']}" + (f" @ {run['rate']:.0f}/s" if run.get("rate") else "")
        rows.append((f"chat msgs/s delivered, {p} pairs", f"{run['msgs_per_s']:.0f}/s", f">= {TARGET_MSGS}/s"))
        rows.append((f"chat latency p50 / p99, {p} pairs", f"{run['p50_ms']:.2f} / {run['p99_ms']:.2f} ms", ""))
        rows.append(
            (
                f"CPU% during chat, {p} pairs (100 = 1 core)",
                f"server {run['server_cpu_pct']:.0f}%, generator {run['generator_cpu_pct']:.0f}%,"
                f" whole host {run['host_cpu_pct']:.0f}% of {100 * (os.cpu_count() or 1)}%",
                "",
            )
        )
    return rows
