"""Small plots as inline SVG for the pytest-html report: no files, no dependency, works offline.

`loss_curves(yours, torch)` draws two loss curves on one pair of axes. Every text is escaped;
values that are not finite numbers (a learner's nan, a tensor, None) are left out of the lines.
"""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 44  # margins around the plotting area
TORCH_COLOUR, YOUR_COLOUR = "#9aa5b1", "#d9480f"


def numbers(values) -> list[float | None]:
    """Each item as a float that can be drawn, or None where it is not one (nan, 1e308, a list)."""
    try:
        items = list(values) if values is not None else []
    except TypeError:  # not a sequence at all
        return []
    found = []
    for value in items:
        try:
            number = float(value)
        except (TypeError, ValueError, RuntimeError):
            number = None
        found.append(number if number is not None and abs(number) <= 1e100 else None)
    return found


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round values between low and high: steps of 1, 2 or 5 times a power of ten."""
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step)
    return [k * step for k in range(first, math.floor(high / step) + 1)]


def _value_range(curves) -> tuple[float, float]:
    values = [v for curve in curves for v in curve if v is not None]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or max(abs(high) * 0.1, 1e-3)
    return low - pad, high + pad


def _segments(points) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points without a gap, for polylines that stop at a missing value."""
    runs, run = [], []
    for point in points:
        if point is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point)
    if run:
        runs.append(run)
    return runs


def loss_curves(yours, torch, title: str = "Loss before each step", note: str = "") -> str:
    """An inline SVG: the loss before each step, yours (orange, dots) over torch's (grey, wide).

    `yours` may be None or hold items that are not numbers; `note` is shown under the title
    (e.g. why your curve is missing).
    """
    curves = {"torch": numbers(torch), "yours": numbers(yours)}
    low, high = _value_range(curves.values())
    count = max(len(curves["torch"]), len(curves["yours"]), 1)
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(step: int, value: float) -> tuple[float, float]:
        x = LEFT + (width * step / (count - 1) if count > 1 else width / 2)
        y = TOP + height * (high - value) / (high - low)
        return x, y

    def points(curve):
        return [at(i, v) if v is not None else None for i, v in enumerate(curve)]

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>']
    if note:
        out.append(f'<text x="{WIDTH / 2}" y="34" text-anchor="middle" fill="{YOUR_COLOUR}">'
                   f"{escape(note[:120])}</text>")

    # axes, with round values on the loss axis and the first, middle and last step
    bottom, right = TOP + height, LEFT + width
    out.append(f'<path d="M{LEFT},{TOP} V{bottom} H{right}" fill="none" stroke="black"/>')
    for value in ticks(low, high):
        y = at(0, value)[1]
        out.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e9ecef"/>')
        out.append(f'<text x="{LEFT - 7}" y="{y + 4:.1f}" text-anchor="end">{value:.4g}</text>')
    for step in sorted({1, (count + 1) // 2, count}):  # counted from 1: the loss before step 1, ...
        x = at(step - 1, low)[0]
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">{step}</text>')
    out.append(f'<text x="{LEFT + width / 2}" y="{HEIGHT - 8}" text-anchor="middle">step</text>')
    out.append(f'<text x="14" y="{TOP + height / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {TOP + height / 2})">loss</text>')

    # torch's curve wide and pale underneath, yours thin with dots on top: where they agree,
    # the orange line runs inside the grey one
    for run in _segments(points(curves["torch"])):
        out.append(_polyline(run, TORCH_COLOUR, 6))
    for run in _segments(points(curves["yours"])):
        out.append(_polyline(run, YOUR_COLOUR, 1.5))
    for point in points(curves["yours"]):
        if point is not None and count <= 60:
            out.append(f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="2.5" fill="{YOUR_COLOUR}"/>')

    # legend, top right inside the plotting area
    x, y = right - 150, TOP + 12
    missing = " (no curve)" if not any(v is not None for v in curves["yours"]) else ""
    for i, (name, colour, wide) in enumerate((("torch", TORCH_COLOUR, 6), ("yours" + missing, YOUR_COLOUR, 1.5))):
        out.append(f'<line x1="{x}" y1="{y + 16 * i}" x2="{x + 24}" y2="{y + 16 * i}" '
                   f'stroke="{colour}" stroke-width="{wide}"/>')
        out.append(f'<text x="{x + 30}" y="{y + 16 * i + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _polyline(run, colour: str, wide: float) -> str:
    if len(run) == 1:
        (x, y), = run
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{wide / 2 + 1}" fill="{colour}"/>'
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
    return (f'<polyline points="{text}" fill="none" stroke="{colour}" stroke-width="{wide}" '
            f'stroke-linejoin="round" stroke-linecap="round"/>')
