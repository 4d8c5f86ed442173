"""Charts drawn on the server as SVG (pure): no script, readable by screen readers (``role="img"``
with a title and a description that states every number), printable, and the same in every
browser. The pages put the numbers in a table beside each chart as well."""
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

BAR = "#9b1c1c"          # 7.6:1 against white
INK = "#1a1a1a"
GRID = "#6b6b6b"         # 5.3:1: lines and axis text stay visible


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


def bars(values: list[tuple[str, int]], width=320, height=180, top=20, bottom=28,
         left=8, gap=0.3) -> list[Bar]:
    """Where each bar goes: equal slots across ``width``, heights proportional to the largest
    value (a chart of zeros has flat bars), the baseline ``bottom`` above the foot."""
    if not values:
        return []
    plot = height - top - bottom
    slot = (width - 2 * left) / len(values)
    largest = max((value for _, value in values), default=0)
    found = []
    for index, (label, value) in enumerate(values):
        tall = plot * value / largest if largest > 0 else 0.0
        x = left + index * slot + slot * gap / 2
        found.append(Bar(label, value, round(x, 2), round(top + plot - tall, 2),
                         round(slot * (1 - gap), 2), round(tall, 2)))
    return found


def bar_chart(values: list[tuple[str, int]], title: str, description: str, chart_id: str,
              width=320, height=180) -> Markup:
    """An SVG bar chart of ``(label, value)`` pairs with each value written above its bar."""
    bottom = 28
    baseline = height - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-t {chart_id}-d">',
             f'<title id="{chart_id}-t">{escape(title)}</title>',
             f'<desc id="{chart_id}-d">{escape(description)}</desc>',
             f'<line x1="0" y1="{baseline}" x2="{width}" y2="{baseline}" stroke="{GRID}" '
             f'stroke-width="1"/>']
    for bar in bars(values, width, height, bottom=bottom):
        middle = round(bar.x + bar.width / 2, 2)
        parts.append(f'<rect x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}" '
                     f'fill="{BAR}"><title>{escape(bar.label)}: {bar.value}</title></rect>')
        parts.append(f'<text x="{middle}" y="{round(bar.y - 4, 2)}" text-anchor="middle" '
                     f'font-size="12" fill="{INK}">{bar.value}</text>')
        parts.append(f'<text x="{middle}" y="{baseline + 18}" text-anchor="middle" '
                     f'font-size="12" fill="{INK}">{escape(bar.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    x: float
    y: float


def points(values: list[tuple[str, float]], width=320, height=180, top=20, bottom=28,
           left=24) -> list[Point]:
    """Where each point of a trend goes: evenly spaced from ``left`` to ``width - left``,
    heights proportional to the largest value (all zeros lie on the baseline)."""
    if not values:
        return []
    plot = height - top - bottom
    step = (width - 2 * left) / max(len(values) - 1, 1)
    largest = max((value for _, value in values), default=0)
    found = []
    for index, (label, value) in enumerate(values):
        tall = plot * value / largest if largest > 0 else 0.0
        x = left + index * step if len(values) > 1 else width / 2
        found.append(Point(label, value, round(x, 2), round(top + plot - tall, 2)))
    return found


def line_chart(values: list[tuple[str, float]], title: str, description: str, chart_id: str,
               width=320, height=180) -> Markup:
    """An SVG line of ``(label, value)`` pairs (a monthly trend), each point marked and its
    value written above it."""
    bottom = 28
    baseline = height - bottom
    found = points(values, width, height, bottom=bottom)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-t {chart_id}-d">',
             f'<title id="{chart_id}-t">{escape(title)}</title>',
             f'<desc id="{chart_id}-d">{escape(description)}</desc>',
             f'<line x1="0" y1="{baseline}" x2="{width}" y2="{baseline}" stroke="{GRID}" '
             f'stroke-width="1"/>']
    if len(found) > 1:
        line = " ".join(f"{p.x},{p.y}" for p in found)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{BAR}" '
                     f'stroke-width="2"/>')
    for point in found:
        shown = _number(point.value)
        parts.append(f'<circle cx="{point.x}" cy="{point.y}" r="4" fill="{BAR}">'
                     f'<title>{escape(point.label)}: {shown}</title></circle>')
        parts.append(f'<text x="{point.x}" y="{round(point.y - 8, 2)}" text-anchor="middle" '
                     f'font-size="12" fill="{INK}">{shown}</text>')
        parts.append(f'<text x="{point.x}" y="{baseline + 18}" text-anchor="middle" '
                     f'font-size="11" fill="{INK}">{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
