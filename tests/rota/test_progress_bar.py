"""Progress off a terminal: one short line per step, not one long redrawn line."""

from __future__ import annotations

import io

from rota.progress_bar import LineProgress, progress_bar


def test_a_pipe_gets_a_line_per_ten_percent() -> None:
    out = io.StringIO()
    bar = progress_bar(total=200, desc="seeding demo consultations", unit="call", file=out)
    assert isinstance(bar, LineProgress)
    for done in range(0, 201, 5):
        bar.n = done
        bar.refresh()
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "seeding demo consultations: 0% (0 of 200 calls)"
    assert lines[-1] == "seeding demo consultations: 100% (200 of 200 calls)"
    assert len(lines) == 11  # 0 %, 10 %, … 100 %: closing adds nothing more


def test_an_unknown_total_prints_at_most_every_few_seconds_and_once_at_the_end() -> None:
    out = io.StringIO()
    with progress_bar(desc="importing calls", unit="row", file=out, every_s=3600) as bar:
        for _ in range(10_000):
            bar.update()
    assert out.getvalue().splitlines() == ["importing calls: 10,000 rows (done)"]


def test_iterating_and_postfix_and_disable() -> None:
    out = io.StringIO()
    items = list(progress_bar(range(4), desc="verifying", unit="event", file=out))
    assert items == [0, 1, 2, 3]
    assert out.getvalue().splitlines()[-1] == "verifying: 100% (4 of 4 events)"
    out = io.StringIO()
    bar = progress_bar(total=6.0, desc="solving", unit="s", file=out)
    bar.set_postfix_str("best 12")
    bar.close()
    assert out.getvalue().splitlines() == ["solving: 0% (0 of 6 s), best 12"]
    out = io.StringIO()
    quiet = progress_bar(total=3, disable=True, file=out)
    quiet.update(3)
    quiet.close()
    assert out.getvalue() == ""
