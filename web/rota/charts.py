"""Server-drawn SVG charts for the rota pages, as plain geometry for the templates.

``cover_chart`` draws clinicians on duty each hour of a rota against demand, with the
hours left short highlighted; ``week_chart`` draws a 168-hour weekly profile (demand,
or forecast arrivals). Templates only place the shapes computed here, so the pages stay
free of inline scripts and styles (the CSP forbids both).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from rota.grid import Grid
from rota.model import Assignment, Problem, UncoveredHour, Violation
from rota.score import on_duty

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LEFT = 28  # room for the y-axis labels
TOP = 8
PLOT_H = 140
BOTTOM = 22  # room for the day labels


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    title: str = ""
    kind: str = ""  # CSS class: "bar", "arrivals", "weekend", "out", "short", "skill"


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)  # drawn first: shading, bars
    area: str = ""  # path "d" of the filled on-duty step area
    line: str = ""  # polyline points of the demand step line
    labels: list[Label] = field(default_factory=list)
    gridlines: list[float] = field(default_factory=list)  # y of each horizontal rule


def _y_axis(top: int, scale: float) -> tuple[list[Label], list[float]]:
    step = max(1, -(-top // 5))
    labels, lines = [], []
    for v in range(0, top + 1, step):
        y = TOP + PLOT_H - v * scale
        labels.append(Label(LEFT - 4, y + 3, str(v), "end"))
        lines.append(y)
    return labels, lines


def _steps(values: Sequence[float], px: float, scale: float, first: int = 0) -> list[str]:
    """Points of a step line through ``values`` (one per hour) from hour ``first``."""
    points = []
    for h in range(first, len(values)):
        y = TOP + PLOT_H - values[h] * scale
        points.append(f"{LEFT + h * px:.1f},{y:.1f}")
        points.append(f"{LEFT + (h + 1) * px:.1f},{y:.1f}")
    return points


def cover_chart(
    problem: Problem,
    assignments: Iterable[Assignment],
    uncovered: Iterable[UncoveredHour],
    violations: Iterable[Violation] = (),
) -> Chart:
    """On duty per hour (filled) against demand (line); hours short of demand in red,
    hours missing a required skill (a broken ``skill_cover`` rule) in orange; weekends
    shaded; the hours before the first shift of day one (the previous rota's night) grey."""
    grid = Grid(problem)
    duty = on_duty(grid, assignments)
    need = problem.demand.hourly
    hours = grid.hours
    px = max(1.0, min(6.0, round(1000 / hours, 1)))  # about 1000 units wide
    top = max([*duty, *need, 1])
    scale = PLOT_H / top
    boxes: list[Box] = []
    for d in range(problem.days):
        if grid.is_weekend(d):
            boxes.append(Box(LEFT + d * 24 * px, TOP, 24 * px, PLOT_H, kind="weekend"))
    if grid.first_hour:
        title = "before the first shift: covered by the previous rota's night"
        boxes.append(Box(LEFT, TOP, grid.first_hour * px, PLOT_H, title, "out"))
    short_hours = sorted({u.start for u in uncovered})
    for start in short_hours:
        h = int((start - grid.hour_start(0)) / timedelta(hours=1))
        if 0 <= h < hours:
            title = f"{start:%a %d %b %H:00}: {duty[h]} on duty, {need[h]} needed"
            boxes.append(Box(LEFT + h * px, TOP, px, PLOT_H, title, "short"))
    for v in violations:
        if v.rule.startswith("skill_cover") and v.start is not None:
            h = int((v.start.replace(tzinfo=None) - grid.hour_start(0)) / timedelta(hours=1))
            width = max(1, v.hours) * px
            boxes.append(Box(LEFT + h * px, TOP, width, PLOT_H, v.message, "skill"))
    base = TOP + PLOT_H
    area = _steps(duty, px, scale, grid.first_hour)
    path = (
        f"M{LEFT + grid.first_hour * px:.1f},{base} L"
        + " L".join(area)
        + f" L{LEFT + hours * px:.1f},{base} Z"
        if area
        else ""
    )
    labels, lines = _y_axis(top, scale)
    every = 1 if problem.days <= 31 else 7
    # "Wed 16" needs about 40 units: on narrower days only Mondays name the weekday,
    # the other days show their date alone, so neighbouring labels never overlap.
    narrow = 24 * px < 44
    for d in range(0, problem.days, every):
        day = grid.date_of(d)
        name = f"{DAYS[day.weekday()]} {day.day}"
        if narrow and day.weekday() != 0 and every == 1:
            name = str(day.day)
        labels.append(Label(LEFT + (d * 24 + 12) * px, base + 14, name, "middle"))
    return Chart(
        LEFT + hours * px + 4,
        TOP + PLOT_H + BOTTOM,
        boxes,
        path,
        " ".join(_steps(need, px, scale, grid.first_hour)),
        labels,
        lines,
    )


def week_chart(values: Sequence[float], titles: Sequence[str], kind: str = "bar") -> Chart:
    """A 168-hour weekly profile (Monday 00:00 first) as bars, one per hour."""
    px = 6.0
    top = max(1, math.ceil(max(values, default=0)))
    scale = PLOT_H / top
    boxes = [Box(LEFT + d * 24 * px, TOP, 24 * px, PLOT_H, kind="weekend") for d in (5, 6)]
    for h, v in enumerate(values):
        y = TOP + PLOT_H - v * scale
        boxes.append(Box(LEFT + h * px + 0.5, y, px - 1, v * scale, titles[h], kind))
    labels, lines = _y_axis(top, scale)
    for d, name in enumerate(DAYS):
        labels.append(Label(LEFT + (d * 24 + 12) * px, TOP + PLOT_H + 14, name, "middle"))
    return Chart(LEFT + 168 * px + 4, TOP + PLOT_H + BOTTOM, boxes, "", "", labels, lines)


def hour_name(index: int) -> str:
    """``Mon 07:00`` for hour of week 7."""
    day, hour = divmod(index, 24)
    return f"{DAYS[day]} {hour:02d}:00"
