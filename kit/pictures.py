"""Small plots as inline SVG for the pytest-html report: no files, no dependency, works offline.

`line_plot` draws the learner's curve over torch's on one pair of axes: `loss_curves` for
training, `scalar_curve` for a scalar exercise over its range. Every text is escaped;
values that are not finite numbers (a learner's nan, a tensor, None) are left out of the lines.
"""
from __future__ import annotations

import math
from html import escape

from kit.compare import TOLERANCES
from kit.compare import close as within

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
    count = max(len(numbers(torch)), len(numbers(yours)), 1)
    steps = list(range(1, count + 1))  # counted from 1: the loss before step 1, ...
    return line_plot(steps, yours, torch, title, "step", "loss", note,
                     xticks=sorted({1, (count + 1) // 2, count}))


def line_plot(xs, yours, torch, title: str, xlabel: str, ylabel: str, note: str = "", xticks=None) -> str:
    """An inline SVG of two curves over the same xs: yours (orange) over torch's (grey, wide).

    Where they part is where the mistake is. Items of `yours` that are not numbers (an
    exception, nan, a tensor) leave a gap in your curve.
    """
    curves = {"torch": numbers(torch), "yours": numbers(yours)}
    low, high = _value_range(curves.values())
    xs = [float(x) for x in xs]
    xlow, xhigh = (xs[0], xs[-1]) if len(xs) > 1 and xs[-1] > xs[0] else (xs[0] - 1, xs[0] + 1)
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, value: float) -> tuple[float, float]:
        return LEFT + width * (x - xlow) / (xhigh - xlow), TOP + height * (high - value) / (high - low)

    def points(curve):
        return [at(x, v) if v is not None else None for x, v in zip(xs, curve)]

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>']
    if note:
        out.append(f'<text x="{WIDTH / 2}" y="34" text-anchor="middle" fill="{YOUR_COLOUR}">'
                   f"{escape(note[:120])}</text>")

    # axes, with round values on both
    bottom, right = TOP + height, LEFT + width
    out.append(f'<path d="M{LEFT},{TOP} V{bottom} H{right}" fill="none" stroke="black"/>')
    for value in ticks(low, high):
        y = at(xlow, value)[1]
        out.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e9ecef"/>')
        out.append(f'<text x="{LEFT - 7}" y="{y + 4:.1f}" text-anchor="end">{value:.4g}</text>')
    for tick in xticks if xticks is not None else ticks(xlow, xhigh):
        x = at(tick, low)[0]
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">{tick:.4g}</text>')
    out.append(f'<text x="{LEFT + width / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text x="14" y="{TOP + height / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {TOP + height / 2})">{escape(ylabel)}</text>')

    # torch's curve wide and pale underneath, yours thin on top (dots when there are few
    # points): where they agree, the orange line runs inside the grey one
    for run in _segments(points(curves["torch"])):
        out.append(_polyline(run, TORCH_COLOUR, 6))
    for run in _segments(points(curves["yours"])):
        out.append(_polyline(run, YOUR_COLOUR, 1.5))
    for point in points(curves["yours"]):
        if point is not None and len(xs) <= 60:
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


def scalar_curve(exercise, impl, count: int = 121) -> str:
    """A scalar exercise's answer over its curve's range: the learner's and torch's."""
    from kit.implementation import LearnerError

    low, high, args_at = exercise.curve
    ts = [low + (high - low) * i / (count - 1) for i in range(count)]
    varying = next(i for i, (a, b) in enumerate(zip(args_at(low), args_at(high))) if a != b)
    name = exercise.parameter_names()[varying]
    torch_values = [exercise.reference(*args_at(t)) for t in ts]
    yours, note = [], ""
    for t in ts:
        try:
            yours.append(impl.call(exercise, args_at(t))[0])
        except LearnerError as error:
            yours.append(None)
            note = note or error.text.strip().splitlines()[-1]
    fixed = ", ".join(f"{n}={a!r}" for i, (n, a) in enumerate(zip(exercise.parameter_names(), args_at(low)))
                      if i != varying)
    title = f"{exercise.name}({name}{', ' + fixed if fixed else ''}): yours and torch's"
    return line_plot(ts, yours, torch_values, title, name, exercise.name, note)


def _polyline(run, colour: str, wide: float) -> str:
    if len(run) == 1:
        (x, y), = run
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{wide / 2 + 1}" fill="{colour}"/>'
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
    return (f'<polyline points="{text}" fill="none" stroke="{colour}" stroke-width="{wide}" '
            f'stroke-linejoin="round" stroke-linecap="round"/>')


def graph(nodes: dict, edges: list, title: str, note: str = "") -> str:
    """An inline SVG of a computational graph with numbers on it.

    nodes: name -> (column, row, lines); edges: (from, to, lines). Each line is (text, agrees):
    a line where the learner's number differs from torch's is drawn in orange.
    """
    box_w, box_h, col_w, row_h = 160, 58, 290, 92
    width = int(max(c for c, _, _ in nodes.values()) * col_w + box_w + 40)
    height = int(max(r for _, r, _ in nodes.values()) * row_h + box_h + 70)

    def corner(name):
        column, row, _ = nodes[name]
        return 20 + column * col_w, 50 + row * row_h

    def text(x, y, lines, anchor="start"):  # a white halo keeps labels readable over lines
        return "".join(f'<text x="{x:.0f}" y="{y + 14 * i:.0f}" text-anchor="{anchor}" paint-order="stroke" '
                       f'stroke="white" stroke-width="3" fill="{"black" if agrees else YOUR_COLOUR}">'
                       f"{escape(line)}</text>" for i, (line, agrees) in enumerate(lines))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>", f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="20" y="20" font-size="14">{escape(title)}</text>']
    if note:
        out.append(f'<text x="20" y="38" fill="{YOUR_COLOUR}">{escape(note[:140])}</text>')
    for source, target, lines in edges:
        (x1, y1), (x2, y2) = corner(source), corner(target)
        start, end = (x1 + box_w, y1 + box_h / 2), (x2, y2 + box_h / 2)
        out.append(f'<line x1="{start[0]}" y1="{start[1]}" x2="{end[0]}" y2="{end[1]}" stroke="#868e96"/>')
        out.append(text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 - 4, lines, "middle"))
    for name, (_, _, lines) in nodes.items():
        x, y = corner(name)
        out.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="#f8f9fa" stroke="#495057"/>')
        out.append(f'<text x="{x + 8}" y="{y + 15}" font-weight="bold">{escape(name)}</text>')
        out.append(text(x + 8, y + 30, lines))
    out.append("</svg>")
    return "\n".join(out)


def pair(label: str, yours, torch, close) -> tuple[str, bool]:
    """A line "label yours | torch t" for graph(), and whether the two agree."""
    def shown(value):
        return f"{value:.4g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"
    return f"{label} {shown(yours)} | torch {shown(torch)}", yours is not None and close(torch, yours)


CELL, GAP = 18, 28  # a heat map's cell, and the space between two maps
MOST_CELLS = 12  # a map shows at most this many rows and columns (the top-left corner of a larger one)


def grid(value) -> list[list[float | None]] | None:
    """A 2-D tensor or nested list as rows of drawable numbers (None where one is not), cut to
    MOST_CELLS by MOST_CELLS; None when `value` is not a 2-D grid at all (a learner's None, a 3-D
    tensor, a number)."""
    try:
        rows = value.tolist() if hasattr(value, "tolist") else value
    except (TypeError, ValueError, RuntimeError):
        return None
    if not isinstance(rows, (list, tuple)) or not rows or not all(
            isinstance(row, (list, tuple)) and row and not any(isinstance(v, (list, tuple, str)) for v in row)
            for row in rows):
        return None
    return [numbers(row[:MOST_CELLS]) for row in rows[:MOST_CELLS]]


def _shade(value: float | None, scale: float) -> str:
    """White at 0, red for positive, blue for negative, full at ±scale; grey for no number."""
    if value is None:
        return "#dee2e6"
    part = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    fade = round(255 * (1 - part))
    return f"rgb(255,{fade},{fade})" if value > 0 else f"rgb({fade},{fade},255)"


def heat_maps(rows, title: str, note: str = "", close=None) -> str:
    """An inline SVG: for each (label, yours, torch) in `rows`, your 2-D grid beside torch's, on
    one colour scale per row (red positive, blue negative), every cell where they differ outlined
    in orange. `close(torch_value, your_value)` decides a cell (default: the tolerance table's
    "accumulated" row); a grid of another shape than torch's, or not a grid, is shown as a note."""
    close = close or (lambda a, b: within(a, b, *TOLERANCES["accumulated"]))
    maps = [(label, grid(yours), grid(torch)) for label, yours, torch in rows]
    widest = max((len(t[0]) for _, _, t in maps if t), default=1)
    width = max(LEFT + 2 * (widest * CELL) + GAP + RIGHT, 360)
    y = TOP + (18 if note else 0)
    out, total = [], y
    for label, mine, theirs in maps:
        if theirs is None:
            continue
        top = total + 18
        scale = max((abs(v) for row in theirs for v in row if v is not None), default=0.0)
        same_shape = mine is not None and [len(r) for r in mine] == [len(r) for r in theirs]
        missing = "" if same_shape else (" (yours: not a grid)" if mine is None else " (yours: another shape)")
        out.append(f'<text x="{LEFT}" y="{top - 5}" font-size="12">{escape(label)}: yours | torch, '
                   f'±{scale:.3g} in full colour{missing}</text>')
        left_of = (LEFT, LEFT + len(theirs[0]) * CELL + GAP)
        outlines = []
        for side, cells in ((0, mine if same_shape else None), (1, theirs)):
            for i, row in enumerate(cells or []):
                for j, value in enumerate(row):
                    x, yy = left_of[side] + j * CELL, top + i * CELL
                    shown = "none" if value is None else f"{value:.4g}"
                    out.append(f'<rect x="{x}" y="{yy}" width="{CELL}" height="{CELL}" fill="{_shade(value, scale)}" '
                               f'stroke="#ffffff"><title>{escape(label)}[{i}, {j}] = {shown}</title></rect>')
                    other = theirs[i][j]
                    if side == 0 and (value is None or other is None or not close(other, value)):
                        outlines.append(f'<rect x="{x + 1}" y="{yy + 1}" width="{CELL - 2}" height="{CELL - 2}" '
                                        f'fill="none" stroke="{YOUR_COLOUR}" stroke-width="2"/>')
        out.extend(outlines)  # over every cell, so that no neighbour's edge hides one
        total = top + len(theirs) * CELL + 10
    height = total + 10
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" role="img"><title>{escape(title)}</title>'
            f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>')
    if note:
        head += f'<text x="{LEFT}" y="40" font-size="12" fill="{YOUR_COLOUR}">{escape(note)}</text>'
    return head + "\n".join(out) + "</svg>"
