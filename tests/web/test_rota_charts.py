"""The rota's hourly cover chart: day labels stay readable however long the period."""

from __future__ import annotations

from tests.rota.factory import make_problem
from web.rota.charts import cover_chart


def _day_labels(days: int) -> list[str]:
    chart = cover_chart(make_problem(days=days), [], [])
    base = max(label.y for label in chart.labels)
    return [label.text for label in chart.labels if label.y == base]


def test_a_week_names_every_day() -> None:
    labels = _day_labels(7)
    assert len(labels) == 7 and all(" " in label for label in labels)  # "Mon 2", "Tue 3", …


def test_four_weeks_name_mondays_and_number_the_other_days() -> None:
    labels = _day_labels(28)
    assert len(labels) == 28
    mondays = [label for label in labels if label.startswith("Mon ")]
    assert len(mondays) == 4
    assert all(label.isdigit() for label in labels if label not in mondays)
