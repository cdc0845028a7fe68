"""Tiny inline-SVG charts for the load report: line charts over time and a bar histogram. No scripts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 34
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")

Line = tuple[str, Sequence[tuple[float, float | None]]]  # label, points (x, y or None for a gap)


def _ticks(high: float, count: int = 4) -> list[float]:
    if high <= 0 or not math.isfinite(high):
        return [0.0]
    raw = high / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if step * factor >= raw:
            step *= factor
            break
    return [i * step for i in range(int(high / step) + 2)]


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _frame(title: str, x_label: str, y_label: str, y_max: float, body: list[str], x_ticks: list[str]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" font-family="sans-serif" '
        'font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for tick in _ticks(y_max):
        if tick > y_max * 1.0001 and tick != 0:
            break
        y = TOP + plot_h - plot_h * (tick / y_max if y_max else 0)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>')
    parts += x_ticks
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 4}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text x="12" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2})">{escape(y_label)}</text>'
    )
    parts += body
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, x_label: str, y_label: str, lines: Sequence[Line]) -> str:
    """One polyline per series, a shared y axis from 0, and a legend."""
    xs = [x for _, points in lines for x, _ in points]
    ys = [y for _, points in lines for _, y in points if y is not None and math.isfinite(y)]
    x_min, x_max = (min(xs), max(xs)) if xs else (0.0, 1.0)
    x_span = (x_max - x_min) or 1.0
    ticks = _ticks(max(ys, default=0.0))
    y_max = max(ticks[-1], 1e-9) if ys else 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = []
    for i, (label, points) in enumerate(lines):
        color = COLORS[i % len(COLORS)]
        segments: list[list[str]] = [[]]
        for x, y in points:
            if y is None or not math.isfinite(y):
                segments.append([])
                continue
            px = LEFT + plot_w * (x - x_min) / x_span
            py = TOP + plot_h - plot_h * y / y_max
            segments[-1].append(f"{px:.1f},{py:.1f}")
        for segment in segments:
            if len(segment) == 1:
                cx, cy = segment[0].split(",")
                body.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            elif segment:
                body.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{" ".join(segment)}"/>')
        body.append(f'<rect x="{LEFT + 8 + 120 * i}" y="{TOP + 4}" width="10" height="10" fill="{color}"/>')
        body.append(f'<text x="{LEFT + 22 + 120 * i}" y="{TOP + 13}">{escape(label)}</text>')
    x_ticks = []
    for tick in _ticks(x_span):
        if tick > x_span * 1.0001:
            break
        px = LEFT + plot_w * tick / x_span
        x_ticks.append(
            f'<text x="{px:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">{_number(x_min + tick)}</text>'
        )
    return _frame(title, x_label, y_label, y_max, body, x_ticks)


def bar_chart(title: str, x_label: str, y_label: str, bars: Sequence[tuple[str, float]]) -> str:
    """Vertical bars with every few labels shown under the axis."""
    ticks = _ticks(max((v for _, v in bars), default=0.0))
    y_max = max(ticks[-1], 1e-9)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    width = plot_w / max(1, len(bars))
    every = max(1, len(bars) // 8)
    body, x_ticks = [], []
    for i, (label, value) in enumerate(bars):
        h = plot_h * value / y_max
        x = LEFT + i * width
        body.append(
            f'<rect x="{x + 0.5:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(1.0, width - 1):.1f}" '
            f'height="{h:.1f}" fill="{COLORS[0]}"><title>{escape(label)}: {value:g}</title></rect>'
        )
        if i % every == 0:
            x_ticks.append(
                f'<text x="{x + width / 2:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(title, x_label, y_label, y_max, body, x_ticks)
