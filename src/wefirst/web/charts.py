"""Charts drawn on the server as SVG: they work without JavaScript, print, scale, and carry a
title and description for screen readers (the pages also show the numbers as a table).

Series are told apart by dash pattern and marker as well as colour, so the charts read in
greyscale and for colour-blind readers. Values are integers (minor units, counts); the caller
passes a formatter for axis labels so money and counts are written in the page's locale."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import ceil, log10

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 260
LEFT = 112  # room for money labels at the larger text size used on phones
RIGHT = 20
TOP = 16  # the legend is HTML, under the chart
BOTTOM = 40

# Okabe-Ito palette (distinguishable with common colour-vision deficiencies); dashes differ too.
STYLES = (
    ("#0072B2", ""),
    ("#D55E00", "6 4"),
    ("#009E73", "2 3"),
    ("#CC79A7", "10 3 2 3"),
)


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[date, int]]


@dataclass(frozen=True)
class Episode:
    start: date
    end: date
    label: str
    kind: str = "backlash"


@dataclass(frozen=True)
class DayBar:
    day: date
    count: int
    sentiment: float | None = None  # mean in [-1, 1]


@dataclass(frozen=True)
class _Frame:
    first: date
    last: date
    top: int
    ticks: list[int] = field(default_factory=list)

    def x(self, day: date) -> float:
        span = max((self.last - self.first).days, 1)
        return LEFT + (day - self.first).days / span * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        if not self.top:
            return HEIGHT - BOTTOM
        return TOP + (1 - value / self.top) * (HEIGHT - TOP - BOTTOM)


def nice_top(value: int) -> int:
    """The smallest 1/2/2.5/5 × 10^k at or above value, so gridlines fall on round numbers."""
    if value <= 0:
        return 1
    magnitude: int = 10 ** int(log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = ceil(step * magnitude)
        if candidate >= value:
            return candidate
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def _axis(
    frame: _Frame,
    fmt: Callable[[int], str],
    fmt_day: Callable[[date], str],
    x_of: Callable[[date], float] | None = None,
) -> list[str]:
    parts: list[str] = []
    for t, tick in enumerate(frame.ticks):
        y = frame.y(tick)
        mid = ' class="mid"' if t % 2 else ""  # phones (bigger text) keep every other label
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end"{mid}>{escape(fmt(tick))}</text>'
        )
    base = HEIGHT - BOTTOM
    parts.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" class="axis"/>')
    ticks = day_ticks(frame.first, frame.last)
    for i, day in enumerate(ticks):
        if x_of is not None:  # bars: the label sits under its bar (the ends' inside the frame)
            x = x_of(day)
            anchor = "start" if i == 0 and len(ticks) > 1 else "end" if day == frame.last else "middle"
        else:
            x = frame.x(day)
            anchor = "start" if i == 0 else "end" if day == frame.last else "middle"
        mid = ' class="mid"' if 0 < i < len(ticks) - 1 else ""  # phones show the first and last day
        parts.append(
            f'<text x="{x:.1f}" y="{base + 20}" text-anchor="{anchor}"{mid}>{escape(fmt_day(day))}</text>'
        )
    return parts


def day_ticks(first: date, last: date, most: int = 4) -> list[date]:
    """First and last day, and evenly spaced days between, at most `most` labels in all."""
    span = (last - first).days
    if span <= 0:
        return [first]
    count = min(most - 1, span)
    return [first + timedelta(days=round(span * i / count)) for i in range(count + 1)]


def _svg(parts: list[str]) -> Markup:
    # Every text and attribute value that comes from data passes through escape() above.
    return Markup("".join(parts))  # noqa: S704


def _open(title: str, desc: str, chart_id: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'focusable="false"><title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>'
    )


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    fmt: Callable[[int], str],
    fmt_day: Callable[[date], str],
    chart_id: str = "chart",
) -> Markup:
    """Step lines (cumulative totals change at events, not between them) on one shared axis."""
    days = [d for s in series for d, _ in s.points]
    values = [v for s in series for _, v in s.points]
    if not days:
        return _svg([_open(title, desc, chart_id), "</svg>"])
    top = nice_top(max(max(values), 1))
    frame = _Frame(min(days), max(days), top, [top * i // 4 for i in range(5)])
    parts = [_open(title, desc, chart_id), *_axis(frame, fmt, fmt_day)]
    for index, s in enumerate(series):
        colour, dash = STYLES[index % len(STYLES)]
        points = sorted(s.points)
        coords: list[str] = []
        previous_y: float | None = None
        for day, value in points:
            x, y = frame.x(day), frame.y(value)
            if previous_y is not None:
                coords.append(f"{x:.1f},{previous_y:.1f}")
            coords.append(f"{x:.1f},{y:.1f}")
            previous_y = y
        if points and frame.x(points[-1][0]) < WIDTH - RIGHT and previous_y is not None:
            coords.append(f"{WIDTH - RIGHT},{previous_y:.1f}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline class="series s{index}" fill="none" stroke="{colour}" stroke-width="2.5"'
            f'{dash_attr} points="{" ".join(coords)}"><title>{escape(s.label)}</title></polyline>'
        )
    parts.append("</svg>")
    parts.append(_legend(series))
    return _svg(parts)


def _legend(series: Sequence[Series]) -> str:
    """The key as HTML under the chart, each entry drawn with its line's own stroke: HTML text
    wraps and keeps the page's font size on a phone, where text inside the scaled-down SVG
    would shrink to a few pixels."""
    items = []
    for index, s in enumerate(series):
        colour, dash = STYLES[index % len(STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            '<li><svg width="32" height="10" viewBox="0 0 32 10" aria-hidden="true" focusable="false">'
            f'<line x1="0" y1="5" x2="32" y2="5" stroke="{colour}" stroke-width="3"{dash_attr}/></svg> '
            f"{escape(s.label)}</li>"
        )
    return f'<ul class="legend">{"".join(items)}</ul>'


@dataclass(frozen=True)
class _Slots:
    """A bar chart's days: one slot of equal width per day, first to last."""

    frame: _Frame
    width: float

    def x(self, day: date) -> float:
        return LEFT + (day - self.frame.first).days * self.width


def _bar_chart(
    first: date,
    last: date,
    highest: int,
    episodes: Sequence[Episode],
    *,
    head: str,
    defs: str,
    fmt: Callable[[int], str],
    fmt_day: Callable[[date], str],
) -> tuple[_Slots, list[str]]:
    """What every bar chart draws before its bars: the frame, the episodes as labelled bands
    behind the bars, and the axes with each day's label under its bar."""
    top = nice_top(max(highest, 1))
    frame = _Frame(first, last, top, [top * i // 4 for i in range(5)])
    slots = _Slots(frame, (WIDTH - LEFT - RIGHT) / max((last - first).days + 1, 1))
    parts = [head, defs]
    for ep in episodes:
        x0 = slots.x(max(ep.start, first))
        x1 = slots.x(min(ep.end, last)) + slots.width
        if x1 <= x0:
            continue
        parts.append(
            f'<rect class="episode {escape(ep.kind)}" x="{x0:.1f}" y="{TOP}" '
            f'width="{x1 - x0:.1f}" height="{HEIGHT - TOP - BOTTOM}">'
            f"<title>{escape(ep.label)}</title></rect>"
            f'<text class="episode-label" x="{x0 + 3:.1f}" y="{TOP + 12}">{escape(ep.label)}</text>'
        )
    parts.extend(_axis(frame, fmt, fmt_day, lambda d: slots.x(d) + slots.width / 2))
    return slots, parts


def _signed(value: float) -> str:
    return f"{value:+.2f}"


def voice_chart(
    bars: Sequence[DayBar],
    episodes: Sequence[Episode],
    *,
    title: str,
    desc: str,
    fmt_day: Callable[[date], str],
    fmt: Callable[[int], str] = str,
    fmt_score: Callable[[float], str] = _signed,
    colon: str = ":",
    chart_id: str = "voice",
) -> Markup:
    """Posts per day as bars, coloured by the day's mean sentiment (negative → orange, positive
    → blue, hatched when negative so it reads without colour), with mobilization episodes as
    labelled bands behind them. `colon` and `fmt_score` write the tooltips in the page's
    typography ("3 mars 2026 : 12 (−0,40)")."""
    if not bars:
        return _svg([_open(title, desc, chart_id), "</svg>"])
    hatch = (
        '<defs><pattern id="' + chart_id + '-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#D55E00"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>'
    )
    first, last = min(b.day for b in bars), max(b.day for b in bars)
    slots, parts = _bar_chart(
        first,
        last,
        max(b.count for b in bars),
        episodes,
        head=_open(title, desc, chart_id),
        defs=hatch,
        fmt=fmt,
        fmt_day=fmt_day,
    )
    base = HEIGHT - BOTTOM
    for bar in bars:
        height = base - slots.frame.y(bar.count)
        negative = bar.sentiment is not None and bar.sentiment < -0.05
        fill = f"url(#{chart_id}-hatch)" if negative else "#0072B2"
        label = f"{fmt_day(bar.day)}{colon} {fmt(bar.count)}"
        if bar.sentiment is not None:
            label += f" ({fmt_score(bar.sentiment)})"
        parts.append(
            f'<rect class="bar" x="{slots.x(bar.day) + slots.width * 0.1:.1f}" y="{base - height:.1f}" '
            f'width="{max(slots.width * 0.8, 1):.1f}" height="{height:.1f}" fill="{fill}">'
            f"<title>{escape(label)}</title></rect>"
        )
    parts.append("</svg>")
    return _svg(parts)


@dataclass(frozen=True)
class Stack:
    """One part of a stacked bar: its key (a CSS class), the words for it, and how it is drawn
    (a colour, and a pattern so it also reads in greyscale: "" solid, "hatch", "dots")."""

    key: str
    label: str
    colour: str
    pattern: str = ""


@dataclass(frozen=True)
class StackedDay:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


#: negative hatched orange, neutral dotted grey, positive solid blue (Okabe-Ito), bottom to top
POLARITY_STACKS = (
    ("negative", "#D55E00", "hatch"),
    ("neutral", "#6B6B6B", "dots"),
    ("positive", "#0072B2", ""),
)


def _pattern_defs(chart_id: str, stacks: Sequence[Stack]) -> str:
    out = []
    for s in stacks:
        pid = f"{chart_id}-{s.key}"
        if s.pattern == "hatch":
            out.append(
                f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{s.colour}"/>'
                '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern>'
            )
        elif s.pattern == "dots":
            out.append(
                f'<pattern id="{pid}" width="5" height="5" patternUnits="userSpaceOnUse">'
                f'<rect width="5" height="5" fill="{s.colour}"/><circle cx="2.5" cy="2.5" r="1" fill="#fff"/>'
                "</pattern>"
            )
    return f"<defs>{''.join(out)}</defs>" if out else ""


def _fill(chart_id: str, s: Stack) -> str:
    return f"url(#{chart_id}-{s.key})" if s.pattern else s.colour


def stacked_chart(
    days: Sequence[StackedDay],
    stacks: Sequence[Stack],
    episodes: Sequence[Episode] = (),
    *,
    title: str,
    desc: str,
    fmt_day: Callable[[date], str],
    fmt: Callable[[int], str] = str,
    colon: str = ":",
    chart_id: str = "voice",
) -> Markup:
    """Posts per day as stacked bars, one part per stack (for voice: negative, neutral and
    positive posts), with mobilization episodes as labelled bands behind them and the key as
    HTML under the chart. Each part carries its own tooltip (day, words, count)."""
    if not days:
        return _svg([_open(title, desc, chart_id), "</svg>"])
    slots, parts = _bar_chart(
        min(d.day for d in days),
        max(d.day for d in days),
        max(d.total for d in days),
        episodes,
        head=_open(title, desc, chart_id),
        defs=_pattern_defs(chart_id, stacks),
        fmt=fmt,
        fmt_day=fmt_day,
    )
    for d in days:
        below: float = HEIGHT - BOTTOM
        x, width = slots.x(d.day) + slots.width * 0.1, max(slots.width * 0.8, 1)
        for s in stacks:
            n = d.counts.get(s.key, 0)
            if not n:
                continue
            height = (HEIGHT - BOTTOM) - slots.frame.y(n)
            label = f"{fmt_day(d.day)} — {s.label}{colon} {fmt(n)}"
            parts.append(
                f'<rect class="bar {escape(s.key)}" x="{x:.1f}" y="{below - height:.1f}" '
                f'width="{width:.1f}" height="{height:.1f}" fill="{_fill(chart_id, s)}">'
                f"<title>{escape(label)}</title></rect>"
            )
            below -= height
    parts.append("</svg>")
    parts.append(_stack_legend(stacks, chart_id))
    return _svg(parts)


def _stack_legend(stacks: Sequence[Stack], chart_id: str) -> str:
    """The key as HTML (wraps, keeps the page's font size on a phone); each swatch is drawn
    with its part's own colour and pattern."""
    items = []
    key = f"{chart_id}-key"
    for s in stacks:
        items.append(
            '<li><svg width="18" height="14" viewBox="0 0 18 14" aria-hidden="true" focusable="false">'
            f'{_pattern_defs(key, [s])}<rect width="18" height="14" fill="{_fill(key, s)}"/></svg> '
            f"{escape(s.label)}</li>"
        )
    return f'<ul class="legend">{"".join(items)}</ul>'
