"""Bar charts drawn on the server as SVG: the geometry here, the drawing in
``partials/bar_chart.html``. No script, nothing from a CDN; each chart is one image to assistive
technology (``role="img"`` with a title and a description), and the page puts the same figures
in a table beside it, which is what a screen reader reads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 280
LEFT = 56  # room for the axis' numbers
BOTTOM = 48  # room for the groups' names
TOP = 16
TICKS = 4
LABEL_CHARACTER = 8  # the width of one character of a group's name at the font size drawn
LABEL_GAP = 12  # the least space between two names
# GOV.UK's blue and dark blue, told apart by the legend's words as well as by colour.
COLOURS = ("#1d70b8", "#003078", "#f47738", "#4c2c92")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    value: float


@dataclass(frozen=True)
class Group:
    label: str
    centre: float
    bars: list[Bar]
    labelled: bool = True  # False when names would overlap: every n-th is drawn, the table has all


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    description: str
    series: list[tuple[str, str]]  # (name, colour), for the legend
    groups: list[Group]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM


def _axis_top(largest: float) -> float:
    """A round number at or above ``largest``: 1, 2 or 5 times a power of ten."""
    if largest <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(largest))
    return next(float(step * power) for step in (1, 2, 5, 10) if step * power >= largest)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _label_every(labels: Sequence[str], slot: float) -> int:
    """Draw every n-th group's name so that no two overlap (1: every name fits)."""
    widest = max((len(label) for label in labels), default=0) * LABEL_CHARACTER + LABEL_GAP
    return max(1, math.ceil(widest / slot))


def bar_chart(
    id: str,
    title: str,
    description: str,
    series: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
) -> BarChart:
    """A chart of ``groups`` (a label and one value per series), each a cluster of bars."""
    top = _axis_top(max((value for _, values in groups for value in values), default=0))
    base = HEIGHT - BOTTOM
    scale = (base - TOP) / top
    slot = (WIDTH - LEFT) / max(len(groups), 1)
    bar_width = min(40.0, slot * 0.8 / max(len(series), 1))
    every = _label_every([label for label, _ in groups], slot)
    drawn = []
    for index, (label, values) in enumerate(groups):
        start = LEFT + slot * index + (slot - bar_width * len(values)) / 2
        bars = [
            Bar(
                x=round(start + bar_width * position, 1),
                y=round(base - value * scale, 1),
                width=round(bar_width, 1),
                height=round(value * scale, 1),
                colour=COLOURS[position % len(COLOURS)],
                value=value,
            )
            for position, value in enumerate(values)
        ]
        centre = round(LEFT + slot * (index + 0.5), 1)
        drawn.append(Group(label, centre, bars, labelled=index % every == 0))
    ticks = [
        Tick(round(base - (base - TOP) * step / TICKS, 1), _number(top * step / TICKS))
        for step in range(TICKS + 1)
    ]
    return BarChart(
        id=id,
        title=title,
        description=description,
        series=[(name, COLOURS[i % len(COLOURS)]) for i, name in enumerate(series)],
        groups=drawn,
        ticks=ticks,
    )
